#include "codec/disc/reader_shaping.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace disc {

Status ConvKernel::check(const Shape& shape) const {
  // At most 2^20 channels each way, so that no size computed below overflows.
  constexpr int kMaxChannels = 1 << 20;
  if (out_channels < 1 || in_per_group < 1 || groups < 1 || out_channels % groups != 0 ||
      out_channels > kMaxChannels || in_per_group > kMaxChannels || groups > kMaxChannels)
    return Error("convolution: " + std::to_string(out_channels) + " outputs in " + std::to_string(groups) +
                 " groups of " + std::to_string(in_per_group) + " inputs are not consistent");
  if (kernel_h < 1 || kernel_w < 1 || stride_h < 1 || stride_w < 1 || pad_top < 0 || pad_left < 0 ||
      pad_bottom < 0 || pad_right < 0 || kernel_h > 64 || kernel_w > 64 || pad_top >= kernel_h ||
      pad_bottom >= kernel_h || pad_left >= kernel_w || pad_right >= kernel_w)
    return Error("convolution: kernel, stride or padding out of range");
  const size_t expected = static_cast<size_t>(out_channels) * in_per_group * kernel_h * kernel_w;
  if (weights.size() != expected)
    return Error("convolution: " + std::to_string(weights.size()) + " weights where the shape needs " +
                 std::to_string(expected));
  for (float w : weights)
    if (!std::isfinite(w)) return Error("convolution: a weight is not finite");
  if (shape.size() != 4)
    return Error("convolution: needs an N x C x H x W map, not one of " + std::to_string(shape.size()) + " dims");
  if (shape[1] != static_cast<int64_t>(in_per_group) * groups)
    return Error("convolution: reads " + std::to_string(static_cast<int64_t>(in_per_group) * groups) +
                 " channels, the map has " +
                 std::to_string(shape[1]));
  if (shape[2] + pad_top + pad_bottom < kernel_h || shape[3] + pad_left + pad_right < kernel_w)
    return Error("convolution: the kernel is larger than the padded map");
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
    for (const AxisTap& row : rows_[y])
      for (const AxisTap& col : cols_[x])
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

  void clear() { std::fill(residual_.begin(), residual_.end(), 0.0f); }

 private:
  size_t tap_index(int g, int ci, int ky, int kx) const {
    return ((static_cast<size_t>(g) * k_.in_per_group + ci) * k_.kernel_h + ky) * k_.kernel_w + kx;
  }

  // Along one axis, input coordinate i reaches output o through kernel tap k when
  // i + pad - k = o * stride and 0 <= o < outputs; the footprint of (y, x) is rows_[y] x cols_[x].
  struct AxisTap {
    int kernel;
    long output;
  };
  static std::vector<std::vector<AxisTap>> footprint_axis(size_t inputs, int kernel, int stride, int pad,
                                                          long outputs) {
    std::vector<std::vector<AxisTap>> axis(inputs);
    for (size_t i = 0; i < inputs; ++i)
      for (int k = 0; k < kernel; ++k) {
        const long t = static_cast<long>(i) + pad - k;
        if (t >= 0 && t % stride == 0 && t / stride < outputs) axis[i].push_back({k, t / stride});
      }
    return axis;
  }

  const ConvKernel& k_;
  const int out_per_group_;
  const long out_h_, out_w_;
  std::vector<float> taps_;
  std::vector<double> tap_energy_;  // sum over a tap's outputs of the squared weights
  std::vector<float> residual_;
  const std::vector<std::vector<AxisTap>> rows_, cols_;
};

}  // namespace

void shape_levels(const ConvKernel& kernel, const Quantizer& quantizer, const Shape& shape, const float* values,
                  int16_t* levels) {
  const size_t channels = static_cast<size_t>(shape[1]), height = static_cast<size_t>(shape[2]),
               width = static_cast<size_t>(shape[3]);
  const size_t sample_size = channels * height * width;
  const int lowest = quantizer.is_signed ? -quantizer.max_level : 0;
  OutputResidual residual(kernel, height, width);
  // Per output position, 1 + the visit (pass · sample_size + element) of the last move that
  // reached it; 0: none yet. An element's decision depends only on its level and on R at its
  // footprint, and every move stamps the mover's footprint. So an element whose footprint no
  // move reached since its visit in the previous pass is in the state it last decided in (not
  // to move: moving would have stamped it) and is not visited.
  std::vector<uint64_t> changed_at(residual.positions());
  for (int64_t n = 0; n < shape[0]; ++n) {
    const float* x = values + n * sample_size;
    int16_t* q = levels + n * sample_size;
    residual.clear();
    std::fill(changed_at.begin(), changed_at.end(), 0);
    for (size_t c = 0, i = 0; c < channels; ++c)
      for (size_t y = 0; y < height; ++y)
        for (size_t col = 0; col < width; ++col, ++i) {
          const float e = x[i] - quantizer.value(q[i]);
          if (e != 0) residual.add(c, y, col, e);
        }
    for (int pass = 0; pass < kMaxShapingPasses; ++pass) {
      bool changed = false;
      const uint64_t pass_start = static_cast<uint64_t>(pass) * sample_size;
      for (size_t c = 0, i = 0; c < channels; ++c)
        for (size_t y = 0; y < height; ++y)
          for (size_t col = 0; col < width; ++col, ++i) {
            if (pass > 0) {
              bool footprint_changed = false;
              residual.for_each_reach(c, y, col, [&](size_t position, size_t) {
                footprint_changed |= changed_at[position] > pass_start - sample_size + i;
              });
              if (!footprint_changed) continue;
            }
            // E changes by 2 d <R, t> + d^2 |t|^2 when the element's error changes by d.
            const auto [dot, norm] = residual.correlation_and_energy(c, y, col);
            const int level = q[i];
            int best = level;
            double best_change = 0;
            for (const int candidate : {level - 1, level + 1}) {
              if (candidate < lowest || candidate > quantizer.max_level) continue;
              const double d = static_cast<double>(quantizer.value(level)) - quantizer.value(candidate);
              const double change = 2 * d * dot + d * d * norm;
              if (change < best_change) {
                best_change = change;
                best = candidate;
              }
            }
            if (best == level) continue;
            q[i] = static_cast<int16_t>(best);
            changed = true;
            residual.add(c, y, col, quantizer.value(level) - quantizer.value(best));
            residual.for_each_reach(c, y, col, [&](size_t position, size_t) { changed_at[position] = pass_start + i + 1; });
          }
      if (!changed) break;
    }
  }
}

}  // namespace codec_disc
}  // namespace disc
