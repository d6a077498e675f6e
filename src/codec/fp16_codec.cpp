// "fp16": every value as an IEEE half (round to nearest even). Halves the size; a finite
// value that rounds beyond ±65504 is an encoding error (it would decode as ±infinity); values
// below 2^-24 lose precision or flush to zero.
#include "codec/codec_registry.hpp"
#include "codec/half.hpp"

#include <cmath>
#include <string>

namespace disc {
namespace {

const CodecInfo& fp16_info() {
  static const CodecInfo info{CodecId::kFp16, "fp16", "IEEE half precision (round to nearest even)", false, {}};
  return info;
}

class Fp16Codec final : public Codec {
 public:
  explicit Fp16Codec(std::vector<float> params) : Codec(std::move(params)) {}
  const CodecInfo& info() const override { return fp16_info(); }

  Result<Bytes> encode_valid(const Tensor& tensor) const override {
    Bytes out(tensor.size() * 2);
    for (size_t i = 0; i < tensor.size(); ++i) {
      const float v = tensor.data()[i];
      const uint16_t h = float_to_half(v);
      if ((h & 0x7FFFu) == 0x7C00u && std::isfinite(v))
        return Error("value " + std::to_string(v) + " at element " + std::to_string(i) +
                     " is beyond fp16's range (±65504)");
      out[2 * i] = static_cast<uint8_t>(h);
      out[2 * i + 1] = static_cast<uint8_t>(h >> 8);
    }
    return out;
  }

  Result<Tensor> decode_valid(std::span<const uint8_t> payload, const Shape& shape) const override {
    // Checked before allocating: the payload is exactly the 2·N half bytes.
    DISC_ASSIGN_OR_RETURN(const size_t count, element_count(shape));
    if (payload.size() != count * 2)
      return Error("has " + std::to_string(payload.size()) + " bytes, shape needs " +
                   std::to_string(count * 2));
    DISC_ASSIGN_OR_RETURN(Tensor t, Tensor::make(shape));
    for (size_t i = 0; i < t.size(); ++i)
      t.data()[i] = half_to_float(static_cast<uint16_t>(payload[2 * i] | (payload[2 * i + 1] << 8)));
    return t;
  }
};

}  // namespace

const CodecEntry kFp16Codec{fp16_info, [](std::vector<float> p, const EncoderContext&) -> Result<std::unique_ptr<Codec>> {
                              return std::unique_ptr<Codec>(new Fp16Codec(std::move(p)));
                            }};

}  // namespace disc
