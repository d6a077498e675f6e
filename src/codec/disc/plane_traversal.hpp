// The coding order shared by the lossy and lossless coders, in both directions: planes in
// order, each preceded by an adaptive "plane is all zero" flag (context: previous plane's
// flag, 1 before the first plane); elements of a non-empty plane in raster order, each
// coded with the already-coded neighbours below (missing ones are 0; after an all-zero
// plane the previous plane reads as 0).
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "codec/disc/range_coder.hpp"
#include "disc/tensor.hpp"

namespace disc::codec_disc {

template <class T>
struct Neighbours {
  T left, up, up_left, up_right, previous;
};

// `begin_row(up, previous)` runs before each row of a non-empty plane with the zero-padded
// row above (up[-1] .. up[width] readable) and the same row of the previous plane
// (previous[0] .. previous[width - 1]), so that a coder can prepare per-column context parts
// for the whole row at once. `code_element(neighbours, x, value)` then codes the element in
// column x: the encoder passes the value, the decoder receives it in `value`. It returns
// false on malformed input, which stops the traversal and makes it return false; so does a
// decoder that ran past its input. `begin_plane(p)` runs after the flag of every non-empty
// plane p, before its elements (the element-wise coder codes the plane's step exponent
// there); false stops the traversal too.
template <class T, class Coder, class BeginPlane, class BeginRow, class CodeElement>
bool traverse_planes(Coder& coder, const PlaneView& view, CodedPointer<Coder, T> data, BitModel (&plane_empty)[2],
                     BeginPlane&& begin_plane, BeginRow&& begin_row, CodeElement&& code_element) {
  // Zero-padded (height+1) x (width+2) copies of the current and previous plane.
  const size_t stride = view.width + 2;
  std::vector<T> current((view.height + 1) * stride, T{0}), previous((view.height + 1) * stride, T{0});
  int previous_empty = 1;
  for (size_t p = 0; p < view.planes; ++p) {
    const CodedPointer<Coder, T> plane = data + p * view.plane_size();
    int empty = 0;
    if constexpr (kIsEncoder<Coder>)
      empty = std::all_of(plane, plane + view.plane_size(), [](T v) { return v == T{0}; });
    empty = coder.bit(plane_empty[previous_empty], empty);
    previous_empty = empty;
    if (empty) {
      if constexpr (!kIsEncoder<Coder>) std::fill(plane, plane + view.plane_size(), T{0});
      std::fill(previous.begin(), previous.end(), T{0});
      continue;
    }
    if (!begin_plane(p)) return false;
    for (size_t y = 0; y < view.height; ++y) {
      T* row = current.data() + (y + 1) * stride + 1;
      const T* up_row = row - stride;
      const T* previous_row = previous.data() + (y + 1) * stride + 1;
      const CodedPointer<Coder, T> out = plane + y * view.width;
      begin_row(up_row, previous_row);
      for (size_t x = 0; x < view.width; ++x) {
        T value = kIsEncoder<Coder> ? out[x] : T{0};
        // Signed index: row[x - 1] with x = 0 would wrap the unsigned offset (UB, found by UBSan).
        const ptrdiff_t left = static_cast<ptrdiff_t>(x) - 1;
        if (!code_element(Neighbours<T>{row[left], up_row[x], up_row[left], up_row[x + 1], previous_row[x]}, x, value))
          return false;
        row[x] = value;
        if constexpr (!kIsEncoder<Coder>) out[x] = value;
      }
      if (coder.overran()) return false;
    }
    std::swap(current, previous);
  }
  return true;
}

template <class T, class Coder, class CodeElement>
bool traverse_planes(Coder& coder, const PlaneView& view, CodedPointer<Coder, T> data, BitModel (&plane_empty)[2],
                     CodeElement&& code_element) {
  return traverse_planes<T>(
      coder, view, data, plane_empty, [](size_t) { return true; }, [](const T*, const T*) {},
      std::forward<CodeElement>(code_element));
}

}  // namespace disc::codec_disc
