#include <gtest/gtest.h>

#include "disc/plan.hpp"

namespace disc {
namespace {

TEST(Units, ParsesBandwidthsToBitsPerSecond) {
  EXPECT_DOUBLE_EQ(parse_bandwidth("5Mbit").value(), 5e6);
  EXPECT_DOUBLE_EQ(parse_bandwidth("500kbit").value(), 5e5);
  EXPECT_DOUBLE_EQ(parse_bandwidth("1.5Gbit").value(), 1.5e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("10MB/s").value(), 8e7);
  EXPECT_DOUBLE_EQ(parse_bandwidth("64 kbit/s").value(), 64e3);
  EXPECT_DOUBLE_EQ(parse_bandwidth("5mbit").value(), 5e6);  // tc's spelling
  EXPECT_DOUBLE_EQ(parse_bandwidth("250B/s").value(), 2000);
  EXPECT_DOUBLE_EQ(parse_bandwidth("0bit").value(), 0);
}

TEST(Units, RejectsAmbiguousOrInvalidBandwidths) {
  EXPECT_EQ(parse_bandwidth("5").error().message(),
            "bandwidth '5' has no unit (use bit, kbit, Mbit, Gbit (bits/s) or B/s, kB/s, MB/s, GB/s (bytes/s))");
  EXPECT_EQ(parse_bandwidth("5Mbps").error().code(), ErrorCode::kInvalidArgument);  // bits or bytes? tc says bytes
  EXPECT_EQ(parse_bandwidth("5 parsecs").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parse_bandwidth("-5Mbit").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parse_bandwidth("nanMbit").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parse_bandwidth("infMbit").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parse_bandwidth("Mbit").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parse_bandwidth("").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parse_bandwidth("1e400Mbit").error().message(), "bandwidth '1e400Mbit' is out of range");
  EXPECT_EQ(parse_bandwidth("1e-300bit").error().message(),
            "bandwidth '1e-300bit' is outside 1 bit/s..10 Tbit/s (or 0: no link)");
  EXPECT_EQ(parse_bandwidth("2e4Gbit").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(parse_bandwidth("1e4Gbit").ok());
}

TEST(Units, ParsesDurationsToMilliseconds) {
  EXPECT_DOUBLE_EQ(parse_duration_ms("20ms").value(), 20);
  EXPECT_DOUBLE_EQ(parse_duration_ms("0.5s").value(), 500);
  EXPECT_DOUBLE_EQ(parse_duration_ms("300us").value(), 0.3);
  EXPECT_DOUBLE_EQ(parse_duration_ms(" 0 ms ").value(), 0);
  EXPECT_FALSE(parse_duration_ms("20").ok());
  EXPECT_FALSE(parse_duration_ms("20 min").ok());
  EXPECT_FALSE(parse_duration_ms("-1ms").ok());
  EXPECT_FALSE(parse_duration_ms("1e400s").ok());
  EXPECT_EQ(parse_duration_ms("1e300s").error().message(), "duration '1e300s' is over an hour");
  EXPECT_TRUE(parse_duration_ms("3600s").ok());
}

}  // namespace
}  // namespace disc
