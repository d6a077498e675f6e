// Internal: a fixed set of worker threads over an index range, with progress reported
// from the calling thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/exception_error.hpp"
#include "disc/status.hpp"

namespace disc {

// Calls body(worker, i) for every i in [0, n) on `workers` threads (worker in
// [0, workers)); each index runs exactly once. Stops early at the first failing index
// and returns its Error. `tick(done)` is called on the calling thread while waiting. An
// exception from `body` or `tick`, or threads that cannot be started, end it with an Error
// once every started thread has finished.
inline Status parallel_for(size_t n, size_t workers, const std::function<Status(size_t, size_t)>& body,
                           const std::function<void(size_t)>& tick) {
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::vector<Status> errors(workers + 1);  // [workers]: the calling thread's
  std::vector<std::thread> threads;
  const auto fail = [&](size_t slot, Status s) {
    errors[slot] = std::move(s);
    failed = true;
  };
  try {
    threads.reserve(workers);
    for (size_t w = 0; w < workers; ++w)
      threads.emplace_back([&, w] {
        for (size_t i = next++; i < n && !failed; i = next++) {
          try {
            if (Status s = body(w, i); !s.ok()) fail(w, std::move(s));
          } catch (...) {
            fail(w, exception_error("evaluation"));
          }
          ++done;
        }
      });
  } catch (...) {
    fail(workers, exception_error("starting worker thread " + std::to_string(threads.size() + 1)));
  }
  try {
    size_t reported = SIZE_MAX;
    while (done < n && !failed) {
      if (tick && done != reported) tick(reported = done);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } catch (...) {
    fail(workers, exception_error("progress callback"));
  }
  for (auto& t : threads) t.join();
  for (const Status& s : errors)
    if (!s.ok()) return s;
  try {
    if (tick) tick(n);
  } catch (...) {
    return exception_error("progress callback");
  }
  return Status();
}

}  // namespace disc
