#include "codec/disc/range_coder.hpp"

#include <string>

namespace disc::codec_disc {

void RangeEncoder::finish() {
  for (int i = 0; i < 5; ++i) shift_low();
}

RangeDecoder::RangeDecoder(std::span<const uint8_t> in, Adaptation adaptation)
    : in_(in), shifts_(adaptation_shifts(adaptation)) {
  bad_first_byte_ = next_byte() != 0;
  for (int i = 0; i < 4; ++i) code_ = (code_ << 8) | next_byte();
}

Status RangeDecoder::finish() const {
  if (bad_first_byte_) return Error("range-coded data does not start with a zero byte");
  if (pos_ != in_.size())
    return Error("range-coded data has " + std::to_string(in_.size()) + " bytes, decoding consumed " +
                 std::to_string(pos_));
  return Status();
}

}  // namespace disc::codec_disc
