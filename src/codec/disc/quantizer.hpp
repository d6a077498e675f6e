// Pruning, clipping and uniform quantization of fp32 values to integer levels.
//
// A level q reconstructs to sign(q) * unit[|q|] * step, where unit[k] = k unless the payload
// carries centroid offsets (unit[k] = k + d_k / 256). Unsigned tensors (no negative value)
// use levels 0..M with M = 2^bits - 1; signed tensors use -M..M with M = max(1, 2^(bits-1) - 1),
// so that every level fits in `bits` bits (bits = 1 signed is ternary). With per-plane step
// exponents, plane c uses plane_step(step, e_c) instead of step.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "disc/status.hpp"

namespace disc::codec_disc {

struct QuantizerSettings {
  int bits;     // 1..8
  float prune;  // magnitudes below prune * clip_value become 0
  float clip;   // clip_value = clip * RMS of the non-zero values (0: the largest magnitude)
  int levels = 0;  // 0, or 1..2^bits - 1: caps M (max_level)
};

struct Quantizer {
  bool is_signed = false;
  int max_level = 0;   // M
  float step = 1;      // finite, > 0
  float threshold = 0; // magnitudes below it quantize to 0 (encoder only)
  float inv_step = 1;  // 1 / step (encoder only)
  // Reconstruction points in step units, index 0..M (empty: unit[k] = k).
  std::vector<float> unit;

  float value(int level) const {
    if (unit.empty()) return static_cast<float>(level) * step;
    const float magnitude = unit[static_cast<size_t>(level < 0 ? -level : level)] * step;
    return level < 0 ? -magnitude : magnitude;
  }

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

// M: 2^bits - 1 (unsigned) or max(1, 2^(bits-1) - 1) (signed), capped at `levels` when
// that is > 0, so that the step clip_value / M can lie between two bit depths' steps.
int max_level(int bits, bool is_signed, int levels);

// Fits a quantizer to the tensor's statistics; rejects NaN and infinite values.
Result<Quantizer> fit_quantizer(std::span<const float> values, const QuantizerSettings& settings);

// The quantizer a payload describes; rejects a non-finite or non-positive step.
Result<Quantizer> make_decoder_quantizer(int bits, bool is_signed, int levels, float step);

// --- centroid reconstruction (flags bit 1) --------------------------------------------------

// Offset d_k of level k in 1/256 step units: the mean of x * sign(level) / step over the
// values quantized to +-k (|x| unless error diffusion chose the other sign), minus k,
// rounded and clamped to [-128, 127]; 0 for a level no value uses.
// `levels` are the quantized values of `values`; `plane_steps` (one per plane of
// `plane_size` values, empty: every value uses quantizer.step) are the steps they used.
std::vector<int8_t> centroid_offsets(const Quantizer& quantizer, std::span<const float> values,
                                     std::span<const int16_t> levels, std::span<const float> plane_steps,
                                     size_t plane_size);
// Sets quantizer.unit from offsets d_1..d_M (offsets.size() == M); rejects reconstruction
// points that overflow fp32 at the quantizer's step.
Status set_centroids(Quantizer* quantizer, std::span<const int8_t> offsets);

// --- zero-level reconstruction by neighbourhood (flags bit 4, unsigned maps) ----------------

// Classes of a level-0 element: how many of its 4 in-plane neighbours (left, right, up, down;
// outside the plane counts as 0) have a non-zero level, 0..4.
inline constexpr int kZeroClasses = 5;
// Writes the class of every element of a height x width plane (level 0 or not) to
// `classes`, branch-free row by row so that the loops vectorize.
void zero_classes(const int16_t* plane, size_t height, size_t width, uint8_t* classes);
// z_n = round(512 * mean of x / step_c over the level-0 values of class n), clamped to
// 0..255 (0 for an empty class): a level-0 element of class n decodes to (z_n / 512) step_c.
// `classes`: every element's class (zero_classes() of each plane of `plane_size` elements).
std::vector<uint8_t> zero_offsets(std::span<const float> values, std::span<const int16_t> levels,
                                  std::span<const uint8_t> classes, size_t plane_size, float step,
                                  std::span<const float> plane_steps);

// --- error diffusion (parameter `diffuse`; encoder only) -------------------------------------

// The levels of one height x width plane in raster order, each element quantized after
// adding `strength` (0..1] times the error its already-quantized neighbours passed on
// (Floyd-Steinberg: 7/16 right, 3/16 down-left, 5/16 down, 1/16 down-right). With v that sum
// held to [-M step, M step], the level is that of v (of max(v, 0) for an unsigned quantizer,
// which yields no negative level) and the error passed on is v - level * step. So the mass
// below the zero threshold, and negative sums next to zeros, travel on until a neighbour
// absorbs them, while what lies beyond the largest level is not passed on.
void diffused_levels(const Quantizer& quantizer, const float* plane, size_t height, size_t width, float strength,
                     int16_t* levels);

// --- per-plane step exponents (flags bit 2) -------------------------------------------------

inline constexpr int kMinPlaneExponent = -8;
inline constexpr int kMaxPlaneExponent = 7;

// step * 2^(e/2), computed in binary64 as step * 2^floor(e/2) * (e odd ? sqrt(2) : 1) and
// rounded to fp32 once, so that encoder and decoder agree bit for bit.
float plane_step(float step, int exponent);

// e_c = clamp(round(2 * strength * log2(r_c / r)), -8, 7) with r_c the RMS of plane c's
// non-zero values and r the tensor's (0 for an all-zero plane). Empty if an exponent would
// make a plane step that is not a normal float or overflows fp32 at the largest level.
std::vector<int8_t> fit_plane_exponents(const Quantizer& quantizer, std::span<const float> values,
                                        size_t plane_size, float strength);

// The quantizer for one plane: step, inverse step and prune threshold scaled by 2^(e/2).
// Fails if the plane step is not a normal float or the largest reconstruction overflows.
Result<Quantizer> plane_quantizer(const Quantizer& quantizer, int exponent);

}  // namespace disc::codec_disc
