// "q8zstd" (JALAD-style): per-tensor min/max, 8-bit uniform quantization, then zstd.
// Payload layout: doc/FORMAT.md, "Payload: q8zstd (id 3)".
#include "codec/byte_quantizer.hpp"
#include "codec/codec_registry.hpp"
#include "codec/zstd_frame.hpp"

namespace disc {
namespace {

const CodecInfo& q8zstd_info() {
  static const CodecInfo info{CodecId::kQ8Zstd, "q8zstd", "8-bit uniform quantization + zstd (JALAD-style)", false,
                              {{"level", "zstd compression level", 3, 1, 19, true}}};
  return info;
}

class Q8ZstdCodec final : public Codec {
 public:
  explicit Q8ZstdCodec(std::vector<float> params) : Codec(std::move(params)) {}
  const CodecInfo& info() const override { return q8zstd_info(); }

  Result<Bytes> encode_valid(const Tensor& tensor) const override {
    DISC_ASSIGN_OR_RETURN(ByteQuantizer quantizer, ByteQuantizer::fit(tensor.values()));
    Bytes levels(tensor.size());
    quantizer.quantize(tensor.values(), levels);
    DISC_ASSIGN_OR_RETURN(Bytes frame, zstd_compress_frame(levels, static_cast<int>(params()[0])));
    Bytes out;
    ByteWriter w(&out);
    quantizer.write(w);
    w.bytes(frame);
    return out;
  }

  Result<Tensor> decode_valid(std::span<const uint8_t> payload, const Shape& shape) const override {
    ByteReader r(payload);
    DISC_ASSIGN_OR_RETURN(ByteQuantizer quantizer, ByteQuantizer::read(r));
    DISC_ASSIGN_OR_RETURN(auto frame, r.bytes(r.remaining(), "zstd frame"));
    // The frame must show it holds the N levels before the output is allocated.
    DISC_ASSIGN_OR_RETURN(const size_t count, element_count(shape));
    DISC_RETURN_IF_ERROR(check_zstd_frame(frame, count));
    DISC_ASSIGN_OR_RETURN(Tensor t, Tensor::make(shape));
    // A level buffer of a quarter of the output keeps dequantization a vectorized forward loop
    // (decoded in place, from the last value back, it ran 1.25x slower: doc/DESIGN.md).
    Bytes levels(count);
    DISC_RETURN_IF_ERROR(zstd_decompress_frame(frame, levels));
    quantizer.dequantize(levels, t.values());
    return t;
  }
};

}  // namespace

const CodecEntry kQ8ZstdCodec{q8zstd_info, [](std::vector<float> p, const EncoderContext&) -> Result<std::unique_ptr<Codec>> {
                                return std::unique_ptr<Codec>(new Q8ZstdCodec(std::move(p)));
                              }};

}  // namespace disc
