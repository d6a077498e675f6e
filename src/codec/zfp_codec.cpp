// "zfp": ZFP fixed-accuracy on the planes stacked into one 2-D array. The tolerance
// parameter is relative to the tensor's max |value|, so one setting suits every cut; below
// an absolute floor of 2^-91 (maps with max |x| under about 4e-28 / tolerance) it is absolute.
// Payload layout: doc/FORMAT.md, "Payload: zfp (id 6)".
#include <zfp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "codec/codec_registry.hpp"
#include "core/bytes.hpp"

namespace disc {
namespace {

const CodecInfo& zfp_info() {
  static const CodecInfo info{CodecId::kZfp, "zfp", "ZFP fixed-accuracy, tolerance relative to max |x|", false,
                              {{"tolerance", "absolute error bound / max |x|", 0.01f, 1e-6f, 0.5f, false}}};
  return info;
}

struct ZfpFieldFree {
  void operator()(zfp_field* f) const { zfp_field_free(f); }
};
struct ZfpStreamClose {
  void operator()(zfp_stream* s) const { zfp_stream_close(s); }
};
struct BitstreamClose {
  void operator()(bitstream* s) const { stream_close(s); }
};

// The array zfp sees: the planes stacked into one (planes * height) x width 2-D array
// (1-D if that has one row). Channels are nearly uncorrelated, so 3-D blocks spanning
// planes compress worse: at tolerance 0.01 the 2-D layout gave ratio 4.97 vs 3.90 (3-D)
// on a real SqueezeNet /MaxPool map, 5.77 vs 3.74 on /Concat_3, 3.01 vs 2.73 on a
// MobileNetV2 /Add map.
std::unique_ptr<zfp_field, ZfpFieldFree> make_field(float* data, const Shape& shape) {
  const PlaneView v = plane_view(shape);
  const size_t rows = v.planes * v.height;
  return std::unique_ptr<zfp_field, ZfpFieldFree>(rows > 1 ? zfp_field_2d(data, zfp_type_float, v.width, rows)
                                                           : zfp_field_1d(data, zfp_type_float, v.width));
}

// A zfp stream in fixed-accuracy mode, serial execution, reading or writing `buffer`.
struct ZfpStream {
  std::unique_ptr<bitstream, BitstreamClose> bits;
  std::unique_ptr<zfp_stream, ZfpStreamClose> zfp;
};
Result<ZfpStream> open_stream(float tolerance) {
  ZfpStream s;
  s.zfp.reset(zfp_stream_open(nullptr));
  if (!s.zfp) return Error("zfp: cannot open a stream");
  zfp_stream_set_accuracy(s.zfp.get(), tolerance);
  return s;
}
void attach(ZfpStream& s, std::span<uint8_t> buffer) {
  s.bits.reset(stream_open(buffer.data(), buffer.size()));
  zfp_stream_set_bit_stream(s.zfp.get(), s.bits.get());
  zfp_stream_rewind(s.zfp.get());
}

// The smallest tolerance the encoder hands zfp. zfp 1.0 scales a float block by
// 2^(30 - emax) in float arithmetic (emax: the exponent of the block's largest |x|, |x| < 2^emax),
// which overflows to infinity for emax <= -98, and then converts infinity to an integer
// (undefined behaviour; the block decoded to about -2^(emax+1) everywhere). A block is coded
// as zero, without that scaling, when emax + 6 <= the tolerance's exponent: a tolerance of at
// least 2^-92 makes every such block a zero block, whose error (< 2^-97) is within it.
constexpr float kMinZfpTolerance = 0x1p-92f;

// zfp's own header: magic and array metadata (type and dimensions), so a payload decoded
// under a different shape is rejected even when it would hold the same number of blocks.
constexpr uint kZfpHeader = ZFP_HEADER_MAGIC | ZFP_HEADER_META;

Status check_header(ZfpStream& s, const zfp_field& expected) {
  std::unique_ptr<zfp_field, ZfpFieldFree> stored(zfp_field_alloc());
  if (!stored) return Error("zfp: cannot allocate a field", ErrorCode::kResourceExhausted);
  if (zfp_read_header(s.zfp.get(), stored.get(), kZfpHeader) == 0) return Error("zfp header is corrupt");
  if (stored->type != expected.type || stored->nx != expected.nx || stored->ny != expected.ny ||
      stored->nz != expected.nz || stored->nw != expected.nw)
    return Error("zfp header describes a different array than the shape");
  return Status();
}

// Decodes the blocks of the 1-D or 2-D float array `field` in zfp's serial order (rows of
// 4x4 blocks, partial blocks at the right and bottom edges), as zfp_decompress does, but
// stops as soon as a block ends past `body_bits`: the buffer behind the stream then only
// needs to extend one block's maximum size (plus a word) past the body, not
// zfp_stream_maximum_size of the whole array. Returns false if the stream ran past the body.
bool decode_blocks(zfp_stream* zfp, const zfp_field& field, float* data, uint64_t body_bits) {
  bitstream* bits = zfp_stream_bit_stream(zfp);
  const size_t nx = field.nx;
  const size_t ny = field.ny ? field.ny : 1;
  const ptrdiff_t sx = 1;
  const ptrdiff_t sy = static_cast<ptrdiff_t>(nx);
  for (size_t y = 0; y < ny; y += 4)
    for (size_t x = 0; x < nx; x += 4) {
      float* p = data + sx * static_cast<ptrdiff_t>(x) + sy * static_cast<ptrdiff_t>(y);
      if (field.ny == 0) {
        if (nx - x < 4)
          zfp_decode_partial_block_strided_float_1(zfp, p, nx - x, sx);
        else
          zfp_decode_block_strided_float_1(zfp, p, sx);
      } else if (nx - x < 4 || ny - y < 4) {
        zfp_decode_partial_block_strided_float_2(zfp, p, std::min<size_t>(nx - x, 4), std::min<size_t>(ny - y, 4),
                                                 sx, sy);
      } else {
        zfp_decode_block_strided_float_2(zfp, p, sx, sy);
      }
      if (stream_rtell(bits) > body_bits) return false;
    }
  return true;
}

class ZfpCodec final : public Codec {
 public:
  explicit ZfpCodec(std::vector<float> params) : Codec(std::move(params)) {}
  const CodecInfo& info() const override { return zfp_info(); }

  Result<Bytes> encode_valid(const Tensor& tensor) const override {
    float max_abs = 0;
    for (float v : tensor.values()) {
      if (!std::isfinite(v)) return Error("tensor holds NaN or infinity; zfp needs finite values");
      max_abs = std::max(max_abs, std::fabs(v));
    }
    // zfp's fixed-accuracy mode overshoots its tolerance on some blocks (by up to 1.3x on
    // ReLU-like test data; see llnl/zfp#62), so zfp is asked for half the requested bound,
    // but never less than the floor: the error is within max(tolerance * max|x|, 2^-91).
    const float tolerance = std::max(0.5f * params()[0] * max_abs, kMinZfpTolerance);
    // zfp only reads through the field pointer when compressing.
    auto field = make_field(const_cast<float*>(tensor.data()), tensor.shape());
    DISC_ASSIGN_OR_RETURN(ZfpStream s, open_stream(tolerance));
    if (!field) return Error("zfp: cannot describe the array", ErrorCode::kInternal);
    const size_t max_size = zfp_stream_maximum_size(s.zfp.get(), field.get());
    Bytes out;
    out.reserve(4 + max_size);
    ByteWriter(&out).f32(tolerance);
    const size_t header = out.size();
    out.resize(header + max_size);
    attach(s, std::span(out).subspan(header));
    if (zfp_write_header(s.zfp.get(), field.get(), kZfpHeader) == 0)
      return Error("zfp: cannot write its header", ErrorCode::kInternal);
    const size_t n = zfp_compress(s.zfp.get(), field.get());
    if (n == 0) return Error("zfp compression failed", ErrorCode::kInternal);
    out.resize(header + n);
    return out;
  }

  Result<Tensor> decode_valid(std::span<const uint8_t> payload, const Shape& shape) const override {
    ByteReader r(payload);
    DISC_ASSIGN_OR_RETURN(float tolerance, r.f32("tolerance"));
    if (!std::isfinite(tolerance) || tolerance < 0) return Error("zfp tolerance is negative or not finite");
    // The array, without its data yet: everything below up to the header check is sized by
    // the payload, not by the shape, and the output is allocated only after the checks.
    auto field = make_field(nullptr, shape);
    DISC_ASSIGN_OR_RETURN(ZfpStream s, open_stream(tolerance));
    if (!field) return Error("zfp: cannot describe the array", ErrorCode::kInternal);
    const size_t max_size = zfp_stream_maximum_size(s.zfp.get(), field.get());
    const size_t body_size = r.remaining();
    if (body_size > max_size)
      return Error("zfp stream has " + std::to_string(body_size) + " bytes, these parameters allow at most " +
                   std::to_string(max_size));
    // Invariant of zfp's format: every block takes at least one bit (its first bit says whether
    // it is all zero; fixed-accuracy mode's minimum is ZFP_MIN_BITS = 1), after the header's
    // ZFP_MAGIC_BITS + ZFP_META_BITS = 84 bits. A stream too short for that is refused here.
    const uint64_t blocks = zfp_field_blocks(field.get());
    constexpr uint64_t header_bits = ZFP_MAGIC_BITS + ZFP_META_BITS;
    const uint64_t body_bits = uint64_t{body_size} * 8;
    if (body_bits < header_bits + blocks * ZFP_MIN_BITS)
      return Error("zfp stream has " + std::to_string(body_size) + " bytes, too few for the header and the " +
                   std::to_string(blocks) + " blocks of the shape (at least one bit each)");
    // zfp's bit reader has no bounds checks. One block reads at most the maximum size of a
    // one-block array (which also covers the header) plus a word of look-ahead, whatever the
    // bits say; decode_blocks stops once a block ends past the body. So decode from a
    // zero-padded copy that extends that far past it, and require the decoder to have used
    // exactly the payload.
    std::unique_ptr<zfp_field, ZfpFieldFree> one_block(
        field->ny ? zfp_field_2d(nullptr, zfp_type_float, 4, 4) : zfp_field_1d(nullptr, zfp_type_float, 4));
    if (!one_block) return Error("zfp: cannot describe a block");
    const size_t spare = zfp_stream_maximum_size(s.zfp.get(), one_block.get()) + 8;
    DISC_ASSIGN_OR_RETURN(auto body, r.bytes(body_size, "zfp stream"));
    Bytes padded((body_size + 7) / 8 * 8 + spare, 0);  // whole words: zfp reads 64 bits at a time
    std::copy(body.begin(), body.end(), padded.begin());
    attach(s, padded);
    DISC_RETURN_IF_ERROR(check_header(s, *field));
    DISC_ASSIGN_OR_RETURN(Tensor t, Tensor::make(shape));
    if (!decode_blocks(s.zfp.get(), *field, t.data(), body_bits))
      return Error("zfp stream of " + std::to_string(body_size) + " bytes ends before its last block");
    zfp_stream_align(s.zfp.get());
    const size_t used = zfp_stream_compressed_size(s.zfp.get());
    if (used != body_size)
      return Error("zfp stream is " + std::to_string(body_size) + " bytes, decoding used " + std::to_string(used));
    return t;
  }
};

}  // namespace

const CodecEntry kZfpCodec{zfp_info, [](std::vector<float> p, const EncoderContext&) -> Result<std::unique_ptr<Codec>> {
                             return std::unique_ptr<Codec>(new ZfpCodec(std::move(p)));
                           }};

}  // namespace disc
