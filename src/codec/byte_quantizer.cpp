#include "codec/byte_quantizer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace disc {

Result<ByteQuantizer> ByteQuantizer::from_bounds(float min, float max) {
  if (!std::isfinite(min) || !std::isfinite(max)) return Error("value range holds NaN or infinity");
  if (!(min <= max)) return Error("value range minimum exceeds its maximum");
  if (!std::isfinite(max - min)) return Error("value range is wider than fp32 can represent");
  return ByteQuantizer(min, max);
}

Result<ByteQuantizer> ByteQuantizer::fit(std::span<const float> values) {
  if (values.empty()) return Error("cannot quantize an empty tensor");
  float lo = values[0];
  float hi = values[0];
  bool finite = true;
  for (float v : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    finite &= std::isfinite(v);
  }
  if (!finite) return Error("tensor holds NaN or infinity; 8-bit quantization needs finite values");
  return from_bounds(lo, hi);
}

Result<ByteQuantizer> ByteQuantizer::read(ByteReader& reader) {
  DISC_ASSIGN_OR_RETURN(float min, reader.f32("range minimum"));
  DISC_ASSIGN_OR_RETURN(float max, reader.f32("range maximum"));
  return from_bounds(min, max);
}

void ByteQuantizer::write(ByteWriter& writer) const {
  writer.f32(min_);
  writer.f32(max_);
}

void ByteQuantizer::quantize(std::span<const float> in, std::span<uint8_t> out) const {
  if (step_ == 0) {
    std::fill(out.begin(), out.end(), uint8_t{0});
    return;
  }
  // In double: 255 / (max - min) overflows fp32 when the span is subnormal.
  const double scale = 255.0 / (static_cast<double>(max_) - min_);
  for (size_t i = 0; i < in.size(); ++i) {
    // (in - min) * scale is in [0, 255] up to rounding; +0.5 and truncation round to nearest.
    const double level = std::min((static_cast<double>(in[i]) - min_) * scale + 0.5, 255.0);
    out[i] = static_cast<uint8_t>(level);
  }
}

void ByteQuantizer::dequantize(std::span<const uint8_t> in, std::span<float> out) const {
  for (size_t i = 0; i < in.size(); ++i) out[i] = min_ + static_cast<float>(in[i]) * step_;
}

}  // namespace disc
