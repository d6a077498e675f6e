#include "net/work_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "disc/timing.hpp"

namespace disc::net {
namespace {

// Holds every job that waits on it until opened.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    opened_cv_.wait(lock, [this] { return open_; });
  }
  void open() {
    {
      const std::lock_guard lock(mutex_);
      open_ = true;
    }
    opened_cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_cv_;
  bool open_ = false;
};

TEST(WorkQueueTest, RunsAtMostOneJobPerWorkerAtOnce) {
  std::atomic<int> running{0}, most{0}, done{0};
  {
    WorkQueue queue(3, 100);
    for (int i = 0; i < 60; ++i)
      ASSERT_TRUE(queue.submit([&] {
        const int now = ++running;
        for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        --running;
        ++done;
      }));
  }
  EXPECT_EQ(done.load(), 60);
  EXPECT_LE(most.load(), 3);
}

TEST(WorkQueueTest, EveryWorkerTakesAJobWhileTheOthersAreBusy) {
  Gate gate;
  std::atomic<int> started{0};
  std::atomic<bool> fourth_started{false};
  {
    WorkQueue queue(3, 10);
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(queue.submit([&] {
        ++started;
        gate.wait();
      }));
    ASSERT_TRUE(queue.submit([&] { fourth_started = true; }));
    const Stopwatch waiting;
    while (started < 3 && waiting.seconds() < 30) std::this_thread::yield();
    EXPECT_EQ(started.load(), 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(fourth_started.load());
    gate.open();
  }
  EXPECT_TRUE(fourth_started.load());
}

TEST(WorkQueueTest, RefusesJobsBeyondItsCapacityAtOnce) {
  Gate gate;
  std::atomic<int> ran{0};
  WorkQueue queue(1, 2);
  std::atomic<bool> started{false};
  ASSERT_TRUE(queue.submit([&] {
    started = true;
    gate.wait();
    ++ran;
  }));
  while (!started) std::this_thread::yield();  // the worker holds the first job: two may wait
  EXPECT_TRUE(queue.submit([&] { ++ran; }));
  EXPECT_TRUE(queue.submit([&] { ++ran; }));
  const Stopwatch refusing;
  EXPECT_FALSE(queue.submit([&] { ++ran; }));
  EXPECT_LT(refusing.seconds(), 1.0);
  gate.open();
  while (ran < 3) std::this_thread::yield();
  EXPECT_TRUE(queue.submit([&] { ++ran; }));  // room again
}

TEST(WorkQueueTest, RunsJobsInArrivalOrder) {
  std::vector<int> order;
  Gate gate;
  {
    WorkQueue queue(1, 10);
    ASSERT_TRUE(queue.submit([&] { gate.wait(); }));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(queue.submit([&order, i] { order.push_back(i); }));
    gate.open();
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(WorkQueueTest, DestructionRunsTheJobsStillWaiting) {
  std::atomic<int> ran{0};
  Gate gate;
  std::thread opener;
  {
    WorkQueue queue(1, 10);
    ASSERT_TRUE(queue.submit([&] { gate.wait(); }));
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(queue.submit([&] { ++ran; }));
    opener = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      gate.open();
    });
  }  // waits for the gated job, then runs the four
  opener.join();
  EXPECT_EQ(ran.load(), 4);
}

TEST(QuantileTest, InterpolatesOrderStatistics) {
  EXPECT_EQ(quantile({}, 0.5), 0);
  EXPECT_DOUBLE_EQ(quantile({3, 1, 2}, 0.5), 2);
  EXPECT_DOUBLE_EQ(quantile({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile({0, 10}, 0.95), 9.5);
  EXPECT_DOUBLE_EQ(quantile({5}, 0.95), 5);
}

}  // namespace
}  // namespace disc::net
