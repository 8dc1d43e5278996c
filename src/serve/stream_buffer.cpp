#include "serve/stream_buffer.h"

#include <microhttpd.h>

#include <algorithm>
#include <cstring>

namespace taco {

bool StreamBuffer::write(const std::string& data) {
  std::unique_lock<std::mutex> lock(mu_);
  drained_.wait(lock, [&] { return closed_ || queued_.size() - taken_ < kMaxUnreadStream; });
  if (closed_) return false;
  if (taken_ > 0) queued_.erase(0, taken_), taken_ = 0;
  queued_ += data;
  wake();
  return true;
}

void StreamBuffer::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  wake();
}

ssize_t StreamBuffer::read(char* buf, size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  if (taken_ < queued_.size()) {
    const size_t n = std::min(max, queued_.size() - taken_);
    std::memcpy(buf, queued_.data() + taken_, n);
    taken_ += n;
    drained_.notify_all();
    return static_cast<ssize_t>(n);
  }
  if (finished_) return MHD_CONTENT_READER_END_OF_STREAM;
  if (closed_) return MHD_CONTENT_READER_END_WITH_ERROR;
  suspended_ = true;
  MHD_suspend_connection(connection_);
  return 0;
}

void StreamBuffer::close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  drained_.notify_all();
  wake();
}

// Called with mu_ held.
void StreamBuffer::wake() {
  if (suspended_) {
    suspended_ = false;
    MHD_resume_connection(connection_);
  }
}

}  // namespace taco
