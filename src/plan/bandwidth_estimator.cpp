#include <algorithm>
#include <array>
#include <cmath>

#include "disc/plan.hpp"

namespace disc {

namespace {
constexpr size_t kMaxWindow = 16;
}

Result<BandwidthEstimator> BandwidthEstimator::create(const BandwidthEstimatorOptions& options) {
  if (!std::isfinite(options.initial_bps) || options.initial_bps <= 0)
    return Error("initial bandwidth estimate must be a finite number > 0", ErrorCode::kInvalidArgument);
  if (!(options.alpha > 0 && options.alpha <= 1))
    return Error("EWMA alpha must be in (0, 1]", ErrorCode::kInvalidArgument);
  if (options.window < 1 || options.window > kMaxWindow)
    return Error("median window must be 1.." + std::to_string(kMaxWindow) + " samples", ErrorCode::kInvalidArgument);
  return BandwidthEstimator(options);
}

Status BandwidthEstimator::add_sample(double bytes, double seconds) {
  if (!std::isfinite(bytes) || bytes <= 0)
    return Error("transfer size must be a finite number of bytes > 0", ErrorCode::kInvalidArgument);
  if (!std::isfinite(seconds) || seconds <= 0)
    return Error("transfer time must be a finite number of seconds > 0", ErrorCode::kInvalidArgument);
  const double throughput = bytes * 8.0 / seconds;
  if (!std::isfinite(throughput)) return Error("transfer throughput overflows", ErrorCode::kInvalidArgument);

  if (recent_bps_.size() < options_.window)
    recent_bps_.push_back(throughput);
  else
    recent_bps_[sample_count_ % options_.window] = throughput;
  ++sample_count_;

  std::array<double, kMaxWindow> sorted;
  const auto end = std::copy(recent_bps_.begin(), recent_bps_.end(), sorted.begin());
  const auto middle = sorted.begin() + static_cast<std::ptrdiff_t>((recent_bps_.size() - 1) / 2);
  std::nth_element(sorted.begin(), middle, end);
  estimate_bps_ = sample_count_ == 1 ? throughput : estimate_bps_ + options_.alpha * (*middle - estimate_bps_);
  return {};
}

}  // namespace disc
