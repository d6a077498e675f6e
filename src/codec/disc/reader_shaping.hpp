// Levels chosen for the convolution that reads the map (disc `shape=1..3`; doc/CODEC.md,
// "Shaping for the convolution that reads the map"). An encoder choice: the decoder
// reconstructs the levels as usual.
#pragma once

#include <cstdint>

#include "codec/disc/quantizer.hpp"
#include "disc/codec.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

enum class ShapingMoves {
  kLevels,          // shape=1: a level moved by +-1
  kLevelsAndUnits,  // shape=2|3: also one level unit moved to an in-plane neighbour (the plane keeps its sum)
};

// Passes over the map at most. On real maps the descent with kLevels settles in 3-8 passes,
// with kLevelsAndUnits in 6-9.
constexpr int max_shaping_passes(ShapingMoves moves) { return moves == ShapingMoves::kLevels ? 8 : 12; }

// Starting from `levels` (the quantized `values` of a map of `shape`, N x C x H x W), makes
// single moves within the quantizer's range wherever that lowers E = ||conv(values -
// reconstruction)||^2, the squared error of the convolution's output (its bias cancels), or
// the error after the convolution's activation if the kernel has one (ShapingError), visiting
// the elements in raster order and taking the move that lowers E most, until a pass changes
// nothing or after max_shaping_passes(moves) passes. E never rises (with a rate weight, read J
// for E throughout, below). Unit moves are
// tried only between 8-connected neighbours whose footprints in the output overlap: for
// others the pair's change of E is the sum of two single moves'. `kernel.check(shape)` must
// have passed; the quantizer has no centroids (reconstruction = level x step). The kernel's
// groups (the planes of a depthwise convolution) descend independently, on up to `threads`
// threads; the levels do not depend on the count.
//
// With `rate_weight` w > 0 the descent lowers J = E + w Σ e_i |q_i| instead (shape=3): e_i is
// the energy d^2 |t|^2 in the convolution's output of a unit of element i, so w is scale-free;
// a move that leaves E as it is but shrinks a level is then taken, and one that raises E a
// little may be. J never rises.
void shape_levels(const ConvKernel& kernel, const Quantizer& quantizer, const Shape& shape, const float* values,
                  int16_t* levels, ShapingMoves moves, double rate_weight, int threads);

}  // namespace disc::codec_disc
