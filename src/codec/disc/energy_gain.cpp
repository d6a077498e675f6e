#include "codec/disc/energy_gain.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace disc::codec_disc {
namespace {

constexpr double kCodeUnit = 64;  // code steps per octave of gain

double plane_mean(const float* plane, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += plane[i];
  return sum / static_cast<double>(n);
}

// Sum over planes of the squared deviations from the plane's mean.
double energy_about_plane_means(const PlaneView& view, const float* values) {
  const size_t n = view.plane_size();
  double energy = 0;
  for (size_t p = 0; p < view.planes; ++p) {
    const float* plane = values + p * n;
    const double mean = plane_mean(plane, n);
    for (size_t i = 0; i < n; ++i) energy += (plane[i] - mean) * (plane[i] - mean);
  }
  return energy;
}

}  // namespace

int8_t fit_energy_gain(const PlaneView& view, std::span<const float> original, std::span<const float> decoded,
                       bool non_negative) {
  if (view.plane_size() == 0) return 0;
  const double target = energy_about_plane_means(view, original.data());
  const double ratio = target / energy_about_plane_means(view, decoded.data());
  if (!(ratio > 0) || !std::isfinite(ratio)) return 0;
  const auto code = [](double r) {
    return static_cast<int8_t>(std::clamp(std::round(kCodeUnit * 0.5 * std::log2(r)), -128.0, 127.0));
  };
  if (!non_negative) return code(ratio);
  // The clamp at 0 takes energy back as the gain grows, so search the code whose decoded
  // energy (clamp included) is nearest the target. That energy does not decrease with the
  // code on these maps; bisection keeps the search to 8 decodes of the gain.
  std::vector<float> scratch(decoded.size());
  const auto energy_at = [&](int c) {
    std::copy(decoded.begin(), decoded.end(), scratch.begin());
    apply_energy_gain(static_cast<int8_t>(c), view, true, scratch);
    return energy_about_plane_means(view, scratch.data());
  };
  int lo = -128, hi = 127;
  if (energy_at(hi) <= target) return 127;
  if (energy_at(lo) >= target) return -128;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    (energy_at(mid) < target ? lo : hi) = mid;
  }
  return static_cast<int8_t>(target - energy_at(lo) <= energy_at(hi) - target ? lo : hi);
}

void apply_energy_gain(int8_t code, const PlaneView& view, bool non_negative, std::span<float> values) {
  const size_t n = view.plane_size();
  if (n == 0) return;
  const float gain = static_cast<float>(std::exp2(code / kCodeUnit));
  for (size_t p = 0; p < view.planes; ++p) {
    float* plane = values.data() + p * n;
    const float mean = static_cast<float>(plane_mean(plane, n));
    for (size_t i = 0; i < n; ++i) {
      const float v = mean + gain * (plane[i] - mean);
      plane[i] = non_negative ? std::max(0.0f, v) : v;
    }
  }
}

}  // namespace disc::codec_disc
