// Whether a JPEG file's entropy-coded data is all there (internal to disc_model).
#pragma once

#include <cstddef>
#include <cstdint>

#include "disc/status.hpp"

namespace disc {

// libjpeg fills what a truncated or corrupt JPEG lacks with grey and only warns, so a decoder
// that ignores warnings (OpenCV) returns such a file as a valid image. For data that starts
// like a JPEG (FF D8 FF), this decodes it again at 1/8 scale (DC only, so cheap) and returns an
// Error with libjpeg's message if a warning says pixels were lost or made up: premature end of
// file or of a data segment, a bad Huffman or arithmetic code, a restart marker out of place,
// or stray bytes before a marker other than the end of image. Warnings about intact pixels
// (an unknown JFIF revision, stray bytes before the end of image) pass. Other data: no check.
Status check_jpeg_integrity(const uint8_t* data, size_t size);

}  // namespace disc
