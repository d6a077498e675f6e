// Pruning, clipping and uniform quantization of fp32 values to integer levels.
//
// A level q reconstructs to q * step. Unsigned tensors (no negative value) use levels
// 0..M with M = 2^bits - 1; signed tensors use -M..M with M = max(1, 2^(bits-1) - 1), so
// that every level fits in `bits` bits (bits = 1 signed is ternary).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

#include "disc/status.hpp"

namespace disc::codec_disc {

struct QuantizerSettings {
  int bits;     // 1..8
  float prune;  // magnitudes below prune * clip_value become 0
  float clip;   // clip_value = clip * RMS of the non-zero values (0: the largest magnitude)
};

struct Quantizer {
  bool is_signed = false;
  int max_level = 0;   // M
  float step = 1;      // finite, > 0
  float threshold = 0; // magnitudes below it quantize to 0 (encoder only)
  float inv_step = 1;  // 1 / step (encoder only)

  float value(int level) const { return static_cast<float>(level) * step; }

  // |level| of a finite value: 0 below the threshold, else round(|v| / step) capped at M.
  // Branch-free so that loops over it vectorize.
  int magnitude(float v) const {
    const float m = std::fabs(v);
    const float rounded = std::min(static_cast<float>(max_level), m * inv_step + 0.5f);
    return static_cast<int>(m < threshold ? 0.0f : rounded);
  }
  // The level of a finite value: magnitude(v) with v's sign.
  int level(float v) const { return v < 0 ? -magnitude(v) : magnitude(v); }
};

int max_level(int bits, bool is_signed);

// Fits a quantizer to the tensor's statistics; rejects NaN and infinite values.
Result<Quantizer> fit_quantizer(std::span<const float> values, const QuantizerSettings& settings);

// The quantizer a payload describes; rejects a non-finite or non-positive step.
Result<Quantizer> make_decoder_quantizer(int bits, bool is_signed, float step);

}  // namespace disc::codec_disc
