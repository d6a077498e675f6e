// The error E a shaping descent lowers (shape_levels, shape_cell_counts; doc/CODEC.md): the
// squared error of the reading convolution's output, ||conv(values - reconstruction)||^2, or,
// where the kernel names the activation that follows (ConvKernel::activation), the squared
// error after it (ActivatedError). Both descents ask it for the change of E that changing the
// error of one element, or of two elements of one plane, would make.
#pragma once

#include <cstddef>
#include <optional>

#include "codec/disc/activated_error.hpp"
#include "codec/disc/output_residual.hpp"
#include "disc/codec.hpp"

namespace disc::codec_disc {

class ShapingError {
 public:
  // kernel.check must have passed for maps of height x width.
  ShapingError(const ConvKernel& kernel, size_t height, size_t width) : residual_(kernel, height, width) {
    if (kernel.activation) activated_.emplace(kernel, height, width);
  }

  OutputResidual& residual() { return residual_; }
  const OutputResidual& residual() const { return residual_; }

  // Before the first group of a sample.
  void clear() {
    residual_.clear();
    if (activated_) activated_->clear();
  }
  // Before group g of a sample descends (`values`: the sample's C x H x W values).
  void set_group(size_t g, const float* values) {
    if (activated_) activated_->set_group(g, values);
  }

  // The change of E when element a of plane c changes its error by a.delta. `energy` receives
  // a.delta^2 |t|^2 (t: the element's response), which scales a unit move's rounding tolerance.
  double single(size_t c, const ErrorChange& a, double& energy) const {
    if (activated_) {
      energy = a.delta * a.delta * residual_.response_energy(c, a.y, a.x);
      return activated_->change(residual_, c, a);
    }
    const auto [dot, norm] = residual_.correlation_and_energy(c, a.y, a.x);
    energy = a.delta * a.delta * norm;
    return 2 * a.delta * dot + energy;
  }

  // The change of E when elements a and b of plane c (at most OutputResidual::kMaxOffset apart
  // along each axis) change together; `single_a` is single(c, a). `energy_b` as in single.
  double pair(size_t c, const ErrorChange& a, double single_a, const ErrorChange& b, double& energy_b) const {
    if (activated_) {
      energy_b = b.delta * b.delta * residual_.response_energy(c, b.y, b.x);
      return activated_->change(residual_, c, a, b);
    }
    const int dy = static_cast<int>(static_cast<long>(b.y) - static_cast<long>(a.y));
    const int dx = static_cast<int>(static_cast<long>(b.x) - static_cast<long>(a.x));
    return single_a + single(c, b, energy_b) + 2 * a.delta * b.delta * residual_.cross_energy(c, a.y, a.x, dy, dx);
  }

  // E over group g's outputs.
  double group_error(size_t g) const {
    return activated_ ? activated_->group_error(residual_, g) : residual_.group_energy(g);
  }

 private:
  OutputResidual residual_;
  std::optional<ActivatedError> activated_;
};

}  // namespace disc::codec_disc
