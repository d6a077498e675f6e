#include "codec/disc/quantizer.hpp"

#include <algorithm>
#include <cmath>
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

int max_level(int bits, bool is_signed) {
  return is_signed ? std::max(1, (1 << (bits - 1)) - 1) : (1 << bits) - 1;
}

Result<Quantizer> fit_quantizer(std::span<const float> values, const QuantizerSettings& settings) {
  const Statistics s = gather_statistics(values);
  if (!s.all_finite) return Error("lossy disc cannot code NaN or infinite values (use bits=0)");
  Quantizer q;
  q.is_signed = s.any_negative;
  q.max_level = max_level(settings.bits, q.is_signed);
  float clip_value = s.max_abs;
  if (settings.clip > 0 && s.nonzero > 0)
    clip_value = std::min(s.max_abs, static_cast<float>(settings.clip * std::sqrt(s.sum_sq / s.nonzero)));
  const float step = clip_value / static_cast<float>(q.max_level);
  // An all-zero tensor (or one whose values underflow the step) still needs a valid step.
  q.step = std::isnormal(step) ? step : 1.0f;
  q.inv_step = 1.0f / q.step;
  q.threshold = settings.prune * clip_value;
  return q;
}

Result<Quantizer> make_decoder_quantizer(int bits, bool is_signed, float step) {
  if (!std::isfinite(step) || !(step > 0)) return Error("quantization step is not a positive finite number");
  Quantizer q;
  q.is_signed = is_signed;
  q.max_level = max_level(bits, is_signed);
  // Every level must decode to a finite value.
  if (double{step} * q.max_level > std::numeric_limits<float>::max())
    return Error("quantization step makes the largest level overflow fp32");
  q.step = step;
  return q;
}

}  // namespace disc::codec_disc
