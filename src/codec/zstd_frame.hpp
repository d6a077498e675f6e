// Internal: one zstd frame holding an exactly known number of bytes, shared by the codecs
// that end in zstd.
#pragma once

#include <cstdint>
#include <span>

#include "disc/codec.hpp"

namespace disc {

// A single zstd frame of `input`, with its content size recorded.
Result<Bytes> zstd_compress_frame(std::span<const uint8_t> input, int level);

// Checks, without decompressing or allocating, that `frame` can be exactly one zstd frame of
// `content_size` bytes: its content size field is present and equal to content_size, its blocks
// end exactly at the end of `frame`, and it has enough bytes to hold that content (a block
// regenerates at most ZSTD_BLOCKSIZE_MAX = 128 KiB and takes at least its 3-byte header). So a
// decoder can call it before allocating content_size bytes for the output.
Status check_zstd_frame(std::span<const uint8_t> frame, size_t content_size);

// Decodes `frame` into `output` after check_zstd_frame(frame, output.size()).
Status zstd_decompress_frame(std::span<const uint8_t> frame, std::span<uint8_t> output);

}  // namespace disc
