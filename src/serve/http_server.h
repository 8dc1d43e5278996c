// HttpServer: the one HTTP layer under taco's three servers (taco serve, taco view, taco mcp
// --http), on GNU libmicrohttpd (docs/serve.md says why it, and what each limit is beside
// nginx's defaults).
//
// Sockets are read by an event loop (epoll) that gives no connection a thread of its own: a
// client that sends one header byte every few seconds costs a few kilobytes, not a thread,
// and /health answers while many such clients wait. A request is handed to a handler only
// once its headers and body are complete and within the limits; handlers run on a bounded
// pool of threads (a request that finds the pool and its queue full is answered 503 at once),
// except routes marked quick, which answer on the event loop itself. Limits: the size (and so
// the number) of the headers, the body's size whatever its transfer encoding, an idle
// timeout, the connections in all. Bound to a loopback address, the server answers only
// requests whose Host names this machine (DNS rebinding), and refuses state-changing requests
// (POST, PUT, PATCH, DELETE) whose Origin is a web page of another site. One access-log line
// per request goes to standard error unless turned off.
//
// Thread-safety: routes are added before bind(); stop() may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace taco {

struct HttpRequest {
  std::string method;                               // "GET", "POST", ...
  std::string path;                                 // without the query
  std::map<std::string, std::string> query;         // decoded query parameters
  std::map<std::string, std::string> headers;       // by lower-case name
  std::string body;
  std::vector<std::string> matches;                 // the route's capture groups, [0] the whole path
  std::string remote;                               // the client's address

  // The header's value ("" when absent); `name` in any case.
  std::string header(const std::string& name) const;
  // The query parameter's value ("" when absent).
  std::string param(const std::string& key) const;
  // Whether an Origin header names a site other than this machine's loopback names (a web
  // page of another site sent it).
  bool from_foreign_origin() const;
  // Whether it carries `Authorization: Bearer <key>` (true for any request when `key` is empty).
  bool has_key(const std::string& key) const;
};

// Where a streamed body is written from a pool thread while the client reads it.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Queues `data` for the client; waits while much is queued and unread. False once the client
  // has gone (or the server stops): the producer should stop.
  virtual bool write(const std::string& data) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  // A body written as it is made (server-sent events): when set, `body` is not used and this
  // runs on a pool thread after the handler returns, the status and headers already sent.
  std::function<void(HttpStream&)> stream;

  void set(std::string content, std::string type) {
    body = std::move(content);
    content_type = std::move(type);
  }
  void set_header(const std::string& name, const std::string& value) { headers.emplace_back(name, value); }
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

struct HttpLimits {
  size_t max_header_bytes = 32 << 10;   // the request line and all headers (nginx: 4 x 8 KB buffers)
  size_t max_headers = 100;             // header lines in one request
  size_t max_body_bytes = 64u << 20;    // any transfer encoding (nginx client_max_body_size: 1 MB)
  size_t max_body_bytes_in_flight = size_t{512} << 20;  // all requests' bodies held at once; past it: 503
  unsigned idle_timeout_s = 30;         // a connection silent this long is closed (nginx: 60 s)
  unsigned max_connections = 1024;      // open at once, kept 256 under the open-files limit; more are refused at accept
                                        // (an eighth of them per client address, off loopback)
  size_t handler_threads = 12;          // requests handled at once
  size_t max_queued = 64;               // requests waiting for a handler thread; past it: 503
  bool access_log = true;               // one line per request on standard error
  std::string log_name = "http";        // what the access log lines start with
};

class HttpServer {
 public:
  explicit HttpServer(HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes: `pattern` is a regular expression the whole path must match (its groups become
  // HttpRequest::matches). `quick` handlers answer on the event loop and must not block.
  void route(const std::string& method, const std::string& pattern, HttpHandler handler, bool quick = false);
  void get(const std::string& pattern, HttpHandler handler, bool quick = false) { route("GET", pattern, std::move(handler), quick); }
  void post(const std::string& pattern, HttpHandler handler) { route("POST", pattern, std::move(handler)); }
  void del(const std::string& pattern, HttpHandler handler) { route("DELETE", pattern, std::move(handler)); }
  // What answers a request no route takes, or one the layer refuses (404, 405, 413, 431, 503,
  // 403): `status` and the reason; the default is {"error": {"message": reason}}.
  void on_error(std::function<void(int status, const std::string& reason, HttpResponse&)> make_body);

  // Listens on host:port (0: any free port) and starts answering; returns the port. Throws
  // Error when it cannot listen.
  int bind(const std::string& host, int port);
  // Blocks until stop().
  void serve();
  // Stops taking connections, lets the requests in flight finish (their replies are sent),
  // then closes everything; serve() returns. Idempotent.
  void stop();
  bool loopback() const;  // bound to a loopback address

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Whether `host` (as given to --host) is a loopback address: 127.0.0.0/8, ::1, localhost.
bool is_loopback_host(const std::string& host);

}  // namespace taco
