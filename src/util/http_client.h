// HttpClient: JSON-over-HTTP(S) POSTs (and plain GETs) with libcurl, shared by the model client and the tools'
// http backends. Connections are kept alive and reused through a pool of curl handles.
// Thread-safe: post() and get() may be called from many threads at once.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "util/error.h"

namespace taco {

struct HttpResponse {
  long status = 0;
  std::string body;
  double retry_after_s = 0;  // from a Retry-After header, when the server sent one
  std::map<std::string, std::string> headers;  // by lower-case name (the last of a repeated one)
};

// The request never got an HTTP answer (refused, timed out, DNS, TLS).
class HttpConnectError : public Error {
 public:
  using Error::Error;
};

// The caller's `stop` said so while the request was under way.
class HttpStoppedError : public Error {
 public:
  using Error::Error;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` as application/json with the extra `headers` ("Name: value"). `stop`, when
  // given, is asked several times a second; true abandons the request (HttpStoppedError).
  HttpResponse post(const std::string& url, const std::string& body, const std::vector<std::string>& headers,
                    double timeout_s, double connect_timeout_s = 10, const std::function<bool()>& stop = nullptr) const;
  HttpResponse get(const std::string& url, const std::vector<std::string>& headers, double timeout_s,
                   double connect_timeout_s = 10) const;
  HttpResponse del(const std::string& url, const std::vector<std::string>& headers, double timeout_s) const;

 private:
  HttpResponse perform(const std::string& url, const std::string* body, const std::vector<std::string>& headers,
                       double timeout_s, double connect_timeout_s, const std::function<bool()>& stop,
                       const std::string* method) const;
  void* acquire() const;
  void release(void* handle) const;

  mutable std::mutex mu_;
  mutable std::vector<void*> idle_;
};

// One line from an error response body: its "error.message" when it is JSON, else its start.
std::string http_error_message(const std::string& body);

}  // namespace taco
