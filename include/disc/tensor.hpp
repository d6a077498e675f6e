// A dense fp32 tensor in C (row-major) order, usually NCHW.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "disc/status.hpp"

namespace disc {

// Dimensions, outermost first. A valid shape has rank 1..kMaxRank and every dim >= 1.
using Shape = std::vector<int64_t>;

inline constexpr size_t kMaxRank = 8;

// Largest tensor the decoders allocate by default (DecodeLimits): 256 Mi elements = 1 GiB fp32.
inline constexpr size_t kDefaultMaxElements = size_t{1} << 28;

// Number of elements of `shape`, or an Error: kInvalidArgument if the shape is invalid,
// kResourceExhausted if it has more than `max_elements`.
Result<size_t> element_count(const Shape& shape, size_t max_elements = size_t{1} << 32);

// "1x64x56x56"
std::string shape_to_string(const Shape& shape);

// The plane view a codec works on: `planes` = product of all but the last two dims,
// each plane `height` x `width` (rank 1: 1 x 1 x n, rank 2: 1 x h x w).
struct PlaneView {
  size_t planes = 0;
  size_t height = 0;
  size_t width = 0;
  size_t plane_size() const { return height * width; }
};
PlaneView plane_view(const Shape& shape);

// Invariant: the shape is valid and the tensor holds exactly its element count of values. The
// constructors assert it; a default-constructed tensor (rank 0) and one built from values that
// do not fit its shape in a build without asserts break it, and check() says so. compress,
// Codec::encode_payload, compress_slab, Network::run and write_npy call check() first.
class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor. `shape` must be valid (checked by assert; use make() for untrusted shapes).
  explicit Tensor(Shape shape);
  // `data` must hold the shape's element count of values (checked by assert and by check()).
  Tensor(Shape shape, std::vector<float> data);

  // Zero-filled tensor of an untrusted shape; element_count's errors.
  static Result<Tensor> make(Shape shape, size_t max_elements = size_t{1} << 32);

  const Shape& shape() const { return shape_; }
  size_t size() const { return data_.size(); }
  size_t bytes() const { return data_.size() * sizeof(float); }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::span<float> values() { return data_; }
  std::span<const float> values() const { return data_; }
  // An Error unless the invariant above holds: kInvalidArgument (kResourceExhausted for a shape
  // of more than 2^32 elements).
  Status check() const;

 private:
  Shape shape_;
  std::vector<float> data_;
};

}  // namespace disc
