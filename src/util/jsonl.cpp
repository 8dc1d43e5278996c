#include "util/jsonl.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "util/error.h"
#include "util/files.h"

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

void for_each_jsonl(const std::string& path, const std::function<void(size_t, Json&&)>& fn,
                    bool tolerate_torn_tail) {
  refuse_directory(path);  // a folder would read as zero records, and exit 0
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    bool last_without_newline = in.eof();
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json record;
    try {
      record = Json::parse(line);
    } catch (const Json::exception& e) {
      if (tolerate_torn_tail && last_without_newline) return;
      throw Error(path + ":" + std::to_string(line_no) + ": malformed JSON (" + e.what() + ")");
    }
    fn(line_no, std::move(record));
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
