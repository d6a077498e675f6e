// Shared body of the per-codec payload fuzzers: the first bytes pick a small shape, the
// rest is handed to the codec's payload decoder as is (bypassing the stream checksum, so
// the decoder itself is exercised). Decoding must return a value or an Error that blames the
// bytes (kDataLoss) or a limit (kResourceExhausted); a value must have the requested shape.
#pragma once

#include <cstdint>
#include <cstdlib>

#include "decoder_errors.hpp"
#include "disc/codec.hpp"

inline int fuzz_payload_decoder(const char* codec_spec, const uint8_t* data, size_t size) {
  static const auto codec = disc::make_codec(codec_spec);
  if (!codec.ok()) std::abort();
  if (size < 4) return 0;
  const disc::Shape shape = {1, 1 + data[0] % 16, 1 + data[1] % 40, 1 + (data[2] | (data[3] << 8)) % 40};
  auto tensor = codec.value()->decode_payload({data + 4, size - 4}, shape);
  if (tensor.ok() && tensor->shape() != shape) std::abort();
  if (!tensor.ok() && !disc_fuzz::blames_the_bytes(tensor.error())) std::abort();
  return 0;
}

#define DISC_PAYLOAD_FUZZER(codec_spec)                                   \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    return fuzz_payload_decoder(codec_spec, data, size);                  \
  }
