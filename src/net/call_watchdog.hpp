// Cancels a server call that outlives a time limit. A synchronous ServerReader::Read()
// cannot time out by itself, so a client-streaming handler arms one of these before its
// first Read(): a client that stalls mid-stream then holds its handler thread (and worker
// slot) for at most the limit, whatever deadline it set (or none).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace disc::net {

class CallWatchdog {
 public:
  CallWatchdog(grpc::ServerContext* context, std::chrono::milliseconds limit);
  // Disarms and joins.
  ~CallWatchdog();
  CallWatchdog(const CallWatchdog&) = delete;
  CallWatchdog& operator=(const CallWatchdog&) = delete;

  // Stops the countdown; after it returns the call will not be cancelled by this watchdog.
  void disarm();
  // Whether the limit passed and the call was cancelled.
  bool fired() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool disarmed_ = false;
  bool fired_ = false;
  std::thread thread_;
};

}  // namespace disc::net
