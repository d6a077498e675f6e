// Models of opsets 12-17, and of opset 11 with Clip bounds as inputs, are lowered to opset 10
// on loading: OpenCV must compute what the newer forms mean. Tiny models check each rewrite
// against values computed here by hand; the shared models, raised to newer opsets by the ONNX
// library's own converter, must give the outputs and cuts of the originals.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <onnx/version_converter/convert.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "disc/assets.hpp"
#include "disc/model.hpp"
#include "disc/npy.hpp"
#include "model/shared_model.hpp"
#include "model/tensor_difference.hpp"
#include "model/test_assets.hpp"
#include "model/tiny_onnx.hpp"

namespace disc {
namespace {

using testing::add_ints;
using testing::constant;
using testing::constant_node;
using testing::count_ops;
using testing::int64s;
using testing::load;
using testing::node;
using testing::set_float;
using testing::set_int;
using testing::value_info;

constexpr size_t kInputSize = 32;  // x: 1x2x4x4

float input_at(size_t i) { return static_cast<float>(i % 7) - 3.0f; }

Tensor test_input() {
  Tensor input({1, 2, 4, 4});
  for (size_t i = 0; i < input.size(); ++i) input.data()[i] = input_at(i);
  return input;
}

// x[1,2,4,4] -> `nodes` -> y of `y_dims`, at default-domain `opset`.
onnx::ModelProto model_of(int64_t opset, const std::vector<onnx::NodeProto>& nodes,
                          const std::vector<onnx::TensorProto>& constants, const std::vector<std::string>& y_dims) {
  return testing::model_of(opset, {"1", "2", "4", "4"}, y_dims, nodes, constants);
}

onnx::TensorProto scalar(const std::string& name, float value) { return constant(name, {}, {value}); }

// The normalized model as loaded, and its whole-model output on test_input().
struct Lowered {
  onnx::ModelProto proto;
  Tensor output;
};

Result<Lowered> lower_and_run(const onnx::ModelProto& m) {
  DISC_ASSIGN_OR_RETURN(OnnxModel model, load(m));
  const Bytes bytes = model.serialized();
  Lowered lowered;
  if (!lowered.proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return Error("unparsable");
  DISC_ASSIGN_OR_RETURN(Network network, Network::from_onnx(bytes));
  DISC_ASSIGN_OR_RETURN(lowered.output, network.run(test_input()));
  return lowered;
}

int64_t opset_of(const onnx::ModelProto& m) { return m.opset_import(0).version(); }

void expect_output(const Tensor& got, const std::vector<int64_t>& shape, const std::function<float(size_t)>& expected) {
  ASSERT_EQ(got.shape(), Shape(shape.begin(), shape.end()));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got.data()[i], expected(i), 1e-5f) << "element " << i;
}

TEST(OpsetLowering, ClipBoundsGivenAsConstantNodesBecomeAttributes) {
  const auto m = model_of(13,
                          {constant_node("lo", scalar("lo", -1.0f)), constant_node("hi", scalar("hi", 2.0f)),
                           node("Clip", {"x", "lo", "hi"}, {"y"})},
                          {}, {"1", "2", "4", "4"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  EXPECT_EQ(opset_of(lowered->proto), 10);
  EXPECT_EQ(count_ops(lowered->proto, "Constant"), 0u);  // read by the old Clip only
  ASSERT_EQ(lowered->proto.graph().node_size(), 1);
  EXPECT_EQ(lowered->proto.graph().node(0).input_size(), 1);
  expect_output(lowered->output, {1, 2, 4, 4}, [](size_t i) { return std::clamp(input_at(i), -1.0f, 2.0f); });
}

// OpenCV 4.6 reads Clip bounds from attributes only, so an opset-11 model with bounds as
// inputs is lowered too; here the upper bound alone, from an initializer.
TEST(OpsetLowering, Opset11ClipWithOnlyAnUpperBound) {
  const auto m = model_of(11, {node("Clip", {"x", "", "hi"}, {"y"})}, {scalar("hi", 1.5f)}, {"1", "2", "4", "4"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  EXPECT_EQ(opset_of(lowered->proto), 10);
  EXPECT_EQ(lowered->proto.graph().initializer_size(), 0);
  expect_output(lowered->output, {1, 2, 4, 4}, [](size_t i) { return std::min(input_at(i), 1.5f); });
}

TEST(OpsetLowering, Opset11ModelsWithoutInputBoundsStayAsTheyAre) {
  auto lowered = lower_and_run(model_of(11, {node("Relu", {"x"}, {"y"})}, {}, {"1", "2", "4", "4"}));
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  EXPECT_EQ(opset_of(lowered->proto), 11);
}

// OpenCV 4.6 refuses a Clip of more than one input even when they are empty (no bounds).
TEST(OpsetLowering, Opset11ClipWithEmptyBoundInputs) {
  auto lowered = lower_and_run(model_of(11, {node("Clip", {"x", "", ""}, {"y"})}, {}, {"1", "2", "4", "4"}));
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  EXPECT_EQ(opset_of(lowered->proto), 10);
  expect_output(lowered->output, {1, 2, 4, 4}, [](size_t i) { return input_at(i); });
}

TEST(OpsetLowering, HardSwishBecomesHardSigmoidTimesInput) {
  const auto m = model_of(14, {node("HardSwish", {"x"}, {"y"})}, {}, {"1", "2", "4", "4"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  EXPECT_EQ(count_ops(lowered->proto, "HardSwish"), 0u);
  expect_output(lowered->output, {1, 2, 4, 4}, [](size_t i) {
    const float x = input_at(i);
    return x * std::clamp(x / 6.0f + 0.5f, 0.0f, 1.0f);
  });
}

// Softmax-13 along the last axis: each row of 4 sums to 1.
TEST(OpsetLowering, SoftmaxAlongTheLastAxis) {
  const auto m = model_of(13, {node("Softmax", {"x"}, {"y"})}, {}, {"1", "2", "4", "4"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  expect_output(lowered->output, {1, 2, 4, 4}, [](size_t i) {
    const size_t row = i / 4 * 4;
    float sum = 0;
    for (size_t j = row; j < row + 4; ++j) sum += std::exp(input_at(j));
    return std::exp(input_at(i)) / sum;
  });
}

// Softmax-13 along the channels (as segmentation models end): the axis is moved last and back.
TEST(OpsetLowering, SoftmaxAlongAnotherAxis) {
  onnx::NodeProto softmax = node("Softmax", {"x"}, {"y"});
  set_int(softmax, "axis", 1);
  auto lowered = lower_and_run(model_of(13, {softmax}, {}, {"1", "2", "4", "4"}));
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  EXPECT_EQ(count_ops(lowered->proto, "Transpose"), 2u);
  expect_output(lowered->output, {1, 2, 4, 4}, [](size_t i) {
    const size_t p = i % 16;
    return std::exp(input_at(i)) / (std::exp(input_at(p)) + std::exp(input_at(16 + p)));
  });
}

// The tensors the lowering adds between its Transposes are not the user's, so they are no
// cuts: only r is.
TEST(OpsetLowering, TheTensorsALoweringAddsAreNoCuts) {
  onnx::NodeProto softmax = node("Softmax", {"r"}, {"y"});
  set_int(softmax, "axis", 1);
  auto model = load(model_of(13, {node("Relu", {"x"}, {"r"}), softmax}, {}, {"1", "2", "4", "4"}));
  ASSERT_TRUE(model.ok()) << model.error().message();
  ASSERT_EQ(model->cuts().size(), 1u);
  EXPECT_EQ(model->cuts()[0].tensor, "r");
  EXPECT_TRUE(model->unshaped_cuts().empty());
  EXPECT_EQ(model->find_cut("y_axis_last").error().code(), ErrorCode::kNotFound);
}

// Pad-13: pads and value as inputs. Padding H and W by one on each side with 0.5.
TEST(OpsetLowering, PadInputsBecomeAttributes) {
  const auto m = model_of(13, {node("Pad", {"x", "pads", "value"}, {"y"})},
                          {int64s("pads", {0, 0, 1, 1, 0, 0, 1, 1}), scalar("value", 0.5f)}, {"1", "2", "6", "6"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  expect_output(lowered->output, {1, 2, 6, 6}, [](size_t i) {
    const size_t c = i / 36, h = i % 36 / 6, w = i % 6;
    if (h == 0 || h == 5 || w == 0 || w == 5) return 0.5f;
    return input_at(c * 16 + (h - 1) * 4 + (w - 1));
  });
}

// A classifier's end at opset 17: Flatten at a negative axis, Gemm without C, Unsqueeze and
// Squeeze with axes as inputs, one of them negative; y = flatten(x) · Bᵀ (transB=1, as
// exporters write a linear layer).
TEST(OpsetLowering, FlattenGemmWithoutBiasUnsqueezeSqueeze) {
  std::vector<float> b(3 * kInputSize);  // [3][32]
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 5) * 0.25f - 0.5f;
  onnx::NodeProto flatten = node("Flatten", {"x"}, {"flat"});
  set_int(flatten, "axis", -3);
  onnx::NodeProto gemm = node("Gemm", {"flat", "B"}, {"logits"});
  set_int(gemm, "transB", 1);
  const auto m = model_of(17,
                          {flatten, gemm,
                           node("Unsqueeze", {"logits", "last"}, {"column"}),
                           node("Squeeze", {"column", "two"}, {"y"})},
                          {constant("B", {3, static_cast<int64_t>(kInputSize)}, b), int64s("last", {-1}),
                           int64s("two", {2})},
                          {"1", "3"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  EXPECT_EQ(opset_of(lowered->proto), 10);
  expect_output(lowered->output, {1, 3}, [&](size_t j) {
    float sum = 0;
    for (size_t i = 0; i < kInputSize; ++i) sum += input_at(i) * b[j * kInputSize + i];
    return sum;
  });
}

// Slice-13 along axis -1 (Slice-10 counts axes from the front only): y = x[..., 1:3].
TEST(OpsetLowering, SliceAlongANegativeAxis) {
  const auto m = model_of(13, {node("Slice", {"x", "starts", "ends", "axes"}, {"y"})},
                          {int64s("starts", {1}), int64s("ends", {3}), int64s("axes", {-1})}, {"1", "2", "4", "2"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  for (const auto& t : lowered->proto.graph().initializer()) EXPECT_NE(t.name(), "axes");
  expect_output(lowered->output, {1, 2, 4, 2}, [](size_t i) { return input_at(i / 2 * 4 + 1 + i % 2); });
}

// Dropout-13 (ratio and training_mode inputs) and BatchNormalization-15 at inference.
TEST(OpsetLowering, DropoutAndBatchNormalizationAtInference) {
  onnx::TensorProto off;
  off.set_name("off");
  off.set_data_type(onnx::TensorProto::BOOL);
  off.add_int32_data(0);
  onnx::NodeProto bn = node("BatchNormalization", {"dropped", "scale", "bias", "mean", "var"}, {"y"});
  set_int(bn, "training_mode", 0);
  set_float(bn, "epsilon", 0.0f);
  const auto m = model_of(15, {node("Dropout", {"x", "ratio", "off"}, {"dropped"}), bn},
                          {scalar("ratio", 0.5f), off, constant("scale", {2}, {2.0f, 1.0f}),
                           constant("bias", {2}, {0.5f, -1.0f}), constant("mean", {2}, {1.0f, 0.0f}),
                           constant("var", {2}, {4.0f, 1.0f})},
                          {"1", "2", "4", "4"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  expect_output(lowered->output, {1, 2, 4, 4}, [](size_t i) {
    const float x = input_at(i);
    return i < 16 ? 2.0f * (x - 1.0f) / 2.0f + 0.5f : x - 1.0f;
  });
}

// Gather-13 with a negative index (x[:, -1]), which Gather-1 holds out of bounds.
TEST(OpsetLowering, GatherWithANegativeIndex) {
  onnx::NodeProto gather = node("Gather", {"x", "last"}, {"y"});
  set_int(gather, "axis", 1);
  onnx::TensorProto last = int64s("last", {-1});
  last.clear_dims();  // a scalar index: the axis goes
  const auto m = model_of(13, {gather}, {last}, {"1", "4", "4"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  expect_output(lowered->output, {1, 4, 4}, [](size_t i) { return input_at(16 + i); });
}

// Pow-15 with an int64 exponent, which Pow-7 does not take.
TEST(OpsetLowering, PowWithAnIntegerExponent) {
  onnx::TensorProto two = int64s("two", {2});
  two.clear_dims();  // a scalar
  const auto m = model_of(15, {node("Pow", {"x", "two"}, {"y"})}, {two}, {"1", "2", "4", "4"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  expect_output(lowered->output, {1, 2, 4, 4}, [](size_t i) { return input_at(i) * input_at(i); });
}

// The flatten of old PyTorch exports at opset 15: Reshape(x, Concat(Unsqueeze(Gather(Shape(x),
// 0)), [-1])), the axes and the -1 given as value_ints Constants.
TEST(OpsetLowering, ShapeGatherUnsqueezeConcatReshape) {
  onnx::NodeProto first = node("Gather", {"shape", "zero"}, {"batch"});
  onnx::NodeProto axes = node("Constant", {}, {"axes"});
  auto* ints = axes.add_attribute();
  ints->set_name("value_ints");
  ints->set_type(onnx::AttributeProto::INTS);
  ints->add_ints(0);
  onnx::NodeProto rest = node("Constant", {}, {"rest"});
  ints = rest.add_attribute();
  ints->set_name("value_ints");
  ints->set_type(onnx::AttributeProto::INTS);
  ints->add_ints(-1);
  onnx::NodeProto concat = node("Concat", {"batch1", "rest"}, {"target"});
  set_int(concat, "axis", 0);
  onnx::TensorProto zero = int64s("zero", {0});
  zero.clear_dims();
  const auto m = model_of(15,
                          {node("Shape", {"x"}, {"shape"}), first, axes, node("Unsqueeze", {"batch", "axes"}, {"batch1"}),
                           rest, concat, node("Reshape", {"x", "target"}, {"y"})},
                          {zero}, {"1", "32"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  expect_output(lowered->output, {1, 32}, [](size_t i) { return input_at(i); });
}

// Empty axes: ReduceSum-13 with noop_with_empty_axes passes its input on; Squeeze-13 without
// axes drops every dim of 1, which OpenCV wants listed.
TEST(OpsetLowering, EmptyAxes) {
  onnx::NodeProto noop = node("ReduceSum", {"x"}, {"same"});
  set_int(noop, "noop_with_empty_axes", 1);
  onnx::NodeProto mean = node("ReduceMean", {"same"}, {"means"});
  testing::add_ints(&mean, "axes", {2, 3});
  const auto m = model_of(13, {noop, mean, node("Squeeze", {"means"}, {"y"})}, {}, {"2"});
  auto lowered = lower_and_run(m);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();
  expect_output(lowered->output, {2}, [](size_t c) {
    float sum = 0;
    for (size_t i = 0; i < 16; ++i) sum += input_at(c * 16 + i);
    return sum / 16;
  });
}

// Before opset 13 a Softmax at axis 1 of 1x2x4x4 is one softmax over 32 values; OpenCV 4.6
// computes 16 softmaxes over 2, so such a node is refused at any opset (here 12, lowered, and
// 10, as given).
TEST(OpsetLowering, SoftmaxOverSeveralDimsIsRefusedForWhatOpenCvComputes) {
  for (int64_t opset : {10, 12}) {
    SCOPED_TRACE(opset);
    auto loaded = load(model_of(opset, {node("Softmax", {"x"}, {"y"})}, {}, {"1", "2", "4", "4"}));
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message().find("node 'Softmax_y' (Softmax): one Softmax over dims 1..3 at once"),
              std::string::npos)
        << loaded.error().message();
  }
}

void expect_refusal(const onnx::ModelProto& m, const std::string& reason) {
  auto loaded = load(m);
  ASSERT_FALSE(loaded.ok()) << reason;
  EXPECT_NE(loaded.error().message().find(reason), std::string::npos) << loaded.error().message();
}

TEST(OpsetLowering, WhatOpset10CannotSayIsRefusedNamingTheNode) {
  onnx::NodeProto training =
      node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y", "running_mean", "running_var"});
  set_int(training, "training_mode", 1);
  expect_refusal(model_of(15, {training},
                          {constant("scale", {2}, {1, 1}), constant("bias", {2}, {0, 0}), constant("mean", {2}, {0, 0}),
                           constant("var", {2}, {1, 1})},
                          {"1", "2", "4", "4"}),
                 "node 'BatchNormalization_y' (BatchNormalization): training_mode=1 has no opset-10");
  onnx::NodeProto resize = node("Resize", {"x", "", "scales"}, {"y"});
  expect_refusal(model_of(13, {resize}, {constant("scales", {4}, {1, 1, 2, 2})}, {"1", "2", "8", "8"}),
                 "Resize as of opset 13 has no opset-10 form that DISC writes");
  expect_refusal(model_of(13, {node("Clip", {"x", "x"}, {"y"})}, {}, {"1", "2", "4", "4"}),
                 "its min must be a constant fp32 scalar");
  // Equal-13 compares floats, which Equal-7 does not take.
  onnx::NodeProto cast = node("Cast", {"same"}, {"y"});
  set_int(cast, "to", onnx::TensorProto::FLOAT);
  expect_refusal(model_of(13, {node("Equal", {"x", "x"}, {"same"}), cast}, {}, {"1", "2", "4", "4"}),
                 "Equal as of opset 13 has no opset-10 form");
  // An opset-11 model is lowered for its Clip bounds; the error says why it was lowered.
  expect_refusal(model_of(11, {node("Clip", {"x", "lo"}, {"c"}), node("Range", {"lo", "lo", "lo"}, {"r"}),
                               node("Relu", {"c"}, {"y"})},
                          {scalar("lo", 0.0f)}, {"1", "2", "4", "4"}),
                 "opset 11 model with Clip bounds as inputs (OpenCV 4.6 reads them from attributes only), lowered to "
                 "opset 10 for OpenCV: node 'Range_r' (Range)");
}

// The shared models, raised by onnx::version_conversion (the reference for what each newer
// form means), load as the originals do: same cuts, same output.
void expect_raised_model_equals_original(const std::string& name, int opset) {
  const testing::SharedModel original = testing::load_shared_model(name);
  auto bytes = read_file(original.entry.path);
  ASSERT_TRUE(bytes.ok());
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())));
  // ONNX 1.12's Pad 10 -> 11 adapter requires the optional `value` attribute.
  for (auto& n : *proto.mutable_graph()->mutable_node())
    if (n.op_type() == "Pad" && std::none_of(n.attribute().begin(), n.attribute().end(),
                                             [](const auto& a) { return a.name() == "value"; }))
      set_float(n, "value", 0.0f);
  const onnx::ModelProto raised = onnx::version_conversion::ConvertVersion(proto, opset);
  ASSERT_EQ(raised.opset_import(0).version(), opset);
  auto lowered = load(raised);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message();

  const std::vector<CutPoint>& cuts = original.model.cuts();
  ASSERT_EQ(lowered->cuts().size(), cuts.size());
  for (size_t i = 0; i < cuts.size(); ++i) {
    EXPECT_EQ(lowered->cuts()[i].tensor, cuts[i].tensor);
    EXPECT_EQ(lowered->cuts()[i].shape, cuts[i].shape);
  }
  auto expected_net = Network::from_onnx(original.model.serialized());
  auto lowered_net = Network::from_onnx(lowered->serialized());
  ASSERT_TRUE(expected_net.ok() && lowered_net.ok()) << (lowered_net.ok() ? "" : lowered_net.error().message());
  auto expected = expected_net->run(original.image);
  auto got = lowered_net->run(original.image);
  ASSERT_TRUE(expected.ok() && got.ok());
  ASSERT_EQ(got->shape(), expected->shape());
  EXPECT_LE(testing::relative_difference(*expected, *got), 1e-5f);
}

TEST(OpsetLowering, MobilenetV2RaisedToOpset11) { expect_raised_model_equals_original("mobilenet_v2_1.0_224", 11); }
TEST(OpsetLowering, MobilenetV2RaisedToOpset17) { expect_raised_model_equals_original("mobilenet_v2_1.0_224", 17); }
TEST(OpsetLowering, MobilenetV1RaisedToOpset13) { expect_raised_model_equals_original("mobilenet_v1_0.25_128", 13); }
TEST(OpsetLowering, Resnet20RaisedToOpset17) { expect_raised_model_equals_original("resnet20_cifar10", 17); }

}  // namespace
}  // namespace disc
