// NumPy .npy files (format 1.0 and 2.0), restricted to what feature maps need:
// little-endian fp32 ('<f4'), C order. Anything else is rejected with a message.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc {

// Errors: kInvalidArgument for anything but such a file, kResourceExhausted for an array of
// more than kDefaultMaxElements.
Result<Tensor> parse_npy(std::span<const uint8_t> bytes);
// `tensor` must pass Tensor::check() (write_npy checks it).
std::vector<uint8_t> serialize_npy(const Tensor& tensor);

// read_file's errors, then parse_npy's.
Result<Tensor> read_npy(const std::string& path);
Status write_npy(const std::string& path, const Tensor& tensor);

// The most read_file reads unless told otherwise: a tensor of kDefaultMaxElements fp32
// values, the largest the decoders accept by default (as .npy or as a raw stream), plus 1 MiB
// for headers.
inline constexpr size_t kMaxFileBytes = kDefaultMaxElements * sizeof(float) + (size_t{1} << 20);

// Whole-file helpers shared by the CLI and the library; their errors name the path and carry
// the system's reason as a code: kNotFound (no such file or directory), kPermissionDenied,
// kResourceExhausted (out of memory or space, and read_file's limit), kUnknown otherwise.
// read_file refuses a file of more than `max_bytes` bytes, reading no more than one byte past
// the limit, so an endless input (/dev/zero, a fifo whose writer never stops) costs at most
// max_bytes + 1 of memory. A fifo without a writer is waited on, as by any reader.
Result<std::vector<uint8_t>> read_file(const std::string& path, size_t max_bytes = kMaxFileBytes);
Status write_file(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace disc
