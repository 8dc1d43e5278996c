// JSON Lines: reading record files and appending to them so that no finished record is lost.
//
// The on-disk rule: every record is one line ending in '\n', written with a single write(2).
// A process killed mid-write can leave a torn last line without its '\n'; JsonlAppender cuts
// that line away before it appends, and readers asked to tolerate it skip it.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "util/json.h"

namespace taco {

// Calls `fn(line_number, record)` for every non-blank line. A malformed line throws Error
// "PATH:LINE: ..." unless it is a torn last line and `tolerate_torn_tail` is set.
void for_each_jsonl(const std::string& path, const std::function<void(size_t, Json&&)>& fn,
                    bool tolerate_torn_tail = false);

// The two shapes record files come in (as RecordWriter writes them): JSON Lines when the path
// ends in ".jsonl", else one JSON array. Calls `fn(record_number, record)`, counting from 1;
// throws Error for malformed JSON or a non-.jsonl file that is not an array.
void for_each_record(const std::string& path, const std::function<void(size_t, Json&&)>& fn);

// Appends records to a JSONL file. Thread-safe: append() may be called from many threads.
class JsonlAppender {
 public:
  explicit JsonlAppender(const std::string& path);
  ~JsonlAppender();
  JsonlAppender(const JsonlAppender&) = delete;
  JsonlAppender& operator=(const JsonlAppender&) = delete;

  void append(const Json& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mu_;
};

}  // namespace taco
