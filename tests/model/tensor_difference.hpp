// How far a network's output is from the one expected, for the model tests.
#pragma once

#include <algorithm>
#include <cmath>

#include "disc/tensor.hpp"

namespace disc::testing {

// The largest |expected - got| over the largest |expected| (tensors of one size): 0 when
// they are equal.
inline float relative_difference(const Tensor& expected, const Tensor& got) {
  float scale = 0, difference = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    scale = std::max(scale, std::abs(expected.data()[i]));
    difference = std::max(difference, std::abs(expected.data()[i] - got.data()[i]));
  }
  return scale > 0 ? difference / scale : difference;
}

}  // namespace disc::testing
