// The fast entropy stage (speed=1): one byte per level (zig-zag mapped when signed:
// 0, -1, 1, -2, 2, ... -> 0, 1, 2, 3, 4, ...) compressed as a single zstd frame.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "codec/disc/quantizer.hpp"
#include "disc/status.hpp"

namespace disc::codec_disc {

Status encode_fast(const Quantizer& quantizer, std::span<const float> values, std::vector<uint8_t>* out);

// Writes values.size() reconstructed values; rejects a frame of the wrong size or a byte
// that is not a valid level.
Status decode_fast(std::span<const uint8_t> in, const Quantizer& quantizer, std::span<float> values);

}  // namespace disc::codec_disc
