// Lossless mode: the 32 bits of every fp32 value, context-coded with the range coder.
// Bit-exact for every pattern (negative zero, denormals, infinities, NaN payloads).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

// Codes the bit patterns of `values` (view.planes * view.plane_size() entries).
void encode_lossless(const PlaneView& view, const float* values, std::vector<uint8_t>* out);

// Fills `values` with the decoded bit patterns, in place (no other buffer of that size);
// consumes all of `in` or fails.
Status decode_lossless(std::span<const uint8_t> in, const PlaneView& view, float* values);

}  // namespace disc::codec_disc
