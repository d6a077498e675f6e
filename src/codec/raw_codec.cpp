// "raw": the fp32 values as little-endian bytes. The reference that ratios are measured against.
#include <cstring>

#include "codec/codec_registry.hpp"

namespace disc {
namespace {

const CodecInfo& raw_info() {
  static const CodecInfo info{CodecId::kRaw, "raw", "fp32 values as is (lossless reference)", true, {}};
  return info;
}

class RawCodec final : public Codec {
 public:
  explicit RawCodec(std::vector<float> params) : Codec(std::move(params)) {}
  const CodecInfo& info() const override { return raw_info(); }

  Result<Bytes> encode_valid(const Tensor& tensor) const override {
    const auto* p = reinterpret_cast<const uint8_t*>(tensor.data());
    return Bytes(p, p + tensor.bytes());
  }

  Result<Tensor> decode_valid(std::span<const uint8_t> payload, const Shape& shape) const override {
    // Checked before allocating: the payload is exactly the 4·N value bytes.
    DISC_ASSIGN_OR_RETURN(const size_t count, element_count(shape));
    if (payload.size() != count * sizeof(float))
      return Error("has " + std::to_string(payload.size()) + " bytes, shape needs " +
                   std::to_string(count * sizeof(float)));
    DISC_ASSIGN_OR_RETURN(Tensor t, Tensor::make(shape));
    std::memcpy(t.data(), payload.data(), payload.size());
    return t;
  }
};

}  // namespace

const CodecEntry kRawCodec{raw_info, [](std::vector<float> p, const EncoderContext&) -> Result<std::unique_ptr<Codec>> {
                             return std::unique_ptr<Codec>(new RawCodec(std::move(p)));
                           }};

}  // namespace disc
