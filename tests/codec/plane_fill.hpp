// Test helper: a tensor whose every element is f(plane, y, x) in the codecs' plane view.
#pragma once

#include "disc/tensor.hpp"

namespace disc {

template <class F>
Tensor planes_from(Shape shape, F f) {
  Tensor t(std::move(shape));
  const PlaneView v = plane_view(t.shape());
  for (size_t p = 0; p < v.planes; ++p)
    for (size_t y = 0; y < v.height; ++y)
      for (size_t x = 0; x < v.width; ++x) t.data()[(p * v.height + y) * v.width + x] = f(p, y, x);
  return t;
}

}  // namespace disc
