// "zstd": zstd over the fp32 bytes. Lossless; shows how little generic compression gets.
#include "codec/codec_registry.hpp"
#include "codec/zstd_frame.hpp"

namespace disc {
namespace {

const CodecInfo& zstd_info() {
  static const CodecInfo info{CodecId::kZstd, "zstd", "zstd on the fp32 bytes (lossless)", true,
                              {{"level", "zstd compression level", 3, 1, 19, true}}};
  return info;
}

class ZstdCodec final : public Codec {
 public:
  explicit ZstdCodec(std::vector<float> params) : Codec(std::move(params)) {}
  const CodecInfo& info() const override { return zstd_info(); }

  Result<Bytes> encode_valid(const Tensor& tensor) const override {
    const auto* p = reinterpret_cast<const uint8_t*>(tensor.data());
    return zstd_compress_frame({p, tensor.bytes()}, static_cast<int>(params()[0]));
  }

  Result<Tensor> decode_valid(std::span<const uint8_t> payload, const Shape& shape) const override {
    // The frame must show it holds the 4·N bytes before they are allocated.
    DISC_ASSIGN_OR_RETURN(const size_t count, element_count(shape));
    DISC_RETURN_IF_ERROR(check_zstd_frame(payload, count * sizeof(float)));
    DISC_ASSIGN_OR_RETURN(Tensor t, Tensor::make(shape));
    DISC_RETURN_IF_ERROR(zstd_decompress_frame(payload, {reinterpret_cast<uint8_t*>(t.data()), t.bytes()}));
    return t;
  }
};

}  // namespace

const CodecEntry kZstdCodec{zstd_info, [](std::vector<float> p, const EncoderContext&) -> Result<std::unique_ptr<Codec>> {
                              return std::unique_ptr<Codec>(new ZstdCodec(std::move(p)));
                            }};

}  // namespace disc
