// Feeds arbitrary chunk sequences to the chunk assembler, as a hostile edge would send them
// to InferChunked: each chunk is a 2-byte little-endian length and that many bytes. It must
// return a value or an Error, and an assembled tensor must have the announced shape.
#include <cstdint>
#include <cstdlib>

#include "disc/chunks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const disc::Shape shape{1, 4, 3, 5};
  disc::ChunkAssembler assembler(shape);
  size_t offset = 0;
  while (offset + 2 <= size) {
    const size_t length = std::min<size_t>(data[offset] | (size_t{data[offset + 1]} << 8), size - offset - 2);
    offset += 2;
    if (!assembler.add({data + offset, length}).ok()) return 0;
    offset += length;
  }
  auto tensor = std::move(assembler).finish();
  if (tensor.ok() && tensor->shape() != shape) std::abort();
  return 0;
}
