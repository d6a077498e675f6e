#include "codec/disc/symbol_coder.hpp"

#include <cstdlib>
#include <memory>
#include <string>

#include "codec/disc/context_model.hpp"
#include "codec/disc/exp_golomb.hpp"
#include "codec/disc/plane_traversal.hpp"
#include "codec/disc/range_coder.hpp"

namespace disc::codec_disc {
namespace {

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
        const int magnitude =
            code_exp_golomb(coder, ctx->prefix[magnitude_set(n, activity)], ctx->suffix, std::abs(symbol));
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
