#include "codec/disc/lossless_coder.hpp"

#include <memory>

#include "codec/disc/plane_traversal.hpp"
#include "codec/disc/range_coder.hpp"

namespace disc::codec_disc {
namespace {

// Each byte is coded MSB first down a binary tree: node 1 is the root, node 2k+b the child
// after bit b, so a byte uses entries 1..255 of its 256-entry table.
struct FloatContexts {
  BitModel plane_empty[2];    // see traverse_planes
  BitModel nonzero[5][2];     // by: non-zero among left, up, up-left, up-right; previous != 0
  BitModel same_as_left[2];   // value == left neighbour (left != 0), by: left == up
  BitModel same_as_up;        // value == up neighbour (up != 0, up != left)
  BitModel top[256][256];     // byte 3 (sign, exponent high bits), by byte 3 of the left neighbour
  BitModel second[256][256];  // byte 2, by this value's byte 3
  BitModel low[2][256];       // byte 1, byte 0
};

template <class Coder>
uint32_t code_byte(Coder& coder, BitModel* tree, uint32_t byte) {
  uint32_t node = 1;
  for (int i = 7; i >= 0; --i) node = 2 * node + static_cast<uint32_t>(coder.bit(tree[node], (byte >> i) & 1));
  return node - 256;
}

// `bits`: the floats whose bit patterns are coded, read as uint32_t by traverse_planes.
template <class Coder, class Data>
bool code_floats(Coder& coder, const PlaneView& view, Data* bits) {
  auto ctx = std::make_unique<FloatContexts>();
  return traverse_planes<uint32_t>(coder, view, bits, ctx->plane_empty, [&](const Neighbours<uint32_t>& n, size_t, uint32_t& u) {
    const int count = (n.left != 0) + (n.up != 0) + (n.up_left != 0) + (n.up_right != 0);
    if (!coder.bit(ctx->nonzero[count][n.previous != 0], u != 0)) {
      u = 0;
      return true;
    }
    if (n.left != 0 && coder.bit(ctx->same_as_left[n.left == n.up], u == n.left)) {
      u = n.left;
      return true;
    }
    if (n.up != 0 && n.up != n.left && coder.bit(ctx->same_as_up, u == n.up)) {
      u = n.up;
      return true;
    }
    const uint32_t b3 = code_byte(coder, ctx->top[n.left >> 24], u >> 24);
    const uint32_t b2 = code_byte(coder, ctx->second[b3], (u >> 16) & 0xFF);
    const uint32_t b1 = code_byte(coder, ctx->low[0], (u >> 8) & 0xFF);
    const uint32_t b0 = code_byte(coder, ctx->low[1], u & 0xFF);
    u = b3 << 24 | b2 << 16 | b1 << 8 | b0;
    return true;
  });
}

}  // namespace

void encode_lossless(const PlaneView& view, const float* values, std::vector<uint8_t>* out) {
  RangeEncoder coder(out, Adaptation::kFixed);  // the lossless body has no flags byte
  code_floats(coder, view, values);
  coder.finish();
}

Status decode_lossless(std::span<const uint8_t> in, const PlaneView& view, float* values) {
  RangeDecoder coder(in, Adaptation::kFixed);
  if (!code_floats(coder, view, values)) return Error("range-coded data ends early");
  return coder.finish();
}

}  // namespace disc::codec_disc
