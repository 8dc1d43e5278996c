#include "util/progress.h"

#include <unistd.h>

#include <cstdio>

namespace taco {

std::string format_duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

Progress::Progress(std::string label, size_t total, bool enabled, double log_every_s)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled && total > 0),
      tty_(::isatty(STDERR_FILENO) != 0),
      log_every_s_(log_every_s),
      start_(std::chrono::steady_clock::now()) {
  if (enabled_) thread_ = std::thread([this] { loop(); });
}

Progress::~Progress() { finish(); }

void Progress::tick(bool failed) {
  done_.fetch_add(1, std::memory_order_relaxed);
  if (failed) failed_.fetch_add(1, std::memory_order_relaxed);
}

void Progress::tick_by(size_t n) { done_.fetch_add(n, std::memory_order_relaxed); }

void Progress::finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    finished_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (enabled_) draw(true);
}

void Progress::loop() {
  const auto period = std::chrono::duration<double>(tty_ ? 0.25 : log_every_s_);
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
    lock.unlock();
    draw(false);
    lock.lock();
  }
}

void Progress::draw(bool final_line) {
  const size_t done = done_.load(), failed = failed_.load();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? done / elapsed : 0;
  const double eta = rate > 0 ? (total_ - done) / rate : -1;
  const double frac = total_ ? static_cast<double>(done) / total_ : 1;
  char stats[160];
  std::snprintf(stats, sizeof stats, "%zu/%zu %5.1f%% %.2f/s elapsed %s eta %s%s", done, total_, 100 * frac, rate,
                format_duration(elapsed).c_str(), final_line ? "0s" : format_duration(eta).c_str(),
                failed ? (" failed " + std::to_string(failed)).c_str() : "");
  if (tty_) {
    constexpr int kWidth = 28;
    int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), ' ');
    std::fprintf(stderr, "\r%s [%s] %s\033[K%s", label_.c_str(), bar.c_str(), stats, final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s %s\n", label_.c_str(), stats);
  }
  std::fflush(stderr);
}

}  // namespace taco
