// StreamBuffer: a streamed response body (server-sent events) between the pool thread that
// writes it and libmicrohttpd's event loop that sends it. The event loop suspends the
// connection when nothing is queued and the writer resumes it; a writer more than
// kMaxUnreadStream ahead of the client waits. Used by serve/http_server.cpp only.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <string>

#include "serve/http_server.h"

struct MHD_Connection;

namespace taco {

class StreamBuffer : public HttpStream {
 public:
  // A streamed body unread by the client past this makes the producer wait.
  static constexpr size_t kMaxUnreadStream = size_t{1} << 20;

  explicit StreamBuffer(MHD_Connection* connection) : connection_(connection) {}

  bool write(const std::string& data) override;
  void finish();
  // The event loop's side (MHD's content reader): bytes, or MHD's end-of-stream codes, or 0
  // after suspending the connection until the writer wakes it.
  ssize_t read(char* buf, size_t max);
  // The response is gone (sent, or the client went away), or the server is stopping: writes
  // fail from now on, and a reader waiting for more is woken to end the stream.
  void close();

 private:
  void wake();
  MHD_Connection* connection_;
  std::mutex mu_;
  std::condition_variable drained_;
  std::string queued_;
  size_t taken_ = 0;
  bool finished_ = false, closed_ = false, suspended_ = false;
};

}  // namespace taco
