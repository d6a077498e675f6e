// The error E a shaping descent lowers (shape_levels, shape_cell_counts; doc/CODEC.md): the
// squared error of the reading convolution's output, ||conv(values - reconstruction)||^2, or,
// where the kernel names the activation that follows (ConvKernel::activation), the squared
// error after it (ActivatedError). Both descents ask it for the change of E that changing the
// error of one element, or of two elements of one plane, would make.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <span>

#include "codec/disc/activated_error.hpp"
#include "codec/disc/output_residual.hpp"
#include "disc/codec.hpp"

namespace disc::codec_disc {

// J's rate term (shape=3: J = E + weight Σ e_i |q_i|) changes by this when a unit of energy
// `energy` goes from magnitude |from| to |to|.
inline double rate_change(double weight, double energy, int from, int to) {
  return weight * energy * (std::abs(to) - std::abs(from));
}

// An element of a plane.
struct ElementAt {
  size_t y, x;
};

class ShapingError {
 public:
  // kernel.check must have passed for maps of height x width.
  ShapingError(const ConvKernel& kernel, size_t height, size_t width) : residual_(kernel, height, width) {
    if (kernel.activation) activated_.emplace(kernel, height, width);
  }

  OutputResidual& residual() { return residual_; }

  // Before the first group of a sample.
  void clear() {
    residual_.clear();
    if (activated_) activated_->clear();
  }
  // Before group g of a sample descends (`values`: the sample's C x H x W values).
  void set_group(size_t g, const float* values) {
    if (activated_) activated_->set_group(g, values);
  }

  // What each of up to two candidate moves of one element, or of one pair of elements, costs:
  // the change of E, and the unit's tolerance energy d^2 |t|^2 in the convolution's output
  // (d: the element's error change, t: its response), which scales a unit move's rounding
  // tolerance in either mode.
  struct Cost {
    double change = 0, energy = 0;
  };

  // The costs of changing the error of element (y, x) of plane c by each of `deltas`.
  void singles(size_t c, size_t y, size_t x, std::span<const double> deltas, std::span<Cost> costs) const {
    if (activated_) {
      const double response = residual_.response_energy(c, y, x);
      for (size_t i = 0; i < deltas.size(); ++i)
        costs[i] = {activated_->change(residual_, c, {y, x, deltas[i]}), deltas[i] * deltas[i] * response};
      return;
    }
    // E changes by 2 d <R, t> + d^2 |t|^2.
    const auto [dot, norm] = residual_.correlation_and_energy(c, y, x);
    for (size_t i = 0; i < deltas.size(); ++i) {
      const double energy = deltas[i] * deltas[i] * norm;
      costs[i] = {2 * deltas[i] * dot + energy, energy};
    }
  }

  // The costs of changing the errors of elements a and b of plane c (at most
  // OutputResidual::kMaxOffset apart along each axis) together, by a_deltas[i] and b_deltas[i];
  // a_costs[i] are a's singles, and costs[i].energy is b's unit's.
  void pairs(size_t c, ElementAt a, std::span<const double> a_deltas, std::span<const Cost> a_costs, ElementAt b,
             std::span<const double> b_deltas, std::span<Cost> costs) const {
    const int dy = static_cast<int>(static_cast<long>(b.y) - static_cast<long>(a.y));
    const int dx = static_cast<int>(static_cast<long>(b.x) - static_cast<long>(a.x));
    assert(std::abs(dy) <= OutputResidual::kMaxOffset && std::abs(dx) <= OutputResidual::kMaxOffset);
    if (activated_) {
      const double response = residual_.response_energy(c, b.y, b.x);
      for (size_t i = 0; i < a_deltas.size(); ++i)
        costs[i] = {activated_->change(residual_, c, {a.y, a.x, a_deltas[i]}, {b.y, b.x, b_deltas[i]}),
                    b_deltas[i] * b_deltas[i] * response};
      return;
    }
    // The sum of the two singles plus 2 d d2 <t, t2>.
    const auto [dot, norm] = residual_.correlation_and_energy(c, b.y, b.x);
    const double cross = residual_.cross_energy(c, a.y, a.x, dy, dx);
    for (size_t i = 0; i < a_deltas.size(); ++i) {
      const double energy = b_deltas[i] * b_deltas[i] * norm;
      costs[i] = {a_costs[i].change + (2 * b_deltas[i] * dot + energy) + 2 * a_deltas[i] * b_deltas[i] * cross, energy};
    }
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
