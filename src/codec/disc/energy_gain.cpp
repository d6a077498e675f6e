#include "codec/disc/energy_gain.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace disc::codec_disc {
namespace {

constexpr double kCodeUnit = 64;  // code steps per octave of gain

// g = 2^(code/64) in binary64, rounded once to fp32 (within 0.002 ulp of exact for every code,
// so any libm gives the same float).
float gain_factor(int code) { return static_cast<float>(std::exp2(code / kCodeUnit)); }

// The fp32 values of a plane summed in order in binary64.
double plane_sum(const float* plane, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += plane[i];
  return sum;
}

// The plane mean m_p as decoders compute it: plane_sum / count, rounded to fp32.
float plane_mean(const float* plane, size_t n) {
  return static_cast<float>(plane_sum(plane, n) / static_cast<double>(n));
}

// m + g (v - m) in fp32, one rounding per operation (the codec library is compiled without
// floating-point contraction, so no fused multiply-add changes the result).
float scaled(float v, float mean, float gain) {
  const float deviation = v - mean;
  const float product = gain * deviation;
  return mean + product;
}

// Sum over planes of the squared deviations from the plane's mean.
double energy_about_plane_means(const PlaneView& view, const float* values) {
  const size_t n = view.plane_size();
  double energy = 0;
  for (size_t p = 0; p < view.planes; ++p) {
    const float* plane = values + p * n;
    const double mean = plane_sum(plane, n) / static_cast<double>(n);
    for (size_t i = 0; i < n; ++i) energy += (plane[i] - mean) * (plane[i] - mean);
  }
  return energy;
}

}  // namespace

int8_t fit_energy_gain(const PlaneView& view, std::span<const float> original, std::span<const float> decoded,
                       bool non_negative) {
  const size_t n = view.plane_size();
  if (n == 0) return 0;
  const double target = energy_about_plane_means(view, original.data());
  const double ratio = target / energy_about_plane_means(view, decoded.data());
  if (!(ratio > 0) || !std::isfinite(ratio)) return 0;
  const int closed_form =
      static_cast<int>(std::clamp(std::round(kCodeUnit * 0.5 * std::log2(ratio)), -128.0, 127.0));
  if (!non_negative) return static_cast<int8_t>(closed_form);
  // The clamp at 0 moves values toward their plane mean, so it only takes energy away: the
  // code sought is at or above the unrounded closed form, hence at or above closed_form - 1.
  // The decoded energy at code c, clamp included, as apply_energy_gain() would decode it
  // (sum and sum of squares in binary64).
  std::vector<float> means(view.planes);
  for (size_t p = 0; p < view.planes; ++p) means[p] = plane_mean(decoded.data() + p * n, n);
  const auto energy_at = [&](int c) {
    const float gain = gain_factor(c);
    double energy = 0;
    for (size_t p = 0; p < view.planes; ++p) {
      const float* plane = decoded.data() + p * n;
      double sum = 0, squares = 0;
      for (size_t i = 0; i < n; ++i) {
        const double v = std::max(0.0f, scaled(plane[i], means[p], gain));
        sum += v;
        squares += v * v;
      }
      energy += std::max(0.0, squares - sum * sum / static_cast<double>(n));
    }
    return energy;
  };
  // Steps of 1, 2, 4, ... up from closed_form - 1 until the energy reaches the target, then
  // bisection: the energy does not decrease with the code.
  int lo = std::max(-128, closed_form - 1);
  double e_lo = energy_at(lo);
  if (e_lo >= target) return static_cast<int8_t>(lo);
  int hi = lo;
  double e_hi = e_lo;
  for (int step = 1; e_hi < target && hi < 127; step *= 2) {
    lo = hi;
    e_lo = e_hi;
    hi = std::min(127, hi + step);
    e_hi = energy_at(hi);
  }
  if (e_hi < target) return 127;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    const double e = energy_at(mid);
    (e < target ? lo : hi) = mid;
    (e < target ? e_lo : e_hi) = e;
  }
  return static_cast<int8_t>(target - e_lo <= e_hi - target ? lo : hi);
}

bool apply_energy_gain(int8_t code, const PlaneView& view, bool non_negative, std::span<float> values) {
  const size_t n = view.plane_size();
  if (n == 0) return true;
  const float gain = gain_factor(code);
  bool finite = true;
  for (size_t p = 0; p < view.planes; ++p) {
    float* plane = values.data() + p * n;
    const float mean = plane_mean(plane, n);
    for (size_t i = 0; i < n; ++i) {
      const float v = scaled(plane[i], mean, gain);
      finite &= std::isfinite(v);  // before the clamp, which would hide -inf
      plane[i] = non_negative ? std::max(0.0f, v) : v;
    }
  }
  return finite;
}

}  // namespace disc::codec_disc
