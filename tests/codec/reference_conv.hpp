// A direct, slow convolution, for checking what shape=1..3 optimizes against.
#pragma once

#include <algorithm>
#include <vector>

#include "disc/codec.hpp"
#include "disc/tensor.hpp"

namespace disc::testing {

// conv(x) of an N x C x H x W map, N x out_channels x OH x OW values in order.
inline std::vector<double> reference_conv(const ConvKernel& k, const Tensor& x) {
  const Shape& s = x.shape();
  const long n = s[0], c = s[1], h = s[2], w = s[3];
  const long oh = (h + k.pad_top + k.pad_bottom - k.kernel_h) / k.stride_h + 1;
  const long ow = (w + k.pad_left + k.pad_right - k.kernel_w) / k.stride_w + 1;
  const int out_per_group = k.out_channels / k.groups;
  std::vector<double> out(static_cast<size_t>(n * k.out_channels * oh * ow), 0.0);
  for (long b = 0; b < n; ++b)
    for (int o = 0; o < k.out_channels; ++o)
      for (long y = 0; y < oh; ++y)
        for (long z = 0; z < ow; ++z) {
          double sum = 0;
          for (int ci = 0; ci < k.in_per_group; ++ci)
            for (int ky = 0; ky < k.kernel_h; ++ky)
              for (int kx = 0; kx < k.kernel_w; ++kx) {
                const long iy = y * k.stride_h - k.pad_top + ky, ix = z * k.stride_w - k.pad_left + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                const long channel = (o / out_per_group) * k.in_per_group + ci;
                sum += static_cast<double>(k.weights[((static_cast<size_t>(o) * k.in_per_group + ci) * k.kernel_h + ky) *
                                                         k.kernel_w + kx]) *
                       x.data()[((b * c + channel) * h + iy) * w + ix];
              }
          out[static_cast<size_t>(((b * k.out_channels + o) * oh + y) * ow + z)] = sum;
        }
  return out;
}

// What the layer passes on: reference_conv(k, x), and with k.activation its bias added and the
// sum clamped to its bounds.
inline std::vector<double> reference_reader_outputs(const ConvKernel& k, const Tensor& x) {
  std::vector<double> out = reference_conv(k, x);
  if (!k.activation) return out;
  const size_t per_channel = out.size() / static_cast<size_t>(x.shape()[0]) / static_cast<size_t>(k.out_channels);
  for (size_t i = 0; i < out.size(); ++i) {
    const double y = out[i] + k.activation->bias[i / per_channel % static_cast<size_t>(k.out_channels)];
    out[i] = std::clamp(y, double{k.activation->min}, double{k.activation->max});
  }
  return out;
}

}  // namespace disc::testing
