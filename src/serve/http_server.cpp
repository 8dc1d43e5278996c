#include "serve/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <regex>
#include <set>

#include "serve/stream_buffer.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strings.h"
#include "util/work_pool.h"

namespace taco {
namespace {

using Clock = std::chrono::steady_clock;

// The longest path matched against the routes (libstdc++'s regex recurses per character).
constexpr size_t kMaxPathBytes = 2048;

// The host part of a Host header or an Origin ("http://127.0.0.1:8080" -> "127.0.0.1").
std::string host_part(std::string value) {
  if (size_t scheme = value.find("://"); scheme != std::string::npos) value.erase(0, scheme + 3);
  if (size_t slash = value.find('/'); slash != std::string::npos) value.resize(slash);
  if (!value.empty() && value[0] == '[') {
    const size_t close = value.find(']');
    return close == std::string::npos ? value : value.substr(0, close + 1);
  }
  if (size_t colon = value.rfind(':'); colon != std::string::npos) value.resize(colon);
  return to_lower(value);
}

bool is_local_name(const std::string& host) {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool changes_state(const std::string& method) { return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE"; }

}  // namespace

bool is_loopback_host(const std::string& host) { return is_local_name(to_lower(host)); }

std::string HttpRequest::header(const std::string& name) const {
  auto it = headers.find(to_lower(name));
  return it == headers.end() ? "" : it->second;
}

bool HttpRequest::has_key(const std::string& key) const { return key.empty() || header("Authorization") == "Bearer " + key; }

bool HttpRequest::from_foreign_origin() const {
  const std::string origin = header("Origin");
  return !origin.empty() && !is_local_name(host_part(origin));
}

std::string HttpRequest::param(const std::string& key) const {
  auto it = query.find(key);
  return it == query.end() ? "" : it->second;
}

namespace {

// One request from its headers to its last byte sent.
struct Exchange {
  MHD_Connection* connection = nullptr;
  HttpRequest request;
  HttpResponse response;
  Clock::time_point start = Clock::now();
  enum class Phase { kReading, kDiscarding, kWorking, kReady } phase = Phase::kReading;
  const void* route = nullptr;  // the Route that takes it
  std::shared_ptr<StreamBuffer> stream;
  uint64_t bytes = 0;  // of the body sent (streams: as read)
  size_t body_reserved = 0;  // of the server's budget for bodies in memory
};

}  // namespace

struct HttpServer::Impl {
  struct Route {
    std::string method;
    std::regex pattern;
    HttpHandler handler;
    bool quick;
  };

  HttpLimits limits;
  std::vector<std::unique_ptr<Route>> routes;
  std::function<void(int, const std::string&, HttpResponse&)> error_body;
  std::unique_ptr<WorkPool> pool;
  MHD_Daemon* daemon = nullptr;
  bool loopback = false;
  std::mutex mu;
  std::condition_variable changed;
  bool stopping = false, stopped = false;
  size_t open_exchanges = 0, running_jobs = 0;
  size_t body_bytes = 0;  // of all requests' bodies held in memory now
  std::vector<std::weak_ptr<StreamBuffer>> streams;  // to end at stop()

  // Takes `n` bytes of the budget for bodies in memory; false when it is spent.
  bool reserve_body(Exchange& x, size_t n) {
    std::lock_guard<std::mutex> lock(mu);
    if (body_bytes + n > limits.max_body_bytes_in_flight) return false;
    body_bytes += n;
    x.body_reserved += n;
    return true;
  }
  void release_body(Exchange& x) {
    std::lock_guard<std::mutex> lock(mu);
    body_bytes -= x.body_reserved;
    x.body_reserved = 0;
  }

  explicit Impl(HttpLimits l) : limits(std::move(l)) {}

  void refuse(Exchange& x, int status, const std::string& reason) {
    x.response = HttpResponse();
    x.response.status = status;
    if (error_body) error_body(status, reason, x.response);
    else x.response.set(Json{{"error", {{"message", reason}}}}.dump(), "application/json");
    if (status == 503 || status == 429) x.response.set_header("Retry-After", "1");
  }

  // Sends x.response (or starts its stream). The stream's reader holds the exchange as long
  // as MHD holds the response.
  MHD_Result queue(const std::shared_ptr<Exchange>& shared) {
    Exchange& x = *shared;
    MHD_Response* r = nullptr;
    if (x.stream) {
      r = MHD_create_response_from_callback(
          MHD_SIZE_UNKNOWN, 16 << 10,
          [](void* cls, uint64_t, char* buf, size_t max) -> ssize_t {
            Exchange& x = **static_cast<std::shared_ptr<Exchange>*>(cls);
            const ssize_t n = x.stream->read(buf, max);
            if (n > 0) x.bytes += static_cast<uint64_t>(n);
            return n;
          },
          new std::shared_ptr<Exchange>(shared), [](void* cls) { delete static_cast<std::shared_ptr<Exchange>*>(cls); });
    } else {
      x.bytes = x.response.body.size();
      r = MHD_create_response_from_buffer(x.response.body.size(), x.response.body.data(), MHD_RESPMEM_MUST_COPY);
    }
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, x.response.content_type.c_str());
    if (x.stream) MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    for (const auto& [name, value] : x.response.headers) MHD_add_response_header(r, name.c_str(), value.c_str());
    const MHD_Result ok = MHD_queue_response(x.connection, static_cast<unsigned>(x.response.status), r);
    MHD_destroy_response(r);
    return ok;
  }

  const Route* find_route(HttpRequest& req, bool& path_known) {
    path_known = false;
    for (const auto& route : routes) {
      std::smatch m;
      if (!std::regex_match(req.path, m, route->pattern)) continue;
      path_known = true;
      if (route->method != req.method && !(req.method == "HEAD" && route->method == "GET")) continue;
      req.matches.assign(m.begin(), m.end());
      return route.get();
    }
    return nullptr;
  }

  // The checks that need only the headers: the status to refuse the request with and why, or
  // 0 when it may go on.
  int check_headers(Exchange& x, size_t header_lines, std::string& reason) {
    const HttpRequest& req = x.request;
    if (header_lines > limits.max_headers) {
      reason = "more than " + std::to_string(limits.max_headers) + " header lines";
      return 431;
    }
    if (loopback) {
      // A page of another site that resolves its own name to 127.0.0.1 (DNS rebinding) sends
      // its own name as Host; a page of another site posting here sends its Origin.
      const std::string host = req.header("Host");
      if (!host.empty() && !is_local_name(host_part(host))) {
        reason = "requests for host '" + excerpt(host, 80) + "' are refused: this server answers only its loopback names";
        return 403;
      }
      if (changes_state(req.method) && req.from_foreign_origin()) {
        reason = "requests from another origin (" + excerpt(req.header("Origin"), 80) + ") are refused";
        return 403;
      }
    }
    const std::string length = req.header("Content-Length");
    if (!length.empty() && length.find_first_not_of("0123456789") == std::string::npos && length.size() < 20) {
      const uint64_t declared = std::stoull(length);
      if (declared > limits.max_body_bytes) {
        reason = "the request body (" + byte_size_text(declared) + ") is over the server's limit of " + byte_size_text(limits.max_body_bytes);
        return 413;
      }
      std::lock_guard<std::mutex> lock(mu);
      if (body_bytes + declared > limits.max_body_bytes_in_flight) {
        reason = "the server holds " + byte_size_text(body_bytes) + " of request bodies already; retry shortly";
        return 503;
      }
    }
    return 0;
  }

  void run_job(std::shared_ptr<Exchange> x, const Route* route) {
    try {
      route->handler(x->request, x->response);
    } catch (const std::exception& e) {
      refuse(*x, 500, std::string("internal error: ") + e.what());
    } catch (...) {
      refuse(*x, 500, "internal error");
    }
    std::function<void(HttpStream&)> producer = std::move(x->response.stream);
    if (producer) {
      x->stream = std::make_shared<StreamBuffer>(x->connection);
      std::lock_guard<std::mutex> lock(mu);
      std::erase_if(streams, [](const std::weak_ptr<StreamBuffer>& w) { return w.expired(); });
      streams.push_back(x->stream);
    }
    std::shared_ptr<StreamBuffer> stream = x->stream;
    // The connection is suspended until here, so MHD reads the phase only after this resume.
    // No lock of ours is held across a call into MHD.
    x->phase = Exchange::Phase::kReady;
    MHD_resume_connection(x->connection);  // the event loop sends the reply
    if (producer) {
      try {
        producer(*stream);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: a stream failed: %s\n", limits.log_name.c_str(), e.what());
      } catch (...) {
        std::fprintf(stderr, "%s: a stream failed\n", limits.log_name.c_str());
      }
      stream->finish();
    }
  }

  static MHD_Result collect(void* cls, MHD_ValueKind, const char* key, const char* value) {
    static_cast<std::map<std::string, std::string>*>(cls)->emplace(key ? key : "", value ? value : "");
    return MHD_YES;
  }
  struct HeaderLines {
    std::map<std::string, std::string>* by_name;
    size_t count = 0;  // lines, repeated names included
  };
  static MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
    auto* lines = static_cast<HeaderLines*>(cls);
    (*lines->by_name)[to_lower(key ? key : "")] = value ? value : "";
    ++lines->count;
    return MHD_YES;
  }

  // MHD's callbacks are C: nothing may escape them. A failure closes the connection.
  MHD_Result access(MHD_Connection* connection, const char* url, const char* method, const char* upload_data,
                    size_t* upload_data_size, void** con_cls) {
    try {
      return access_unguarded(connection, url, method, upload_data, upload_data_size, con_cls);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: a request failed: %s\n", limits.log_name.c_str(), e.what());
    } catch (...) {
      std::fprintf(stderr, "%s: a request failed\n", limits.log_name.c_str());
    }
    return MHD_NO;
  }

  // MHD calls it for a request's headers, each piece of its body, and once the body is whole.
  MHD_Result access_unguarded(MHD_Connection* connection, const char* url, const char* method, const char* upload_data,
                              size_t* upload_data_size, void** con_cls) {
    auto* holder = static_cast<std::shared_ptr<Exchange>*>(*con_cls);
    if (!holder) {
      holder = new std::shared_ptr<Exchange>(std::make_shared<Exchange>());
      *con_cls = holder;
      return begin_exchange(*holder, connection, url, method);
    }
    Exchange& x = **holder;
    if (*upload_data_size > 0) {
      const size_t n = *upload_data_size;
      if (!take_body_piece(x, upload_data, n)) return MHD_NO;
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (x.phase == Exchange::Phase::kReady) return queue(*holder);
    if (x.phase != Exchange::Phase::kReading) return MHD_YES;  // woken without news
    return dispatch(*holder, connection);
  }

  // A request's headers: checked, routed, or answered at once (before the body is read).
  MHD_Result begin_exchange(std::shared_ptr<Exchange>& holder, MHD_Connection* connection, const char* url, const char* method) {
    Exchange& x = *holder;
    x.connection = connection;
    x.request.method = method;
    x.request.path = url;
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &Impl::collect, &x.request.query);
    HeaderLines lines{&x.request.headers};
    MHD_get_connection_values(connection, MHD_HEADER_KIND, &Impl::collect_header, &lines);
    if (const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) {
      char text[INET6_ADDRSTRLEN] = "";
      const sockaddr* a = info->client_addr;
      if (a && a->sa_family == AF_INET) ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a)->sin_addr, text, sizeof text);
      if (a && a->sa_family == AF_INET6) ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr, text, sizeof text);
      x.request.remote = text;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      ++open_exchanges;
    }
    std::string reason;
    int status = check_headers(x, lines.count, reason);
    // libstdc++'s regex recurses per character: no route is matched against a long path.
    if (!status && x.request.path.size() > kMaxPathBytes) {
      status = 414;
      reason = "a path of " + std::to_string(x.request.path.size()) + " bytes (the most is " + std::to_string(kMaxPathBytes) + ")";
    }
    if (!status) {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) status = 503, reason = "the server is stopping";
    }
    bool path_known = false;
    const Route* route = status ? nullptr : find_route(x.request, path_known);
    if (!status && !route) {
      status = path_known ? 405 : 404;
      reason = path_known ? "the method " + x.request.method + " is not taken at " + x.request.path
                          : "no route " + x.request.method + " " + x.request.path;
    }
    if (status) {
      // Answered before the body is read; MHD closes the connection after (the body unread).
      refuse(x, status, reason);
      x.phase = Exchange::Phase::kReady;
      return queue(holder);
    }
    x.route = route;
    return MHD_YES;
  }

  // A piece of the body; false closes the connection (a body over the limits).
  bool take_body_piece(Exchange& x, const char* upload_data, size_t n) {
    if (x.phase != Exchange::Phase::kReading) return false;
    // A body that passes the limit (one sent chunked declares no length), or that the budget
    // for all bodies in memory cannot hold: its connection is closed at once, nothing more
    // read (MHD cannot answer in the middle of a body); the log says why.
    const bool over = x.request.body.size() + n > limits.max_body_bytes;
    if (over || !reserve_body(x, n)) {
      x.phase = Exchange::Phase::kDiscarding;
      x.request.body.clear();
      x.request.body.shrink_to_fit();
      release_body(x);
      x.response.status = over ? 413 : 503;
      std::fprintf(stderr, "%s: %s \"%s %s\": %s; connection closed\n", limits.log_name.c_str(), x.request.remote.c_str(),
                   x.request.method.c_str(), excerpt(x.request.path, 200).c_str(),
                   over ? ("the body passed the limit of " + byte_size_text(limits.max_body_bytes)).c_str()
                        : ("the bodies in memory reached " + byte_size_text(limits.max_body_bytes_in_flight)).c_str());
      return false;
    }
    x.request.body.append(upload_data, n);
    return true;
  }

  // The whole request: a quick route answers here; another runs on the pool, its connection
  // suspended until the job resumes it.
  MHD_Result dispatch(std::shared_ptr<Exchange>& holder, MHD_Connection* connection) {
    Exchange& x = *holder;
    const Route* route = static_cast<const Route*>(x.route);
    if (route->quick) {
      try {
        route->handler(x.request, x.response);
      } catch (const std::exception& e) {
        refuse(x, 500, std::string("internal error: ") + e.what());
      }
      x.phase = Exchange::Phase::kReady;
      return queue(holder);
    }
    // Suspended before the job can resume it; a job the pool cannot take is answered busy.
    x.phase = Exchange::Phase::kWorking;
    MHD_suspend_connection(connection);
    std::shared_ptr<Exchange> shared = holder;
    {
      std::lock_guard<std::mutex> lock(mu);
      ++running_jobs;
    }
    const bool taken = pool->try_submit([this, shared, route] {
      run_job(shared, route);
      std::lock_guard<std::mutex> lock(mu);
      --running_jobs;
      changed.notify_all();
    });
    if (!taken) {
      {
        std::lock_guard<std::mutex> lock(mu);
        --running_jobs;
      }
      refuse(x, 503, "the server is busy: " + std::to_string(limits.handler_threads) + " requests are running and " +
                         std::to_string(limits.max_queued) + " waiting; retry shortly");
      x.phase = Exchange::Phase::kReady;
      MHD_resume_connection(connection);
    }
    return MHD_YES;
  }

  void completed(MHD_Connection*, void** con_cls, MHD_RequestTerminationCode code) {
    auto* holder = static_cast<std::shared_ptr<Exchange>*>(*con_cls);
    if (!holder) return;
    Exchange& x = **holder;
    release_body(x);
    if (x.stream) x.stream->close();
    if (limits.access_log) {
      const double seconds = std::chrono::duration<double>(Clock::now() - x.start).count();
      std::fprintf(stderr, "%s: %s \"%s %s\" %d %llu %.3f s%s\n", limits.log_name.c_str(), x.request.remote.c_str(),
                   x.request.method.c_str(), excerpt(x.request.path, 200).c_str(), x.response.status,
                   static_cast<unsigned long long>(x.bytes), seconds,
                   code == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (not completed)");
    }
    delete holder;
    *con_cls = nullptr;
    std::lock_guard<std::mutex> lock(mu);
    --open_exchanges;
    changed.notify_all();
  }
};

HttpServer::HttpServer(HttpLimits limits) : impl_(std::make_unique<Impl>(std::move(limits))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(const std::string& method, const std::string& pattern, HttpHandler handler, bool quick) {
  impl_->routes.push_back(std::make_unique<Impl::Route>(Impl::Route{method, std::regex(pattern), std::move(handler), quick}));
}

void HttpServer::on_error(std::function<void(int, const std::string&, HttpResponse&)> make_body) {
  impl_->error_body = std::move(make_body);
}

bool HttpServer::loopback() const { return impl_->loopback; }

int HttpServer::bind(const std::string& host, int port) {
  Impl& s = *impl_;
  if (s.daemon) throw Error("the server is bound already");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const std::string listen_host = host == "localhost" ? "127.0.0.1" : host;
  if (::getaddrinfo(listen_host.empty() ? nullptr : listen_host.c_str(), service.c_str(), &hints, &found) != 0 || !found)
    throw Error("cannot listen on " + host + ":" + std::to_string(port) + " (not an address of this machine)");
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  const bool v6 = found->ai_family == AF_INET6;
  ::freeaddrinfo(found);
  s.loopback = is_loopback_host(host);
  s.pool = std::make_unique<WorkPool>(s.limits.handler_threads, s.limits.max_queued);
  s.limits.max_body_bytes_in_flight = std::max(s.limits.max_body_bytes_in_flight, 2 * s.limits.max_body_bytes);
  // Connections must leave taco descriptors of its own (tool workers' pipes, MCP servers,
  // trace files): the soft limit is raised to the hard one, and connections kept 256 under it.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
    ::getrlimit(RLIMIT_NOFILE, &files);
  }
  unsigned connections = s.limits.max_connections;
  if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < connections + 256u)
    connections = files.rlim_cur > 512 ? static_cast<unsigned>(files.rlim_cur - 256) : static_cast<unsigned>(files.rlim_cur / 2);
  // On a network, one address may not take every connection; on loopback every client is 127.0.0.1.
  const unsigned per_address = s.loopback ? 0u : std::max(1u, connections / 8);
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  // MHD's own messages (a connection it closed, a socket error) as lines of this server's log.
  static const auto log_line = [](void* cls, const char* format, va_list args) {
    char text[512];
    std::vsnprintf(text, sizeof text, format, args);
    std::string line = text;
    while (!line.empty() && line.back() == '\n') line.pop_back();
    std::fprintf(stderr, "%s: %s\n", static_cast<Impl*>(cls)->limits.log_name.c_str(), line.c_str());
  };
  if (v6) flags |= MHD_USE_IPv6;
  s.daemon = MHD_start_daemon(
      flags, static_cast<uint16_t>(port), nullptr, nullptr,
      [](void* cls, MHD_Connection* c, const char* url, const char* method, const char*, const char* data, size_t* size,
         void** con_cls) { return static_cast<Impl*>(cls)->access(c, url, method, data, size, con_cls); },
      &s,  //
      // The logger first: MHD says so, and logs with its own before it otherwise.
      MHD_OPTION_EXTERNAL_LOGGER, static_cast<void (*)(void*, const char*, va_list)>(log_line), &s,  //
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<const sockaddr*>(&address),  //
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(s.limits.max_header_bytes + (16 << 10)),
      MHD_OPTION_CONNECTION_LIMIT, connections,  //
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address,  //
      MHD_OPTION_CONNECTION_TIMEOUT, s.limits.idle_timeout_s,  //
      MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,  //
      MHD_OPTION_NOTIFY_COMPLETED,
      static_cast<MHD_RequestCompletedCallback>([](void* cls, MHD_Connection* c, void** con_cls, MHD_RequestTerminationCode code) {
        static_cast<Impl*>(cls)->completed(c, con_cls, code);
      }),
      &s,  //
      MHD_OPTION_END);
  if (!s.daemon)
    throw Error("cannot listen on " + host + ":" + std::to_string(port) + " (in use, or not an address of this machine)");
  const MHD_DaemonInfo* info = MHD_get_daemon_info(s.daemon, MHD_DAEMON_INFO_BIND_PORT);
  return info ? info->port : port;
}

void HttpServer::serve() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->changed.wait(lock, [&] { return impl_->stopped; });
}

void HttpServer::stop() {
  Impl& s = *impl_;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.daemon) {
      s.stopped = true;
      s.changed.notify_all();
      return;
    }
    if (s.stopping) {  // another thread is stopping it: returns when that is done
      s.changed.wait(lock, [&] { return s.stopped; });
      return;
    }
    s.stopping = true;
  }
  // No new connections, and new requests on open ones are answered 503; the requests in flight
  // run to their end and their replies are sent. A stream whose client has not read it after
  // 30 s is ended. MHD must not be stopped while a connection is suspended: every job, which
  // alone suspends, has resumed its connection before it ends, and every stream is ended.
  const MHD_socket listener = MHD_quiesce_daemon(s.daemon);
  std::vector<std::shared_ptr<StreamBuffer>> unfinished;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.changed.wait_for(lock, std::chrono::seconds(30), [&] { return s.running_jobs == 0; }))
      for (auto& w : s.streams)
        if (auto stream = w.lock()) unfinished.push_back(std::move(stream));
  }
  for (auto& stream : unfinished) stream->close();  // outside our lock: it may call into MHD
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.changed.wait(lock, [&] { return s.running_jobs == 0; });
    s.changed.wait_for(lock, std::chrono::seconds(10), [&] { return s.open_exchanges == 0; });
  }
  MHD_stop_daemon(s.daemon);
  if (listener != MHD_INVALID_SOCKET) ::close(listener);
  s.pool.reset();
  std::lock_guard<std::mutex> lock(s.mu);
  s.daemon = nullptr;
  s.stopped = true;
  s.changed.notify_all();
}

}  // namespace taco
