// The estimator on scripted transfers: samples are (bytes, seconds) at a chosen rate.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "disc/plan.hpp"

namespace disc {
namespace {

// Feeds `count` transfers of 50 kB at `bps`.
void feed(BandwidthEstimator& e, double bps, int count) {
  for (int i = 0; i < count; ++i) ASSERT_TRUE(e.add_sample(50e3, 50e3 * 8 / bps).ok());
}

double relative_error(double estimate, double truth) { return std::abs(estimate - truth) / truth; }

TEST(BandwidthEstimator, StartsAtTheInitialEstimateAndConverges) {
  auto e = BandwidthEstimator::create({.initial_bps = 20e6});
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(e->estimate_bps(), 20e6);
  feed(*e, 4e6, 12);
  EXPECT_LT(relative_error(e->estimate_bps(), 4e6), 0.01) << e->estimate_bps();
  EXPECT_EQ(e->sample_count(), 12u);
}

TEST(BandwidthEstimator, TheFirstSampleReplacesThePrior) {
  auto e = BandwidthEstimator::create({.initial_bps = 10e6});
  ASSERT_TRUE(e->add_sample(50e3, 50e3 * 8 / 1e6).ok());
  EXPECT_DOUBLE_EQ(e->estimate_bps(), 1e6);
  ASSERT_TRUE(e->add_sample(50e3, 50e3 * 8 / 2e6).ok());  // then smoothed: median of {1, 2} is 1
  EXPECT_DOUBLE_EQ(e->estimate_bps(), 1e6);
  ASSERT_TRUE(e->add_sample(50e3, 50e3 * 8 / 2e6).ok());  // median of {1, 2, 2} is 2
  EXPECT_DOUBLE_EQ(e->estimate_bps(), 1e6 + 0.4 * (2e6 - 1e6));
}

TEST(BandwidthEstimator, ASingleOutlierBarelyMovesTheEstimate) {
  for (double outlier : {400e6, 40e3}) {
    auto e = BandwidthEstimator::create({.initial_bps = 4e6});
    feed(*e, 4e6, 5);
    const double before = e->estimate_bps();
    feed(*e, outlier, 1);
    EXPECT_LT(relative_error(e->estimate_bps(), before), 0.01) << outlier;
    feed(*e, 4e6, 1);
    EXPECT_LT(relative_error(e->estimate_bps(), 4e6), 0.01) << outlier;
  }
}

TEST(BandwidthEstimator, WithoutTheFilterAnOutlierDoesMoveIt) {
  auto e = BandwidthEstimator::create({.initial_bps = 4e6, .window = 1});
  feed(*e, 4e6, 5);
  feed(*e, 400e6, 1);
  EXPECT_GT(e->estimate_bps(), 10 * 4e6);
}

TEST(BandwidthEstimator, TracksAStepChangeWithinTwelveSamples) {
  for (auto [from, to] : {std::pair{10e6, 1e6}, std::pair{1e6, 10e6}}) {
    auto e = BandwidthEstimator::create({.initial_bps = from});
    feed(*e, from, 6);
    int samples = 0;
    while (relative_error(e->estimate_bps(), to) > 0.1 && samples < 100) {
      feed(*e, to, 1);
      ++samples;
    }
    EXPECT_GE(samples, 2) << "the median filter holds the first sample of a new rate back";
    EXPECT_LE(samples, 12) << from << " -> " << to;
  }
}

TEST(BandwidthEstimator, RejectsBadSamplesAndOptions) {
  auto e = BandwidthEstimator::create();
  ASSERT_TRUE(e.ok());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (auto [bytes, seconds] :
       {std::pair{0.0, 1.0}, {-1.0, 1.0}, {1.0, 0.0}, {1.0, -1.0}, {nan, 1.0}, {1.0, nan}, {inf, 1.0}, {1e300, 1e-300}})
    EXPECT_EQ(e->add_sample(bytes, seconds).error().code(), ErrorCode::kInvalidArgument) << bytes << " / " << seconds;
  EXPECT_EQ(e->sample_count(), 0u);
  EXPECT_DOUBLE_EQ(e->estimate_bps(), BandwidthEstimatorOptions{}.initial_bps);
  EXPECT_EQ(BandwidthEstimator::create({.initial_bps = 0}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(BandwidthEstimator::create({.initial_bps = nan}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(BandwidthEstimator::create({.alpha = 0}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(BandwidthEstimator::create({.alpha = 1.5}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(BandwidthEstimator::create({.alpha = nan}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(BandwidthEstimator::create({.window = 0}).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(BandwidthEstimator::create({.window = 17}).error().code(), ErrorCode::kInvalidArgument);
}

TEST(BandwidthEstimator, AlphaOneWithoutFilterFollowsTheLastSample) {
  auto e = BandwidthEstimator::create({.initial_bps = 1e6, .alpha = 1, .window = 1});
  ASSERT_TRUE(e->add_sample(1000, 0.001).ok());
  EXPECT_DOUBLE_EQ(e->estimate_bps(), 8e6);
}

}  // namespace
}  // namespace disc
