// The coding order shared by the lossy and lossless coders, in both directions: planes in
// order, each preceded by an adaptive "plane is all zero" flag (context: previous plane's
// flag, 1 before the first plane); elements of a non-empty plane in raster order, each
// coded with the already-coded neighbours below (missing ones are 0; after an all-zero
// plane the previous plane reads as 0).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <type_traits>
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
//
// `data` points to the planes: elements of type T, or of another type of T's size that holds
// T's bit patterns (the lossless coder decodes fp32 patterns straight into the floats of the
// output). The scratch memory is a few rows, never a plane: the neighbours in the current
// plane come from two zero-padded rows, those of the previous plane from `data` itself (which
// holds exactly what was coded there).
template <class T, class Coder, class Data, class BeginPlane, class BeginRow, class CodeElement>
bool traverse_planes(Coder& coder, const PlaneView& view, Data* data, BitModel (&plane_empty)[2],
                     BeginPlane&& begin_plane, BeginRow&& begin_row, CodeElement&& code_element) {
  using Element = std::remove_const_t<Data>;
  static_assert(sizeof(Element) == sizeof(T) && std::is_trivially_copyable_v<Element>);
  static_assert(std::is_const_v<Data> == kIsEncoder<Coder>, "the encoder reads the data, the decoder writes it");
  const auto load = [](Element e) { return std::bit_cast<T>(e); };
  // Two zero-padded rows of width+2 (the row above and the current one, swapped after each
  // row; their padding is never written) and the current row of the previous plane.
  const size_t stride = view.width + 2;
  std::vector<T> rows(2 * stride, T{0}), previous_row(view.width, T{0});
  bool previous_coded = false;  // the previous plane exists and was not empty (else it reads as 0)
  int previous_empty = 1;
  for (size_t p = 0; p < view.planes; ++p) {
    Data* const plane = data + p * view.plane_size();
    int empty = 0;
    if constexpr (kIsEncoder<Coder>)
      empty = std::all_of(plane, plane + view.plane_size(), [&](Element v) { return load(v) == T{0}; });
    empty = coder.bit(plane_empty[previous_empty], empty);
    previous_empty = empty;
    if (empty) {
      if constexpr (!kIsEncoder<Coder>) std::fill(plane, plane + view.plane_size(), std::bit_cast<Element>(T{0}));
      previous_coded = false;
      continue;
    }
    if (!begin_plane(p)) return false;
    std::fill(rows.begin(), rows.end(), T{0});
    if (!previous_coded) std::fill(previous_row.begin(), previous_row.end(), T{0});
    T* up_row = rows.data() + 1;
    T* row = rows.data() + stride + 1;
    for (size_t y = 0; y < view.height; ++y) {
      if (previous_coded) {
        const Data* const previous = plane - view.plane_size() + y * view.width;
        for (size_t x = 0; x < view.width; ++x) previous_row[x] = load(previous[x]);
      }
      Data* const out = plane + y * view.width;
      begin_row(const_cast<const T*>(up_row), const_cast<const T*>(previous_row.data()));
      for (size_t x = 0; x < view.width; ++x) {
        T value = kIsEncoder<Coder> ? load(out[x]) : T{0};
        // Signed index: row[x - 1] with x = 0 would wrap the unsigned offset (UB, found by UBSan).
        const ptrdiff_t left = static_cast<ptrdiff_t>(x) - 1;
        if (!code_element(Neighbours<T>{row[left], up_row[x], up_row[left], up_row[x + 1], previous_row[x]}, x, value))
          return false;
        row[x] = value;
        if constexpr (!kIsEncoder<Coder>) out[x] = std::bit_cast<Element>(value);
      }
      if (coder.overran()) return false;
      std::swap(up_row, row);
    }
    previous_coded = true;
  }
  return true;
}

template <class T, class Coder, class Data, class CodeElement>
bool traverse_planes(Coder& coder, const PlaneView& view, Data* data, BitModel (&plane_empty)[2],
                     CodeElement&& code_element) {
  return traverse_planes<T>(
      coder, view, data, plane_empty, [](size_t) { return true; }, [](const T*, const T*) {},
      std::forward<CodeElement>(code_element));
}

}  // namespace disc::codec_disc
