#include "codec/disc/cell_shaping.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <vector>

#include "codec/disc/cell_grid.hpp"
#include "codec/disc/output_residual.hpp"
#include "codec/disc/shaping_error.hpp"

namespace disc::codec_disc {
namespace {

// The one element whose level differs when a cell's count goes from `from` to `to` (|from -
// to| = 1): its index in the plane and its levels before and after.
struct ElementChange {
  size_t index;
  int from, to;
};

ElementChange element_change(const size_t (&index)[4], int k, int from, int to) {
  for (int j = 0; j < k; ++j) {
    const int before = cell_element_level(from, k, j), after = cell_element_level(to, k, j);
    if (before != after) return {index[j], before, after};
  }
  return {index[0], 0, 0};  // unreachable for |from - to| = 1
}

// Starting from `counts` (per sample, planes x ceil(H/2) x ceil(W/2), each within its cell's
// range) spread in each plane's `orders` (per sample, one per plane), makes single moves
// wherever that lowers E, the squared error of the convolution's output from the spread
// reconstruction (||conv(values - reconstruction)||^2), or after its activation if the kernel
// has one (ActivatedError), or J = E + rate_weight Σ e |count| (shape_levels's J: the spread
// keeps a cell's sum of |levels| equal to |count|): a count +-1 (kLevels),
// and with kLevelsAndUnits also one unit moved to one of the 8 neighbouring cells in the plane
// (the plane keeps its sum; never raising the pair's sum of magnitudes). Cells are visited in
// raster order, plane by plane, the move that lowers E most taken, until a pass changes nothing
// or after max_shaping_passes(moves) passes; E (J, with a rate weight) never rises. A count
// change changes exactly one element's level by 1, so E is tracked as in shape_levels.
// `kernel.check(shape)` must have passed; the quantizer has no centroids. Groups descend
// independently on up to `threads` threads; the counts do not depend on the count of threads.
// `group_errors`, if given (per sample, one per group), receives E of each group at the end.
void shape_cell_counts(const ConvKernel& kernel, const Quantizer& quantizer, const Shape& shape, const float* values,
                       const uint8_t* orders, int16_t* counts, ShapingMoves moves, double rate_weight, int threads,
                       double* group_errors = nullptr) {
  const size_t channels = static_cast<size_t>(shape[1]), height = static_cast<size_t>(shape[2]),
               width = static_cast<size_t>(shape[3]);
  const CellPlane grid{height, width};
  const size_t plane_size = height * width, sample_size = channels * plane_size;
  const size_t sample_cells = channels * grid.cells();
  const auto in_range = [&](int count, int k) {
    const int highest = quantizer.max_level * k;
    return count <= highest && count >= (quantizer.is_signed ? -highest : 0);
  };
  const auto error_change = [&](const ElementChange& e) {
    return static_cast<double>(quantizer.value(e.from)) - quantizer.value(e.to);
  };
  ShapingError error(kernel, height, width);
  OutputResidual& residual = error.residual();
  std::vector<int16_t> levels(sample_size);
  // Per output position and per cell, 1 + the visit (pass · sample_cells + cell) of the last
  // move that reached the position or changed the cell's count; 0: none yet. A cell's decision
  // depends only on its own and (kLevelsAndUnits) its 8 neighbours' counts and on R at the
  // footprints of their elements, and every move stamps the cells it changes and the footprints
  // of their changed elements (an element no output reads has none: so the cells are stamped
  // too). So a cell none of whose neighbourhood's cells or footprint positions a move reached
  // since its visit in the previous pass is in the state it last decided in (not to move:
  // moving would have stamped it) and is not visited.
  std::vector<uint64_t> changed_at(residual.positions()), cell_changed_at(sample_cells);
  const long radius = moves == ShapingMoves::kLevelsAndUnits ? 1 : 0;  // in cells
  const long reach = 2 * radius;                                       // in elements around the cell's 2x2
  const float* x = nullptr;
  int16_t* q = nullptr;
  const uint8_t* order = nullptr;
  size_t sample = 0;
  const auto descend = [&](size_t group) {
    const size_t first_channel = group * static_cast<size_t>(kernel.in_per_group);
    const size_t end_channel = first_channel + static_cast<size_t>(kernel.in_per_group);
    error.set_group(group, x);
    for (size_t c = first_channel; c < end_channel; ++c) {
      spread_cells(grid, q + c * grid.cells(), order[c], quantizer.max_level, levels.data() + c * plane_size);
      for (size_t i = 0; i < plane_size; ++i) {
        const float e = x[c * plane_size + i] - quantizer.value(levels[c * plane_size + i]);
        if (e != 0) residual.add(c, i / width, i % width, e);
      }
    }
    for (int pass = 0; pass < max_shaping_passes(moves); ++pass) {
      bool changed = false;
      const uint64_t pass_start = static_cast<uint64_t>(pass) * sample_cells;
      for (size_t c = first_channel; c < end_channel; ++c) {
        int16_t* plane_counts = q + c * grid.cells();
        for (size_t row = 0; row < grid.rows(); ++row)
          for (size_t col = 0; col < grid.cols(); ++col) {
            const uint64_t visit = pass_start + c * grid.cells() + row * grid.cols() + col;
            if (pass > 0) {
              const long top = 2 * static_cast<long>(row), left = 2 * static_cast<long>(col);
              bool changed_since = false;  // a footprint position or a count in the neighbourhood
              residual.for_each_position_in(
                  c, top - reach, top + 1 + reach, left - reach, left + 1 + reach,
                  [&](size_t position) { changed_since |= changed_at[position] > visit - sample_cells; });
              for (long r = static_cast<long>(row) - radius; r <= static_cast<long>(row) + radius; ++r)
                for (long k = static_cast<long>(col) - radius; k <= static_cast<long>(col) + radius; ++k)
                  if (r >= 0 && k >= 0 && r < static_cast<long>(grid.rows()) && k < static_cast<long>(grid.cols()))
                    changed_since |= cell_changed_at[c * grid.cells() + static_cast<size_t>(r) * grid.cols() +
                                                     static_cast<size_t>(k)] > visit - sample_cells;
              if (!changed_since) continue;
            }
            size_t index[4];
            const int k = grid.elements(row, col, order[c], index);
            const int count = plane_counts[row * grid.cols() + col];
            double best = 0;
            int best_own = 0;
            long best_partner = -1;  // a neighbouring cell that takes -own
            // The cell's own move for own = -1 and +1 (index own > 0), shared by the unit moves.
            // Each side changes a different element of the cell.
            ElementChange own_change[2];
            double own_delta[2];
            ShapingError::Cost own_cost[2];
            bool own_ok[2];
            for (const int own : {-1, 1}) {
              const int side = own > 0;
              own_ok[side] = in_range(count + own, k);
              if (!own_ok[side]) continue;
              own_change[side] = element_change(index, k, count, count + own);
              own_delta[side] = error_change(own_change[side]);
              error.singles(c, own_change[side].index / width, own_change[side].index % width, {&own_delta[side], 1},
                            {&own_cost[side], 1});
              // J's change: E's, plus the rate term of the count's magnitude.
              const double change =
                  own_cost[side].change + rate_change(rate_weight, own_cost[side].energy, count, count + own);
              if (change < best) best = change, best_own = own, best_partner = -1;
            }
            if (moves == ShapingMoves::kLevelsAndUnits)
              for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                  const long row2 = static_cast<long>(row) + dy, col2 = static_cast<long>(col) + dx;
                  if ((dy == 0 && dx == 0) || row2 < 0 || col2 < 0 || row2 >= static_cast<long>(grid.rows()) ||
                      col2 >= static_cast<long>(grid.cols()))
                    continue;
                  const size_t cell2 = static_cast<size_t>(row2) * grid.cols() + static_cast<size_t>(col2);
                  size_t index2[4];
                  const int k2 = grid.elements(static_cast<size_t>(row2), static_cast<size_t>(col2), order[c], index2);
                  const int count2 = plane_counts[cell2];
                  for (const int own : {-1, 1}) {
                    const int side = own > 0;
                    if (!own_ok[side] || !in_range(count2 - own, k2) || !unit_move_keeps_magnitudes(count, count2, own))
                      continue;
                    const ElementChange b = element_change(index2, k2, count2, count2 - own);
                    const double b_delta = error_change(b);
                    ShapingError::Cost cost;
                    error.pairs(c, {own_change[side].index / width, own_change[side].index % width},
                                {&own_delta[side], 1}, {&own_cost[side], 1}, {b.index / width, b.index % width},
                                {&b_delta, 1}, {&cost, 1});
                    const double change = cost.change +
                                          rate_change(rate_weight, own_cost[side].energy, count, count + own) +
                                          rate_change(rate_weight, cost.energy, count2, count2 - own);
                    if (change < best && unit_move_lowers(change, own_cost[side].energy + cost.energy))
                      best = change, best_own = own, best_partner = static_cast<long>(cell2);
                  }
                }
            if (best_own == 0) continue;
            changed = true;
            const auto move = [&](size_t cell, const size_t(&cell_index)[4], int cell_k, int to) {
              const ElementChange e = element_change(cell_index, cell_k, plane_counts[cell], to);
              residual.add(c, e.index / width, e.index % width, static_cast<float>(error_change(e)));
              residual.for_each_reach(c, e.index / width, e.index % width,
                                      [&](size_t position, size_t) { changed_at[position] = visit + 1; });
              levels[c * plane_size + e.index] = static_cast<int16_t>(e.to);
              plane_counts[cell] = static_cast<int16_t>(to);
              cell_changed_at[c * grid.cells() + cell] = visit + 1;
            };
            if (best_partner >= 0) {
              const size_t cell2 = static_cast<size_t>(best_partner);
              size_t index2[4];
              const int k2 = grid.elements(cell2 / grid.cols(), cell2 % grid.cols(), order[c], index2);
              move(cell2, index2, k2, plane_counts[cell2] - best_own);
            }
            move(row * grid.cols() + col, index, k, count + best_own);
          }
      }
      if (!changed) break;
    }
    if (group_errors) group_errors[sample * static_cast<size_t>(kernel.groups) + group] = error.group_error(group);
  };
  for (int64_t n = 0; n < shape[0]; ++n) {
    x = values + n * sample_size;
    q = counts + n * sample_cells;
    order = orders + n * channels;
    sample = static_cast<size_t>(n);
    error.clear();
    std::fill(changed_at.begin(), changed_at.end(), 0);
    std::fill(cell_changed_at.begin(), cell_changed_at.end(), 0);
    descend_groups(static_cast<size_t>(kernel.groups), threads, descend);
  }
}

}  // namespace

void shape_cells(const ConvKernel& kernel, const Quantizer& quantizer, const Shape& shape, const float* values,
                 uint8_t* orders, int16_t* counts, ShapingMoves moves, double rate_weight, int threads) {
  if (kernel.in_per_group != 1) {
    shape_cell_counts(kernel, quantizer, shape, values, orders, counts, moves, rate_weight, threads);
    return;
  }
  // One group per plane: plane p of sample n is group p of that sample.
  const CellPlane grid{static_cast<size_t>(shape[2]), static_cast<size_t>(shape[3])};
  const size_t planes = static_cast<size_t>(shape[0] * shape[1]);
  const std::vector<int16_t> start(counts, counts + planes * grid.cells());
  std::vector<int16_t> trial(start.size());
  std::vector<uint8_t> trial_orders(planes);
  std::vector<double> best(planes, std::numeric_limits<double>::infinity()), errors(planes);
  for (int order = 0; order < kCellOrders; ++order) {
    trial = start;
    std::fill(trial_orders.begin(), trial_orders.end(), static_cast<uint8_t>(order));
    shape_cell_counts(kernel, quantizer, shape, values, trial_orders.data(), trial.data(), moves, rate_weight, threads,
                      errors.data());
    for (size_t p = 0; p < planes; ++p) {
      if (!(errors[p] < best[p])) continue;
      best[p] = errors[p];
      orders[p] = static_cast<uint8_t>(order);
      std::copy_n(trial.begin() + p * grid.cells(), grid.cells(), counts + p * grid.cells());
    }
  }
}

}  // namespace disc::codec_disc
