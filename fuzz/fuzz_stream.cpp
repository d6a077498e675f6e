// Feeds arbitrary bytes to the stream decoder: it must return a value or an Error, and a
// decoded tensor must have the shape the header announced.
#include <cstdint>
#include <cstdlib>

#include "disc/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const disc::DecodeLimits limits{size_t{1} << 22};
  auto info = disc::inspect({data, size}, limits);
  auto tensor = disc::decompress({data, size}, limits);
  if (tensor.ok() && (!info.ok() || tensor->shape() != info->shape)) std::abort();
  return 0;
}
