#include "disc/chunks.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <numeric>

namespace disc {

size_t chunk_axis(const Shape& shape) {
  for (size_t a = 0; a < shape.size(); ++a)
    if (shape[a] > 1) return a;
  return shape.empty() ? 0 : shape.size() - 1;
}

std::vector<Slab> split_slabs(const Shape& shape, size_t chunks) {
  const size_t extent = static_cast<size_t>(shape[chunk_axis(shape)]);
  const size_t n = std::clamp<size_t>(chunks, 1, extent);
  std::vector<Slab> slabs;
  size_t begin = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t length = extent / n + (i < extent % n ? 1 : 0);
    slabs.push_back({begin, length});
    begin += length;
  }
  return slabs;
}

namespace {

size_t elements_per_index(const Shape& shape, size_t axis) {
  return std::accumulate(shape.begin() + static_cast<std::ptrdiff_t>(axis) + 1, shape.end(), size_t{1},
                         [](size_t a, int64_t d) { return a * static_cast<size_t>(d); });
}

}  // namespace

Result<Bytes> compress_slab(const Tensor& tensor, const Codec& codec, const Slab& slab) {
  DISC_RETURN_IF_ERROR(tensor.check());
  const size_t axis = chunk_axis(tensor.shape());
  const size_t extent = static_cast<size_t>(tensor.shape()[axis]);
  if (slab.length == 0 || slab.begin > extent || slab.length > extent - slab.begin)
    return Error("slab " + std::to_string(slab.begin) + "+" + std::to_string(slab.length) +
                     " is outside the chunk axis (extent " + std::to_string(extent) + ")",
                 ErrorCode::kInvalidArgument);
  if (slab.length == extent) return compress(tensor, codec);
  Shape shape = tensor.shape();
  shape[axis] = static_cast<int64_t>(slab.length);
  const size_t per_index = elements_per_index(shape, axis);
  const float* first = tensor.data() + slab.begin * per_index;
  Tensor part(std::move(shape), std::vector<float>(first, first + slab.length * per_index));
  return compress(part, codec);
}

Result<ChunkAssembler> ChunkAssembler::create(Shape shape) {
  DISC_ASSIGN_OR_RETURN(Tensor tensor, Tensor::make(std::move(shape), kDefaultMaxElements));
  return ChunkAssembler(std::move(tensor));
}

ChunkAssembler::ChunkAssembler(Tensor tensor)
    : tensor_(std::move(tensor)),
      axis_(chunk_axis(tensor_.shape())),
      extent_(static_cast<size_t>(tensor_.shape()[axis_])),
      slab_elements_(elements_per_index(tensor_.shape(), axis_)) {}

Status ChunkAssembler::add(std::span<const uint8_t> stream) {
  const std::string which = "chunk " + std::to_string(chunks_ + 1);
  if (complete()) return Error(which + ": the feature map is already complete", ErrorCode::kDataLoss);
  // A chunk can hold at most what is still missing; the limit stops a hostile header from
  // making the decoder allocate more.
  const DecodeLimits limits{(extent_ - filled_) * slab_elements_};
  auto info = inspect(stream, limits);
  if (!info.ok()) return info.error().with_context(which);
  const Shape& expected = tensor_.shape();
  bool fits = info->shape.size() == expected.size();
  for (size_t a = 0; fits && a < expected.size(); ++a)
    if (a != axis_ && info->shape[a] != expected[a]) fits = false;
  if (!fits)
    return Error(which + ": shape " + shape_to_string(info->shape) + " is not a slab of " + shape_to_string(expected) +
                     " along axis " + std::to_string(axis_),
                 ErrorCode::kDataLoss);
  auto part = decompress(stream, *info);
  if (!part.ok()) return part.error().with_context(which);
  if (part->size() == tensor_.size())
    tensor_ = std::move(*part);  // a single chunk: the shapes are equal
  else
    std::memcpy(tensor_.data() + filled_ * slab_elements_, part->data(), part->bytes());
  filled_ += static_cast<size_t>(info->shape[axis_]);
  if (chunks_++ == 0) first_codec_ = info->spec;
  return Status();
}

Result<Tensor> ChunkAssembler::finish() && {
  if (!complete())
    return Error("chunks cover " + std::to_string(filled_) + " of the " + std::to_string(extent_) +
                     " indices of axis " + std::to_string(axis_) + " of " + shape_to_string(tensor_.shape()),
                 ErrorCode::kDataLoss);
  return std::move(tensor_);
}

}  // namespace disc
