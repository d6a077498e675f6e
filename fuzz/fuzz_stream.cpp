// Feeds arbitrary bytes to the stream decoder: it must return a value or an Error that blames
// the bytes or a limit, and a decoded tensor must have the shape the header announced.
#include <cstdint>
#include <cstdlib>

#include "decoder_errors.hpp"
#include "disc/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const disc::DecodeLimits limits{size_t{1} << 22};
  auto info = disc::inspect({data, size}, limits);
  auto tensor = disc::decompress({data, size}, limits);
  if (tensor.ok() && (!info.ok() || tensor->shape() != info->shape)) std::abort();
  if (!info.ok() && !disc_fuzz::blames_the_bytes(info.error())) std::abort();
  if (!tensor.ok() && !disc_fuzz::blames_the_bytes(tensor.error())) std::abort();
  return 0;
}
