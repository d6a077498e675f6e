#include "codec/disc/quantizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace disc::codec_disc {

namespace {

struct Statistics {
  float max_abs = 0;
  double sum_sq = 0;
  size_t nonzero = 0;
  bool any_negative = false;
  bool all_finite = true;
};

// Blocks of 8 independent lanes so the compiler can vectorize without reassociating. The
// magnitude is tracked as the bit pattern with the sign cleared: for non-negative floats
// integer order is numeric order, and patterns >= 0x7F800000 are infinities and NaNs.
Statistics gather_statistics(std::span<const float> values) {
  constexpr size_t kLanes = 8;
  constexpr uint32_t kInfinityBits = 0x7F800000u;
  Statistics s;
  float sum_sq[kLanes] = {};
  uint32_t max_bits[kLanes] = {}, nonzero[kLanes] = {}, sign_bits[kLanes] = {};
  size_t i = 0;
  const auto accumulate = [&](size_t k, float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    const uint32_t magnitude = u & 0x7FFFFFFFu;
    max_bits[k] = std::max(max_bits[k], magnitude);
    sum_sq[k] += v * v;
    nonzero[k] += magnitude != 0;
    sign_bits[k] |= (magnitude != 0 ? u : 0u) & 0x80000000u;  // negative zero is not negative
  };
  const auto flush = [&] {
    for (size_t k = 0; k < kLanes; ++k) {
      s.sum_sq += sum_sq[k];
      s.nonzero += nonzero[k];
      sum_sq[k] = 0;
      nonzero[k] = 0;
    }
  };
  // Float partial sums over at most 2^16 values each keep the RMS accurate to ~1e-3.
  while (i + kLanes <= values.size()) {
    const size_t block_end = std::min(values.size() - values.size() % kLanes, i + (size_t{1} << 16));
    for (; i < block_end; i += kLanes)
      for (size_t k = 0; k < kLanes; ++k) accumulate(k, values[i + k]);
    flush();
  }
  for (; i < values.size(); ++i) accumulate(0, values[i]);
  flush();
  uint32_t max_magnitude = 0;
  for (size_t k = 0; k < kLanes; ++k) {
    max_magnitude = std::max(max_magnitude, max_bits[k]);
    s.any_negative |= sign_bits[k] != 0;
  }
  s.all_finite = max_magnitude < kInfinityBits;
  std::memcpy(&s.max_abs, &max_magnitude, 4);
  return s;
}

}  // namespace

int max_level(int bits, bool is_signed, int levels) {
  const int m = is_signed ? std::max(1, (1 << (bits - 1)) - 1) : (1 << bits) - 1;
  return levels > 0 ? std::min(levels, m) : m;
}

Result<Quantizer> fit_quantizer(std::span<const float> values, const QuantizerSettings& settings) {
  const Statistics s = gather_statistics(values);
  if (!s.all_finite) return Error("lossy disc cannot code NaN or infinite values (use bits=0)");
  Quantizer q;
  q.is_signed = s.any_negative;
  q.max_level = max_level(settings.bits, q.is_signed, settings.levels);
  float clip_value = s.max_abs;
  if (settings.clip > 0 && s.nonzero > 0) {
    // Squares of magnitudes below ~1e-19 are subnormal or 0 in fp32: sum those in double.
    double sum_sq = s.sum_sq;
    if (sum_sq < std::numeric_limits<float>::min() * static_cast<double>(s.nonzero)) {
      sum_sq = 0;
      for (float v : values) sum_sq += double{v} * v;
    }
    clip_value = std::min(s.max_abs, static_cast<float>(settings.clip * std::sqrt(sum_sq / s.nonzero)));
  }
  const float step = clip_value / static_cast<float>(q.max_level);
  // An all-zero tensor, or one of subnormals only (coded as zeros, off by less than the
  // smallest normal float), still needs a valid step; a normal map whose step is not a normal
  // float would decode far from its values.
  if (s.max_abs >= std::numeric_limits<float>::min() && !std::isnormal(step)) {
    char message[200];
    std::snprintf(message, sizeof message,
                  "quantization step %g (clip value / levels) is below fp32's normal range: the map's largest "
                  "magnitude is %g; scale the map, or use bits=0",
                  static_cast<double>(step), static_cast<double>(s.max_abs));
    return Error(message);
  }
  q.step = std::isnormal(step) ? step : 1.0f;
  q.inv_step = 1.0f / q.step;
  q.threshold = settings.prune * clip_value;
  return q;
}

Result<Quantizer> make_decoder_quantizer(int bits, bool is_signed, int levels, float step) {
  if (!std::isfinite(step) || !(step > 0)) return Error("quantization step is not a positive finite number");
  Quantizer q;
  q.is_signed = is_signed;
  q.max_level = max_level(bits, is_signed, levels);
  // Every level must decode to a finite value.
  if (double{step} * q.max_level > std::numeric_limits<float>::max())
    return Error("quantization step makes the largest level overflow fp32");
  q.step = step;
  return q;
}

std::vector<int8_t> centroid_offsets(const Quantizer& quantizer, std::span<const float> values,
                                     std::span<const int16_t> levels, std::span<const float> plane_steps,
                                     size_t plane_size) {
  const size_t levels_count = static_cast<size_t>(quantizer.max_level) + 1;
  std::vector<double> sum(levels_count, 0.0);
  std::vector<size_t> count(levels_count, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    const int k = levels[i] < 0 ? -levels[i] : levels[i];
    if (k == 0) continue;
    const double step = plane_steps.empty() ? quantizer.step : plane_steps[i / plane_size];
    // x in the direction of its level: |x| unless error diffusion gave x the other sign's level.
    sum[static_cast<size_t>(k)] += (levels[i] < 0 ? -double{values[i]} : double{values[i]}) / step;
    ++count[static_cast<size_t>(k)];
  }
  std::vector<int8_t> offsets(static_cast<size_t>(quantizer.max_level), 0);
  for (size_t k = 1; k < levels_count; ++k) {
    if (count[k] == 0) continue;
    const double d = std::round(256.0 * (sum[k] / static_cast<double>(count[k]) - static_cast<double>(k)));
    offsets[k - 1] = static_cast<int8_t>(std::clamp(d, -128.0, 127.0));
  }
  return offsets;
}

Status set_centroids(Quantizer* quantizer, std::span<const int8_t> offsets) {
  if (offsets.size() != static_cast<size_t>(quantizer->max_level)) return Error("wrong number of centroid offsets");
  std::vector<float> unit(offsets.size() + 1, 0.0f);
  for (size_t k = 1; k < unit.size(); ++k) {
    unit[k] = static_cast<float>(k) + static_cast<float>(offsets[k - 1]) / 256.0f;  // exact in fp32
    if (double{unit[k]} * quantizer->step > std::numeric_limits<float>::max())
      return Error("centroid reconstruction overflows fp32");
  }
  quantizer->unit = std::move(unit);
  return Status();
}

float plane_step(float step, int exponent) {
  const int half = exponent >= 0 ? exponent / 2 : -((1 - exponent) / 2);  // floor(e / 2)
  double s = std::ldexp(double{step}, half);
  if (exponent % 2 != 0) s *= std::sqrt(2.0);
  return static_cast<float>(s);
}

Result<Quantizer> plane_quantizer(const Quantizer& quantizer, int exponent) {
  Quantizer q = quantizer;
  q.step = plane_step(quantizer.step, exponent);
  if (!std::isnormal(q.step)) return Error("plane step is not a normal float");
  if ((q.max_level + 0.5) * double{q.step} > std::numeric_limits<float>::max())
    return Error("plane step makes the largest level overflow fp32");
  q.inv_step = 1.0f / q.step;
  q.threshold = static_cast<float>(double{quantizer.threshold} * q.step / quantizer.step);
  return q;
}

std::vector<int8_t> fit_plane_exponents(const Quantizer& quantizer, std::span<const float> values,
                                        size_t plane_size, float strength) {
  if (plane_size == 0 || values.empty()) return {};
  const size_t planes = values.size() / plane_size;
  std::vector<double> plane_sum(planes, 0.0);
  std::vector<size_t> plane_count(planes, 0);
  double sum = 0;
  size_t count = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] == 0) continue;
    const double v2 = double{values[i]} * values[i];
    plane_sum[i / plane_size] += v2;
    ++plane_count[i / plane_size];
    sum += v2;
    ++count;
  }
  if (count == 0 || sum == 0) return {};
  const double rms = std::sqrt(sum / static_cast<double>(count));
  std::vector<int8_t> exponents(planes, 0);
  for (size_t p = 0; p < planes; ++p) {
    if (plane_count[p] == 0 || plane_sum[p] == 0) continue;
    const double ratio = std::sqrt(plane_sum[p] / static_cast<double>(plane_count[p])) / rms;
    const double e = std::round(2.0 * strength * std::log2(ratio));
    exponents[p] = static_cast<int8_t>(std::clamp(e, double{kMinPlaneExponent}, double{kMaxPlaneExponent}));
    if (!plane_quantizer(quantizer, exponents[p]).ok()) return {};
  }
  return exponents;
}

void zero_classes(const int16_t* plane, size_t height, size_t width, uint8_t* classes) {
  for (size_t y = 0; y < height; ++y) {
    const int16_t* row = plane + y * width;
    uint8_t* out = classes + y * width;
    for (size_t x = 0; x < width; ++x) out[x] = 0;
    if (y > 0) {
      const int16_t* up = row - width;
      for (size_t x = 0; x < width; ++x) out[x] += up[x] != 0;
    }
    if (y + 1 < height) {
      const int16_t* down = row + width;
      for (size_t x = 0; x < width; ++x) out[x] += down[x] != 0;
    }
    for (size_t x = 1; x < width; ++x) out[x] += row[x - 1] != 0;
    for (size_t x = 0; x + 1 < width; ++x) out[x] += row[x + 1] != 0;
  }
}

std::vector<uint8_t> zero_offsets(std::span<const float> values, std::span<const int16_t> levels,
                                  std::span<const uint8_t> classes, size_t plane_size, float step,
                                  std::span<const float> plane_steps) {
  double sum[kZeroClasses] = {};
  size_t count[kZeroClasses] = {};
  for (size_t p = 0; plane_size > 0 && p < values.size() / plane_size; ++p) {
    const double plane_step = plane_steps.empty() ? step : plane_steps[p];
    for (size_t i = p * plane_size; i < (p + 1) * plane_size; ++i) {
      if (levels[i] != 0) continue;
      sum[classes[i]] += std::max(0.0, double{values[i]}) / plane_step;
      ++count[classes[i]];
    }
  }
  std::vector<uint8_t> offsets(kZeroClasses, 0);
  for (int n = 0; n < kZeroClasses; ++n)
    if (count[n] > 0) offsets[n] = static_cast<uint8_t>(std::clamp(std::round(512.0 * sum[n] / count[n]), 0.0, 255.0));
  return offsets;
}

void diffused_levels(const Quantizer& quantizer, const float* plane, size_t height, size_t width, float strength,
                     int16_t* levels) {
  // Errors carried to the current row and the next one (one spare column each side). Every
  // error passed on lies in [-top, top] and the weights sum to 1, so what an element
  // receives does too; the sum with its value is formed in binary64 and cannot overflow.
  const float top = static_cast<float>(quantizer.max_level) * quantizer.step;
  const float bottom = quantizer.is_signed ? -top : 0.0f;
  std::vector<float> row(width + 2, 0.0f), next(width + 2, 0.0f);
  for (size_t y = 0; y < height; ++y) {
    for (size_t x = 0; x < width; ++x) {
      const size_t i = y * width + x;
      const double wanted = double{plane[i]} + double{strength} * double{row[x + 1]};
      const float v = static_cast<float>(std::clamp(wanted, double{-top}, double{top}));
      const int level = quantizer.level(std::max(v, bottom));
      levels[i] = static_cast<int16_t>(level);
      const float error = v - static_cast<float>(level) * quantizer.step;
      row[x + 2] += error * (7.0f / 16);
      next[x] += error * (3.0f / 16);
      next[x + 1] += error * (5.0f / 16);
      next[x + 2] += error * (1.0f / 16);
    }
    std::swap(row, next);
    std::fill(next.begin(), next.end(), 0.0f);
  }
}

}  // namespace disc::codec_disc
