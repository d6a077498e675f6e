// Bounds how many requests compute at once. gRPC's handler threads each take a slot
// before touching a model and give it back when done; a request whose deadline passes or
// whose client cancels while it waits never takes one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <utility>
#include <variant>

namespace disc::net {

class WorkerSlots {
 public:
  explicit WorkerSlots(int slots) : free_(slots) {}

  // Held while computing; releases the slot on destruction.
  class Slot {
   public:
    explicit Slot(WorkerSlots* owner) : owner_(owner) {}
    Slot(Slot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_) owner_->release();
    }

   private:
    WorkerSlots* owner_;
  };

  enum class Refusal { kDeadline, kCancelled };
  // Waits for a free slot until `deadline`, checking `cancelled` periodically.
  // Returns the slot, or why none was taken.
  std::variant<Slot, Refusal> acquire(std::chrono::steady_clock::time_point deadline,
                                      const std::function<bool()>& cancelled);

 private:
  void release();

  std::mutex mutex_;
  std::condition_variable freed_;
  int free_;
};

}  // namespace disc::net
