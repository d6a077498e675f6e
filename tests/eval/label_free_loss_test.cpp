// The label-free loss estimate: per-image evidence, the fitted temperature and the sweep's.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "eval/label_free_loss.hpp"

namespace disc {
namespace {

std::vector<float> log_of(std::vector<double> p) {
  std::vector<float> z;
  for (double x : p) z.push_back(static_cast<float>(std::log(x)));
  return z;
}

std::vector<float> scaled(std::vector<float> z, float s) {
  for (float& x : z) x *= s;
  return z;
}

TEST(LabelFreeLoss, EvidenceAtTheModelsOwnTemperature) {
  const ReferenceLogits reference(log_of({0.6, 0.3, 0.1}));
  EXPECT_EQ(reference.top1(), 0);
  EXPECT_EQ(temperature_at(kUnitTemperature), 1.0);
  const int k = kUnitTemperature;
  // Moved to class 1: +1 with probability 0.6, -1 with 0.3.
  const ImageEvidence away = reference.compare(log_of({0.2, 0.7, 0.1}));
  EXPECT_TRUE(away.flipped);
  EXPECT_NEAR(away.curves.flip_loss[k], 0.3, 1e-6);
  EXPECT_NEAR(away.curves.flip_variance[k], 0.9 - 0.09, 1e-6);
  EXPECT_NEAR(away.curves.confidence_drop[k], 0.6 - 0.7, 1e-6);
  // Unchanged top-1: no flip, but a less confident output still counts as a drop.
  const ImageEvidence kept = reference.compare(log_of({0.5, 0.25, 0.25}));
  EXPECT_FALSE(kept.flipped);
  for (int t = 0; t < kTemperatureCount; ++t) {
    EXPECT_EQ(kept.curves.flip_loss[t], 0.0);
    EXPECT_EQ(kept.curves.flip_variance[t], 0.0);
  }
  EXPECT_NEAR(kept.curves.confidence_drop[k], 0.1, 1e-6);
  // A move toward a likelier class is a gain in expectation.
  const ReferenceLogits unsure(log_of({0.1, 0.3, 0.6}));
  EXPECT_NEAR(unsure.compare(log_of({0.1, 0.8, 0.1})).curves.flip_loss[k], 0.6 - 0.3, 1e-6);
  EXPECT_NEAR(ReferenceLogits(log_of({0.45, 0.1, 0.45 - 1e-3})).compare(log_of({0.1, 0.1, 0.8})).curves.flip_loss[k], 1e-3,
              1e-5);
}

TEST(LabelFreeLoss, ScalingTheLogitsMovesTheEvidenceAlongTheTemperatures) {
  // softmax(2z / T) = softmax(z / (T / 2)), and T / 2 is six grid steps down.
  const std::vector<float> z = log_of({0.5, 0.3, 0.15, 0.05});
  const std::vector<float> q = log_of({0.2, 0.35, 0.4, 0.05});
  const ImageEvidence once = ReferenceLogits(z).compare(q);
  const ImageEvidence twice = ReferenceLogits(scaled(z, 2)).compare(scaled(q, 2));
  for (int k = 0; k + 6 < kTemperatureCount; ++k) {
    EXPECT_NEAR(twice.curves.flip_loss[k + 6], once.curves.flip_loss[k], 1e-6) << k;
    EXPECT_NEAR(twice.curves.flip_variance[k + 6], once.curves.flip_variance[k], 1e-6) << k;
    EXPECT_NEAR(twice.curves.confidence_drop[k + 6], once.curves.confidence_drop[k], 1e-6) << k;
  }
  EXPECT_NEAR(temperature_at(kUnitTemperature + 6), 2.0, 1e-12);
  EXPECT_NEAR(temperature_at(0), 0.125, 1e-12);
  EXPECT_NEAR(temperature_at(kTemperatureCount - 1), 16.0, 1e-12);
}

// A setting whose summed evidence is given per grid index.
SettingEvidence setting(size_t images, double (*flip)(int), double (*drop)(int), double (*variance)(int)) {
  SettingEvidence s;
  s.images = images;
  for (int k = 0; k < kTemperatureCount; ++k) {
    s.sum.flip_loss[k] = flip(k);
    s.sum.confidence_drop[k] = drop(k);
    s.sum.flip_variance[k] = variance(k);
  }
  return s;
}

double zero(int) { return 0; }

TEST(LabelFreeLoss, TheTemperatureIsWhereFlipsAndTheConfidenceDropAgree) {
  // Over 100 images the flips sum to 40 - k and the drops to 10: they agree at k = 30 (T = 4).
  LossEstimate e = estimate_top1_loss(
      setting(100, [](int k) { return 40.0 - k; }, [](int) { return 10.0; }, [](int k) { return 4.0 * k; }));
  EXPECT_TRUE(e.temperature_fitted);
  EXPECT_NEAR(e.temperature, 4.0, 1e-9);
  EXPECT_NEAR(e.mean_pp, 10.0, 1e-9);
  EXPECT_NEAR(e.standard_error_pp, std::sqrt(120.0), 1e-9);
  // Between grid points the crossing and the estimates are interpolated linearly in log T.
  e = estimate_top1_loss(
      setting(100, [](int k) { return 40.0 - k; }, [](int) { return 10.5; }, [](int k) { return 4.0 * k; }));
  EXPECT_NEAR(e.temperature, std::exp2(11.5 / 6), 1e-9);
  EXPECT_NEAR(e.mean_pp, 10.5, 1e-9);
  EXPECT_NEAR(e.standard_error_pp, std::sqrt(118.0), 1e-9);
  // Sharper than the model's own softmax: agreement at k = 6 (T = 1/4).
  e = estimate_top1_loss(setting(100, [](int k) { return 12.0 - k; }, [](int) { return 6.0; }, zero));
  EXPECT_NEAR(e.temperature, 0.25, 1e-9);
  EXPECT_NEAR(e.mean_pp, 6.0, 1e-9);
}

TEST(LabelFreeLoss, TheCrossingNearestTheModelsOwnSoftmaxWins) {
  // Agreement at k = 10 and k = 30; k = 10 is nearer k = 18 (T = 1).
  LossEstimate e = estimate_top1_loss(setting(10, [](int k) { return (k - 10.0) * (k - 30.0); }, zero, zero));
  EXPECT_TRUE(e.temperature_fitted);
  EXPECT_NEAR(e.temperature, std::exp2(-8.0 / 6), 1e-9);
  // ...and at k = 14 and k = 21: now k = 21 is nearer.
  e = estimate_top1_loss(setting(10, [](int k) { return (k - 14.0) * (k - 21.0); }, zero, zero));
  EXPECT_NEAR(e.temperature, std::exp2(3.0 / 6), 1e-9);
}

TEST(LabelFreeLoss, CrossingsAtTheGridsEndsTouchingAndTies) {
  // Only in the first interval (k = 0.5) or the last (k = 41.5): found, then held at 1/4 or 4.
  LossEstimate e = estimate_top1_loss(setting(100, [](int k) { return 0.5 - k; }, zero, zero));
  EXPECT_TRUE(e.temperature_fitted);
  EXPECT_NEAR(e.temperature, 0.25, 1e-9);
  e = estimate_top1_loss(setting(100, [](int k) { return 41.5 - k; }, zero, zero));
  EXPECT_TRUE(e.temperature_fitted);
  EXPECT_NEAR(e.temperature, 4.0, 1e-9);
  // Touching zero at k = 22 without changing sign is agreement too.
  e = estimate_top1_loss(setting(100, [](int k) { return (k - 22.0) * (k - 22.0); }, zero, zero));
  EXPECT_TRUE(e.temperature_fitted);
  EXPECT_NEAR(e.temperature, std::exp2(4.0 / 6), 1e-9);
  // Equally near T = 1 (k = 12 and k = 24): the lower temperature, whose estimate is larger.
  e = estimate_top1_loss(setting(100, [](int k) { return (k - 12.0) * (k - 24.0); }, zero, zero));
  EXPECT_NEAR(e.temperature, 0.5, 1e-9);
  // A run of agreement around T = 1: T = 1 itself.
  e = estimate_top1_loss(setting(100, [](int k) { return k < 5 || k > 30 ? 1.0 : 0.0; }, zero, zero));
  EXPECT_TRUE(e.temperature_fitted);
  EXPECT_NEAR(e.temperature, 1.0, 1e-12);
}

TEST(LabelFreeLoss, NonFiniteSumsGiveNoCrossing) {
  // NaN gaps next to negative ones: no interval there counts, and nothing else crosses.
  const LossEstimate e = estimate_top1_loss(
      setting(100, [](int k) { return k % 2 ? std::nan("") : -1.0 - k; }, zero, zero));
  EXPECT_FALSE(e.temperature_fitted);
  EXPECT_EQ(e.temperature, 1.0);
}

TEST(LabelFreeLoss, TheTemperatureStaysWithinAQuarterAndFour) {
  // Agreement only at k = 35 (T = 2^(17/6)): held at T = 4 (k = 30), where the flips say 5.
  LossEstimate e = estimate_top1_loss(setting(100, [](int k) { return 35.0 - k; }, zero, zero));
  EXPECT_TRUE(e.temperature_fitted);
  EXPECT_NEAR(e.temperature, 4.0, 1e-9);
  EXPECT_NEAR(e.mean_pp, 5.0, 1e-9);
  // Agreement only at k = 2 (T = 2^(-16/6)): held at T = 1/4 (k = 6).
  e = estimate_top1_loss(setting(100, [](int k) { return 2.0 - k; }, zero, zero));
  EXPECT_NEAR(e.temperature, 0.25, 1e-9);
  EXPECT_NEAR(e.mean_pp, -4.0, 1e-9);
}

TEST(LabelFreeLoss, HeavyDamageIsReadAtTheModelsOwnSoftmax) {
  // The same evidence as above (agreement at T = 4), from a setting that flips 15 % of its
  // images and from one that flips 16 %.
  SettingEvidence s =
      setting(100, [](int k) { return 40.0 - k; }, [](int) { return 10.0; }, [](int k) { return 4.0 * k; });
  s.flips = 15;
  EXPECT_TRUE(estimate_top1_loss(s).temperature_fitted);
  s.flips = 16;
  const LossEstimate e = estimate_top1_loss(s);
  EXPECT_FALSE(e.temperature_fitted);
  EXPECT_EQ(e.temperature, 1.0);
  EXPECT_NEAR(e.mean_pp, 40.0 - kUnitTemperature, 1e-9);
}

TEST(LabelFreeLoss, WithoutACrossingTheModelsOwnSoftmaxIsUsed) {
  // Flips above the drop at every temperature.
  LossEstimate e = estimate_top1_loss(setting(100, [](int k) { return 50.0 - k; }, [](int) { return 1.0; }, zero));
  EXPECT_FALSE(e.temperature_fitted);
  EXPECT_EQ(e.temperature, 1.0);
  EXPECT_NEAR(e.mean_pp, 50.0 - kUnitTemperature, 1e-9);
  // No evidence at all (a lossless codec): 0, and nothing fitted. 100 images without a flip
  // still leave the spread of one image, 1 pp.
  e = estimate_top1_loss(setting(100, zero, zero, zero));
  EXPECT_FALSE(e.temperature_fitted);
  EXPECT_EQ(e.mean_pp, 0.0);
  EXPECT_NEAR(e.standard_error_pp, 1.0, 1e-12);
  EXPECT_NEAR(estimate_top1_loss(setting(30, zero, zero, zero)).standard_error_pp, 100.0 / 30, 1e-12);
  // No images, no knowledge.
  e = estimate_top1_loss(SettingEvidence{});
  EXPECT_EQ(e.mean_pp, 0.0);
  EXPECT_EQ(e.standard_error_pp, 100.0);
}

TEST(LabelFreeLoss, MoreImagesAlikeKeepTheMeanAndShrinkTheError) {
  const ReferenceLogits reference(log_of({0.6, 0.3, 0.1}));
  const std::vector<ImageEvidence> four = {reference.compare(log_of({0.2, 0.7, 0.1})),
                                           reference.compare(log_of({0.7, 0.2, 0.1})),
                                           reference.compare(log_of({0.5, 0.2, 0.3})),
                                           reference.compare(log_of({0.3, 0.1, 0.6}))};
  std::vector<ImageEvidence> sixteen;
  for (int k = 0; k < 4; ++k) sixteen.insert(sixteen.end(), four.begin(), four.end());
  EXPECT_EQ(sum_evidence(sixteen).images, 16u);
  EXPECT_EQ(sum_evidence(sixteen).flips, 8u);
  const LossEstimate a = estimate_top1_loss(sum_evidence(four));
  const LossEstimate b = estimate_top1_loss(sum_evidence(sixteen));
  EXPECT_EQ(a.temperature_fitted, b.temperature_fitted);
  EXPECT_NEAR(a.temperature, b.temperature, 1e-9);
  EXPECT_NEAR(b.mean_pp, a.mean_pp, 1e-9);
  EXPECT_NEAR(b.standard_error_pp, a.standard_error_pp / 2, 1e-9);
  EXPECT_GT(a.mean_pp, 0.0);
}

// Sweeps: three fitted settings (crossings at k = 24, 27, 30: T = 2, 2^1.5, 4) beside others.
SettingEvidence crossing_at(double k_cross) {
  SettingEvidence s;
  s.images = 100;
  for (int k = 0; k < kTemperatureCount; ++k) {
    s.sum.flip_loss[k] = 40.0 - k;
    s.sum.confidence_drop[k] = 40.0 - k_cross;
    s.sum.flip_variance[k] = 4.0 * k;
  }
  return s;
}

TEST(LabelFreeSweep, ASettingWithoutACrossingIsReadAtTheMedianFittedTemperature) {
  const SettingEvidence never = setting(100, [](int k) { return 50.0 - k; }, [](int) { return 1.0; },
                                        [](int k) { return 2.0 * k; });
  const std::vector<SettingEvidence> sweep = {crossing_at(30), never, crossing_at(24), crossing_at(27)};
  const std::vector<LossEstimate> e = estimate_sweep(sweep);
  ASSERT_EQ(e.size(), 4u);
  // The fitted settings read as on their own.
  for (size_t i : {0u, 2u, 3u}) {
    const LossEstimate alone = estimate_top1_loss(sweep[i]);
    EXPECT_TRUE(e[i].temperature_fitted) << i;
    EXPECT_FALSE(e[i].temperature_from_sweep) << i;
    EXPECT_EQ(e[i].temperature, alone.temperature) << i;
    EXPECT_EQ(e[i].mean_pp, alone.mean_pp) << i;
    EXPECT_EQ(e[i].standard_error_pp, alone.standard_error_pp) << i;
  }
  // The other at the median, k = 27: flips 50 - 27, variance 54.
  EXPECT_FALSE(e[1].temperature_fitted);
  EXPECT_TRUE(e[1].temperature_from_sweep);
  EXPECT_NEAR(e[1].temperature, std::exp2(1.5), 1e-9);
  EXPECT_NEAR(e[1].mean_pp, 23.0, 1e-9);
  EXPECT_NEAR(e[1].standard_error_pp, std::sqrt(54.0), 1e-9);
  // On its own it stays at T = 1.
  EXPECT_EQ(estimate_top1_loss(never).temperature, 1.0);
}

TEST(LabelFreeSweep, OfAnEvenCountTheLowerMiddleTemperatureIsBorrowed) {
  const SettingEvidence never = setting(100, [](int k) { return 50.0 - k; }, [](int) { return 1.0; }, zero);
  const std::vector<LossEstimate> e = estimate_sweep(std::vector{crossing_at(30), crossing_at(24), never});
  EXPECT_TRUE(e[2].temperature_from_sweep);
  EXPECT_NEAR(e[2].temperature, 2.0, 1e-9);
  EXPECT_NEAR(e[2].mean_pp, 26.0, 1e-9);
}

TEST(LabelFreeSweep, OneFittedSettingLendsItsHeldTemperature) {
  // The only crossing is at k = 36 (T = 8), held at k = 30 (T = 4); the other borrows that.
  const SettingEvidence never = setting(100, [](int k) { return 50.0 - k; }, [](int) { return 1.0; }, zero);
  const std::vector<LossEstimate> e = estimate_sweep(std::vector{never, crossing_at(36)});
  EXPECT_TRUE(e[1].temperature_fitted);
  EXPECT_NEAR(e[1].temperature, 4.0, 1e-9);
  EXPECT_TRUE(e[0].temperature_from_sweep);
  EXPECT_NEAR(e[0].temperature, 4.0, 1e-9);
  EXPECT_NEAR(e[0].mean_pp, 20.0, 1e-9);
}

TEST(LabelFreeSweep, HeavyDamageNoChangeAndNoFittedSettingStayAtTheModelsOwnSoftmax) {
  SettingEvidence damaged = setting(100, [](int k) { return 50.0 - k; }, [](int) { return 1.0; }, zero);
  damaged.flips = 16;
  const SettingEvidence unchanged = setting(100, zero, zero, zero);
  std::vector<LossEstimate> e = estimate_sweep(std::vector{crossing_at(30), damaged, unchanged, SettingEvidence{}});
  for (size_t i : {1u, 2u}) {
    EXPECT_FALSE(e[i].temperature_from_sweep) << i;
    EXPECT_FALSE(e[i].temperature_fitted) << i;
    EXPECT_EQ(e[i].temperature, 1.0) << i;
  }
  EXPECT_NEAR(e[1].mean_pp, 50.0 - kUnitTemperature, 1e-9);
  EXPECT_EQ(e[2].mean_pp, 0.0);
  EXPECT_EQ(e[3].standard_error_pp, 100.0);  // no images
  // Nothing fitted anywhere: no temperature to borrow.
  damaged.flips = 0;
  e = estimate_sweep(std::vector{damaged, damaged});
  for (const LossEstimate& x : e) {
    EXPECT_FALSE(x.temperature_from_sweep);
    EXPECT_EQ(x.temperature, 1.0);
  }
  EXPECT_TRUE(estimate_sweep({}).empty());
}

}  // namespace
}  // namespace disc
