// Feeds arbitrary convolution geometries, weights and maps to disc's shaped encoder
// (shape=1..3, of levels or, with cells=1, of cell counts): a kernel the map cannot feed must be
// refused with a message, any other must encode to a stream that decodes to finite values of
// the map's shape, whose error under the convolution is no larger than that of the unshaped
// levels (counts) the descent starts from (with cells=1, after the activation the kernel may
// declare), and which is the same when the kernel's groups are shaped on several threads. The
// descent's footprint, neighbour and skipping bookkeeping is where strides larger than the
// kernel, one-sided padding and 1-wide maps would go wrong (under ASan and UBSan).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "codec/reference_conv.hpp"
#include "disc/codec.hpp"
#include "disc/tensor.hpp"

namespace {

// Reads small integers and floats from the input, then zeros once it runs out.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  int small(int lowest, int highest) {  // in lowest..highest
    return lowest + static_cast<int>(next() % static_cast<unsigned>(highest - lowest + 1));
  }
  float value() { return (static_cast<int>(next()) - 96) / 16.0f; }  // -6..10, a quarter of them negative

 private:
  uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }
  const uint8_t* data_;
  size_t size_, at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  auto kernel = std::make_shared<disc::ConvKernel>();
  kernel->groups = in.small(1, 3);
  kernel->in_per_group = in.small(1, 3);
  kernel->out_channels = kernel->groups * in.small(1, 3);
  kernel->kernel_h = in.small(1, 5);
  kernel->kernel_w = in.small(1, 5);
  kernel->stride_h = in.small(1, 4);
  kernel->stride_w = in.small(1, 4);
  // Up to the kernel's size, one past what check() accepts, so that refusals are tried too.
  kernel->pad_top = in.small(0, kernel->kernel_h);
  kernel->pad_left = in.small(0, kernel->kernel_w);
  kernel->pad_bottom = in.small(0, kernel->kernel_h);
  kernel->pad_right = in.small(0, kernel->kernel_w);
  const int64_t channels = kernel->groups * kernel->in_per_group + in.small(0, 1) - in.small(0, 1);
  const int64_t height = in.small(1, 12), width = in.small(1, 12);
  const int shaping = in.small(1, 3), bits = in.small(1, 3);
  kernel->weights.resize(static_cast<size_t>(kernel->out_channels) * kernel->in_per_group * kernel->kernel_h *
                         kernel->kernel_w);
  for (float& w : kernel->weights) w = in.value();
  if (channels < 1) return 0;
  auto map = disc::Tensor::make({1, channels, height, width});
  if (!map.ok()) std::abort();
  const bool non_negative = in.small(0, 1) == 1;
  for (size_t i = 0; i < map->size(); ++i) map->data()[i] = non_negative ? std::fabs(in.value()) : in.value();

  // Read last, so that inputs from before cells=1 keep their meaning.
  const std::string cells = in.small(0, 1) == 1 ? "cells=1," : "";
  // Then what follows the convolution (after cells=1 for the same reason): nothing known, a
  // clamp from 0 up, or one between two bounds (in either order, so that refusals are tried).
  if (const int activation = in.small(0, 2); activation > 0) {
    disc::ConvActivation a;
    for (int o = 0; o < kernel->out_channels; ++o) a.bias.push_back(in.value());
    a.min = activation == 1 ? 0.0f : in.value();
    a.max = activation == 1 ? std::numeric_limits<float>::infinity() : in.value();
    kernel->activation = std::move(a);
  }
  const std::string levels = cells + "bits=" + std::to_string(bits) + ",clip=3";
  const std::string spec = "disc:shape=" + std::to_string(shaping) + "," + levels;
  auto shaped = disc::make_codec(*disc::CodecSpec::parse(spec), disc::EncoderContext{kernel});
  if (!shaped.ok()) std::abort();
  auto stream = disc::compress(*map, **shaped);
  if (!stream.ok()) {
    if (stream.error().message().empty()) std::abort();
    if (kernel->check(map->shape()).ok()) std::abort();  // refused a kernel that can read the map
    return 0;
  }
  if (!kernel->check(map->shape()).ok()) std::abort();  // encoded for a kernel that cannot
  auto threaded = disc::make_codec(*disc::CodecSpec::parse(spec), disc::EncoderContext{kernel, 3});
  if (!threaded.ok() || disc::compress(*map, **threaded).value() != *stream) std::abort();
  auto decoded = disc::decompress(*stream);
  if (!decoded.ok() || decoded->shape() != map->shape()) std::abort();
  for (float v : decoded->values())
    if (!std::isfinite(v)) std::abort();
  auto plain = disc::decompress(*disc::compress(*map, **disc::make_codec("disc:" + levels)));
  if (!plain.ok()) std::abort();
  // What the descent measures: the error after the activation if one is known, else that of
  // the convolution's output (reference_reader_outputs applies the activation if there is one).
  const std::vector<double> target = disc::testing::reference_reader_outputs(*kernel, *map);
  const auto error = [&](const disc::Tensor& t) {
    const std::vector<double> out = disc::testing::reference_reader_outputs(*kernel, t);
    double e = 0;
    for (size_t i = 0; i < out.size(); ++i) e += (out[i] - target[i]) * (out[i] - target[i]);
    return e;
  };
  // The descent sums its residual in floats, so it may misjudge a move by that rounding.
  // shape=3 lowers E plus a rate term, so its E may end above the plain levels'.
  if (shaping == 3) return 0;
  const double shaped_error = error(*decoded), plain_error = error(*plain);
  if (shaped_error > plain_error * (1 + 1e-3) + 1e-6) std::abort();
  return 0;
}
