#include "codec/disc/reader_shaping.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "codec/disc/shaping_error.hpp"

namespace disc {

Status ConvActivation::check(int outputs) const {
  if (bias.size() != static_cast<size_t>(std::max(outputs, 0)))
    return Error("convolution: " + std::to_string(bias.size()) + " biases for " + std::to_string(outputs) + " outputs",
                 ErrorCode::kInvalidArgument);
  for (float b : bias)
    if (!std::isfinite(b)) return Error("convolution: a bias is not finite", ErrorCode::kInvalidArgument);
  if (!(min <= max) || min == std::numeric_limits<float>::infinity() || max == -std::numeric_limits<float>::infinity())
    return Error("convolution: the activation's bounds are NaN, not ordered, or both one infinity",
                 ErrorCode::kInvalidArgument);
  return Status();
}

Status ConvKernel::check(const Shape& shape) const {
  // At most 2^20 channels each way, so that no size computed below overflows.
  constexpr int kMaxChannels = 1 << 20;
  if (out_channels < 1 || in_per_group < 1 || groups < 1 || out_channels % groups != 0 ||
      out_channels > kMaxChannels || in_per_group > kMaxChannels || groups > kMaxChannels)
    return Error("convolution: " + std::to_string(out_channels) + " outputs in " + std::to_string(groups) +
                     " groups of " + std::to_string(in_per_group) + " inputs are not consistent",
                 ErrorCode::kInvalidArgument);
  if (kernel_h < 1 || kernel_w < 1 || stride_h < 1 || stride_w < 1 || pad_top < 0 || pad_left < 0 ||
      pad_bottom < 0 || pad_right < 0 || kernel_h > 64 || kernel_w > 64 || pad_top >= kernel_h ||
      pad_bottom >= kernel_h || pad_left >= kernel_w || pad_right >= kernel_w)
    return Error("convolution: kernel, stride or padding out of range", ErrorCode::kInvalidArgument);
  const size_t expected = static_cast<size_t>(out_channels) * in_per_group * kernel_h * kernel_w;
  if (weights.size() != expected)
    return Error(
        "convolution: " + std::to_string(weights.size()) + " weights where the shape needs " + std::to_string(expected),
        ErrorCode::kInvalidArgument);
  for (float w : weights)
    if (!std::isfinite(w)) return Error("convolution: a weight is not finite", ErrorCode::kInvalidArgument);
  if (activation) DISC_RETURN_IF_ERROR(activation->check(out_channels));
  if (shape.size() != 4)
    return Error("convolution: needs an N x C x H x W map, not one of " + std::to_string(shape.size()) + " dims",
                 ErrorCode::kInvalidArgument);
  if (shape[1] != static_cast<int64_t>(in_per_group) * groups)
    return Error("convolution: reads " + std::to_string(static_cast<int64_t>(in_per_group) * groups) +
                     " channels, the map has " + std::to_string(shape[1]),
                 ErrorCode::kInvalidArgument);
  if (shape[2] + pad_top + pad_bottom < kernel_h || shape[3] + pad_left + pad_right < kernel_w)
    return Error("convolution: the kernel is larger than the padded map", ErrorCode::kInvalidArgument);
  return Status();
}

namespace codec_disc {
namespace {

// One visit's best move: the element's level changes by `own`, and if `partner` >= 0 that
// element's level by -own (a level unit moved between the two; the plane keeps its sum; never
// raising the sum of the two magnitudes, unit_move_keeps_magnitudes).
struct Move {
  double change = 0;  // of J (E with rate_weight 0); only a decrease is taken
  int own = 0;
  long partner = -1;
};

}  // namespace

void shape_levels(const ConvKernel& kernel, const Quantizer& quantizer, const Shape& shape, const float* values,
                  int16_t* levels, ShapingMoves moves, double rate_weight, int threads) {
  const size_t channels = static_cast<size_t>(shape[1]), height = static_cast<size_t>(shape[2]),
               width = static_cast<size_t>(shape[3]);
  const size_t sample_size = channels * height * width;
  const int lowest = quantizer.is_signed ? -quantizer.max_level : 0;
  const auto in_range = [&](int level) { return level >= lowest && level <= quantizer.max_level; };
  const auto error_change = [&](int from, int to) {  // of an element whose level goes from -> to
    return static_cast<double>(quantizer.value(from)) - quantizer.value(to);
  };
  ShapingError error(kernel, height, width);
  OutputResidual& residual = error.residual();
  // The in-plane neighbours (dy, dx) whose footprints overlap, per position: only for those can
  // moving a level unit lower E where neither single move does (otherwise the pair's change of
  // E is the sum of the two single moves').
  std::vector<std::vector<std::pair<int, int>>> partners(height * width);
  if (moves == ShapingMoves::kLevelsAndUnits)
    for (size_t y = 0; y < height; ++y)
      for (size_t x = 0; x < width; ++x)
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const long y2 = static_cast<long>(y) + dy, x2 = static_cast<long>(x) + dx;
            if ((dy != 0 || dx != 0) && y2 >= 0 && x2 >= 0 && y2 < static_cast<long>(height) &&
                x2 < static_cast<long>(width) && residual.footprints_overlap(y, x, dy, dx))
              partners[y * width + x].emplace_back(dy, dx);
          }
  // Per output position, 1 + the visit (pass · sample_size + element) of the last move that
  // reached it; 0: none yet. An element's decision depends only on the levels of itself and
  // its partners and on R at their footprints, and every move stamps the footprints of the
  // elements it changes. So an element none of whose and whose partners' footprint positions a
  // move reached since its visit in the previous pass is in the state it last decided in (not
  // to move: moving would have stamped it) and is not visited.
  std::vector<uint64_t> changed_at(residual.positions());
  const float* x = nullptr;
  int16_t* q = nullptr;
  // The descent of one group of channels. Its elements reach only its own output positions
  // (R and changed_at there) and its moves change only its own levels, so groups descend
  // independently and in any order: a group that settles is never visited again, as when all
  // groups shared one sequence of passes.
  const auto descend = [&](size_t group) {
    const size_t first_channel = group * static_cast<size_t>(kernel.in_per_group);
    const size_t end_channel = first_channel + static_cast<size_t>(kernel.in_per_group);
    error.set_group(group, x);
    for (size_t c = first_channel, i = c * height * width; c < end_channel; ++c)
      for (size_t y = 0; y < height; ++y)
        for (size_t col = 0; col < width; ++col, ++i) {
          const float e = x[i] - quantizer.value(q[i]);
          if (e != 0) residual.add(c, y, col, e);
        }
    for (int pass = 0; pass < max_shaping_passes(moves); ++pass) {
      bool changed = false;
      const uint64_t pass_start = static_cast<uint64_t>(pass) * sample_size;
      for (size_t c = first_channel, i = c * height * width; c < end_channel; ++c)
        for (size_t y = 0; y < height; ++y)
          for (size_t col = 0; col < width; ++col, ++i) {
            const std::vector<std::pair<int, int>>& near = partners[y * width + col];
            if (pass > 0) {
              const uint64_t last_visit = pass_start - sample_size + i;
              bool footprint_changed = false;
              residual.for_each_position_near(c, y, col, near.empty() ? 0 : 1, [&](size_t position) {
                footprint_changed |= changed_at[position] > last_visit;
              });
              if (!footprint_changed) continue;
            }
            const int level = q[i];
            Move best;
            // The element's own moves (own = -1, +1, within range), shared by the unit moves.
            int own_side[2];
            double own_delta[2];
            ShapingError::Cost own_cost[2];
            size_t sides = 0;
            for (const int own : {-1, 1})
              if (in_range(level + own)) {
                own_side[sides] = own;
                own_delta[sides++] = error_change(level, level + own);
              }
            error.singles(c, y, col, {own_delta, sides}, {own_cost, sides});
            // J's change: E's, plus the rate term of each unit whose magnitude changes.
            for (size_t s = 0; s < sides; ++s) {
              const double change =
                  own_cost[s].change + rate_change(rate_weight, own_cost[s].energy, level, level + own_side[s]);
              if (change < best.change) best = {change, own_side[s], -1};
            }
            for (const auto& [dy, dx] : near) {
              const size_t y2 = y + dy, x2 = col + dx, j = i + dy * static_cast<long>(width) + dx;
              // The moves of a unit between the two, one per side the element may move to.
              int unit_side[2];
              double a_delta[2], b_delta[2];
              ShapingError::Cost a_cost[2], pair_cost[2];
              size_t units = 0;
              for (size_t s = 0; s < sides; ++s)
                if (in_range(q[j] - own_side[s]) && unit_move_keeps_magnitudes(level, q[j], own_side[s])) {
                  unit_side[units] = own_side[s];
                  a_delta[units] = own_delta[s];
                  a_cost[units] = own_cost[s];
                  b_delta[units++] = error_change(q[j], q[j] - own_side[s]);
                }
              if (units == 0) continue;
              error.pairs(c, {y, col}, {a_delta, units}, {a_cost, units}, {y2, x2}, {b_delta, units},
                          {pair_cost, units});
              for (size_t u = 0; u < units; ++u) {
                const double change = pair_cost[u].change +
                                      rate_change(rate_weight, a_cost[u].energy, level, level + unit_side[u]) +
                                      rate_change(rate_weight, pair_cost[u].energy, q[j], q[j] - unit_side[u]);
                if (change < best.change && unit_move_lowers(change, a_cost[u].energy + pair_cost[u].energy))
                  best = {change, unit_side[u], static_cast<long>(j)};
              }
            }
            if (best.own == 0) continue;
            changed = true;
            const auto move = [&](size_t element, size_t ey, size_t ex, int to) {
              residual.add(c, ey, ex, error_change(q[element], to));
              q[element] = static_cast<int16_t>(to);
              residual.for_each_reach(c, ey, ex, [&](size_t position, size_t) { changed_at[position] = pass_start + i + 1; });
            };
            move(i, y, col, level + best.own);
            if (best.partner >= 0) {
              const size_t j = static_cast<size_t>(best.partner);
              move(j, (j / width) % height, j % width, q[j] - best.own);
            }
          }
      if (!changed) break;
    }
  };
  for (int64_t n = 0; n < shape[0]; ++n) {
    x = values + n * sample_size;
    q = levels + n * sample_size;
    error.clear();
    std::fill(changed_at.begin(), changed_at.end(), 0);
    descend_groups(static_cast<size_t>(kernel.groups), threads, descend);
  }
}

}  // namespace codec_disc
}  // namespace disc
