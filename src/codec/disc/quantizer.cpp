#include "codec/disc/quantizer.hpp"

#include <algorithm>
#include <cmath>
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

// Blocks of 8 independent lanes so the compiler can vectorize without reassociating.
Statistics gather_statistics(std::span<const float> values) {
  constexpr size_t kLanes = 8;
  Statistics s;
  float max_abs[kLanes] = {}, sum_sq[kLanes] = {};
  uint32_t nonzero[kLanes] = {}, negative[kLanes] = {}, non_finite[kLanes] = {};
  size_t i = 0;
  const auto accumulate = [&](size_t k, float v) {
    const float m = std::fabs(v);
    max_abs[k] = std::max(max_abs[k], m);
    sum_sq[k] += v * v;
    nonzero[k] += v != 0;
    negative[k] |= v < 0;
    non_finite[k] |= !(m <= std::numeric_limits<float>::max());
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
  for (size_t k = 0; k < kLanes; ++k) {
    s.max_abs = std::max(s.max_abs, max_abs[k]);
    s.any_negative |= negative[k] != 0;
    s.all_finite &= non_finite[k] == 0;
  }
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
  q.step = step;
  return q;
}

}  // namespace disc::codec_disc
