#include "worker_slots.hpp"

#include <algorithm>

namespace disc::net {
namespace {
// How often a waiting request notices that its client went away.
constexpr auto kCancelPoll = std::chrono::milliseconds(20);
}  // namespace

std::variant<WorkerSlots::Slot, WorkerSlots::Refusal> WorkerSlots::acquire(
    std::chrono::steady_clock::time_point deadline, const std::function<bool()>& cancelled) {
  std::unique_lock lock(mutex_);
  while (free_ == 0) {
    if (cancelled()) return Refusal::kCancelled;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Refusal::kDeadline;
    freed_.wait_until(lock, std::min(deadline, now + kCancelPoll));
  }
  // A slot is free: a refusal now passes the wake-up this waiter may have consumed on.
  if (cancelled()) {
    freed_.notify_one();
    return Refusal::kCancelled;
  }
  if (std::chrono::steady_clock::now() >= deadline) {
    freed_.notify_one();
    return Refusal::kDeadline;
  }
  --free_;
  return Slot(this);
}

void WorkerSlots::release() {
  {
    std::lock_guard lock(mutex_);
    ++free_;
  }
  freed_.notify_one();
}

}  // namespace disc::net
