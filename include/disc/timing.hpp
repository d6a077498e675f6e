// Wall-clock measurement and latency summaries shared by the runtime and its tools.
#pragma once

#include <chrono>
#include <vector>

namespace disc {

// Seconds since construction (or the last restart), on the monotonic clock.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void restart() { start_ = std::chrono::steady_clock::now(); }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// The q-quantile (0 <= q <= 1) of `values` by linear interpolation between order
// statistics; 0 for an empty input.
double quantile(std::vector<double> values, double q);

}  // namespace disc
