// What the fuzzers require of every error a decoder returns for untrusted bytes.
#pragma once

#include "disc/status.hpp"

namespace disc_fuzz {

// The codes a decoder may give untrusted bytes (codec.hpp): their fault, or a limit.
inline bool blames_the_bytes(const disc::Error& error) {
  return error.code() == disc::ErrorCode::kDataLoss || error.code() == disc::ErrorCode::kResourceExhausted;
}

}  // namespace disc_fuzz
