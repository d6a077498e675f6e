#include "call_watchdog.hpp"

namespace disc::net {

CallWatchdog::CallWatchdog(grpc::ServerContext* context, std::chrono::milliseconds limit)
    : thread_([this, context, limit] {
        std::unique_lock lock(mutex_);
        if (wake_.wait_for(lock, limit, [this] { return disarmed_; })) return;
        fired_ = true;
        context->TryCancel();  // thread-safe; Read() then returns false
      }) {}

CallWatchdog::~CallWatchdog() {
  disarm();
  thread_.join();
}

void CallWatchdog::disarm() {
  {
    const std::lock_guard lock(mutex_);
    disarmed_ = true;
  }
  wake_.notify_one();
}

bool CallWatchdog::fired() const {
  const std::lock_guard lock(mutex_);
  return fired_;
}

}  // namespace disc::net
