#include "codec/disc/range_coder.hpp"

#include <string>

namespace disc::codec_disc {

// Carry propagation: a byte is held in cache_ (followed by cache_size_-1 pending 0xFF bytes)
// until it is known that no later carry can change it.
void RangeEncoder::shift_low() {
  if (low_ < 0xFF000000u || low_ > 0xFFFFFFFFu) {
    const uint8_t carry = static_cast<uint8_t>(low_ >> 32);
    uint8_t byte = cache_;
    do {
      out_->push_back(static_cast<uint8_t>(byte + carry));
      byte = 0xFF;
    } while (--cache_size_ != 0);
    cache_ = static_cast<uint8_t>(low_ >> 24);
  }
  ++cache_size_;
  low_ = (low_ & 0x00FFFFFFu) << 8;
}

void RangeEncoder::finish() {
  for (int i = 0; i < 5; ++i) shift_low();
}

RangeDecoder::RangeDecoder(std::span<const uint8_t> in) : in_(in) {
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
