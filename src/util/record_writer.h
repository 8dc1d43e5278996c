// RecordWriter: writes JSON records to a file as JSON Lines (path ends in .jsonl) or as one
// JSON array (anything else), the two shapes training sets come in. Invalid UTF-8 in strings
// is replaced rather than refused. Not thread-safe.
#pragma once

#include <fstream>
#include <string>

#include "util/json.h"

namespace taco {

class RecordWriter {
 public:
  explicit RecordWriter(const std::string& path);  // truncates; throws Error when it cannot write
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  void write(const Json& record);
  void close();  // ends the array and checks the write; called by the destructor otherwise
  size_t records() const { return records_; }

 private:
  std::string path_;
  std::ofstream out_;
  bool lines_ = false;
  bool closed_ = false;
  size_t records_ = 0;
};

}  // namespace taco
