// Internal: a fixed set of worker threads over an index range, with progress reported
// from the calling thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "disc/status.hpp"

namespace disc {

// Calls body(worker, i) for every i in [0, n) on `workers` threads (worker in
// [0, workers)); each index runs exactly once. Stops early at the first failing index
// and returns its Error. `tick(done)` is called on the calling thread while waiting.
inline Status parallel_for(size_t n, size_t workers, const std::function<Status(size_t, size_t)>& body,
                           const std::function<void(size_t)>& tick) {
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::vector<Status> errors(workers);
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      for (size_t i = next++; i < n && !failed; i = next++) {
        Status s = body(w, i);
        if (!s.ok()) {
          errors[w] = s;
          failed = true;
        }
        ++done;
      }
    });
  size_t reported = SIZE_MAX;
  while (done < n && !failed) {
    if (tick && done != reported) tick(reported = done);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& t : threads) t.join();
  for (const Status& s : errors)
    if (!s.ok()) return s;
  if (tick) tick(n);
  return Status();
}

}  // namespace disc
