// Internal: IEEE-754 binary16 <-> binary32 conversion, independent of compiler and CPU
// support. float_to_half rounds to nearest, ties to even; magnitudes that round beyond
// 65504 become infinity; NaNs stay NaN (sign and the top 10 payload bits kept).
// half_to_float is exact, so half -> float -> half is the identity on all 65536 patterns.
#pragma once

#include <cstdint>

namespace disc {

uint16_t float_to_half(float value);
float half_to_float(uint16_t half);

}  // namespace disc
