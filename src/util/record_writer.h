// RecordWriter: writes JSON records to a file as JSON Lines (path ends in .jsonl) or as one
// JSON array (anything else), the two shapes training sets come in. Invalid UTF-8 in strings
// is replaced rather than refused. The records go to a temporary file beside the path, renamed
// over it by close(): a run that fails or is killed half way leaves whatever was there before
// (once a failed export replaced the previous output with a shorter file that looked whole).
// Not thread-safe.
#pragma once

#include <fstream>
#include <string>

#include "util/json.h"

namespace taco {

class RecordWriter {
 public:
  explicit RecordWriter(const std::string& path);  // throws Error when it cannot write
  ~RecordWriter();  // without close(): the temporary file is removed and the path left as it was
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  void write(const Json& record);
  void close();  // ends the array, checks the write and puts the file in place
  size_t records() const { return records_; }

 private:
  std::string path_, temp_path_;
  std::ofstream out_;
  bool lines_ = false;
  bool closed_ = false;
  size_t records_ = 0;
};

}  // namespace taco
