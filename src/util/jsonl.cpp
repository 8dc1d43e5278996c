#include "util/jsonl.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.h"
#include "util/files.h"
#include "util/strings.h"

namespace taco {

void for_each_record(const std::string& path, const std::function<void(size_t, Json&&)>& fn) {
  if (path.size() > 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0) {
    for_each_jsonl(path, fn);
    return;
  }
  Json all = read_json_file(path);
  if (!all.is_array()) throw Error(path + ": not JSON Lines (.jsonl) nor a JSON array of records");
  for (size_t i = 0; i < all.size(); ++i) fn(i + 1, std::move(all[i]));
}

LineReader::LineReader(const std::string& path, size_t max_bytes) : path_(path), max_(max_bytes) {
  refuse_directory(path);  // a folder would read as zero records, and exit 0
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  buf_.resize(size_t{1} << 20);
}

LineReader::LineReader(int fd, std::string name, size_t max_bytes) : path_(std::move(name)), max_(max_bytes), fd_(fd), owns_fd_(false) {
  buf_.resize(size_t{1} << 16);  // a pipe: small reads, answered as they come
}

LineReader::~LineReader() {
  if (fd_ >= 0 && owns_fd_) ::close(fd_);
}

bool LineReader::fill() {
  if (eof_) return false;
  if (at_ == end_) at_ = end_ = 0;
  for (;;) {
    const ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path_ + ": read failed (" + std::strerror(errno) + ")");
    if (n == 0) eof_ = true;
    end_ += static_cast<size_t>(n);
    return n > 0;
  }
}

LineReader::Result LineReader::next(std::string& line) {
  line.clear();
  bool too_long = false, any = false;
  for (;;) {
    if (at_ == end_ && !fill()) {
      if (!any) return Result::kEnd;
      ++line_no_;
      newline_ = false;
      return too_long ? Result::kTooLong : Result::kLine;
    }
    any = true;
    const char* start = buf_.data() + at_;
    const void* nl = std::memchr(start, '\n', end_ - at_);
    const size_t take = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : end_ - at_;
    if (!too_long && line.size() + take > max_) {
      too_long = true;
      line.clear();
      line.shrink_to_fit();
    }
    if (!too_long) line.append(start, take);
    at_ += take;
    if (nl) {
      ++at_;
      ++line_no_;
      newline_ = true;
      return too_long ? Result::kTooLong : Result::kLine;
    }
  }
}

void for_each_jsonl(const std::string& path, const std::function<void(size_t, Json&&)>& fn,
                    bool tolerate_torn_tail) {
  LineReader in(path);
  std::string line;
  for (LineReader::Result r; (r = in.next(line)) != LineReader::Result::kEnd;) {
    const bool last_without_newline = !in.ended_with_newline();
    if (r == LineReader::Result::kTooLong) {
      if (tolerate_torn_tail && last_without_newline) return;
      throw Error(path + ":" + std::to_string(in.line_number()) + ": a record over " + byte_size_text(kMaxRecordBytes) +
                  " (the most one line may hold)");
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json record;
    try {
      record = parse_json(line, JsonLimits{kMaxRecordBytes, JsonLimits{}.max_depth});
    } catch (const Error& e) {
      if (tolerate_torn_tail && last_without_newline) return;
      throw Error(path + ":" + std::to_string(in.line_number()) + ": " + e.what());
    }
    fn(in.line_number(), std::move(record));
  }
}

namespace {

// flock(2) for one scope: excludes the other processes appending to the same file.
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() { ::flock(fd_, LOCK_UN); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

JsonlAppender::JsonlAppender(const std::string& path) : path_(path) {
  make_dirs(parent_dir(path));
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path + ": cannot open for appending (" + std::strerror(errno) + ")");
  // Other processes may append to the same file (a shared judge cache): each append and this
  // repair hold an exclusive lock, so what looks torn here is never a line being written.
  FileLock lock(fd_);
  // Cut a torn last line: find the last '\n' and truncate after it. A last line that is whole
  // JSON but lacks its '\n' (written by another program, or edited) is kept and ended: the
  // reader counts it as done, so cutting it would lose it for good.
  struct stat st;
  if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
    off_t size = st.st_size;
    off_t keep = 0;
    char buf[4096];
    for (off_t end = size; end > 0;) {
      off_t start = end > static_cast<off_t>(sizeof buf) ? end - static_cast<off_t>(sizeof buf) : 0;
      ssize_t n = ::pread(fd_, buf, static_cast<size_t>(end - start), start);
      if (n <= 0) break;
      const void* nl = ::memrchr(buf, '\n', static_cast<size_t>(n));
      if (nl) {
        keep = start + (static_cast<const char*>(nl) - buf) + 1;
        break;
      }
      end = start;
    }
    if (keep < size) {
      std::string tail(static_cast<size_t>(size - keep), '\0');
      const bool whole = ::pread(fd_, tail.data(), tail.size(), keep) == static_cast<ssize_t>(tail.size()) &&
                         tail.find_first_not_of(" \t\r") != std::string::npos && Json::accept(tail);
      if (whole) {
        if (::write(fd_, "\n", 1) != 1) throw Error(path + ": cannot end the last line (" + std::strerror(errno) + ")");
      } else if (::ftruncate(fd_, keep) != 0) {
        throw Error(path + ": cannot repair the torn last line (" + std::strerror(errno) + ")");
      }
    }
  }
}

JsonlAppender::~JsonlAppender() {
  if (fd_ >= 0) ::close(fd_);
}

void JsonlAppender::append(const Json& record) {
  std::string line = record.dump(-1, ' ', false, Json::error_handler_t::replace);
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  FileLock file_lock(fd_);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(path_ + ": write failed (" + std::strerror(errno) + ")");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace taco
