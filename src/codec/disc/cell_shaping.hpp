// Cell counts chosen for the convolution that reads the map (disc cells=1 with shape=1|2;
// doc/CODEC.md, "Cell counts"). An encoder choice: the decoder spreads the counts as always.
#pragma once

#include <cstdint>

#include "codec/disc/quantizer.hpp"
#include "codec/disc/reader_shaping.hpp"
#include "disc/codec.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

// Starting from `counts` (per sample, planes x ceil(H/2) x ceil(W/2), each within its cell's
// range) spread in each plane's `orders` (per sample, one per plane), makes single moves
// wherever that lowers E = ||conv(values - spread reconstruction)||^2: a count +-1 (kLevels),
// and with kLevelsAndUnits also one unit moved to one of the 8 neighbouring cells in the plane
// (the plane keeps its sum; never raising the pair's sum of magnitudes). Cells are visited in
// raster order, plane by plane, the move that lowers E most taken, until a pass changes nothing
// or after max_shaping_passes(moves) passes; E never rises. A count change changes exactly one
// element's level by 1, so E is tracked as in shape_levels. `kernel.check(shape)` must have
// passed; the quantizer has no centroids. Groups descend independently on up to `threads`
// threads; the counts do not depend on the count of threads.
void shape_cell_counts(const ConvKernel& kernel, const Quantizer& quantizer, const Shape& shape, const float* values,
                       const uint8_t* orders, int16_t* counts, ShapingMoves moves, int threads);

}  // namespace disc::codec_disc
