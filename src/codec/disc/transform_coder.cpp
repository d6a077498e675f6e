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

// Symbols stay below 2 * (8 * 255 + 1) < 2^12 (a DC residual), so the encoder never reaches
// 12 prefix ones; the decoder treats them as malformed.
constexpr int kMaxPrefix = 12;
// Neighbourhood buckets: min(6, bit_width(left count + up count)), counts of missing blocks 0.
constexpr int kNeighbourhoods = 7;
// Magnitude context bands by zig-zag index: 0 (DC), then bit_width(k) = 1..6.
constexpr int kBands = 7;

struct BlockContexts {
  BitModel any[kNeighbourhoods];                         // coded count > 0
  BitModel count[kNeighbourhoods][kBlockArea];           // count - 1, 6-bit tree (nodes 1..63)
  BitModel significant[kNeighbourhoods][kBlockArea][2];  // level k != 0, by: level k-1 != 0
  PrefixModels<kMaxPrefix> prefix[kBands][kNeighbourhoods];
  SuffixModels<kMaxPrefix> suffix;
  BitModel sign[2];  // by: k > 0
};

int band(int k) { return std::bit_width(static_cast<unsigned>(k)); }

// Grid of blocks covering a plane.
struct BlockGrid {
  size_t rows, columns;
  explicit BlockGrid(const PlaneView& view)
      : rows((view.height + kBlockSide - 1) / kBlockSide), columns((view.width + kBlockSide - 1) / kBlockSide) {}
};

// Codes the planes' blocks in raster order, kBlockArea levels per block in zig-zag order.
// The encoder gets a block's levels from `block_levels(p, by, bx, levels)` before coding it,
// the decoder hands them to it after decoding. Level 0 (DC) is sent as the difference to its
// prediction from the left and up blocks' DC levels. Per block: the coded count n (1 + index
// of the last non-zero symbol, 0 for an all-zero block), then for k < n a significance bit
// (implied 1 for k = n - 1), Exp-Golomb magnitude and sign of each non-zero symbol.
// Returns false on malformed input.
template <class Coder, class BlockLevels>
bool code_blocks(Coder& coder, const PlaneView& view, int max_level, BlockLevels&& block_levels) {
  auto ctx = std::make_unique<BlockContexts>();
  const BlockGrid grid(view);
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

        int levels[kBlockArea] = {};
        int count = 0;
        if constexpr (kIsEncoder<Coder>) {
          block_levels(p, by, bx, levels);
          levels[0] -= dc_prediction;
          for (int k = 0; k < kBlockArea; ++k)
            if (levels[k] != 0) count = k + 1;
        }
        if (coder.bit(ctx->any[hood], count > 0)) {
          unsigned node = 1;
          for (int i = 5; i >= 0; --i) node = 2 * node + coder.bit(ctx->count[hood][node], ((count - 1) >> i) & 1);
          count = static_cast<int>(node) - kBlockArea + 1;
        } else {
          count = 0;
        }
        for (int k = 0; k < count; ++k) {
          const int previous_significant = k > 0 && levels[k - 1] != 0;
          if (k + 1 < count && !coder.bit(ctx->significant[hood][k][previous_significant], levels[k] != 0)) {
            levels[k] = 0;
            continue;
          }
          const int bound = k == 0 ? 2 * max_level : max_level;
          const int magnitude = code_exp_golomb(coder, ctx->prefix[band(k)][hood], ctx->suffix, std::abs(levels[k]));
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

// The samples of block (by, bx) of a plane, replicating the last row and column past the edge.
Block gather_block(const float* plane, const PlaneView& view, size_t by, size_t bx, float low, float high) {
  Block samples;
  for (int y = 0; y < kBlockSide; ++y) {
    const float* row = plane + std::min(by * kBlockSide + y, view.height - 1) * view.width;
    for (int x = 0; x < kBlockSide; ++x)
      samples[y * kBlockSide + x] = std::clamp(row[std::min(bx * kBlockSide + x, view.width - 1)], low, high);
  }
  return samples;
}

}  // namespace

float TransformQuantizer::coefficient_step(int zigzag_index) const {
  return step * (1.0f + hf * static_cast<float>(zigzag_frequency(zigzag_index)));
}

TransformQuantizer make_transform_quantizer(const Quantizer& quantizer, float hf) {
  TransformQuantizer t;
  t.step = quantizer.step;
  t.hf = hf;
  t.max_level = kBlockSide * quantizer.max_level + 1;
  t.high = quantizer.value(quantizer.max_level);
  t.low = quantizer.is_signed ? -t.high : 0.0f;
  return t;
}

Status encode_transform(const PlaneView& view, std::span<const float> values, const TransformQuantizer& quantizer,
                        Adaptation adaptation, std::vector<uint8_t>* out) {
  float inverse_steps[kBlockArea];
  for (int k = 0; k < kBlockArea; ++k) inverse_steps[k] = 1.0f / quantizer.coefficient_step(k);
  RangeEncoder coder(out, adaptation);
  const bool coded =
      code_blocks(coder, view, quantizer.max_level, [&](size_t p, size_t by, size_t bx, int(&levels)[kBlockArea]) {
        const float* plane = values.data() + p * view.plane_size();
        const Block coefficients = forward_dct(gather_block(plane, view, by, bx, quantizer.low, quantizer.high));
        for (int k = 0; k < kBlockArea; ++k) {
          const float c = coefficients[kZigzag[k]];
          const int magnitude = static_cast<int>(
              std::min(std::fabs(c) * inverse_steps[k] + 0.5f, static_cast<float>(quantizer.max_level)));
          levels[k] = c < 0 ? -magnitude : magnitude;
        }
      });
  if (!coded) return Error("transform level exceeds " + std::to_string(quantizer.max_level));
  coder.finish();
  return Status();
}

Status decode_transform(std::span<const uint8_t> in, const PlaneView& view, const TransformQuantizer& quantizer,
                        Adaptation adaptation, std::span<float> values) {
  float steps[kBlockArea];
  for (int k = 0; k < kBlockArea; ++k) steps[k] = quantizer.coefficient_step(k);
  RangeDecoder coder(in, adaptation);
  const bool decoded =
      code_blocks(coder, view, quantizer.max_level, [&](size_t p, size_t by, size_t bx, int(&levels)[kBlockArea]) {
        Block samples;
        if (std::all_of(levels + 1, levels + kBlockArea, [](int level) { return level == 0; })) {
          samples.fill(static_cast<float>(levels[0]) * steps[0] / kBlockSide);  // DC basis: 1/8 everywhere
        } else {
          Block coefficients{};
          for (int k = 0; k < kBlockArea; ++k) coefficients[kZigzag[k]] = static_cast<float>(levels[k]) * steps[k];
          samples = inverse_dct(coefficients);
        }
        float* plane = values.data() + p * view.plane_size();
        const size_t rows = std::min<size_t>(kBlockSide, view.height - by * kBlockSide);
        const size_t columns = std::min<size_t>(kBlockSide, view.width - bx * kBlockSide);
        for (size_t y = 0; y < rows; ++y)
          for (size_t x = 0; x < columns; ++x)
            plane[(by * kBlockSide + y) * view.width + bx * kBlockSide + x] =
                std::clamp(samples[y * kBlockSide + x], quantizer.low, quantizer.high);
      });
  if (!decoded)
    return coder.overran() ? Error("range-coded data ends early")
                           : Error("coded coefficient is malformed or exceeds " + std::to_string(quantizer.max_level));
  return coder.finish();
}

}  // namespace disc::codec_disc
