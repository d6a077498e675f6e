// What an encoded image claims in its header, read without decoding it (internal to
// disc_model): enough to refuse a decompression bomb before any pixel is allocated.
#pragma once

#include <cstddef>
#include <cstdint>

#include "disc/status.hpp"

namespace disc {

struct ImageHeader {
  enum class Format { kOther, kJpeg, kPng };
  Format format = Format::kOther;
  int64_t width = 0, height = 0;  // 0 for kOther
  int scans = 0;                  // JPEG: start-of-scan markers (a progressive image has several)
};

// Reads a JPEG's frame header and counts its scans by walking its markers, or a PNG's IHDR.
// Other data: format kOther. An Error for a JPEG or PNG whose header is cut short or broken.
Result<ImageHeader> read_image_header(const uint8_t* data, size_t size);

}  // namespace disc
