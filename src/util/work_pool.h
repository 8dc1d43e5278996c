// WorkPool: a fixed set of threads that run submitted jobs, with a bounded queue in front of
// them. Work that arrives faster than it is done waits in the queue up to its bound, and past
// it is refused (try_submit says false) so the caller can answer "busy" instead of holding a
// thread, or memory, per request.
// Thread-safe: try_submit() and wait_idle() may be called from any thread. The destructor
// runs what is queued, then joins the threads.
//
// parallel_for() is taco's one loop over independent items on several threads (gen's scenes,
// synth's images, a batch's episodes, the trainer's images, eval's judge calls): it runs on a
// WorkPool of its own and joins it before returning, so no thread outlives the call.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

namespace taco {

class WorkPool {
 public:
  // `threads` >= 1 run jobs; at most `max_queued` more wait for one. With `on_demand`, a thread
  // starts when a job finds none idle, up to `threads` (a pool sized for bursts that costs
  // nothing until they come); otherwise all start at once.
  WorkPool(size_t threads, size_t max_queued, bool on_demand = false);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues `job`; false (and `job` not kept) when every thread is busy and the queue is full.
  // A job that throws has its exception dropped: jobs report their own failures.
  bool try_submit(std::function<void()> job);
  // Returns once nothing is queued or running.
  void wait_idle();
  // Threads started so far.
  size_t threads() const;

 private:
  void work();
  mutable std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<std::function<void()>> queue_;
  size_t max_threads_;
  size_t max_queued_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Runs body(i) for every i in [0, n), on min(threads, n) threads (at least one), handing out the
// indices in order, and returns once every started body has returned. No further index starts
// once `stop` is requested, or once a body has thrown; the first exception a body threw is then
// rethrown here. Returns how many indices were started.
size_t parallel_for(size_t n, size_t threads, const std::function<void(size_t)>& body, std::stop_token stop = {});

}  // namespace taco
