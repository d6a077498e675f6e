// Feeds arbitrary bytes to the ONNX loader. A model that loads must let every step the
// tools take on a cut (splitting, finding the convolution that reads it, a shaped encoding
// of a small map of its shape) return a value or an Error with a message, never crash.
#include <cstdint>
#include <cstdlib>

#include "disc/codec.hpp"
#include "disc/model.hpp"
#include "disc/tensor.hpp"

namespace {

// Cuts examined per model and the largest map encoded, so that one input stays fast.
constexpr size_t kMaxCuts = 4;
constexpr size_t kMaxMapElements = size_t{1} << 14;

template <typename T>
void require_message(const disc::Result<T>& result) {
  if (!result.ok() && result.error().message().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto model = disc::OnnxModel::load_bytes(data, size);
  require_message(model);
  if (!model.ok()) return 0;
  const auto spec = disc::CodecSpec::parse("disc:shape=1,bits=2,clip=3");
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
    for (size_t i = 0; i < map->size(); ++i) map->data()[i] = static_cast<float>(i * 37 % 11) * 0.25f;
    require_message(disc::compress(*map, **codec));
  }
  return 0;
}
