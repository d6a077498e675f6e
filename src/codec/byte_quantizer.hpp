// Internal: the 8-bit uniform quantizer shared by q8zstd and jpeg. A tensor's [min, max]
// maps linearly onto 0..255; the two bounds travel in the payload as f32.
#pragma once

#include <cstdint>
#include <span>

#include "core/bytes.hpp"

namespace disc {

class ByteQuantizer {
 public:
  // Bounds of `values`. Rejects NaN/Inf and spans (max - min) that overflow fp32.
  static Result<ByteQuantizer> fit(std::span<const float> values);
  // Reads the bounds written by write(), with the same checks plus min <= max.
  static Result<ByteQuantizer> read(ByteReader& reader);
  void write(ByteWriter& writer) const;

  float min() const { return min_; }
  float max() const { return max_; }
  // Distance between adjacent levels; 0 for a constant tensor (every value decodes to min).
  float step() const { return step_; }

  // out[i] = round((in[i] - min) / step), in 0..255. in and out have the same length.
  void quantize(std::span<const float> in, std::span<uint8_t> out) const;
  // out[i] = min + in[i] * step.
  void dequantize(std::span<const uint8_t> in, std::span<float> out) const;

 private:
  static Result<ByteQuantizer> from_bounds(float min, float max);
  ByteQuantizer(float min, float max) : min_(min), max_(max), step_((max - min) / 255.0f) {}
  float min_;
  float max_;
  float step_;
};

}  // namespace disc
