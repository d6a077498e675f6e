// The planner's size of a request message against the protobuf library's: what `disc plan`
// charges the link for is what `disc edge` sends (EdgeResult::bytes_sent).
#include <gtest/gtest.h>

#include <string>

#include "disc/v1/inference.pb.h"
#include "plan/latency_model.hpp"

namespace disc {
namespace {

// Lengths on both sides of every varint size boundary a name or payload can cross.
constexpr size_t kLengths[] = {0, 1, 127, 128, 16383, 16384, 2097151, 2097152};

TEST(RequestBytes, InferRequestAroundAStreamIsWhatProtobufWrites) {
  for (size_t model : {size_t{1}, size_t{16}, size_t{200}})
    for (size_t cut : {size_t{1}, size_t{32}, size_t{127}, size_t{128}})
      for (size_t stream : kLengths) {
        disc::v1::InferRequest request;
        request.set_model(std::string(model, 'm'));
        request.set_cut(std::string(cut, 'c'));
        request.set_stream(std::string(stream, 's'));
        request.set_model_fingerprint(0x8000000000000001);  // the edge sends one with every stream
        for (int top_k : {1, 5, 127}) {
          request.set_top_k(top_k);
          EXPECT_EQ(plan_internal::request_bytes(request.model(), request.cut(), static_cast<double>(stream)),
                    static_cast<double>(request.ByteSizeLong()))
              << "model " << model << ", cut " << cut << ", stream " << stream << ", top_k " << top_k;
        }
      }
}

TEST(RequestBytes, InferImageRequestAroundAnImageIsWhatProtobufWrites) {
  for (size_t model : {size_t{1}, size_t{20}})
    for (size_t image : kLengths) {
      disc::v1::InferImageRequest request;
      request.set_model(std::string(model, 'm'));
      request.set_image(std::string(image, 'i'));
      request.set_top_k(5);
      request.set_model_fingerprint(1);
      EXPECT_EQ(plan_internal::request_bytes(request.model(), "", static_cast<double>(image)),
                static_cast<double>(request.ByteSizeLong()))
          << "model " << model << ", image " << image;
    }
}

}  // namespace
}  // namespace disc
