#include "eval/label_free_loss.hpp"

#include <cmath>

namespace disc {

ImageLoss image_top1_loss(std::span<const double> reference_probabilities, int reference_top1, int top1) {
  if (top1 == reference_top1) return {};
  const double p_r = reference_probabilities[reference_top1];
  const double p_c = reference_probabilities[top1];
  return {p_r - p_c, p_r + p_c - (p_r - p_c) * (p_r - p_c)};
}

LossEstimate estimate_top1_loss(std::span<const ImageLoss> images) {
  if (images.empty()) return {0, 100};
  double expected = 0, variance = 0;
  for (const ImageLoss& image : images) {
    expected += image.expected;
    variance += image.variance;
  }
  const double n = static_cast<double>(images.size());
  return {100.0 * expected / n, 100.0 * std::sqrt(variance) / n};
}

}  // namespace disc
