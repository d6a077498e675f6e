// Feeds arbitrary bytes to the JPEG/PNG header reader that guards image decoding against
// decompression bombs, and to the limits checked on what it reads; a header it accepts must
// describe data that starts like its format.
#include <cstdint>
#include <cstdlib>

#include "disc/model.hpp"
#include "model/image_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)disc::check_upload_image(data, size);
  auto header = disc::read_image_header(data, size);
  if (!header.ok()) return 0;
  using Format = disc::ImageHeader::Format;
  if (header->format != Format::kOther && (size < 3 || header->width < 0 || header->height < 0 || header->scans < 0))
    std::abort();
  if (header->format == Format::kJpeg && (data[0] != 0xff || data[1] != 0xd8)) std::abort();
  if (header->format == Format::kPng && data[0] != 0x89) std::abort();
  return 0;
}
