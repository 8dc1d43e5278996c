#include "serve/metrics.h"

#include <sstream>

namespace taco {

void Metrics::request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
  size_t b = 0;
  while (b < kBounds.size() && seconds > kBounds[b]) ++b;
  ++buckets_[b];
  latency_sum_ += seconds;
  ++latency_count_;
}

void Metrics::episode(const Trace& t) {
  std::lock_guard<std::mutex> lock(mu_);
  ++episodes_[to_string(t.status)];
  for (const auto& name : t.tools_called()) ++tool_calls_[name];
}

std::string Metrics::render() {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream o;
  o << "# HELP taco_requests_total HTTP requests answered, by route (method and path) and status.\n# TYPE taco_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    o << "taco_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  o << "# HELP taco_request_seconds Time to answer a request.\n# TYPE taco_request_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kBounds.size(); ++b) {
    cumulative += buckets_[b];
    o << "taco_request_seconds_bucket{le=\"" << kBounds[b] << "\"} " << cumulative << "\n";
  }
  cumulative += buckets_[kBounds.size()];
  o << "taco_request_seconds_bucket{le=\"+Inf\"} " << cumulative << "\n";
  o << "taco_request_seconds_sum " << latency_sum_ << "\ntaco_request_seconds_count " << latency_count_ << "\n";
  o << "# HELP taco_episodes_total Episodes run, by how they ended.\n# TYPE taco_episodes_total counter\n";
  for (const auto& [status, n] : episodes_) o << "taco_episodes_total{status=\"" << status << "\"} " << n << "\n";
  o << "# HELP taco_tool_calls_total Tool calls made in episodes, by tool.\n# TYPE taco_tool_calls_total counter\n";
  for (const auto& [tool, n] : tool_calls_) o << "taco_tool_calls_total{tool=\"" << tool << "\"} " << n << "\n";
  uint64_t errors = 0;
  for (const auto& [key, n] : requests_) errors += key.second >= 400 ? n : 0;
  o << "# HELP taco_errors_total Requests answered with an error status.\n# TYPE taco_errors_total counter\n";
  o << "taco_errors_total " << errors << "\n";
  o << "# HELP taco_requests_in_flight Requests being answered now.\n# TYPE taco_requests_in_flight gauge\n";
  o << "taco_requests_in_flight " << in_flight.load() << "\n";
  return o.str();
}

RequestRecord::RequestRecord(Metrics& m, std::string r, bool counts_in_flight)
    : metrics(m), route(std::move(r)), in_flight(counts_in_flight), start(std::chrono::steady_clock::now()) {
  if (in_flight) ++metrics.in_flight;
}

RequestRecord::~RequestRecord() {
  if (in_flight) --metrics.in_flight;
  metrics.request(route, status, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace taco
