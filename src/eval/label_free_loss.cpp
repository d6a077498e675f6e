#include "eval/label_free_loss.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace disc {
namespace {

int argmax(std::span<const float> v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

// 1 / sum_j exp((v_j - v_max) / T) at every temperature: the top-1 class's probability.
std::array<double, kTemperatureCount> top1_probabilities(std::span<const float> v, int top1) {
  std::array<double, kTemperatureCount> p{};
  const double peak = v[top1];
  for (int k = 0; k < kTemperatureCount; ++k) {
    const double inverse_t = 1.0 / temperature_at(k);
    double sum = 0;
    for (float x : v) sum += std::exp((double{x} - peak) * inverse_t);
    p[k] = 1.0 / sum;
  }
  return p;
}

double lerp(double a, double b, double t) { return a + (b - a) * t; }

// Heavily damaged maps make the compressed model confidently wrong, which holds its top-1
// probability up and pushes the crossing out (doc/EVAL.md, "The estimate"): no fit past
// kMaxFittedFlips, and the temperature kept within 1/4..4 (12 grid steps either side of 1).
constexpr double kMaxTemperatureSteps = 12;

}  // namespace

double temperature_at(double index) { return std::exp2((index - kUnitTemperature) / 6.0); }

ReferenceLogits::ReferenceLogits(std::span<const float> logits)
    : logits_(logits.begin(), logits.end()), top1_(argmax(logits)), top1_probability_(top1_probabilities(logits, top1_)) {}

ImageEvidence ReferenceLogits::compare(std::span<const float> compressed_logits) const {
  assert(compressed_logits.size() == logits_.size());
  ImageEvidence e;
  const int c = argmax(compressed_logits);
  e.flipped = c != top1_;
  const auto q_top1 = top1_probabilities(compressed_logits, c);
  for (int k = 0; k < kTemperatureCount; ++k) {
    const double p_r = top1_probability_[k];
    e.confidence_drop[k] = p_r - q_top1[k];
    if (c == top1_) continue;
    const double p_c = p_r * std::exp((double{logits_[c]} - logits_[top1_]) / temperature_at(k));
    e.flip_loss[k] = p_r - p_c;
    e.flip_variance[k] = p_r + p_c - (p_r - p_c) * (p_r - p_c);
  }
  return e;
}

SettingEvidence sum_evidence(std::span<const ImageEvidence> images) {
  SettingEvidence s;
  s.images = images.size();
  for (const ImageEvidence& e : images) {
    s.flips += e.flipped;
    for (int k = 0; k < kTemperatureCount; ++k) {
      s.sum.flip_loss[k] += e.flip_loss[k];
      s.sum.flip_variance[k] += e.flip_variance[k];
      s.sum.confidence_drop[k] += e.confidence_drop[k];
    }
  }
  return s;
}

LossEstimate estimate_top1_loss(const SettingEvidence& setting) {
  if (setting.images == 0) return {0, 100};
  const ImageEvidence& sum = setting.sum;
  // Both sums estimate the same loss when the softmax is calibrated.
  double index = kUnitTemperature;
  bool fitted = false;
  const bool mild = static_cast<double>(setting.flips) <= kMaxFittedFlips * static_cast<double>(setting.images);
  for (int k = 0; mild && k + 1 < kTemperatureCount; ++k) {
    const double a = sum.flip_loss[k] - sum.confidence_drop[k];
    const double b = sum.flip_loss[k + 1] - sum.confidence_drop[k + 1];
    if ((a == 0 && b == 0) || ((a < 0) == (b < 0) && a != 0 && b != 0)) continue;
    const double crossing = k + a / (a - b);
    if (!fitted || std::abs(crossing - kUnitTemperature) < std::abs(index - kUnitTemperature)) index = crossing;
    fitted = true;
  }
  index = std::clamp(index, kUnitTemperature - kMaxTemperatureSteps, kUnitTemperature + kMaxTemperatureSteps);
  const int k0 = std::min(static_cast<int>(index), kTemperatureCount - 2);
  const double t = index - k0;
  const double n = static_cast<double>(setting.images);
  const double loss = lerp(sum.flip_loss[k0], sum.flip_loss[k0 + 1], t);
  const double variance = lerp(sum.flip_variance[k0], sum.flip_variance[k0 + 1], t);
  return {100.0 * loss / n, 100.0 * std::sqrt(std::max(0.0, variance)) / n, temperature_at(index), fitted};
}

}  // namespace disc
