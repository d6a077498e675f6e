#include "net/worker_slots.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "disc/timing.hpp"

namespace disc::net {
namespace {

using Clock = std::chrono::steady_clock;
const auto kNotCancelled = [] { return false; };

TEST(WorkerSlotsTest, BoundsConcurrency) {
  WorkerSlots slots(2);
  auto a = slots.acquire(Clock::now() + std::chrono::seconds(1), kNotCancelled);
  auto b = slots.acquire(Clock::now() + std::chrono::seconds(1), kNotCancelled);
  ASSERT_TRUE(std::holds_alternative<WorkerSlots::Slot>(a));
  ASSERT_TRUE(std::holds_alternative<WorkerSlots::Slot>(b));
  auto c = slots.acquire(Clock::now() + std::chrono::milliseconds(30), kNotCancelled);
  ASSERT_TRUE(std::holds_alternative<WorkerSlots::Refusal>(c));
  EXPECT_EQ(std::get<WorkerSlots::Refusal>(c), WorkerSlots::Refusal::kDeadline);
}

TEST(WorkerSlotsTest, CancelledWaiterGivesUp) {
  WorkerSlots slots(1);
  auto held = slots.acquire(Clock::now() + std::chrono::seconds(1), kNotCancelled);
  const Stopwatch waited;
  auto refused = slots.acquire(Clock::now() + std::chrono::seconds(30), [] { return true; });
  ASSERT_TRUE(std::holds_alternative<WorkerSlots::Refusal>(refused));
  EXPECT_EQ(std::get<WorkerSlots::Refusal>(refused), WorkerSlots::Refusal::kCancelled);
  EXPECT_LT(waited.seconds(), 5.0);
}

TEST(WorkerSlotsTest, ReleasedSlotWakesAWaiter) {
  WorkerSlots slots(1);
  std::optional<std::variant<WorkerSlots::Slot, WorkerSlots::Refusal>> held;
  held.emplace(slots.acquire(Clock::now() + std::chrono::seconds(1), kNotCancelled));
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    held.reset();
  });
  auto next = slots.acquire(Clock::now() + std::chrono::seconds(10), kNotCancelled);
  releaser.join();
  EXPECT_TRUE(std::holds_alternative<WorkerSlots::Slot>(next));
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
