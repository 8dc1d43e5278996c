// Progress: a progress line for long work on stderr. On a terminal it redraws one line
// (bar, count, rate, ETA); otherwise it prints a plain line every `log_every_s` seconds so
// logs stay readable. Thread-safe: tick() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace taco {

class Progress {
 public:
  Progress(std::string label, size_t total, bool enabled = true, double log_every_s = 10);
  ~Progress();  // prints the final line

  void tick(bool failed = false);
  void tick_by(size_t n);  // n units of work done at once (e.g. MiB read)
  void finish();

 private:
  void loop();
  void draw(bool final_line);

  std::string label_;
  size_t total_;
  bool enabled_;
  bool tty_;
  double log_every_s_;
  std::atomic<size_t> done_{0};
  std::atomic<size_t> failed_{0};
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool finished_ = false;
  std::thread thread_;
};

// "1h02m", "4m05s", "12s"
std::string format_duration(double seconds);

}  // namespace taco
