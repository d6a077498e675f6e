// Levels chosen for the convolution that reads the map (disc `shape=1`; doc/CODEC.md,
// "Shaping for the convolution that reads the map"). An encoder choice: the decoder
// reconstructs the levels as usual.
#pragma once

#include <cstdint>

#include "codec/disc/quantizer.hpp"
#include "disc/codec.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

// Passes over the map at most; on real maps the descent settles in 3-6.
inline constexpr int kMaxShapingPasses = 8;

// Starting from `levels` (the quantized `values` of a map of `shape`, N x C x H x W), moves
// single levels by +-1 within the quantizer's range wherever that lowers E = ||conv(values -
// reconstruction)||^2, the squared error of the convolution's output (its bias cancels),
// visiting the elements in raster order until a pass changes nothing or after
// kMaxShapingPasses passes. E never rises. `kernel.check(shape)` must have passed; the
// quantizer has no centroids (reconstruction = level x step).
void shape_levels(const ConvKernel& kernel, const Quantizer& quantizer, const Shape& shape, const float* values,
                  int16_t* levels);

}  // namespace disc::codec_disc
