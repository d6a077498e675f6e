// Feeds arbitrary bytes to the .npy parser; a parsed tensor must re-serialize to an
// equivalent file.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "disc/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tensor = disc::parse_npy({data, size});
  if (!tensor.ok()) return 0;
  auto again = disc::parse_npy(disc::serialize_npy(*tensor));
  if (!again.ok() || again->shape() != tensor->shape() ||
      std::memcmp(again->data(), tensor->data(), tensor->bytes()) != 0)
    std::abort();
  return 0;
}
