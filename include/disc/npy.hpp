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

Result<Tensor> parse_npy(std::span<const uint8_t> bytes);
std::vector<uint8_t> serialize_npy(const Tensor& tensor);

Result<Tensor> read_npy(const std::string& path);
Status write_npy(const std::string& path, const Tensor& tensor);

// Whole-file helpers shared by the CLI and the library.
Result<std::vector<uint8_t>> read_file(const std::string& path);
Status write_file(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace disc
