// Internal: one zstd frame holding an exactly known number of bytes, shared by the codecs
// that end in zstd.
#pragma once

#include <cstdint>
#include <span>

#include "disc/codec.hpp"

namespace disc {

// A single zstd frame of `input`, with its content size recorded.
Result<Bytes> zstd_compress_frame(std::span<const uint8_t> input, int level);

// Decodes `frame` into `output`. The frame must be exactly one zstd frame (no trailing
// bytes) whose content size field is present and equal to output.size().
Status zstd_decompress_frame(std::span<const uint8_t> frame, std::span<uint8_t> output);

}  // namespace disc
