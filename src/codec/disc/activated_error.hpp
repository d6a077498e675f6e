// The error a descent measures after the reading convolution's activation, where the model
// says what follows the convolution (ConvKernel::activation; doc/FORMAT.md, "Encoder", and
// doc/CODEC.md, "The error after the reader's activation").
//
// Output o at a position reads y = conv(values) + bias before the activation, and y - R from
// the reconstruction (R: the OutputResidual). Its error is (act(y - R) - act(y))^2 with act the
// clamp to [min, max]: an output the activation clamps either way costs nothing, one the error
// moves across a bound costs only its part inside. E is the sum over the outputs.
#pragma once

#include <algorithm>
#include <cstddef>

#include "codec/disc/output_residual.hpp"
#include "disc/codec.hpp"

namespace disc::codec_disc {

// One element's change of error (values - reconstruction) by `delta`.
struct ErrorChange {
  size_t y, x;
  double delta;
};

class ActivatedError {
 public:
  // kernel.activation must be set, and kernel.check passed for maps of height x width.
  ActivatedError(const ConvKernel& kernel, size_t height, size_t width)
      : kernel_(kernel),
        activation_(*kernel.activation),
        convolved_(kernel, height, width),
        height_(height),
        width_(width) {}

  // Before the first group of a sample.
  void clear() { convolved_.clear(); }

  // Convolves group g's planes of one sample (`values`: the sample's C x H x W values).
  void set_group(size_t g, const float* values) {
    const size_t plane_size = height_ * width_;
    const size_t first = g * static_cast<size_t>(kernel_.in_per_group);
    for (size_t c = first; c < first + static_cast<size_t>(kernel_.in_per_group); ++c)
      for (size_t i = 0; i < plane_size; ++i)
        if (const float v = values[c * plane_size + i]; v != 0) convolved_.add(c, i / width_, i % width_, v);
  }

  // The change of E when the errors of one or two elements of plane c change (the second's
  // footprint may overlap the first's).
  double change(const OutputResidual& residual, size_t c, const ErrorChange& a) const {
    double sum = 0;
    residual.for_each_reach(c, a.y, a.x, [&](size_t position, size_t tap) {
      sum += position_change(residual, position, tap, a.delta, -1, 0);
    });
    return sum;
  }
  double change(const OutputResidual& residual, size_t c, const ErrorChange& a, const ErrorChange& b) const {
    double sum = 0;
    residual.for_each_reach(c, a.y, a.x, [&](size_t position, size_t tap) {
      sum += position_change(residual, position, tap, a.delta, residual.tap_reaching(c, b.y, b.x, position), b.delta);
    });
    residual.for_each_reach(c, b.y, b.x, [&](size_t position, size_t tap) {
      if (residual.tap_reaching(c, a.y, a.x, position) < 0)
        sum += position_change(residual, position, tap, b.delta, -1, 0);
    });
    return sum;
  }

  // E over group g's outputs.
  double group_error(const OutputResidual& residual, size_t g) const {
    const size_t positions = residual.group_positions();
    double sum = 0;
    for (size_t position = g * positions; position < (g + 1) * positions; ++position) {
      const float* r = residual.outputs(position);
      for (int o = 0; o < residual.outputs_per_position(); ++o) sum += cost(position, o, r[o]);
    }
    return sum;
  }

 private:
  double cost(size_t position, int o, double residual) const {
    const int m = convolved_.outputs_per_position();
    const size_t channel = position / convolved_.group_positions() * static_cast<size_t>(m) + static_cast<size_t>(o);
    const double y = static_cast<double>(convolved_.outputs(position)[o]) + activation_.bias[channel];
    const double d = clamp(y - residual) - clamp(y);
    return d * d;
  }
  double clamp(double v) const {
    return std::min(std::max(v, static_cast<double>(activation_.min)), static_cast<double>(activation_.max));
  }
  // The change of the cost of the outputs at `position` when R there moves by delta · (the
  // response of `tap`) and, if second_tap >= 0, by second_delta · (that of second_tap).
  double position_change(const OutputResidual& residual, size_t position, size_t tap, double delta, long second_tap,
                         double second_delta) const {
    const float* r = residual.outputs(position);
    const float* t = residual.response(tap);
    const float* u = second_tap >= 0 ? residual.response(static_cast<size_t>(second_tap)) : nullptr;
    double sum = 0;
    for (int o = 0; o < residual.outputs_per_position(); ++o) {
      const double moved = r[o] + delta * t[o] + (u ? second_delta * u[o] : 0.0);
      sum += cost(position, o, moved) - cost(position, o, r[o]);
    }
    return sum;
  }

  const ConvKernel& kernel_;
  const ConvActivation& activation_;
  OutputResidual convolved_;  // its "residual" is conv(values) of the current sample
  const size_t height_, width_;
};

}  // namespace disc::codec_disc
