// Entropy coding of a planes x height x width grid of quantized levels with the adaptive range coder and SymbolContexts.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

struct SymbolFormat {
  int max_magnitude = 0;  // |symbol| <= max_magnitude <= 255
  bool has_sign = false;  // false: every symbol is >= 0 and no sign is coded
};

// Fails only on a symbol outside `format`.
Status encode_symbols(const PlaneView& view, const SymbolFormat& format, const int16_t* symbols,
                      std::vector<uint8_t>* out);

// Fills `symbols` (view.planes * view.plane_size() entries); consumes all of `in` or fails.
Status decode_symbols(std::span<const uint8_t> in, const PlaneView& view, const SymbolFormat& format,
                      int16_t* symbols);

}  // namespace disc::codec_disc
