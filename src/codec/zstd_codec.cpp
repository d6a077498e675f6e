// "zstd": zstd over the fp32 bytes. Lossless; shows how little generic compression gets.
#include <zstd.h>

#include <cstring>

#include "codec/codec_registry.hpp"

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

  Result<Bytes> encode_payload(const Tensor& tensor) const override {
    Bytes out(ZSTD_compressBound(tensor.bytes()));
    const size_t n = ZSTD_compress(out.data(), out.size(), tensor.data(), tensor.bytes(),
                                   static_cast<int>(params()[0]));
    if (ZSTD_isError(n)) return Error(std::string("zstd: ") + ZSTD_getErrorName(n));
    out.resize(n);
    return out;
  }

  Result<Tensor> decode_payload(std::span<const uint8_t> payload, const Shape& shape) const override {
    DISC_ASSIGN_OR_RETURN(Tensor t, Tensor::make(shape));
    const unsigned long long content = ZSTD_getFrameContentSize(payload.data(), payload.size());
    if (content != t.bytes())
      return Error("zstd frame does not hold the " + std::to_string(t.bytes()) + " bytes the shape needs");
    const size_t n = ZSTD_decompress(t.data(), t.bytes(), payload.data(), payload.size());
    if (ZSTD_isError(n)) return Error(std::string("zstd: ") + ZSTD_getErrorName(n));
    if (n != t.bytes()) return Error("zstd frame decoded to " + std::to_string(n) + " bytes");
    return t;
  }
};

}  // namespace

const CodecEntry kZstdCodec{zstd_info, [](std::vector<float> p) -> Result<std::unique_ptr<Codec>> {
                              return std::unique_ptr<Codec>(new ZstdCodec(std::move(p)));
                            }};

}  // namespace disc
