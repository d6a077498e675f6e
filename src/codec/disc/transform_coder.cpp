#include "codec/disc/transform_coder.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>

#include "codec/disc/block_dct.hpp"
#include "codec/disc/exp_golomb.hpp"
#include "codec/disc/range_coder.hpp"

namespace disc::codec_disc {
namespace {

// Symbols stay below 2 * (32 * 255 + 1) < 2^14 (a DC residual), so the encoder never reaches
// 14 prefix ones; the decoder treats them as malformed.
constexpr int kMaxPrefix = 14;
// Neighbourhood buckets: min(6, bit_width(left count + up count)), counts of missing blocks 0.
constexpr int kNeighbourhoods = 7;
// Coefficient contexts are shared by position within the block scaled to 64 (the 8x8 zig-zag
// index): k -> k * 64 / area. Magnitude bands: bit_width(scaled k), 0..6 (0: the DC, and with
// more than 64 coefficients every k < area / 64).
constexpr int kScaledPositions = 64;
constexpr int kBands = 7;

struct BlockContexts {
  BitModel any[kNeighbourhoods];                                // coded count > 0
  BitModel count[kNeighbourhoods][kMaxBlockArea];               // count - 1, binary tree (nodes 1..area-1)
  BitModel significant[kNeighbourhoods][kScaledPositions][2];  // level k != 0, by: level k-1 != 0
  PrefixModels<kMaxPrefix> prefix[kBands][kNeighbourhoods];
  SuffixModels<kMaxPrefix> suffix;
  BitModel sign[2];  // by: k > 0
};

// Grid of blocks covering a plane.
struct BlockGrid {
  size_t rows, columns;
  BlockGrid(const PlaneView& view, BlockShape block)
      : rows((view.height + block.height - 1) / block.height), columns((view.width + block.width - 1) / block.width) {}
};

// Codes the planes' blocks in raster order, block.area() levels per block in zig-zag order.
// The encoder gets a block's levels from `block_levels(p, by, bx, levels)` before coding it,
// the decoder hands them to it after decoding. Level 0 (DC) is sent as the difference to its
// prediction from the left and up blocks' DC levels. Per block: the coded count n (1 + index
// of the last non-zero symbol, 0 for an all-zero block), then for k < n a significance bit
// (implied 1 for k = n - 1), Exp-Golomb magnitude and sign of each non-zero symbol.
// Returns false on malformed input.
template <class Coder, class BlockLevels>
bool code_blocks(Coder& coder, const PlaneView& view, BlockShape block, int max_level, BlockLevels&& block_levels) {
  auto ctx = std::make_unique<BlockContexts>();
  const BlockGrid grid(view, block);
  const int area = block.area();
  const int count_bits = std::bit_width(static_cast<unsigned>(area - 1));  // 6 for 8x8
  int scaled[kMaxBlockArea];
  for (int k = 0; k < area; ++k) scaled[k] = k * kScaledPositions / area;
  // Per block column: count and DC level of the last block coded there. While coding block
  // (by, bx), entry bx is the block above and entry bx - 1 the block to the left.
  std::vector<int> up_count(grid.columns), up_dc(grid.columns);
  for (size_t p = 0; p < view.planes; ++p) {
    for (size_t by = 0; by < grid.rows; ++by) {
      for (size_t bx = 0; bx < grid.columns; ++bx) {
        const int left_count = bx > 0 ? up_count[bx - 1] : 0;
        const int above_count = by > 0 ? up_count[bx] : 0;
        const int hood = std::min(kNeighbourhoods - 1,
                                  static_cast<int>(std::bit_width(static_cast<unsigned>(left_count + above_count))));
        int dc_prediction = 0;
        if (bx > 0 && by > 0)
          dc_prediction = (up_dc[bx - 1] + up_dc[bx]) >> 1;
        else if (bx > 0)
          dc_prediction = up_dc[bx - 1];
        else if (by > 0)
          dc_prediction = up_dc[bx];

        int levels[kMaxBlockArea];
        std::fill(levels, levels + area, 0);
        int count = 0;
        if constexpr (kIsEncoder<Coder>) {
          block_levels(p, by, bx, levels);
          levels[0] -= dc_prediction;
          for (int k = 0; k < area; ++k)
            if (levels[k] != 0) count = k + 1;
        }
        if (coder.bit(ctx->any[hood], count > 0)) {
          unsigned node = 1;
          for (int i = count_bits - 1; i >= 0; --i)
            node = 2 * node + coder.bit(ctx->count[hood][node], ((count - 1) >> i) & 1);
          count = static_cast<int>(node) - (1 << count_bits) + 1;
          if (count > area) return false;
        } else {
          count = 0;
        }
        for (int k = 0; k < count; ++k) {
          const int previous_significant = k > 0 && levels[k - 1] != 0;
          if (k + 1 < count && !coder.bit(ctx->significant[hood][scaled[k]][previous_significant], levels[k] != 0)) {
            levels[k] = 0;
            continue;
          }
          const int bound = k == 0 ? 2 * max_level : max_level;
          const int band = std::bit_width(static_cast<unsigned>(scaled[k]));
          const int magnitude = code_exp_golomb(coder, ctx->prefix[band][hood], ctx->suffix, std::abs(levels[k]));
          if (magnitude == 0 || magnitude > bound) return false;
          levels[k] = coder.bit(ctx->sign[k > 0], levels[k] < 0) ? -magnitude : magnitude;
        }
        levels[0] += dc_prediction;
        if (std::abs(levels[0]) > max_level) return false;
        if constexpr (!kIsEncoder<Coder>) block_levels(p, by, bx, levels);
        up_count[bx] = count;
        up_dc[bx] = levels[0];
      }
      if (coder.overran()) return false;
    }
  }
  return true;
}

// The samples of block (by, bx) of a plane, clamped to [low, high], replicating the last row
// and column past the edge.
void gather_block(const float* plane, const PlaneView& view, BlockShape block, size_t by, size_t bx, float low,
                  float high, float* samples) {
  for (int y = 0; y < block.height; ++y) {
    const float* row = plane + std::min(by * block.height + y, view.height - 1) * view.width;
    for (int x = 0; x < block.width; ++x)
      samples[y * block.width + x] = std::clamp(row[std::min(bx * block.width + x, view.width - 1)], low, high);
  }
}

}  // namespace

TransformQuantizer make_transform_quantizer(const Quantizer& quantizer, float hf, BlockShape block) {
  TransformQuantizer t;
  t.block = block;
  t.zigzag = zigzag_order(block);
  t.steps.resize(t.zigzag.size());
  for (size_t k = 0; k < t.zigzag.size(); ++k) {
    const int v = t.zigzag[k] / block.width, u = t.zigzag[k] % block.width;
    const float frequency = static_cast<float>(8 * u) / static_cast<float>(block.width) +
                            static_cast<float>(8 * v) / static_cast<float>(block.height);
    t.steps[k] = quantizer.step * (1.0f + hf * frequency);
  }
  t.max_level = std::max(block.height, block.width) * quantizer.max_level + 1;
  t.high = quantizer.value(quantizer.max_level);
  t.low = quantizer.is_signed ? -t.high : 0.0f;
  return t;
}

Status encode_transform(const PlaneView& view, std::span<const float> values, const TransformQuantizer& quantizer,
                        Adaptation adaptation, std::vector<uint8_t>* out) {
  const size_t area = quantizer.zigzag.size();
  float inverse_steps[kMaxBlockArea], samples[kMaxBlockArea], coefficients[kMaxBlockArea];
  for (size_t k = 0; k < area; ++k) inverse_steps[k] = 1.0f / quantizer.steps[k];
  RangeEncoder coder(out, adaptation);
  bool finite = true;
  const bool coded = code_blocks(
      coder, view, quantizer.block, quantizer.max_level, [&](size_t p, size_t by, size_t bx, int* levels) {
        gather_block(values.data() + p * view.plane_size(), view, quantizer.block, by, bx, quantizer.low,
                     quantizer.high, samples);
        forward_dct(quantizer.block, samples, coefficients);
        for (size_t k = 0; k < area; ++k) {
          const float c = coefficients[quantizer.zigzag[k]];
          finite = finite && std::isfinite(c);
          const int magnitude = std::isfinite(c) ? static_cast<int>(std::min(
                                                       std::fabs(c) * inverse_steps[k] + 0.5f,
                                                       static_cast<float>(quantizer.max_level)))
                                                 : 0;
          levels[k] = c < 0 ? -magnitude : magnitude;
        }
      });
  if (!finite) return Error("values too large for transform=1: a block's DCT overflows fp32");
  if (!coded) return Error("transform level exceeds " + std::to_string(quantizer.max_level));
  coder.finish();
  return Status();
}

Status decode_transform(std::span<const uint8_t> in, const PlaneView& view, const TransformQuantizer& quantizer,
                        Adaptation adaptation, std::span<float> values) {
  const BlockShape block = quantizer.block;
  const int area = block.area();
  // A block with only a DC level is constant: DC / sqrt(area) (exactly DC / 8 at 8x8).
  const float dc_scale = 1.0f / std::sqrt(static_cast<float>(area));
  float samples[kMaxBlockArea], coefficients[kMaxBlockArea];
  RangeDecoder coder(in, adaptation);
  const bool decoded = code_blocks(
      coder, view, block, quantizer.max_level, [&](size_t p, size_t by, size_t bx, const int* levels) {
        if (std::all_of(levels + 1, levels + area, [](int level) { return level == 0; })) {
          std::fill(samples, samples + area, static_cast<float>(levels[0]) * quantizer.steps[0] * dc_scale);
        } else {
          // The zig-zag order is a permutation of the block: every coefficient is written once.
          for (int k = 0; k < area; ++k) coefficients[quantizer.zigzag[k]] = static_cast<float>(levels[k]) * quantizer.steps[k];
          inverse_dct(block, coefficients, samples);
        }
        float* plane = values.data() + p * view.plane_size();
        const size_t rows = std::min<size_t>(block.height, view.height - by * block.height);
        const size_t columns = std::min<size_t>(block.width, view.width - bx * block.width);
        for (size_t y = 0; y < rows; ++y)
          for (size_t x = 0; x < columns; ++x)
            plane[(by * block.height + y) * view.width + bx * block.width + x] =
                std::clamp(samples[y * block.width + x], quantizer.low, quantizer.high);
      });
  if (!decoded)
    return coder.overran() ? Error("range-coded data ends early")
                           : Error("coded coefficient is malformed or exceeds " + std::to_string(quantizer.max_level));
  return coder.finish();
}

}  // namespace disc::codec_disc
