// Little-endian byte writing and bounds-checked reading for wire formats.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "disc/status.hpp"

namespace disc {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>* out) : out_(out) {}
  void u8(uint8_t v) { out_->push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void f32(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    u32(u);
  }
  // LEB128: 7 bits per byte, least significant group first, bit 7 set on every byte but the
  // last; the shortest encoding (1..5 bytes below 2^32, which is all a reader accepts).
  void varint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) out_->push_back(static_cast<uint8_t>(v | 0x80));
    out_->push_back(static_cast<uint8_t>(v));
  }
  void bytes(std::span<const uint8_t> b) { out_->insert(out_->end(), b.begin(), b.end()); }
  size_t size() const { return out_->size(); }

 private:
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_->push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t>* out_;
};

// Every read checks the remaining length; a short read returns an Error naming `what`.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> in) : in_(in) {}
  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }

  Result<uint8_t> u8(const char* what) {
    DISC_RETURN_IF_ERROR(need(1, what));
    return in_[pos_++];
  }
  Result<uint16_t> u16(const char* what) { return get<uint16_t>(2, what); }
  Result<uint32_t> u32(const char* what) { return get<uint32_t>(4, what); }
  Result<uint64_t> u64(const char* what) { return get<uint64_t>(8, what); }
  Result<float> f32(const char* what) {
    DISC_ASSIGN_OR_RETURN(uint32_t u, u32(what));
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  // The shortest LEB128 encoding of a value below 2^32, as ByteWriter::varint writes it: at
  // most 5 bytes, and no final group of 0 after another group.
  Result<uint32_t> varint(const char* what) {
    uint64_t v = 0;
    for (int i = 0; i < 5; ++i) {
      DISC_ASSIGN_OR_RETURN(const uint8_t b, u8(what));
      v |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
      if (b & 0x80) continue;
      if (b == 0 && i > 0) return Error(std::string(what) + ": overlong varint");
      if (v > UINT32_MAX) return Error(std::string(what) + ": varint exceeds 32 bits");
      return static_cast<uint32_t>(v);
    }
    return Error(std::string(what) + ": varint longer than 5 bytes");
  }
  Result<std::span<const uint8_t>> bytes(size_t n, const char* what) {
    DISC_RETURN_IF_ERROR(need(n, what));
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  Status need(size_t n, const char* what) const {
    if (remaining() < n)
      return Error(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes at offset " +
                   std::to_string(pos_) + ", " + std::to_string(remaining()) + " left");
    return Status();
  }
  template <class T>
  Result<T> get(int n, const char* what) {
    DISC_RETURN_IF_ERROR(need(static_cast<size_t>(n), what));
    T v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<T>(static_cast<T>(in_[pos_ + i]) << (8 * i));
    pos_ += static_cast<size_t>(n);
    return v;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

}  // namespace disc
