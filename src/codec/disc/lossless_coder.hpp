// Lossless mode: the 32 bits of every fp32 value, context-coded with the range coder.
// Bit-exact for every pattern (negative zero, denormals, infinities, NaN payloads).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

void encode_lossless(const PlaneView& view, const uint32_t* bits, std::vector<uint8_t>* out);

// Fills `bits` (view.planes * view.plane_size() entries); consumes all of `in` or fails.
Status decode_lossless(std::span<const uint8_t> in, const PlaneView& view, uint32_t* bits);

}  // namespace disc::codec_disc
