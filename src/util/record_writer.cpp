#include "util/record_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/error.h"
#include "util/files.h"

namespace taco {

RecordWriter::RecordWriter(const std::string& path) : path_(path), temp_path_(path + ".tmp") {
  make_dirs(parent_dir(path));
  out_.open(temp_path_, std::ios::binary | std::ios::trunc);
  if (!out_) throw Error(temp_path_ + ": cannot write (" + std::strerror(errno) + ")");
  lines_ = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
  if (!lines_) out_ << "[\n";
}

RecordWriter::~RecordWriter() {
  if (closed_) return;
  out_.close();
  std::remove(temp_path_.c_str());
}

void RecordWriter::write(const Json& record) {
  if (!lines_ && records_) out_ << ",\n";
  out_ << record.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (lines_) out_ << '\n';
  ++records_;
}

void RecordWriter::close() {
  if (closed_) return;
  closed_ = true;
  if (!lines_) out_ << (records_ ? "\n]\n" : "]\n");
  out_.flush();
  out_.close();
  if (!out_) {
    std::remove(temp_path_.c_str());
    throw Error(path_ + ": write failed");
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) throw Error(path_ + ": cannot replace (" + std::strerror(errno) + ")");
}

}  // namespace taco
