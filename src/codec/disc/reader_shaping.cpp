#include "codec/disc/reader_shaping.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace disc {

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

// The convolution's output residual R = conv(e) for one sample, channels last
// ([group][oy][ox][out in group]), and the impulse responses it is updated with.
class OutputResidual {
 public:
  OutputResidual(const ConvKernel& k, size_t height, size_t width)
      : k_(k),
        out_per_group_(k.out_channels / k.groups),
        out_h_((static_cast<long>(height) + k.pad_top + k.pad_bottom - k.kernel_h) / k.stride_h + 1),
        out_w_((static_cast<long>(width) + k.pad_left + k.pad_right - k.kernel_w) / k.stride_w + 1),
        taps_(k.weights.size()),
        tap_energy_(k.weights.size() / out_per_group_, 0.0),
        residual_(positions() * out_per_group_, 0.0f),
        rows_(footprint_axis(height, k.kernel_h, k.stride_h, k.pad_top, out_h_)),
        cols_(footprint_axis(width, k.kernel_w, k.stride_w, k.pad_left, out_w_)) {
    // Weights regrouped as [group][input in group][ky][kx][output in group], so that one
    // input element's response at one output position is contiguous.
    for (int oc = 0; oc < k.out_channels; ++oc)
      for (int ci = 0; ci < k.in_per_group; ++ci)
        for (int ky = 0; ky < k.kernel_h; ++ky)
          for (int kx = 0; kx < k.kernel_w; ++kx)
            taps_[tap_index(oc / out_per_group_, ci, ky, kx) * out_per_group_ + oc % out_per_group_] =
                k.weights[((static_cast<size_t>(oc) * k.in_per_group + ci) * k.kernel_h + ky) * k.kernel_w + kx];
    for (size_t tap = 0; tap < tap_energy_.size(); ++tap)
      for (int o = 0; o < out_per_group_; ++o) {
        const double t = taps_[tap * out_per_group_ + o];
        tap_energy_[tap] += t * t;
      }
  }

  // Output positions ([group][oy][ox]), each holding out_channels / groups outputs.
  size_t positions() const { return static_cast<size_t>(k_.groups) * out_h_ * out_w_; }

  // Calls fn(position, tap) for every output position input element (c, y, x) reaches, with
  // the kernel tap it reaches it through.
  template <typename Fn>
  void for_each_reach(size_t c, size_t y, size_t x, Fn&& fn) const {
    const int g = static_cast<int>(c) / k_.in_per_group, ci = static_cast<int>(c) % k_.in_per_group;
    for (const AxisTap& row : rows_[y].taps)
      for (const AxisTap& col : cols_[x].taps)
        fn((static_cast<size_t>(g) * out_h_ + row.output) * out_w_ + col.output, tap_index(g, ci, row.kernel, col.kernel));
  }

  // R += e · (the response of element (c, y, x)).
  void add(size_t c, size_t y, size_t x, float e) {
    const int m = out_per_group_;
    for_each_reach(c, y, x, [&](size_t position, size_t tap) {
      float* r = &residual_[position * m];
      const float* t = &taps_[tap * m];
      for (int o = 0; o < m; ++o) r[o] += e * t[o];
    });
  }

  // <R, response> and |response|^2 of element (c, y, x).
  std::pair<double, double> correlation_and_energy(size_t c, size_t y, size_t x) const {
    const int m = out_per_group_;
    double dot = 0, energy = 0;
    for_each_reach(c, y, x, [&](size_t position, size_t tap) {
      const float* r = &residual_[position * m];
      const float* t = &taps_[tap * m];
      for (int o = 0; o < m; ++o) dot += static_cast<double>(r[o]) * t[o];
      energy += tap_energy_[tap];
    });
    return {dot, energy};
  }

  // <response of (c, y, x), response of (c, y + dy, x + dx)>, |dy|, |dx| <= 1: the two
  // responses meet at the output positions both elements reach. 0 if there are none.
  double cross_energy(size_t c, size_t y, size_t x, int dy, int dx) const {
    const int m = out_per_group_;
    const int g = static_cast<int>(c) / k_.in_per_group, ci = static_cast<int>(c) % k_.in_per_group;
    double sum = 0;
    for (const auto& [ky, ky2] : rows_[y].shared[dy + 1])
      for (const auto& [kx, kx2] : cols_[x].shared[dx + 1]) {
        const float* t = &taps_[tap_index(g, ci, ky, kx) * m];
        const float* u = &taps_[tap_index(g, ci, ky2, kx2) * m];
        for (int o = 0; o < m; ++o) sum += static_cast<double>(t[o]) * u[o];
      }
    return sum;
  }

  // Whether the footprints of (y, x) and (y + dy, x + dx) share an output position.
  bool footprints_overlap(size_t y, size_t x, int dy, int dx) const {
    return !rows_[y].shared[dy + 1].empty() && !cols_[x].shared[dx + 1].empty();
  }

  // Calls fn(position) for every output position in the bounding box of the footprints of
  // the elements (c, y + dy, x + dx), |dy|, |dx| <= radius (0 or 1): a superset of those positions.
  template <typename Fn>
  void for_each_position_near(size_t c, size_t y, size_t x, int radius, Fn&& fn) const {
    const auto [top, bottom] = rows_[y].span[radius];
    const auto [left, right] = cols_[x].span[radius];
    const size_t g = c / k_.in_per_group;
    for (long oy = top; oy <= bottom; ++oy)
      for (long ox = left; ox <= right; ++ox) fn((g * out_h_ + oy) * out_w_ + ox);
  }

  void clear() { std::fill(residual_.begin(), residual_.end(), 0.0f); }

 private:
  size_t tap_index(int g, int ci, int ky, int kx) const {
    return ((static_cast<size_t>(g) * k_.in_per_group + ci) * k_.kernel_h + ky) * k_.kernel_w + kx;
  }

  // Along one axis, input coordinate i reaches output o through kernel tap k when
  // i + pad - k = o * stride and 0 <= o < outputs; the footprint of (y, x) is rows_[y].taps x
  // cols_[x].taps.
  struct AxisTap {
    int kernel;
    long output;
  };
  struct AxisInput {
    std::vector<AxisTap> taps;
    // shared[d + 1]: the pairs (k, k2) of taps through which this input and input i + d reach
    // the same output, d = -1, 0, 1.
    std::array<std::vector<std::pair<int, int>>, 3> shared;
    // span[r]: the first and last output reached from inputs i - r .. i + r (first > last: none).
    std::array<std::pair<long, long>, 2> span;
  };
  static std::vector<AxisInput> footprint_axis(size_t inputs, int kernel, int stride, int pad, long outputs) {
    std::vector<AxisInput> axis(inputs);
    for (size_t i = 0; i < inputs; ++i)
      for (int k = 0; k < kernel; ++k) {
        const long t = static_cast<long>(i) + pad - k;
        if (t >= 0 && t % stride == 0 && t / stride < outputs) axis[i].taps.push_back({k, t / stride});
      }
    for (size_t i = 0; i < inputs; ++i)
      for (int d = -1; d <= 1; ++d) {
        const long other = static_cast<long>(i) + d;
        if (other < 0 || other >= static_cast<long>(inputs)) continue;
        for (const AxisTap& a : axis[i].taps)
          for (const AxisTap& b : axis[other].taps)
            if (a.output == b.output) axis[i].shared[d + 1].emplace_back(a.kernel, b.kernel);
      }
    for (size_t i = 0; i < inputs; ++i)
      for (int r = 0; r <= 1; ++r) {
        long first = std::numeric_limits<long>::max(), last = -1;
        for (size_t j = i >= static_cast<size_t>(r) ? i - r : 0; j <= std::min(inputs - 1, i + r); ++j)
          for (const AxisTap& t : axis[j].taps) {
            first = std::min(first, t.output);
            last = std::max(last, t.output);
          }
        axis[i].span[r] = {first, last};
      }
    return axis;
  }

  const ConvKernel& k_;
  const int out_per_group_;
  const long out_h_, out_w_;
  std::vector<float> taps_;
  std::vector<double> tap_energy_;  // sum over a tap's outputs of the squared weights
  std::vector<float> residual_;
  const std::vector<AxisInput> rows_, cols_;
};

// R is summed in floats: relative to a move's own energy d^2 |t|^2, its rounding stays far
// below this.
constexpr double kRoundingTolerance = 1e-4;

// One visit's best move: the element's level changes by `own`, and if `partner` >= 0 that
// element's level by -own (a level unit moved between the two; the plane keeps its sum). A
// unit move never raises the sum of the two magnitudes: on a signed map it would otherwise
// create +1/-1 pairs that a low-pass reader barely sees but that cost rate.
struct Move {
  double change = 0;  // of E; only a decrease is taken
  int own = 0;
  long partner = -1;
};

}  // namespace

void shape_levels(const ConvKernel& kernel, const Quantizer& quantizer, const Shape& shape, const float* values,
                  int16_t* levels, ShapingMoves moves, int threads) {
  const size_t channels = static_cast<size_t>(shape[1]), height = static_cast<size_t>(shape[2]),
               width = static_cast<size_t>(shape[3]);
  const size_t sample_size = channels * height * width;
  const int lowest = quantizer.is_signed ? -quantizer.max_level : 0;
  const auto in_range = [&](int level) { return level >= lowest && level <= quantizer.max_level; };
  const auto error_change = [&](int from, int to) {  // of an element whose level goes from -> to
    return static_cast<double>(quantizer.value(from)) - quantizer.value(to);
  };
  // A unit move must lower E by more than R's rounding can fake: otherwise two whose changes
  // are 0 in exact arithmetic (neighbours with equal responses) can undo each other pass after
  // pass.
  const auto lowers = [](double change, double energy) { return change < -kRoundingTolerance * energy; };
  OutputResidual residual(kernel, height, width);
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
            // E changes by 2 d <R, t> + d^2 |t|^2 when the element's error changes by d, and
            // for two elements by the sum of those plus 2 d d2 <t, t2>.
            const auto [dot, norm] = residual.correlation_and_energy(c, y, col);
            const int level = q[i];
            Move best;
            for (const int own : {-1, 1}) {
              if (!in_range(level + own)) continue;
              const double d = error_change(level, level + own);
              const double change = 2 * d * dot + d * d * norm;
              if (change < best.change) best = {change, own, -1};
            }
            for (const auto& [dy, dx] : near) {
              const size_t y2 = y + dy, x2 = col + dx, j = i + dy * static_cast<long>(width) + dx;
              const auto carries = [&](int own) {  // a unit, within range, not creating a +1/-1 pair
                return in_range(level + own) && in_range(q[j] - own) &&
                       std::abs(level + own) + std::abs(q[j] - own) <= std::abs(level) + std::abs(q[j]);
              };
              const bool down = carries(-1), up = carries(1);
              if (!down && !up) continue;
              const auto [dot2, norm2] = residual.correlation_and_energy(c, y2, x2);
              const double cross = residual.cross_energy(c, y, col, dy, dx);
              for (const int own : {-1, 1}) {
                if (!(own < 0 ? down : up)) continue;
                const double d = error_change(level, level + own), d2 = error_change(q[j], q[j] - own);
                const double change = 2 * d * dot + d * d * norm + 2 * d2 * dot2 + d2 * d2 * norm2 + 2 * d * d2 * cross;
                if (change < best.change && lowers(change, d * d * norm + d2 * d2 * norm2))
                  best = {change, own, static_cast<long>(j)};
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
  const size_t groups = static_cast<size_t>(kernel.groups);
  const size_t workers = std::min(groups, static_cast<size_t>(std::max(threads, 1)));
  for (int64_t n = 0; n < shape[0]; ++n) {
    x = values + n * sample_size;
    q = levels + n * sample_size;
    residual.clear();
    std::fill(changed_at.begin(), changed_at.end(), 0);
    std::atomic<size_t> next_group{0};
    const auto work = [&] {
      for (size_t g; (g = next_group.fetch_add(1)) < groups;) descend(g);
    };
    std::vector<std::jthread> helpers;
    try {
      helpers.reserve(workers - 1);
      for (size_t t = 1; t < workers; ++t) helpers.emplace_back(work);
    } catch (const std::exception&) {  // std::system_error, std::bad_alloc
      // No more threads to be had: the threads started, and this one, share the groups.
    }
    work();
  }
}

}  // namespace codec_disc
}  // namespace disc
