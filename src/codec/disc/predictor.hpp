// In-loop prediction on the quantized grid: each level is replaced by its difference from
// the median edge detector (LOCO-I) prediction from its left, upper and upper-left
// neighbours in the same plane (missing neighbours are 0). Exact on integers, so the
// decoder's reconstruction never drifts from the encoder's.
#pragma once

#include <cstdint>

#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

// Levels -> residuals, in place.
void levels_to_residuals(const PlaneView& view, int16_t* data);

// Residuals -> levels, in place; rejects a level outside [lowest, highest].
Status residuals_to_levels(const PlaneView& view, int lowest, int highest, int16_t* data);

}  // namespace disc::codec_disc
