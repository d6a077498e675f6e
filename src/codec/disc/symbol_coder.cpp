#include "codec/disc/symbol_coder.hpp"

#include <bit>
#include <cstdlib>
#include <memory>
#include <string>

#include "codec/disc/context_model.hpp"
#include "codec/disc/plane_traversal.hpp"
#include "codec/disc/range_coder.hpp"

namespace disc::codec_disc {
namespace {

// A magnitude m >= 1 is sent as Exp-Golomb order 0: n = bit_width(m) - 1 as n one-bits and
// a zero-bit, then the n bits of m below its leading one, most significant first. Returns
// the magnitude, or 0 if the prefix reaches kMaxPrefix ones (malformed).
template <class Coder>
int code_magnitude(Coder& coder, SymbolContexts& ctx, int set, int magnitude) {
  const int n = std::bit_width(static_cast<unsigned>(magnitude)) - 1;
  int length = 0;
  while (coder.bit(ctx.prefix[set][length], length < n)) {
    if (++length == kMaxPrefix) return 0;
  }
  int value = 1;
  for (int j = length - 1; j >= 0; --j) value = 2 * value + coder.bit(ctx.suffix[length][j], (magnitude >> j) & 1);
  return value;
}

template <class Coder>
bool code_symbols(Coder& coder, const PlaneView& view, const SymbolFormat& format,
                  CodedPointer<Coder, int16_t> symbols) {
  auto ctx = std::make_unique<SymbolContexts>();
  return traverse_planes<int16_t>(
      coder, view, symbols, ctx->plane_empty, [&](const Neighbours<int16_t>& n, int16_t& symbol) {
        const int activity = activity_bucket(n);
        if (!coder.bit(ctx->zero[zero_context(n, activity)], symbol != 0)) {
          symbol = 0;
          return true;
        }
        const int magnitude = code_magnitude(coder, *ctx, magnitude_set(n, activity), std::abs(symbol));
        if (magnitude == 0 || magnitude > format.max_magnitude) return false;
        const int negative = format.has_sign ? coder.bit(ctx->sign[sign_context(n)], symbol < 0) : 0;
        symbol = static_cast<int16_t>(negative ? -magnitude : magnitude);
        return true;
      });
}

}  // namespace

Status encode_symbols(const PlaneView& view, const SymbolFormat& format, const int16_t* symbols,
                      std::vector<uint8_t>* out) {
  RangeEncoder coder(out);
  if (!code_symbols(coder, view, format, symbols))
    return Error("level magnitude exceeds " + std::to_string(format.max_magnitude));
  coder.finish();
  return Status();
}

Status decode_symbols(std::span<const uint8_t> in, const PlaneView& view, const SymbolFormat& format,
                      int16_t* symbols) {
  RangeDecoder coder(in);
  if (!code_symbols(coder, view, format, symbols))
    return coder.overran() ? Error("range-coded data ends early")
                           : Error("coded symbol is malformed or its magnitude exceeds " +
                                   std::to_string(format.max_magnitude));
  return coder.finish();
}

}  // namespace disc::codec_disc
