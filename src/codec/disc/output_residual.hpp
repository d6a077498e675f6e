// The output residual of the convolution that reads a map, kept up to date while an encoder
// changes levels one element at a time (disc shape=1..3 and cells=1; doc/CODEC.md).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "disc/codec.hpp"

namespace disc::codec_disc {

// The convolution's output residual R = conv(e) for one sample, channels last
// ([group][oy][ox][out in group]), and the impulse responses it is updated with.
class OutputResidual {
 public:
  // The largest offset along an axis between two elements whose cross energy is asked for.
  static constexpr int kMaxOffset = 3;

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
        fn((static_cast<size_t>(g) * out_h_ + row.output) * out_w_ + col.output,
           tap_index(g, ci, row.kernel, col.kernel));
  }

  // Through which tap element (c, y, x) reaches `position` (of c's group), or -1 if it does not.
  long tap_reaching(size_t c, size_t y, size_t x, size_t position) const {
    const long oy = static_cast<long>(position / out_w_ % out_h_), ox = static_cast<long>(position % out_w_);
    const long ky = static_cast<long>(y) + k_.pad_top - oy * k_.stride_h;
    const long kx = static_cast<long>(x) + k_.pad_left - ox * k_.stride_w;
    if (ky < 0 || ky >= k_.kernel_h || kx < 0 || kx >= k_.kernel_w) return -1;
    const int g = static_cast<int>(c) / k_.in_per_group, ci = static_cast<int>(c) % k_.in_per_group;
    return static_cast<long>(tap_index(g, ci, static_cast<int>(ky), static_cast<int>(kx)));
  }

  // Outputs per position (out_channels / groups); a position's outputs and a tap's response.
  int outputs_per_position() const { return out_per_group_; }
  const float* outputs(size_t position) const { return &residual_[position * out_per_group_]; }
  const float* response(size_t tap) const { return &taps_[tap * out_per_group_]; }
  // Group g's positions are g * group_positions() .. (g + 1) * group_positions() - 1.
  size_t group_positions() const { return static_cast<size_t>(out_h_) * out_w_; }

  // R += e · (the response of element (c, y, x)).
  void add(size_t c, size_t y, size_t x, float e) {
    const int m = out_per_group_;
    for_each_reach(c, y, x, [&](size_t position, size_t tap) {
      float* r = &residual_[position * m];
      const float* t = &taps_[tap * m];
      for (int o = 0; o < m; ++o) r[o] += e * t[o];
    });
  }

  // |response|^2 of element (c, y, x).
  double response_energy(size_t c, size_t y, size_t x) const {
    double energy = 0;
    for_each_reach(c, y, x, [&](size_t, size_t tap) { energy += tap_energy_[tap]; });
    return energy;
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

  // <response of (c, y, x), response of (c, y + dy, x + dx)>, |dy|, |dx| <= kMaxOffset (the
  // farthest elements of two neighbouring 2x2 cells): the two responses meet at the output
  // positions both elements reach. 0 if there are none.
  double cross_energy(size_t c, size_t y, size_t x, int dy, int dx) const {
    const int m = out_per_group_;
    const int g = static_cast<int>(c) / k_.in_per_group, ci = static_cast<int>(c) % k_.in_per_group;
    double sum = 0;
    for (const auto& [ky, ky2] : rows_[y].shared[dy + kMaxOffset])
      for (const auto& [kx, kx2] : cols_[x].shared[dx + kMaxOffset]) {
        const float* t = &taps_[tap_index(g, ci, ky, kx) * m];
        const float* u = &taps_[tap_index(g, ci, ky2, kx2) * m];
        for (int o = 0; o < m; ++o) sum += static_cast<double>(t[o]) * u[o];
      }
    return sum;
  }

  // Whether the footprints of (y, x) and (y + dy, x + dx), |dy|, |dx| <= kMaxOffset, share an
  // output position.
  bool footprints_overlap(size_t y, size_t x, int dy, int dx) const {
    return !rows_[y].shared[dy + kMaxOffset].empty() && !cols_[x].shared[dx + kMaxOffset].empty();
  }

  // Calls fn(position) for every output position in the bounding box of the footprints of
  // the elements (c, y + dy, x + dx), |dy|, |dx| <= radius (0 or 1): a superset of those positions.
  template <typename Fn>
  void for_each_position_near(size_t c, size_t y, size_t x, int radius, Fn&& fn) const {
    for_each_position_of(c, rows_[y].span[radius], cols_[x].span[radius], fn);
  }

  // Calls fn(position) for every output position in the bounding box of the footprints of the
  // elements (c, y, x) with first_row <= y <= last_row and first_col <= x <= last_col (the part
  // of that range inside the plane): a superset of those positions.
  template <typename Fn>
  void for_each_position_in(size_t c, long first_row, long last_row, long first_col, long last_col, Fn&& fn) const {
    for_each_position_of(c, output_span(rows_, first_row, last_row), output_span(cols_, first_col, last_col), fn);
  }

  void clear() { std::fill(residual_.begin(), residual_.end(), 0.0f); }

  // ||R||^2 over the output positions of group g.
  double group_energy(size_t g) const {
    const size_t size = static_cast<size_t>(out_h_) * out_w_ * out_per_group_;
    double sum = 0;
    for (size_t i = g * size; i < (g + 1) * size; ++i) sum += static_cast<double>(residual_[i]) * residual_[i];
    return sum;
  }

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
    // shared[d + kMaxOffset]: the pairs (k, k2) of taps through which this input and input
    // i + d reach the same output, |d| <= kMaxOffset.
    std::array<std::vector<std::pair<int, int>>, 2 * kMaxOffset + 1> shared;
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
      for (int d = -kMaxOffset; d <= kMaxOffset; ++d) {
        const long other = static_cast<long>(i) + d;
        if (other < 0 || other >= static_cast<long>(inputs)) continue;
        for (const AxisTap& a : axis[i].taps)
          for (const AxisTap& b : axis[other].taps)
            if (a.output == b.output) axis[i].shared[d + kMaxOffset].emplace_back(a.kernel, b.kernel);
      }
    for (size_t i = 0; i < inputs; ++i)
      for (int r = 0; r <= 1; ++r)
        axis[i].span[r] = output_span(axis, static_cast<long>(i) - r, static_cast<long>(i) + r);
    return axis;
  }

  // Calls fn(position) for every output position of channel c's group with oy in rows and ox in
  // cols (closed spans; first > last: none).
  template <typename Fn>
  void for_each_position_of(size_t c, std::pair<long, long> rows, std::pair<long, long> cols, Fn&& fn) const {
    const size_t g = c / k_.in_per_group;
    for (long oy = rows.first; oy <= rows.second; ++oy)
      for (long ox = cols.first; ox <= cols.second; ++ox) fn((g * out_h_ + oy) * out_w_ + ox);
  }

  // The first and last output reached from inputs first..last of an axis (first > last: none).
  static std::pair<long, long> output_span(const std::vector<AxisInput>& axis, long first, long last) {
    long lowest = std::numeric_limits<long>::max(), highest = -1;
    for (long i = std::max(first, 0L); i <= std::min(last, static_cast<long>(axis.size()) - 1); ++i)
      for (const AxisTap& t : axis[static_cast<size_t>(i)].taps) {
        lowest = std::min(lowest, t.output);
        highest = std::max(highest, t.output);
      }
    return {lowest, highest};
  }

  const ConvKernel& k_;
  const int out_per_group_;
  const long out_h_, out_w_;
  std::vector<float> taps_;
  std::vector<double> tap_energy_;  // sum over a tap's outputs of the squared weights
  std::vector<float> residual_;
  const std::vector<AxisInput> rows_, cols_;
};

// Whether a move of two elements whose own energies sum to `energy` lowers E (or J, with the
// descents' rate term) by more than R's
// rounding can fake: R is summed in floats, and relative to a move's own energy d^2 |t|^2 its
// rounding stays far below kRoundingTolerance. Without the margin two moves whose changes are
// 0 in exact arithmetic (neighbours with equal responses) can undo each other pass after pass.
inline constexpr double kRoundingTolerance = 1e-4;
inline bool unit_move_lowers(double change, double energy) { return change < -kRoundingTolerance * energy; }

// Whether moving a unit from b to a (a + own, b - own, own = +-1) keeps the sum of their
// magnitudes from rising: on a signed map a unit moved between two zeros would make a +1/-1
// pair that a low-pass reader barely sees but that costs rate.
inline bool unit_move_keeps_magnitudes(int a, int b, int own) {
  return std::abs(a + own) + std::abs(b - own) <= std::abs(a) + std::abs(b);
}

// Runs descend(g) for every group g < groups on up to `threads` threads (this one included),
// each group once. A descent writes only its own group's part of the residual and levels, so
// the result does not depend on the thread count.
template <typename Descend>
void descend_groups(size_t groups, int threads, Descend&& descend) {
  const size_t workers = std::min(groups, static_cast<size_t>(std::max(threads, 1)));
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

}  // namespace disc::codec_disc
