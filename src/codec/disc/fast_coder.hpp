// The fast entropy stage (speed=1): level codes (zig-zag mapped when signed), two per byte
// when they fit a nibble, else one per byte, compressed as a single zstd frame.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "codec/disc/quantizer.hpp"
#include "disc/status.hpp"

namespace disc::codec_disc {

Status encode_fast(const Quantizer& quantizer, std::span<const float> values, std::vector<uint8_t>* out);

// Checks, before the output is allocated, that `in` can be the body of `count` values: a zstd
// frame declaring, and able to hold, their packed codes (check_zstd_frame).
Status check_fast(std::span<const uint8_t> in, const Quantizer& quantizer, size_t count);

// Writes values.size() reconstructed values; rejects a frame of the wrong size or a byte
// that is not a valid level. The codes are decompressed into the storage of `values` itself.
Status decode_fast(std::span<const uint8_t> in, const Quantizer& quantizer, std::span<float> values);

}  // namespace disc::codec_disc
