// Feature-map codecs and the self-describing DISC stream that carries their output.
//
// A stream (doc/FORMAT.md) = header (magic, version, codec id, shape, hyper-parameters)
// + codec payload + CRC-32. compress() writes one; decompress() validates every byte of
// one and returns an Error for anything malformed, never crashing or over-allocating.
//
// Error codes (status.hpp): kInvalidArgument for what the caller passes (specs, settings,
// tensors, shapes); kDataLoss for bytes that are not a valid stream or payload, whatever in
// them is wrong; kResourceExhausted for a tensor over a limit (DecodeLimits, 2^32 elements) or
// memory a codec library could not get; kInternal for a codec library that failed otherwise.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc {

using Bytes = std::vector<uint8_t>;

// Stream codec ids. Values are part of the wire format: never renumber.
enum class CodecId : uint8_t {
  kRaw = 1,     // fp32 as is
  kFp16 = 2,    // IEEE half precision
  kQ8Zstd = 3,  // 8-bit uniform quantization + zstd (JALAD-style baseline)
  kJpeg = 4,    // planes tiled into one 8-bit grayscale JPEG (the paper's baseline)
  kZstd = 5,    // zstd on the fp32 bytes, lossless
  kZfp = 6,     // ZFP fixed-accuracy
  kDisc = 7,    // the DISC codec
};

// One numeric hyper-parameter. All hyper-parameters are stored in the stream as fp32,
// so codecs only ever see fp32-representable values.
struct ParamInfo {
  std::string name;
  std::string help;
  float default_value = 0;
  float min = 0;
  float max = 0;
  bool integer = false;
};

// A codec with its settings, written and read as "name" or "name:key=value,key=value".
// Parameters not named take their defaults.
struct CodecSpec {
  std::string name;
  std::vector<std::pair<std::string, float>> params;

  static Result<CodecSpec> parse(std::string_view text);
  std::string to_string() const;
};

// Static description of a codec, for listings and validation.
struct CodecInfo {
  CodecId id;
  std::string name;
  std::string summary;
  bool lossless;  // every setting (Codec::lossless() judges one)
  std::vector<ParamInfo> params;
};

// A configured codec. Implementations are stateless after construction and thread-safe.
class Codec {
 public:
  virtual ~Codec() = default;
  virtual const CodecInfo& info() const = 0;
  // Parameter values, in the order of info().params.
  const std::vector<float>& params() const { return params_; }
  CodecSpec spec() const;

  // The codec-specific payload for `tensor` (no header, no checksum); an Error for settings
  // check_encodable() refuses or a tensor that fails Tensor::check() or that the codec cannot
  // represent (kInvalidArgument).
  Result<Bytes> encode_payload(const Tensor& tensor) const;
  // Inverse of encode_payload, for a tensor of `shape` (kInvalidArgument if the shape is
  // invalid). The payload is untrusted: kDataLoss if it does not decode to that shape.
  Result<Tensor> decode_payload(std::span<const uint8_t> payload, const Shape& shape) const;
  // Encoding needs EncoderContext::reader (disc's shape=1..3); decoding never does.
  virtual bool needs_reader() const { return false; }
  // Whether these settings decode every map bit-exactly: info().lossless (every setting), or
  // a setting of a lossy codec that is not (disc's bits=0).
  virtual bool lossless() const { return info().lossless; }
  // An error if encoding with these settings would be refused whatever the tensor (disc refuses
  // parameters its mode would ignore, which decoders accept): lets a sweep or a pipeline refuse
  // a setting before any work rather than at its first encoding. It judges the setting, not
  // the context: a codec that needs_reader() but was made without EncoderContext::reader
  // passes here and refuses every encoding. Errors are kInvalidArgument.
  virtual Status check_encodable() const { return Status(); }

 protected:
  explicit Codec(std::vector<float> params) : params_(std::move(params)) {}

 private:
  // What each codec implements: encode_payload once the settings passed check_encodable() and
  // the tensor Tensor::check(), and decode_payload once the shape is valid (the payload is
  // unchecked). Their errors may leave the code kUnknown: the callers above give it.
  virtual Result<Bytes> encode_valid(const Tensor& tensor) const = 0;
  virtual Result<Tensor> decode_valid(std::span<const uint8_t> payload, const Shape& shape) const = 0;

  std::vector<float> params_;
};

// What follows a convolution before anything else reads its output: output channel o, plus
// bias[o], is clamped to [min, max] (ReLU: [0, +inf); ReLU6: [0, 6]; none: (-inf, +inf)).
struct ConvActivation {
  std::vector<float> bias;  // one per output channel, finite
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
  // Rejects a bias that is not `outputs` finite values and bounds that are NaN, not ordered
  // (min <= max) or both +inf or both -inf (kInvalidArgument).
  Status check(int outputs) const;
};

// The convolution that reads a feature map, which disc's `shape=1..3` encoder shapes its
// quantization error for (doc/CODEC.md, "Shaping for the convolution that reads the map").
// Weights are [out_channels][in_per_group][kernel_h][kernel_w] with any following
// per-channel scale (batch normalization) folded in; padding is with zeros; no dilation.
struct ConvKernel {
  int out_channels = 0, in_per_group = 0, groups = 1;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::vector<float> weights;
  // If known (the bias with any batch normalization's shift folded in): `shape=1..3` then
  // measures the error after it (doc/FORMAT.md, "Encoder").
  std::optional<ConvActivation> activation;
  // Rejects inconsistent sizes, non-finite weights, an activation its check() rejects, and a
  // map of `shape` (N x C x H x W) that this convolution cannot read (kInvalidArgument).
  Status check(const Shape& shape) const;
};

// What an encoder may know besides the tensor. Decoders never need it.
inline constexpr int kMaxEncoderThreads = 256;
struct EncoderContext {
  std::shared_ptr<const ConvKernel> reader;  // the convolution that reads the map, if known
  // Threads one encoding may use, 0..kMaxEncoderThreads; 0 = one per hardware thread. Only
  // disc's shape=1..3 under a grouped reader (a depthwise convolution) uses more than one; its
  // streams are the same for every count.
  int threads = 1;
};

// Every codec this build knows, in id order.
const std::vector<CodecInfo>& codec_list();
Result<const CodecInfo*> find_codec(std::string_view name);

// Builds a codec from a spec; rejects unknown names, unknown keys and out-of-range values
// (kInvalidArgument, as do CodecSpec::parse and find_codec).
Result<std::unique_ptr<Codec>> make_codec(const CodecSpec& spec);
Result<std::unique_ptr<Codec>> make_codec(std::string_view spec_text);
// The same, for encoding with what `context` knows (disc's shape=1..3 needs context.reader).
Result<std::unique_ptr<Codec>> make_codec(const CodecSpec& spec, const EncoderContext& context);

// What a stream's header says, without decoding the payload.
struct StreamInfo {
  uint8_t version = 0;
  CodecSpec spec;
  CodecId codec = CodecId::kRaw;
  Shape shape;
  size_t header_bytes = 0;   // everything before the payload
  size_t payload_bytes = 0;
  size_t total_bytes = 0;    // header + payload + checksum
};

struct DecodeLimits {
  // Largest tensor a decoder will allocate (elements). Default: 256 Mi elements = 1 GiB fp32;
  // a tensor never holds more than 2^32 (Codec::decode_payload refuses larger shapes).
  size_t max_elements = kDefaultMaxElements;
};

// Refuses a tensor of more elements than decompress() accepts by default (DecodeLimits;
// kResourceExhausted).
Result<Bytes> compress(const Tensor& tensor, const Codec& codec);
// Size of the stream compress() writes with `codec` for a tensor of `shape` whose payload has
// `payload_bytes` bytes: the container's header and checksum around it. (Dimensions or payloads
// of 2^32 or more, which compress() refuses, are sized as if the varints could hold them.)
size_t stream_bytes(const Shape& shape, const Codec& codec, size_t payload_bytes);
Result<StreamInfo> inspect(std::span<const uint8_t> stream, const DecodeLimits& limits = {});
Result<Tensor> decompress(std::span<const uint8_t> stream, const DecodeLimits& limits = {});
// Decodes a stream whose header and checksum inspect() has accepted (`inspected` is its result
// for these same bytes), without reading them again: checking a header before decoding then
// costs one pass over the stream, not two. A stream of another size than inspected is
// kInvalidArgument.
Result<Tensor> decompress(std::span<const uint8_t> stream, const StreamInfo& inspected);

}  // namespace disc
