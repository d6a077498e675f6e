#include "model/image_header.hpp"

#include <cstring>

namespace disc {
namespace {

uint32_t big_endian(const uint8_t* p, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | p[i];
  return v;
}

// JPEG markers (ITU T.81 B.1.1.3): SOFn are C0..CF except DHT (C4), JPG (C8) and DAC (CC);
// RSTm (D0..D7) and SOI/EOI stand alone; every other marker has a 2-byte length that counts
// itself. Entropy-coded data after SOS contains FF only as FF 00 or before a RSTm.
Result<ImageHeader> read_jpeg(const uint8_t* data, size_t size) {
  ImageHeader h;
  h.format = ImageHeader::Format::kJpeg;
  size_t i = 2;
  while (i + 1 < size) {
    if (data[i] != 0xff) {  // stray bytes between segments: libjpeg skips them with a warning
      ++i;
      continue;
    }
    const uint8_t marker = data[i + 1];
    i += 2;
    if (marker == 0xff) {  // fill byte
      --i;
      continue;
    }
    if (marker == 0xd9) break;  // EOI
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (i + 2 > size) break;
    const size_t length = big_endian(data + i, 2);
    if (length < 2 || i + length > size) return Error("corrupt JPEG: a marker segment runs past the end");
    const bool frame = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
    if (frame) {
      if (length < 8) return Error("corrupt JPEG: short frame header");
      h.height = big_endian(data + i + 3, 2);
      h.width = big_endian(data + i + 5, 2);
    }
    i += length;
    if (marker == 0xda) {  // SOS: skip the entropy-coded data that follows
      ++h.scans;
      while (i + 1 < size && !(data[i] == 0xff && data[i + 1] != 0x00 && (data[i + 1] < 0xd0 || data[i + 1] > 0xd7)))
        ++i;
    }
  }
  if (h.width == 0 && h.height == 0) return Error("corrupt JPEG: no frame header");
  return h;
}

Result<ImageHeader> read_png(const uint8_t* data, size_t size) {
  // Signature (8 bytes), then the IHDR chunk: length 13, "IHDR", width, height, ...
  if (size < 24 || std::memcmp(data + 12, "IHDR", 4) != 0) return Error("corrupt PNG: no IHDR chunk first");
  ImageHeader h;
  h.format = ImageHeader::Format::kPng;
  h.width = big_endian(data + 16, 4);
  h.height = big_endian(data + 20, 4);
  return h;
}

}  // namespace

Result<ImageHeader> read_image_header(const uint8_t* data, size_t size) {
  static constexpr uint8_t kPngSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) return read_jpeg(data, size);
  if (size >= sizeof kPngSignature && std::memcmp(data, kPngSignature, sizeof kPngSignature) == 0)
    return read_png(data, size);
  return ImageHeader{};
}

}  // namespace disc
