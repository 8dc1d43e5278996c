#include "util/work_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace taco {
namespace {

TEST(ParallelForTest, RunsEveryIndexOnceOnSeveralThreads) {
  std::vector<std::atomic<int>> runs(1000);
  std::mutex mu;
  std::set<std::thread::id> threads;
  const size_t started = parallel_for(runs.size(), 4, [&](size_t i) {
    ++runs[i];
    std::lock_guard<std::mutex> lock(mu);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(started, runs.size());
  for (size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i], 1) << i;
  EXPECT_LE(threads.size(), 4u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);  // the caller waits; the pool works
}

TEST(ParallelForTest, NothingToDoStartsNothing) {
  EXPECT_EQ(parallel_for(0, 8, [](size_t) { FAIL(); }), 0u);
}

TEST(ParallelForTest, TheFirstFailureStopsTheRestAndIsRethrown) {
  std::atomic<size_t> ran{0};
  try {
    parallel_for(2000, 2, [&](size_t i) {
      ++ran;
      if (i == 3) throw std::invalid_argument("item 3 is bad");
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // the failure comes long before the end
    });
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "item 3 is bad");  // the body's own exception, type and all
  }
  EXPECT_LT(ran.load(), 2000u);
}

TEST(ParallelForTest, AStopRequestEndsTheLoopBetweenItems) {
  std::stop_source stop;
  std::atomic<size_t> ran{0};
  const size_t started = parallel_for(
      2000, 2,
      [&](size_t i) {
        ++ran;
        if (i == 10) stop.request_stop();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      },
      stop.get_token());
  EXPECT_EQ(started, ran.load());  // what it says it started is what ran
  EXPECT_LT(started, 2000u);
  EXPECT_GE(started, 11u);
}

TEST(ParallelForTest, AStopAlreadyRequestedStartsNothing) {
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(parallel_for(5, 2, [](size_t) { FAIL(); }, stop.get_token()), 0u);
}

TEST(WorkPoolTest, RefusesPastItsBoundAndRunsWhatItTook) {
  std::promise<void> running, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran{0};
  WorkPool pool(1, 1);
  ASSERT_TRUE(pool.try_submit([&] {
    running.set_value();
    released.wait();
    ++ran;
  }));
  running.get_future().wait();                         // the one thread is busy
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));        // one may wait
  EXPECT_FALSE(pool.try_submit([&] { ran += 100; }));  // a second may not
  release.set_value();
  pool.wait_idle();
  EXPECT_EQ(ran.load(), 2);
}

TEST(WorkPoolTest, AnOnDemandPoolStartsThreadsAsJobsNeedThem) {
  WorkPool pool(8, 0, true);
  EXPECT_EQ(pool.threads(), 0u);
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.try_submit([&] { ++ran; }));
  pool.wait_idle();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(pool.threads(), 1u);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(pool.try_submit([&] { released.wait(); ++ran; })) << i;
  EXPECT_FALSE(pool.try_submit([&] { ran += 100; }));  // eight running, none may wait
  EXPECT_LE(pool.threads(), 8u);
  release.set_value();
  pool.wait_idle();
  EXPECT_EQ(ran.load(), 9);
}

}  // namespace
}  // namespace taco
