// The HTTP layer under taco's servers, under the abuse a server on a network meets: slow
// clients, oversized and endless headers, bodies past the limit in every transfer encoding,
// requests from other sites' pages; and what it must still do meanwhile (answer /health,
// stream, finish the requests in flight when stopped).
#include "serve/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "util/json.h"

namespace taco {
namespace {

using Clock = std::chrono::steady_clock;

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// What the server sends back until it closes the connection, or until `timeout_s` passes.
std::string read_reply(int fd, double timeout_s) {
  std::string out;
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[65536];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    // One whole reply with a Content-Length: done.
    const size_t head_end = out.find("\r\n\r\n");
    const size_t length_at = out.find("Content-Length: ");
    if (head_end != std::string::npos && length_at != std::string::npos && length_at < head_end &&
        out.size() >= head_end + 4 + std::stoul(out.substr(length_at + 16)))
      break;
  }
  return out;
}

// One request over a fresh connection: the raw reply ("" when none came in time).
std::string round_trip(int port, const std::string& request, double timeout_s = 10) {
  const int fd = connect_to(port);
  if (fd < 0) return "";
  send_all(fd, request);
  std::string reply = read_reply(fd, timeout_s);
  ::close(fd);
  return reply;
}

int status_of(const std::string& reply) { return reply.size() > 12 && reply.rfind("HTTP/1.", 0) == 0 ? std::stoi(reply.substr(9, 3)) : 0; }

class Serving {
 public:
  explicit Serving(HttpLimits limits = quiet(), const std::string& host = "127.0.0.1") : http(limits) {
    http.get("/health", [](const HttpRequest&, HttpResponse& res) { res.set(R"({"status": "ok"})", "application/json"); }, true);
    http.post("/echo", [this](const HttpRequest& req, HttpResponse& res) {
      ++handled;
      res.set(std::to_string(req.body.size()), "text/plain");
    });
    http.get("/slow", [](const HttpRequest&, HttpResponse& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
      res.set("done", "text/plain");
    });
    http.get("/stream", [](const HttpRequest&, HttpResponse& res) {
      res.content_type = "text/event-stream";
      res.stream = [](HttpStream& out) {
        for (int i = 0; i < 5; ++i) {
          out.write("data: " + std::to_string(i) + "\n\n");
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      };
    });
    port = http.bind(host, 0);
    thread = std::thread([this] { http.serve(); });
  }
  ~Serving() {
    http.stop();
    thread.join();
  }
  static HttpLimits quiet() {
    HttpLimits l;
    l.access_log = false;
    return l;
  }
  HttpServer http;
  int port = 0;
  std::thread thread;
  std::atomic<int> handled{0};
};

std::string get(const std::string& path, const std::string& extra_headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers + "\r\n";
}

// Slowloris: 64 connections that each send a header byte every second, for as long as the
// test runs. They cost the event loop a few kilobytes each, not a thread: /health answers.
// (cpp-httplib gave each a pool thread, and 16 of them made /health unreachable.)
TEST(HttpServerTest, SlowClientsDoNotKeepOthersWaiting) {
  Serving s;
  std::vector<int> slow;
  for (int i = 0; i < 64; ++i) {
    const int fd = connect_to(s.port);
    ASSERT_GE(fd, 0);
    send_all(fd, "G");
    slow.push_back(fd);
  }
  std::atomic<bool> done{false};
  std::thread dripping([&] {
    const std::string line = "ET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (size_t i = 0; i < line.size() && !done; ++i) {
      for (int fd : slow) send_all(fd, std::string(1, line[i]));
      for (int k = 0; k < 10 && !done; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    const std::string reply = round_trip(s.port, get("/health"), 10);
    EXPECT_EQ(status_of(reply), 200) << reply;
    EXPECT_NE(reply.find(R"({"status": "ok"})"), std::string::npos);
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(5)) << "/health waited behind the slow clients";
  }
  // A request that needs a handler thread is answered too.
  EXPECT_EQ(status_of(round_trip(s.port, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")), 200);
  done = true;
  dripping.join();
  for (int fd : slow) ::close(fd);
}

// Headers are bounded in size and in number; bodies are bounded whatever their encoding: a
// declared length over the limit is refused before a byte of it is read, and a chunked body
// that passes the limit ends its connection without reaching a handler.
TEST(HttpServerTest, HeadersAndBodiesAreBoundedInEveryForm) {
  HttpLimits limits = Serving::quiet();
  limits.max_body_bytes = 1 << 20;
  Serving s(limits);

  std::string many;
  for (int i = 0; i < 300; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_of(round_trip(s.port, get("/health", many))), 431);
  const int huge_header = status_of(round_trip(s.port, get("/health", "X-Big: " + std::string(200 << 10, 'a') + "\r\n")));
  EXPECT_TRUE(huge_header == 431 || huge_header == 413 || huge_header == 414 || huge_header == 0) << huge_header;
  // A path long enough to overflow the stack of a recursive regex is refused before matching.
  EXPECT_EQ(status_of(round_trip(s.port, get("/" + std::string(30000, 'a')))), 414);
  EXPECT_EQ(status_of(round_trip(s.port, get("/health"))), 200) << "the server is well after them";

  // Content-Length over the limit: 413 at once, nothing read, nothing handled.
  const std::string declared = round_trip(s.port, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 300000000\r\n\r\n");
  EXPECT_EQ(status_of(declared), 413) << declared;
  EXPECT_NE(declared.find("over the server's limit of 1 MB"), std::string::npos) << declared;

  // Chunked: 4 MB in 64 KB chunks, past the 1 MB limit. The connection is closed as the body
  // passes it (MHD cannot answer in the middle of a body); no handler ran.
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'z') + "\r\n";
  bool cut = false;
  for (int i = 0; i < 64 && !cut; ++i) cut = !send_all(fd, chunk);
  if (!cut) send_all(fd, "0\r\n\r\n");
  const std::string reply = read_reply(fd, 10);
  ::close(fd);
  EXPECT_NE(status_of(reply), 200) << reply.substr(0, 200);
  EXPECT_EQ(s.handled.load(), 0);

  // Within the limit, in either form, the body arrives whole.
  EXPECT_NE(round_trip(s.port, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
                .find("\r\n\r\n11"),
            std::string::npos);
  EXPECT_EQ(s.handled.load(), 1);
}

// Bound to loopback, the server takes requests only for its own names (a page of another site
// that makes its name resolve to 127.0.0.1 sends that name as Host), and no state-changing
// request from another site's page (its Origin).
TEST(HttpServerTest, OtherSitesPagesAreRefusedOnLoopback) {
  Serving s;
  EXPECT_EQ(status_of(round_trip(s.port, get("/health"))), 200);
  EXPECT_EQ(status_of(round_trip(s.port, "GET /health HTTP/1.1\r\nHost: localhost:80\r\nConnection: close\r\n\r\n")), 200);
  const std::string rebound = round_trip(s.port, "GET /health HTTP/1.1\r\nHost: evil.example:8080\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(rebound), 403) << rebound;
  const std::string post = "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n";
  EXPECT_EQ(status_of(round_trip(s.port, post + "Origin: https://evil.example\r\n\r\nhi")), 403);
  EXPECT_EQ(status_of(round_trip(s.port, post + "Origin: null\r\n\r\nhi")), 403);
  EXPECT_EQ(status_of(round_trip(s.port, post + "Origin: http://localhost:3000\r\n\r\nhi")), 200);
  EXPECT_EQ(status_of(round_trip(s.port, post + "\r\nhi")), 200) << "clients that are not browsers send no Origin";
  EXPECT_EQ(s.handled.load(), 2);
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_TRUE(is_loopback_host("127.0.0.1") && is_loopback_host("localhost") && is_loopback_host("::1"));
}

// Streams go out as they are written; a stop lets the requests in flight finish, then closes.
TEST(HttpServerTest, StreamsAndAGracefulStop) {
  auto s = std::make_unique<Serving>();
  const std::string streamed = round_trip(s->port, get("/stream"), 10);
  EXPECT_EQ(status_of(streamed), 200);
  for (int i = 0; i < 5; ++i) EXPECT_NE(streamed.find("data: " + std::to_string(i)), std::string::npos) << streamed;
  auto slow = std::async(std::launch::async, [&] { return round_trip(s->port, get("/slow"), 10); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  s->http.stop();
  const std::string answered = slow.get();
  EXPECT_EQ(status_of(answered), 200) << answered;
  EXPECT_NE(answered.find("done"), std::string::npos);
  EXPECT_LT(connect_to(s->port), 0) << "still accepting connections after stop()";
}

// More work than the pool and its queue hold is answered 503 at once, not queued without end.
TEST(HttpServerTest, AFullPoolAnswersBusy) {
  HttpLimits limits = Serving::quiet();
  limits.handler_threads = 1;
  limits.max_queued = 1;
  Serving s(limits);
  std::vector<std::future<std::string>> replies;
  for (int i = 0; i < 6; ++i) replies.push_back(std::async(std::launch::async, [&] { return round_trip(s.port, get("/slow"), 10); }));
  int ok = 0, busy = 0;
  for (auto& r : replies) {
    const std::string reply = r.get();
    ok += status_of(reply) == 200;
    busy += status_of(reply) == 503 && reply.find("Retry-After: 1") != std::string::npos;
  }
  EXPECT_EQ(ok + busy, 6);
  EXPECT_GE(busy, 1);
  EXPECT_EQ(status_of(round_trip(s.port, get("/health"))), 200);
}

}  // namespace
}  // namespace taco
