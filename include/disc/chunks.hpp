// A feature map sent as a sequence of chunks, so that the edge encodes chunk i+1 while
// chunk i is on the wire and the server decodes each chunk as it arrives.
//
// Each chunk is a complete DISC stream (doc/FORMAT.md) of a slab of the tensor: a run of
// consecutive indices along the chunk axis, which is the first axis of extent > 1. Every
// axis before it has extent 1, so a slab is a contiguous range of the values in C order and
// the chunks, concatenated, are the tensor. A slab's shape is the tensor's with the chunk
// axis's extent replaced by the slab's length. Chunks are coded independently: each has its
// own header and codec statistics (for DISC: clip value, step, offsets).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "disc/codec.hpp"
#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc {

struct Slab {
  size_t begin = 0;  // first index along the chunk axis
  size_t length = 0; // >= 1
};

// The first axis of `shape` with extent > 1 (the last axis if there is none). `shape` valid.
size_t chunk_axis(const Shape& shape);

// `chunks` slabs of near-equal length (the first ones one longer) that cover the chunk axis
// in order; fewer if the axis is shorter than `chunks`. `shape` valid, `chunks` >= 1. Chunk i
// of a map is the stream of slab i: chunks carry no position, so a receiver places them in
// the order they come.
std::vector<Slab> split_slabs(const Shape& shape, size_t chunks);

// Why a codec that needs the reading convolution (disc's shape=1|2) cannot code chunks: the
// convolution reads the whole map.
inline constexpr const char* kWholeMapsOnly = "shape=1|2 codes whole maps only (chunks must be 1)";

// One chunk: the stream of `slab` of `tensor` (kInvalidArgument if the tensor fails
// Tensor::check() or the slab is not within its chunk axis; compress()'s errors).
Result<Bytes> compress_slab(const Tensor& tensor, const Codec& codec, const Slab& slab);

// Rebuilds a tensor of a known shape from its chunks, validating each one: its shape must
// be the tensor's except along the chunk axis, where it must fit in what is still missing.
// Chunks are placed in the order they are added (slab 0 first, as split_slabs lists them).
// Not thread-safe.
class ChunkAssembler {
 public:
  // An Error if `shape` is invalid or larger than the decoders' default limit.
  static Result<ChunkAssembler> create(Shape shape);

  // Decodes the next chunk into place. After an error the assembler must not be used further.
  // kDataLoss for a chunk that is not a stream of the next slab or comes after the last one,
  // kResourceExhausted for one whose header announces more than is still missing.
  Status add(std::span<const uint8_t> stream);
  // The codec spec of the first chunk (empty before it).
  const CodecSpec& first_codec() const { return first_codec_; }
  size_t chunks() const { return chunks_; }
  bool complete() const { return filled_ == extent_; }
  // The assembled tensor; kDataLoss if chunks are missing.
  Result<Tensor> finish() &&;

 private:
  explicit ChunkAssembler(Tensor tensor);

  Tensor tensor_;
  size_t axis_ = 0;
  size_t extent_ = 0;        // of the chunk axis
  size_t slab_elements_ = 0; // elements per index of the chunk axis
  size_t filled_ = 0;        // indices of the chunk axis decoded so far
  size_t chunks_ = 0;
  CodecSpec first_codec_;
};

}  // namespace disc
