// Label-free estimate of a codec setting's top-1 loss, from the logits of the uncompressed
// and the compressed model on the same images (doc/EVAL.md, "The estimate").
#pragma once

#include <array>
#include <span>
#include <vector>

namespace disc {

// The softmax is read at the temperatures T_k = 2^((k - 18) / 6), k = 0..42: 1/8 to 16 in
// steps of 2^(1/6). Index 18 is the model's own softmax (T = 1).
inline constexpr int kTemperatureCount = 43;
inline constexpr int kUnitTemperature = 18;
double temperature_at(double index);

// Two estimates of a loss, at every temperature. For one image, with p = softmax(reference
// logits / T), q = softmax(compressed logits / T), r and c their top-1 classes:
//   flip_loss       = p(r) - p(c) if c != r, else 0. If p were the probability that each class
//                     is right, an image that moves from r to c loses p(r) - p(c) correct
//                     answers in expectation.
//   flip_variance   = p(r) + p(c) - (p(r) - p(c))^2 if c != r, else 0: the variance of that
//                     image's realized loss (+1 with p(r), -1 with p(c), else 0); never negative.
//   confidence_drop = max p - max q. If both softmaxes were the probability that their top-1
//                     is right, its mean would be the loss as well.
// For a setting, the same summed over its images.
struct TemperatureCurves {
  std::array<double, kTemperatureCount> flip_loss{};
  std::array<double, kTemperatureCount> flip_variance{};
  std::array<double, kTemperatureCount> confidence_drop{};
};

struct ImageEvidence {
  bool flipped = false;  // c != r
  TemperatureCurves curves;
};

// The reference output of one image, with its top-1 probability at every temperature.
class ReferenceLogits {
 public:
  ReferenceLogits() = default;
  // Requires finite logits (the network runner rejects any other output).
  explicit ReferenceLogits(std::span<const float> logits);
  int top1() const { return top1_; }
  // Requires as many compressed logits as reference logits, all finite.
  ImageEvidence compare(std::span<const float> compressed_logits) const;

 private:
  std::vector<float> logits_;
  int top1_ = 0;
  std::array<double, kTemperatureCount> top1_probability_{};
};

struct SettingEvidence {
  size_t images = 0;
  size_t flips = 0;
  TemperatureCurves sum;
};
SettingEvidence sum_evidence(std::span<const ImageEvidence> images);

// A setting whose top-1 changes on more than this fraction of the images is read at T = 1:
// heavily damaged maps make the compressed model confidently wrong, which holds its top-1
// probability up and pushes the crossing out (doc/EVAL.md, "The estimate").
inline constexpr double kMaxFittedFlips = 0.15;
// A fitted temperature is held within 1/4..4: this many grid steps either side of 1.
inline constexpr int kMaxTemperatureSteps = 12;

// One setting's estimate and the temperature it was read at.
struct LossEstimate {
  double mean_pp = 0;            // mean flip loss over the images, percentage points
  // Spread of the loss these images would realize with labels; at least that of one flip,
  // 100 / images pp, which a set of this size cannot resolve below (also with no flips).
  double standard_error_pp = 0;
  // Fitted: where the setting's summed flip loss and confidence drop are equal, at a grid
  // point or between two where they change sign (linear in log T); of several, the one nearest
  // T = 1; of two as near, the lower (the larger estimate); held within 1/4..4. A setting that
  // flips more than kMaxFittedFlips of its images, or whose curves are zero everywhere (nothing
  // changed), is read at T = 1. One whose curves meet nowhere in 1/8..16 is read at its sweep's
  // temperature (temperature_from_sweep), or at T = 1 if its sweep has none.
  double temperature = 1;
  bool temperature_fitted = false;
  bool temperature_from_sweep = false;
};

// The settings of one sweep (one cut, the same images). A setting whose curves meet nowhere in
// 1/8..16, though it changed something and flipped at most kMaxFittedFlips of its images, is
// read at the sweep's temperature: the lower median of the (held) temperatures fitted in the
// sweep, the lower of the two middle ones for an even count, which reads the larger loss. A
// temperature mostly measures how confident the reference softmax is on these images, which
// all settings share. With none fitted, such a setting is read at T = 1. No images: 0 ± 100 pp.
std::vector<LossEstimate> estimate_sweep(std::span<const SettingEvidence> settings);

// A sweep of one setting: its own temperature, or T = 1.
LossEstimate estimate_top1_loss(const SettingEvidence& setting);

}  // namespace disc
