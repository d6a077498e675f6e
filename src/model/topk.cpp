#include <algorithm>
#include <cmath>
#include <numeric>

#include "disc/model.hpp"

namespace disc {

std::vector<Prediction> top_k(const Tensor& logits, int k, int label_offset,
                              const std::vector<std::string>& class_names) {
  const auto values = logits.values();
  if (values.empty() || k < 1) return {};
  // Softmax, shifted by the maximum for stability.
  const float peak = *std::max_element(values.begin(), values.end());
  double sum = 0;
  for (float v : values) sum += std::exp(double{v} - peak);
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t count = std::min(static_cast<size_t>(k), order.size());
  std::partial_sort(order.begin(), order.begin() + count, order.end(), [&](size_t a, size_t b) {
    return values[a] > values[b] || (values[a] == values[b] && a < b);
  });
  std::vector<Prediction> best;
  for (size_t i = 0; i < count; ++i) {
    Prediction p;
    const long label = static_cast<long>(order[i]) - label_offset;
    const bool named = label >= 0 && static_cast<size_t>(label) < class_names.size();
    p.label = label >= 0 && (class_names.empty() || named) ? static_cast<int>(label) : -1;
    p.probability = static_cast<float>(std::exp(double{values[order[i]]} - peak) / sum);
    if (named) p.name = class_names[label];
    best.push_back(std::move(p));
  }
  return best;
}

}  // namespace disc
