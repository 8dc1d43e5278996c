// What taco serve's /metrics reports, in Prometheus' text format: requests by route and
// status, their latency histogram, episodes by how they ended, tool calls by tool, requests in
// flight. Thread-safe. Used by serve/server.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cota/trace.h"

namespace taco {

class Metrics {
 public:
  void request(const std::string& route, int status, double seconds);
  void episode(const Trace& t);
  std::string render();
  std::atomic<int> in_flight{0};

 private:
  static inline const std::vector<double> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::vector<uint64_t> buckets_ = std::vector<uint64_t>(kBounds.size() + 1, 0);
  double latency_sum_ = 0;
  uint64_t latency_count_ = 0;
  std::map<std::string, uint64_t> episodes_, tool_calls_;
};

// One request as /metrics counts it: in flight from its start until the last copy goes (a
// streamed reply keeps one until its last event is written), then its status and time.
struct RequestRecord {
  RequestRecord(Metrics& m, std::string r, bool counts_in_flight);
  ~RequestRecord();
  Metrics& metrics;
  std::string route;
  bool in_flight;
  std::chrono::steady_clock::time_point start;
  int status = 200;
};

}  // namespace taco
