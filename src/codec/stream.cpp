// The DISC stream container; byte layout in doc/FORMAT.md ("Stream container").
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>

#include "core/bytes.hpp"
#include "core/error_codes.hpp"
#include "disc/codec.hpp"

namespace disc {
namespace {

constexpr uint8_t kMagic[4] = {'D', 'I', 'S', 'C'};
// Version 2 (written): varint dimensions, compact parameters and a varint payload length.
// Version 1 (still read): u32 dimensions and payload length, f32 parameters.
constexpr uint8_t kVersion = 2;
constexpr uint8_t kVersion1 = 1;

// Version-2 parameters: a varint u, then (u = 0 only) the f32. u >= 1 stands for the f32 nearest
// to (u - 1) / 20: multiples of 0.05 up to 6.3 take one byte.
constexpr double kParameterUnit = 20;

// The f32 nearest to (code - 1) / 20 (the binary64 quotient rounds once more to f32, which is
// exact nearest-even for every 32-bit code).
float short_parameter_value(uint32_t code) { return static_cast<float>((code - 1) / kParameterUnit); }

// The short code of `v`, if one decodes to exactly v, bit for bit (-0 has none).
std::optional<uint32_t> short_parameter_code(float v) {
  if (!(v >= 0)) return std::nullopt;
  const double units = std::round(static_cast<double>(v) * kParameterUnit);
  if (units >= UINT32_MAX) return std::nullopt;
  const uint32_t code = static_cast<uint32_t>(units) + 1;
  if (std::bit_cast<uint32_t>(short_parameter_value(code)) != std::bit_cast<uint32_t>(v)) return std::nullopt;
  return code;
}

void write_parameter(ByteWriter& w, float v) {
  if (const auto code = short_parameter_code(v)) {
    w.varint(*code);
  } else {
    w.varint(0);
    w.f32(v);
  }
}

Result<float> read_parameter(ByteReader& r, uint8_t version) {
  if (version == kVersion1) return r.f32("parameter");
  DISC_ASSIGN_OR_RETURN(const uint32_t code, r.varint("parameter"));
  if (code == 0) return r.f32("parameter");
  return short_parameter_value(code);
}

uint32_t crc32_of(std::span<const uint8_t> bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed in chunks so >4 GiB inputs stay correct.
  size_t off = 0;
  while (off < bytes.size()) {
    const size_t n = std::min<size_t>(bytes.size() - off, 1u << 30);
    crc = crc32(crc, bytes.data() + off, static_cast<uInt>(n));
    off += n;
  }
  return static_cast<uint32_t>(crc);
}

const CodecInfo* codec_by_id(uint8_t id) {
  for (const CodecInfo& info : codec_list())
    if (static_cast<uint8_t>(info.id) == id) return &info;
  return nullptr;
}

// Parses and validates the header; on success `reader` is positioned at the payload.
Result<StreamInfo> parse_header(std::span<const uint8_t> stream, const DecodeLimits& limits) {
  if (stream.empty()) return Error("empty stream (0 bytes): not a DISC stream");
  ByteReader r(stream);
  DISC_ASSIGN_OR_RETURN(auto magic, r.bytes(4, "magic"));
  if (!std::equal(magic.begin(), magic.end(), kMagic)) return Error("not a DISC stream (bad magic)");
  StreamInfo info;
  DISC_ASSIGN_OR_RETURN(info.version, r.u8("version"));
  if (info.version != kVersion && info.version != kVersion1)
    return Error("unsupported DISC stream version " + std::to_string(info.version) + " (this build reads 1 and 2)");
  const auto read_size = [&](const char* what) { return info.version == kVersion1 ? r.u32(what) : r.varint(what); };
  DISC_ASSIGN_OR_RETURN(uint8_t codec_id, r.u8("codec id"));
  const CodecInfo* codec = codec_by_id(codec_id);
  if (!codec) return Error("unknown codec id " + std::to_string(codec_id));
  info.codec = codec->id;
  DISC_ASSIGN_OR_RETURN(uint8_t rank, r.u8("rank"));
  DISC_ASSIGN_OR_RETURN(uint8_t param_count, r.u8("parameter count"));
  if (rank < 1 || rank > kMaxRank) return Error("stream rank " + std::to_string(rank) + " is outside 1..8");
  for (uint8_t i = 0; i < rank; ++i) {
    DISC_ASSIGN_OR_RETURN(uint32_t d, read_size("dimension"));
    info.shape.push_back(d);
  }
  auto count = element_count(info.shape, limits.max_elements);
  if (!count.ok()) return count.error().with_context("stream shape");
  // Fewer parameters: a stream written before the codec gained its later parameters, which
  // take their defaults (every codec's new parameters default to the old behaviour).
  if (param_count > codec->params.size())
    return Error("codec '" + codec->name + "' takes " + std::to_string(codec->params.size()) +
                 " parameters, stream has " + std::to_string(param_count));
  info.spec.name = codec->name;
  for (uint8_t i = 0; i < param_count; ++i) {
    DISC_ASSIGN_OR_RETURN(float v, read_parameter(r, info.version));
    info.spec.params.emplace_back(codec->params[i].name, v);
  }
  for (size_t i = param_count; i < codec->params.size(); ++i)
    info.spec.params.emplace_back(codec->params[i].name, codec->params[i].default_value);
  DISC_ASSIGN_OR_RETURN(uint32_t payload_bytes, read_size("payload length"));
  info.header_bytes = r.position();
  info.payload_bytes = payload_bytes;
  if (r.remaining() < 4 || r.remaining() - 4 < payload_bytes)
    return Error("truncated stream: header announces " + std::to_string(payload_bytes) +
                 " payload bytes + 4 checksum bytes, " + std::to_string(r.remaining()) + " left");
  if (r.remaining() - 4 > payload_bytes)
    return Error("stream has " + std::to_string(r.remaining() - payload_bytes - 4) + " trailing bytes");
  info.total_bytes = stream.size();
  const size_t body = stream.size() - 4;
  ByteReader tail(stream.subspan(body));
  DISC_ASSIGN_OR_RETURN(uint32_t stored_crc, tail.u32("checksum"));
  if (stored_crc != crc32_of(stream.first(body))) return Error("stream checksum mismatch (corrupt stream)");
  return info;
}

// Everything before the payload, in the current version.
void write_header(ByteWriter& w, const Shape& shape, const Codec& codec, size_t payload_bytes) {
  const CodecInfo& info = codec.info();
  w.bytes(kMagic);
  w.u8(kVersion);
  w.u8(static_cast<uint8_t>(info.id));
  w.u8(static_cast<uint8_t>(shape.size()));
  // Trailing parameters at their defaults are left out (a decoder restores them).
  size_t param_count = codec.params().size();
  while (param_count > 0 && codec.params()[param_count - 1] == info.params[param_count - 1].default_value)
    --param_count;
  w.u8(static_cast<uint8_t>(param_count));
  for (int64_t d : shape) w.varint(static_cast<uint64_t>(d));
  for (size_t i = 0; i < param_count; ++i) write_parameter(w, codec.params()[i]);
  w.varint(payload_bytes);
}

}  // namespace

Result<Bytes> compress(const Tensor& tensor, const Codec& codec) {
  // No larger than decompress() accepts by default, so that every stream written can be read.
  DISC_RETURN_IF_ERROR(element_count(tensor.shape(), DecodeLimits{}.max_elements).status());
  for (int64_t d : tensor.shape())
    if (d > UINT32_MAX)
      return Error("dimension " + std::to_string(d) + " does not fit the stream format", ErrorCode::kInvalidArgument);
  DISC_ASSIGN_OR_RETURN(Bytes payload, codec.encode_payload(tensor));
  if (payload.size() > UINT32_MAX) return Error("payload exceeds 4 GiB", ErrorCode::kResourceExhausted);
  Bytes out;
  out.reserve(payload.size() + 64);
  ByteWriter w(&out);
  write_header(w, tensor.shape(), codec, payload.size());
  w.bytes(payload);
  w.u32(crc32_of(out));
  return out;
}

size_t stream_bytes(const Shape& shape, const Codec& codec, size_t payload_bytes) {
  Bytes header;
  ByteWriter w(&header);
  write_header(w, shape, codec, payload_bytes);
  return header.size() + payload_bytes + 4;
}

Result<StreamInfo> inspect(std::span<const uint8_t> stream, const DecodeLimits& limits) {
  auto info = parse_header(stream, limits);
  if (!info.ok()) return decoding_error(info.error());
  if (auto codec = make_codec(info->spec); !codec.ok())
    return decoding_error(codec.error().with_context("stream parameters"));
  return info;
}

Result<Tensor> decompress(std::span<const uint8_t> stream, const DecodeLimits& limits) {
  auto info = parse_header(stream, limits);
  if (!info.ok()) return decoding_error(info.error());
  return decompress(stream, *info);
}

Result<Tensor> decompress(std::span<const uint8_t> stream, const StreamInfo& inspected) {
  if (stream.size() != inspected.total_bytes)
    return Error("stream is not the one inspected", ErrorCode::kInvalidArgument);
  auto codec = make_codec(inspected.spec);
  if (!codec.ok()) return decoding_error(codec.error().with_context("stream parameters"));
  auto tensor =
      codec.value()->decode_payload(stream.subspan(inspected.header_bytes, inspected.payload_bytes), inspected.shape);
  if (!tensor.ok()) return tensor.error().with_context(inspected.spec.name + " payload");
  if (tensor->shape() != inspected.shape)
    return Error(inspected.spec.name + " payload decoded to the wrong shape", ErrorCode::kInternal);
  return tensor;
}

}  // namespace disc
