#include "disc/status.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "disc/tensor.hpp"

namespace disc {
namespace {

Result<int> half(int x) {
  if (x % 2) return Error(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> quarter(int x) {
  DISC_ASSIGN_OR_RETURN(int h, half(x));
  return half(h);
}

TEST(Status, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(quarter(8).value(), 2);
  ASSERT_FALSE(quarter(6).ok());
  EXPECT_EQ(quarter(6).error().message(), "3 is odd");
  EXPECT_EQ(half(3).error().with_context("input").message(), "input: 3 is odd");
}

TEST(Status, AnErrorKeepsItsCodeThroughContextAndPropagation) {
  EXPECT_EQ(half(3).error().code(), ErrorCode::kUnknown);
  const auto unavailable = [](int) -> Result<int> { return Error("no server", ErrorCode::kUnavailable); };
  const auto relay = [&](int x) -> Result<int> {
    DISC_ASSIGN_OR_RETURN(int y, unavailable(x));
    return y;
  };
  EXPECT_EQ(relay(1).error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(relay(1).error().with_context("image 1").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(Status(relay(1).error()).error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(relay(1).status().error().code(), ErrorCode::kUnavailable);
  EXPECT_STREQ(error_code_name(ErrorCode::kUnavailable), "UNAVAILABLE");
  EXPECT_STREQ(error_code_name(ErrorCode::kUnauthenticated), "UNAUTHENTICATED");
  EXPECT_STREQ(error_code_name(ErrorCode::kCancelled), "CANCELLED");
  EXPECT_STREQ(error_code_name(static_cast<ErrorCode>(0)), "UNKNOWN");
  EXPECT_STREQ(error_code_name(static_cast<ErrorCode>(17)), "UNKNOWN");
}

TEST(Status, AMoveOnlyValueComesOutOfAnExpiringResult) {
  Result<std::unique_ptr<int>> made(std::make_unique<int>(3));
  std::unique_ptr<int> taken = *std::move(made);
  EXPECT_EQ(*taken, 3);
}

// An invalid shape is the caller's mistake; a shape over the limit asks for too much.
TEST(Tensor, ElementCountValidatesShapes) {
  EXPECT_EQ(element_count({2, 3, 4}).value(), 24u);
  for (const Shape& invalid : {Shape{}, Shape{2, -1}, Shape{2, 0}, Shape{1, 1, 1, 1, 1, 1, 1, 1, 1}})
    EXPECT_EQ(element_count(invalid).error().code(), ErrorCode::kInvalidArgument) << shape_to_string(invalid);
  EXPECT_EQ(element_count({1 << 20, 1 << 20}, size_t{1} << 32).error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(element_count({int64_t{1} << 40, int64_t{1} << 40, int64_t{1} << 40}).error().code(),
            ErrorCode::kResourceExhausted);
  EXPECT_EQ(element_count({5, 5}, 24).error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(Tensor::make({5, 5}, 24).error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(Tensor().check().error().code(), ErrorCode::kInvalidArgument);
}

TEST(Tensor, PlaneViewFoldsLeadingDims) {
  auto v = plane_view({2, 3, 5, 7});
  EXPECT_EQ(v.planes, 6u);
  EXPECT_EQ(v.height, 5u);
  EXPECT_EQ(v.width, 7u);
  auto flat = plane_view({10});
  EXPECT_EQ(flat.planes * flat.height * flat.width, 10u);
}

}  // namespace
}  // namespace disc
