// Cell counts (disc cells=1; doc/FORMAT.md "Cell counts"): a plane of height x width is coded
// as ceil(height/2) x ceil(width/2) signed counts of level units, one per 2x2 cell, which the
// decoder spreads over the cell's elements in one of kCellOrders fixed orders, one order per
// plane. A cell on an odd last row or column has 2 elements (1 in the corner).
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec/disc/quantizer.hpp"

namespace disc::codec_disc {

inline constexpr int kCellOrders = 4;

struct CellPlane {
  size_t height = 0, width = 0;  // of the plane of elements
  size_t rows() const { return (height + 1) / 2; }
  size_t cols() const { return (width + 1) / 2; }
  size_t cells() const { return rows() * cols(); }
  // The elements of cell (row, col) that lie in the plane, as indices into the plane in the
  // order `order` (0..kCellOrders - 1); returns how many (1, 2 or 4).
  int elements(size_t row, size_t col, int order, size_t (&index)[4]) const;
};

// The level of the j-th element (in the order) of a cell of k elements holding `count` units:
// each element gets |count| / k units and the first |count| mod k one more, with count's sign.
inline int cell_element_level(int count, int k, int j) {
  const int magnitude = count < 0 ? -count : count;
  const int level = magnitude / k + (j < magnitude % k ? 1 : 0);
  return count < 0 ? -level : level;
}

// Spreads one plane's counts (rows x cols) over its levels (height x width). False, with
// `levels` partly written, if a cell holds more than max_level units per element.
bool spread_cells(const CellPlane& plane, const int16_t* counts, int order, int max_level, int16_t* levels);

// The encoder's starting counts for one plane: the nearest count to the cell's sum in steps,
// within the quantizer's range for the cell's elements.
void cell_counts(const Quantizer& quantizer, const CellPlane& plane, const float* values, int16_t* counts);

// The order whose spread of `counts` is nearest `values` in squared error (the first of equals).
int nearest_cell_order(const Quantizer& quantizer, const CellPlane& plane, const float* values, const int16_t* counts);

}  // namespace disc::codec_disc
