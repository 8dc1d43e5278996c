// JSON Lines: reading record files and appending to them so that no finished record is lost.
//
// The on-disk rule: every record is one line ending in '\n', written with a single write(2).
// A process killed mid-write can leave a torn last line without its '\n'; JsonlAppender cuts
// that line away before it appends, and readers asked to tolerate it skip it.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

#include "util/json.h"

namespace taco {

// The most one record (one line) may hold. A longer line is refused with an Error naming its
// file and line, read past without being kept in memory.
inline constexpr size_t kMaxRecordBytes = size_t{64} << 20;

// Reads a file line by line with bounded memory: a line longer than `max_bytes` is not kept
// (next() says kTooLong and skips to its end). Lines come without their '\n'.
class LineReader {
 public:
  // Throws Error when the file cannot be opened.
  explicit LineReader(const std::string& path, size_t max_bytes = kMaxRecordBytes);
  // Reads an open descriptor (standard input, a pipe), which stays open; `name` is for errors.
  LineReader(int fd, std::string name, size_t max_bytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  enum class Result { kLine, kTooLong, kEnd };
  Result next(std::string& line);
  // Whether the line next() returned ended with '\n' (false: the file's last bytes).
  bool ended_with_newline() const { return newline_; }
  // The line number of the line next() returned, from 1.
  size_t line_number() const { return line_no_; }

 private:
  bool fill();
  std::string path_;
  size_t max_;
  int fd_ = -1;
  bool owns_fd_ = true;
  std::string buf_;
  size_t at_ = 0, end_ = 0;
  bool eof_ = false, newline_ = false;
  size_t line_no_ = 0;
};

// Calls `fn(line_number, record)` for every non-blank line. A malformed line throws Error
// "PATH:LINE: ..." unless it is a torn last line and `tolerate_torn_tail` is set; so does a
// line over kMaxRecordBytes.
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
