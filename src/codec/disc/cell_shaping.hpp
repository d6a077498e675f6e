// Cell counts chosen for the convolution that reads the map (disc cells=1 with shape=1..3;
// doc/CODEC.md, "Cell counts"). An encoder choice: the decoder spreads the counts as always.
#pragma once

#include <cstdint>

#include "codec/disc/quantizer.hpp"
#include "codec/disc/reader_shaping.hpp"
#include "disc/codec.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

// Counts and orders chosen for the reading convolution. Under a reader whose groups are single
// planes (a depthwise convolution), the counts descend from `counts` once per order, all planes
// spread in that order, and each plane keeps the order, and the counts, of least E (the first
// of equals; if no order's E is finite, the planes keep `orders` and `counts`). Otherwise the
// planes keep `orders` and the counts descend once. With `rate_weight` > 0 the counts descend on
// J = E + rate_weight Σ e |count| (as shape_levels does on levels; e: the energy of the unit a
// count move changes); the orders are still chosen by E.
void shape_cells(const ConvKernel& kernel, const Quantizer& quantizer, const Shape& shape, const float* values,
                 uint8_t* orders, int16_t* counts, ShapingMoves moves, double rate_weight, int threads);

}  // namespace disc::codec_disc
