// Entropy coding of a planes x height x width grid of quantized levels with the adaptive range coder and SymbolContexts.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "codec/disc/range_coder.hpp"
#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

struct SymbolFormat {
  int max_magnitude = 0;  // |symbol| <= max_magnitude <= 255
  bool has_sign = false;  // false: every symbol is >= 0 and no sign is coded
  bool plane_density = false;  // zero flags also conditioned on the plane's density so far
  Adaptation adaptation;
};

// Per-plane mean corrections (flags bit 5) are in kMinMeanCorrection..kMaxMeanCorrection.
inline constexpr int kMinMeanCorrection = -127;
inline constexpr int kMaxMeanCorrection = 127;

// Fails only on a symbol outside `format`. `plane_exponents`, if given (one per plane, each
// in kMinPlaneExponent..kMaxPlaneExponent), are coded before the symbols of each non-empty
// plane; so are `mean_corrections` (one per plane, each in kMinMeanCorrection..kMaxMeanCorrection),
// after the exponent, and `cell_orders` (one per plane, each 0..3), after those.
Status encode_symbols(const PlaneView& view, const SymbolFormat& format, const int16_t* symbols,
                      std::vector<uint8_t>* out, const int8_t* plane_exponents = nullptr,
                      const int8_t* mean_corrections = nullptr, const uint8_t* cell_orders = nullptr);

// Fills `symbols` (view.planes * view.plane_size() entries); consumes all of `in` or fails.
// With `plane_exponents` / `mean_corrections` / `cell_orders` (view.planes entries each), also
// decodes those (0 for empty planes).
Status decode_symbols(std::span<const uint8_t> in, const PlaneView& view, const SymbolFormat& format, int16_t* symbols,
                      int8_t* plane_exponents = nullptr, int8_t* mean_corrections = nullptr,
                      uint8_t* cell_orders = nullptr);

}  // namespace disc::codec_disc
