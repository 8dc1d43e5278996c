#include "util/record_writer.h"

#include "util/error.h"
#include "util/files.h"

namespace taco {

RecordWriter::RecordWriter(const std::string& path) : path_(path) {
  make_dirs(parent_dir(path));
  out_.open(path, std::ios::binary | std::ios::trunc);
  if (!out_) throw Error(path + ": cannot write");
  lines_ = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
  if (!lines_) out_ << "[\n";
}

RecordWriter::~RecordWriter() {
  try {
    close();
  } catch (const Error&) {  // a destructor must not throw; close() explicitly to see the error
  }
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
  out_.close();
  if (!out_) throw Error(path_ + ": write failed");
}

}  // namespace taco
