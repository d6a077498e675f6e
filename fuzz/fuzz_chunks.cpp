// Feeds arbitrary chunk sequences to the chunk assembler, as a hostile edge would send them
// to InferChunked: each chunk is a 2-byte little-endian length and that many bytes. It must
// return a value or an Error that blames the bytes or a limit, and an assembled tensor must be
// the accepted chunks, each decoded on its own, laid end to end.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "decoder_errors.hpp"
#include "disc/chunks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const disc::Shape shape{1, 4, 3, 5};
  disc::ChunkAssembler assembler = disc::ChunkAssembler::create(shape).value();
  std::vector<float> expected;
  size_t offset = 0;
  while (offset + 2 <= size) {
    const size_t length = std::min<size_t>(data[offset] | (size_t{data[offset + 1]} << 8), size - offset - 2);
    offset += 2;
    const std::span<const uint8_t> chunk(data + offset, length);
    offset += length;
    if (const disc::Status added = assembler.add(chunk); !added.ok()) {
      if (!disc_fuzz::blames_the_bytes(added.error())) std::abort();
      return 0;
    }
    auto alone = disc::decompress(chunk, disc::DecodeLimits{60});
    if (!alone.ok()) std::abort();  // the assembler accepted what the decoder refuses
    expected.insert(expected.end(), alone->values().begin(), alone->values().end());
  }
  auto tensor = std::move(assembler).finish();
  if (!tensor.ok()) {
    if (!disc_fuzz::blames_the_bytes(tensor.error())) std::abort();
    return 0;
  }
  if (tensor->shape() != shape || tensor->size() != expected.size() ||
      std::memcmp(tensor->data(), expected.data(), tensor->bytes()) != 0)
    std::abort();
  return 0;
}
