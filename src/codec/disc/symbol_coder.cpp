#include "codec/disc/symbol_coder.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "codec/disc/cell_grid.hpp"
#include "codec/disc/context_model.hpp"
#include "codec/disc/exp_golomb.hpp"
#include "codec/disc/plane_traversal.hpp"
#include "codec/disc/quantizer.hpp"
#include "codec/disc/range_coder.hpp"

namespace disc::codec_disc {
namespace {

// A plane's step exponent e (kMinPlaneExponent..kMaxPlaneExponent) as the 4 bits of
// e - kMinPlaneExponent, MSB first, down a binary tree of adaptive models.
template <class Coder>
int code_plane_exponent(Coder& coder, BitModel (&tree)[kPlaneExponentTree], int exponent) {
  const int symbol = exponent - kMinPlaneExponent;
  int node = 1;
  for (int i = 3; i >= 0; --i) node = 2 * node + coder.bit(tree[node], (symbol >> i) & 1);
  return node - kPlaneExponentTree + kMinPlaneExponent;
}

// A plane's mean correction d (kMinMeanCorrection..kMaxMeanCorrection) as the Exp-Golomb
// code of zigzag(d) + 1 (1..255: d = 0, -1, 1, -2, 2, ...). Returns false if malformed.
template <class Coder>
bool code_mean_correction(Coder& coder, SymbolContexts& ctx, int& correction) {
  const int code = correction > 0 ? 2 * correction : -2 * correction + 1;  // zigzag + 1
  const int m = code_exp_golomb(coder, ctx.mean_prefix, ctx.mean_suffix, code);
  if (m == 0) return false;
  correction = m % 2 == 0 ? m / 2 : -(m - 1) / 2;
  return correction >= kMinMeanCorrection && correction <= kMaxMeanCorrection;
}

// A plane's cell order (0..3) as its 2 bits, MSB first, down a binary tree of adaptive models.
template <class Coder>
int code_cell_order(Coder& coder, BitModel (&tree)[kCellOrderTree], int order) {
  static_assert(kCellOrders == 4, "two bits per order");
  int node = 1;
  for (int i = 1; i >= 0; --i) node = 2 * node + coder.bit(tree[node], (order >> i) & 1);
  return node - kCellOrderTree;
}

template <class Coder>
bool code_symbols(Coder& shared_coder, const PlaneView& view, const SymbolFormat& format,
                  CodedPointer<Coder, int16_t> symbols, CodedPointer<Coder, int8_t> plane_exponents,
                  CodedPointer<Coder, int8_t> mean_corrections, CodedPointer<Coder, uint8_t> cell_orders) {
  // A local copy whose address never leaves this function (everything that codes with it is
  // inlined), so that the compiler keeps the coder's state in registers; copied back at the end.
  Coder coder = shared_coder;
  auto ctx = std::make_unique<SymbolContexts>();
  if constexpr (!kIsEncoder<Coder>) {
    if (plane_exponents) std::fill(plane_exponents, plane_exponents + view.planes, int8_t{0});
    if (mean_corrections) std::fill(mean_corrections, mean_corrections + view.planes, int8_t{0});
    if (cell_orders) std::fill(cell_orders, cell_orders + view.planes, uint8_t{0});
  }
  // Plane density (flags bit 3): how many of the plane's elements coded so far are non-zero.
  unsigned coded = 0, nonzero = 0;
  const auto begin_plane = [&](size_t p) {
    coded = nonzero = 0;
    if (plane_exponents) {
      const int e = code_plane_exponent(coder, ctx->plane_exponent, kIsEncoder<Coder> ? plane_exponents[p] : 0);
      if constexpr (!kIsEncoder<Coder>) plane_exponents[p] = static_cast<int8_t>(e);
    }
    if (mean_corrections) {
      int d = kIsEncoder<Coder> ? mean_corrections[p] : 0;
      if (!code_mean_correction(coder, *ctx, d)) return false;
      if constexpr (!kIsEncoder<Coder>) mean_corrections[p] = static_cast<int8_t>(d);
    }
    if (cell_orders) {
      const int order = code_cell_order(coder, ctx->cell_order, kIsEncoder<Coder> ? cell_orders[p] : 0);
      if constexpr (!kIsEncoder<Coder>) cell_orders[p] = static_cast<uint8_t>(order);
    }
    return true;
  };
  RowContexts row(view.width);
  const auto begin_row = [&](const int16_t* up, const int16_t* previous) { row.prepare(up, previous); };
  const bool ok = traverse_planes<int16_t>(
      coder, view, symbols, ctx->plane_empty, begin_plane, begin_row,
      [&](const Neighbours<int16_t>& n, size_t x, int16_t& symbol) {
        const int activity = row.activity(x, n.left);
        // The third context component: the previous plane's level, or (flags bit 3) the
        // density of the plane so far, which separates sparse from dense channels.
        const int third = format.plane_density ? density_bucket(nonzero, coded) : row.previous_bucket(x);
        ++coded;
        if (!coder.bit(ctx->zero[row.zero_context(x, n.left, activity, third)], symbol != 0)) {
          symbol = 0;
          return true;
        }
        ++nonzero;
        const int magnitude =
            code_exp_golomb(coder, ctx->prefix[magnitude_set(activity, third)], ctx->suffix, std::abs(symbol));
        if (magnitude == 0 || magnitude > format.max_magnitude) return false;
        const int negative = format.has_sign ? coder.bit(ctx->sign[sign_context(n)], symbol < 0) : 0;
        symbol = static_cast<int16_t>(negative ? -magnitude : magnitude);
        return true;
      });
  shared_coder = coder;
  return ok;
}

}  // namespace

Status encode_symbols(const PlaneView& view, const SymbolFormat& format, const int16_t* symbols,
                      std::vector<uint8_t>* out, const int8_t* plane_exponents, const int8_t* mean_corrections,
                      const uint8_t* cell_orders) {
  for (size_t p = 0; p < view.planes; ++p) {
    if (plane_exponents && (plane_exponents[p] < kMinPlaneExponent || plane_exponents[p] > kMaxPlaneExponent))
      return Error("plane step exponent out of range");
    if (mean_corrections && (mean_corrections[p] < kMinMeanCorrection || mean_corrections[p] > kMaxMeanCorrection))
      return Error("plane mean correction out of range");
    if (cell_orders && cell_orders[p] >= kCellOrders) return Error("plane cell order out of range");
  }
  RangeEncoder coder(out, format.adaptation);
  if (!code_symbols(coder, view, format, symbols, plane_exponents, mean_corrections, cell_orders))
    return Error("level magnitude exceeds " + std::to_string(format.max_magnitude));
  coder.finish();
  return Status();
}

Status decode_symbols(std::span<const uint8_t> in, const PlaneView& view, const SymbolFormat& format, int16_t* symbols,
                      int8_t* plane_exponents, int8_t* mean_corrections, uint8_t* cell_orders) {
  RangeDecoder coder(in, format.adaptation);
  if (!code_symbols(coder, view, format, symbols, plane_exponents, mean_corrections, cell_orders))
    return coder.overran() ? Error("range-coded data ends early")
                           : Error("coded symbol is malformed or its magnitude exceeds " +
                                   std::to_string(format.max_magnitude));
  return coder.finish();
}

}  // namespace disc::codec_disc
