#include "util/work_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>

namespace taco {

WorkPool::WorkPool(size_t threads, size_t max_queued, bool on_demand)
    : max_threads_(std::max<size_t>(1, threads)), max_queued_(max_queued) {
  if (on_demand) return;
  threads_.reserve(max_threads_);
  for (size_t i = 0; i < max_threads_; ++i) threads_.emplace_back([this] { work(); });
}

size_t WorkPool::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_.size();
}

WorkPool::~WorkPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

bool WorkPool::try_submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Threads that will take a job without waiting for another to finish: the idle ones, and
    // those an on-demand pool may still start.
    const size_t free_threads = max_threads_ - std::min(max_threads_, running_);
    if (stopping_ || queue_.size() >= max_queued_ + free_threads) return false;
    queue_.push_back(std::move(job));
    if (threads_.size() < max_threads_ && queue_.size() > threads_.size() - std::min(threads_.size(), running_))
      threads_.emplace_back([this] { work(); });
  }
  wake_.notify_one();
  return true;
}

void WorkPool::wait_idle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
}

void WorkPool::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    try {
      job();
    } catch (...) {
    }
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    if (queue_.empty() && running_ == 0) idle_.notify_all();
  }
}

size_t parallel_for(size_t n, size_t threads, const std::function<void(size_t)>& body, std::stop_token stop) {
  if (n == 0) return 0;
  threads = std::clamp<size_t>(threads, 1, n);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mu;
  auto worker = [&] {
    for (;;) {
      if (failed || stop.stop_requested()) return;
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  {
    WorkPool pool(threads, 0);
    for (size_t t = 0; t < threads; ++t) pool.try_submit(worker);
    pool.wait_idle();
  }
  if (first_error) std::rethrow_exception(first_error);
  return std::min(n, next.load());
}

}  // namespace taco
