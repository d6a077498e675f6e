#include "codec/disc/quantizer.hpp"

#include <algorithm>
#include <cmath>

namespace disc::codec_disc {

int max_level(int bits, bool is_signed) {
  return is_signed ? std::max(1, (1 << (bits - 1)) - 1) : (1 << bits) - 1;
}

Result<Quantizer> fit_quantizer(std::span<const float> values, const QuantizerSettings& settings) {
  float max_abs = 0;
  double sum_sq = 0;
  size_t nonzero = 0;
  bool any_negative = false;
  for (const float v : values) {
    if (!std::isfinite(v)) return Error("lossy disc cannot code NaN or infinite values (use bits=0)");
    const float m = std::fabs(v);
    max_abs = std::max(max_abs, m);
    sum_sq += static_cast<double>(v) * v;
    nonzero += v != 0;
    any_negative |= v < 0;
  }
  Quantizer q;
  q.is_signed = any_negative;
  q.max_level = max_level(settings.bits, q.is_signed);
  float clip_value = max_abs;
  if (settings.clip > 0 && nonzero > 0)
    clip_value = std::min(max_abs, static_cast<float>(settings.clip * std::sqrt(sum_sq / nonzero)));
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
