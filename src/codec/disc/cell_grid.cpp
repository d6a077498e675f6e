#include "codec/disc/cell_grid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace disc::codec_disc {
namespace {

// kOrder[o][j]: (row, column) within the cell of the j-th element of order o. Each order starts
// on one corner and continues on the opposite one, so that 2 units spread diagonally.
constexpr int kOrder[kCellOrders][4][2] = {
    {{0, 0}, {1, 1}, {0, 1}, {1, 0}},
    {{1, 1}, {0, 0}, {1, 0}, {0, 1}},
    {{0, 1}, {1, 0}, {0, 0}, {1, 1}},
    {{1, 0}, {0, 1}, {1, 1}, {0, 0}},
};

}  // namespace

int CellPlane::elements(size_t row, size_t col, int order, size_t (&index)[4]) const {
  int k = 0;
  for (const auto& [dy, dx] : kOrder[order]) {
    const size_t y = 2 * row + dy, x = 2 * col + dx;
    if (y < height && x < width) index[k++] = y * width + x;
  }
  return k;
}

bool spread_cells(const CellPlane& plane, const int16_t* counts, int order, int max_level, int16_t* levels) {
  size_t index[4];
  for (size_t row = 0; row < plane.rows(); ++row)
    for (size_t col = 0; col < plane.cols(); ++col) {
      const int count = counts[row * plane.cols() + col];
      const int k = plane.elements(row, col, order, index);
      if (std::abs(count) > max_level * k) return false;
      for (int j = 0; j < k; ++j) levels[index[j]] = static_cast<int16_t>(cell_element_level(count, k, j));
    }
  return true;
}

void cell_counts(const Quantizer& quantizer, const CellPlane& plane, const float* values, int16_t* counts) {
  size_t index[4];
  for (size_t row = 0; row < plane.rows(); ++row)
    for (size_t col = 0; col < plane.cols(); ++col) {
      const int k = plane.elements(row, col, 0, index);
      double sum = 0;
      for (int j = 0; j < k; ++j) sum += values[index[j]];
      const double highest = static_cast<double>(quantizer.max_level) * k;
      const double lowest = quantizer.is_signed ? -highest : 0.0;
      counts[row * plane.cols() + col] =
          static_cast<int16_t>(std::clamp(std::round(sum / quantizer.step), lowest, highest));
    }
}

int nearest_cell_order(const Quantizer& quantizer, const CellPlane& plane, const float* values, const int16_t* counts) {
  int best = 0;
  double best_error = std::numeric_limits<double>::infinity();
  size_t index[4];
  for (int order = 0; order < kCellOrders; ++order) {
    double error = 0;
    for (size_t row = 0; row < plane.rows(); ++row)
      for (size_t col = 0; col < plane.cols(); ++col) {
        const int k = plane.elements(row, col, order, index);
        for (int j = 0; j < k; ++j) {
          const double e =
              values[index[j]] - cell_element_level(counts[row * plane.cols() + col], k, j) * double{quantizer.step};
          error += e * e;
        }
      }
    if (error < best_error) {
      best_error = error;
      best = order;
    }
  }
  return best;
}

}  // namespace disc::codec_disc
