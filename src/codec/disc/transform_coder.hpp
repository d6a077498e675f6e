// Transform mode (transform=1): per plane, blocks of 8x8 or as large as the plane (tile=1;
// edge blocks padded by replicating the last row / column), orthonormal DCT-II,
// frequency-weighted uniform quantization, and zig-zag coefficients coded with the adaptive
// range coder. Layout in doc/FORMAT.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "codec/disc/block_dct.hpp"
#include "codec/disc/quantizer.hpp"
#include "codec/disc/range_coder.hpp"
#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

struct TransformQuantizer {
  BlockShape block;
  std::vector<uint16_t> zigzag;  // zigzag_order(block)
  // steps[k]: step of the k-th zig-zag coefficient, step * (1 + hf * (8u / width + 8v / height)),
  // so that hf weighs the same spatial frequency whatever the block's size (u + v at 8x8).
  std::vector<float> steps;
  int max_level = 1;  // |coefficient level| bound: max(height, width) * M + 1 (Parseval on the clamped block)
  float low = 0;      // samples are clamped to [low, high] before the DCT and after the inverse
  float high = 0;
};

// From the element-wise quantizer's step, M and signedness: [low, high] = [-M·step or 0, M·step].
TransformQuantizer make_transform_quantizer(const Quantizer& quantizer, float hf, BlockShape block);

// `values` holds view.planes * view.plane_size() finite values. Fails if a block's DCT
// overflows fp32 (values within a factor 32 of the largest float); levels are capped at
// quantizer.max_level, so the coder itself cannot fail.
Status encode_transform(const PlaneView& view, std::span<const float> values, const TransformQuantizer& quantizer,
                        Adaptation adaptation, std::vector<uint8_t>* out);

// Fills `values`; consumes all of `in` or fails.
Status decode_transform(std::span<const uint8_t> in, const PlaneView& view, const TransformQuantizer& quantizer,
                        Adaptation adaptation, std::span<float> values);

}  // namespace disc::codec_disc
