#include "eval/label_free_loss.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <optional>

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
  TemperatureCurves& curves = e.curves;
  for (int k = 0; k < kTemperatureCount; ++k) {
    const double p_r = top1_probability_[k];
    curves.confidence_drop[k] = p_r - q_top1[k];
    if (!e.flipped) continue;
    const double p_c = p_r * std::exp((double{logits_[c]} - logits_[top1_]) / temperature_at(k));
    curves.flip_loss[k] = p_r - p_c;
    curves.flip_variance[k] = p_r + p_c - (p_r - p_c) * (p_r - p_c);
  }
  return e;
}

SettingEvidence sum_evidence(std::span<const ImageEvidence> images) {
  SettingEvidence s;
  s.images = images.size();
  for (const ImageEvidence& e : images) {
    s.flips += e.flipped;
    for (int k = 0; k < kTemperatureCount; ++k) {
      s.sum.flip_loss[k] += e.curves.flip_loss[k];
      s.sum.flip_variance[k] += e.curves.flip_variance[k];
      s.sum.confidence_drop[k] += e.curves.confidence_drop[k];
    }
  }
  return s;
}

namespace {

// Where a setting's two estimates meet, as a fractional grid index held within
// kMaxTemperatureSteps of T = 1; `index` is kUnitTemperature when they meet nowhere.
struct Crossing {
  double index = kUnitTemperature;
  bool found = false;
  // The setting changed something and flipped at most kMaxFittedFlips of its images: a crossing
  // was looked for.
  bool sought = false;
};

Crossing find_crossing(const SettingEvidence& setting) {
  const TemperatureCurves& sum = setting.sum;
  std::array<double, kTemperatureCount> gap{};
  bool changed = false;
  for (int k = 0; k < kTemperatureCount; ++k) {
    gap[k] = sum.flip_loss[k] - sum.confidence_drop[k];
    changed |= sum.flip_loss[k] != 0 || sum.confidence_drop[k] != 0;
  }
  Crossing c;
  c.sought = changed && static_cast<double>(setting.flips) <= kMaxFittedFlips * static_cast<double>(setting.images);
  // Candidate crossings as fractional grid indices, visited in increasing order, so that a
  // tie in distance keeps the lower one. NaN gaps (non-finite logits) match neither test.
  auto consider = [&](double crossing) {
    if (!c.found || std::abs(crossing - kUnitTemperature) < std::abs(c.index - kUnitTemperature)) c.index = crossing;
    c.found = true;
  };
  for (int k = 0; c.sought && k < kTemperatureCount; ++k) {
    if (gap[k] == 0) consider(k);
    if (k + 1 < kTemperatureCount && ((gap[k] < 0 && gap[k + 1] > 0) || (gap[k] > 0 && gap[k + 1] < 0)))
      consider(k + gap[k] / (gap[k] - gap[k + 1]));
  }
  c.index = std::clamp<double>(c.index, kUnitTemperature - kMaxTemperatureSteps, kUnitTemperature + kMaxTemperatureSteps);
  return c;
}

// The flip estimate and its standard error at a fractional grid index. Requires images > 0.
LossEstimate read_at(const SettingEvidence& setting, double index) {
  const TemperatureCurves& sum = setting.sum;
  const int k0 = static_cast<int>(index);
  assert(k0 >= 0 && k0 + 1 < kTemperatureCount);
  const double t = index - k0;
  const double n = static_cast<double>(setting.images);
  const double loss = std::lerp(sum.flip_loss[k0], sum.flip_loss[k0 + 1], t);
  const double variance = std::lerp(sum.flip_variance[k0], sum.flip_variance[k0 + 1], t);
  // n images resolve a loss no finer than one image: never less spread than one flip's (±1).
  const double standard_error = std::max(std::sqrt(variance), 1.0) / n;
  LossEstimate e;
  e.mean_pp = 100.0 * loss / n;
  e.standard_error_pp = 100.0 * standard_error;
  e.temperature = temperature_at(index);
  return e;
}

}  // namespace

std::vector<LossEstimate> estimate_sweep(std::span<const SettingEvidence> settings) {
  std::vector<Crossing> crossings;
  std::vector<double> fitted;
  for (const SettingEvidence& s : settings) {
    crossings.push_back(s.images == 0 ? Crossing{} : find_crossing(s));
    if (crossings.back().found) fitted.push_back(crossings.back().index);
  }
  std::optional<double> sweep_index;
  if (!fitted.empty()) {
    // The lower median: the lower temperature reads the larger loss.
    const auto middle = fitted.begin() + static_cast<std::ptrdiff_t>((fitted.size() - 1) / 2);
    std::nth_element(fitted.begin(), middle, fitted.end());
    sweep_index = *middle;
  }
  std::vector<LossEstimate> estimates;
  for (size_t i = 0; i < settings.size(); ++i) {
    const Crossing& c = crossings[i];
    if (settings[i].images == 0) {
      estimates.push_back({0, 100});
    } else if (c.sought && !c.found && sweep_index) {
      estimates.push_back(read_at(settings[i], *sweep_index));
      estimates.back().temperature_from_sweep = true;
    } else {
      estimates.push_back(read_at(settings[i], c.index));
      estimates.back().temperature_fitted = c.found;
    }
  }
  return estimates;
}

LossEstimate estimate_top1_loss(const SettingEvidence& setting) { return estimate_sweep({&setting, 1})[0]; }

}  // namespace disc
