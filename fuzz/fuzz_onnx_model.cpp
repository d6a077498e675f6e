// Feeds arbitrary bytes to the ONNX loader. A model that loads must let every step the
// tools take with it (OpenCV building and running the whole network; at a cut: splitting,
// finding the convolution that reads it, a shaped encoding of a small map of its shape)
// return a value or an Error with a message, never crash.
#include <cstdint>
#include <cstdlib>

#include "disc/codec.hpp"
#include "disc/model.hpp"
#include "disc/tensor.hpp"

namespace {

// Cuts examined per model, the largest map encoded and the largest input run, so that one
// input stays fast.
constexpr size_t kMaxCuts = 4;
constexpr size_t kMaxMapElements = size_t{1} << 14;
constexpr size_t kMaxInputElements = size_t{1} << 16;

// Deterministic values that are neither all zero nor all alike.
void fill(disc::Tensor& t) {
  for (size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(i * 37 % 11) * 0.25f;
}

template <typename T>
void require_message(const disc::Result<T>& result) {
  if (!result.ok() && result.error().message().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto model = disc::OnnxModel::load_bytes(data, size);
  require_message(model);
  if (!model.ok()) return 0;
  auto input = disc::Tensor::make(model->input_shape(), kMaxInputElements);
  if (input.ok()) {
    auto network = disc::Network::from_onnx(model->serialized());
    require_message(network);
    if (network.ok()) {
      fill(*input);
      require_message(network->run(*input));
    }
  }
  // shape=2 runs everything shape=1 does, plus the unit moves between overlapping footprints.
  const auto spec = disc::CodecSpec::parse("disc:shape=2,bits=2,clip=3");
  if (!spec.ok()) std::abort();
  size_t examined = 0;
  for (const disc::CutPoint& cut : model->cuts()) {
    if (++examined > kMaxCuts) break;
    require_message(model->split(cut.tensor));
    require_message(model->reading_convolution(cut.tensor));
    if (cut.elements > kMaxMapElements) continue;
    auto codec = model->codec_for_cut(cut.tensor, *spec);
    require_message(codec);
    if (!codec.ok()) continue;
    auto map = disc::Tensor::make(cut.shape, kMaxMapElements);
    require_message(map);
    if (!map.ok()) continue;
    fill(*map);
    require_message(disc::compress(*map, **codec));
  }
  return 0;
}
