// Models the loader must reject with a clear Error (and tiny ones it must normalize),
// built with the ONNX C++ API.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <fmt/format.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "disc/model.hpp"
#include "disc/npy.hpp"
#include "model/test_assets.hpp"
#include "model/tiny_onnx.hpp"

namespace disc {
namespace {

using testing::add_ints;
using testing::conv;
using testing::load;
using testing::node;
using testing::tiny_model;
using testing::value_info;

void expect_error(const onnx::ModelProto& m, const std::string& fragment) {
  auto model = load(m);
  ASSERT_FALSE(model.ok()) << "expected an error mentioning " << fragment;
  EXPECT_NE(model.error().message().find(fragment), std::string::npos) << model.error().message();
}

TEST(OnnxLoad, NormalizesTinyModelAndSplitsIt) {
  auto model = load(tiny_model());
  ASSERT_TRUE(model.ok()) << model.error().message();
  EXPECT_EQ(model->input_shape(), (Shape{1, 2, 4, 4}));
  EXPECT_EQ(model->output_shape(), (Shape{1, 2, 4, 4}));  // the batch is pinned to 1
  ASSERT_EQ(model->cuts().size(), 3u);  // a, b, c
  EXPECT_EQ(model->cuts()[0].tensor, "a");
  EXPECT_EQ(model->cuts()[0].position, 0u);  // the Identity node is gone
  EXPECT_EQ(model->cuts()[2].shape, (Shape{1, 2, 4, 4}));

  Tensor input({1, 2, 4, 4});
  for (size_t i = 0; i < input.size(); ++i) input.data()[i] = static_cast<float>(i % 7) - 3.0f;
  auto whole = Network::from_onnx(model->serialized());
  ASSERT_TRUE(whole.ok()) << whole.error().message();
  auto expected = whole->run(input);
  ASSERT_TRUE(expected.ok());
  for (const CutPoint& cut : model->cuts()) {
    auto split = model->split(cut.tensor);
    ASSERT_TRUE(split.ok());
    auto head = Network::from_onnx(split->head);
    auto tail = Network::from_onnx(split->tail);
    ASSERT_TRUE(head.ok() && tail.ok());
    auto mid = head->run(input);
    ASSERT_TRUE(mid.ok());
    auto out = tail->run(*mid);
    ASSERT_TRUE(out.ok());
    for (size_t i = 0; i < out->size(); ++i) EXPECT_FLOAT_EQ(out->data()[i], expected->data()[i]);
  }
}

TEST(OnnxLoad, AnOutputShapeInferenceCannotSizeLeavesTheOutputShapeEmpty) {
  // y = an unsized Reshape of d: inference knows y's rank, not its dims.
  onnx::ModelProto m = tiny_model();
  auto* g = m.mutable_graph();
  g->mutable_node(4)->set_output(0, "d");
  for (auto& n : testing::unsized_reshape("d", "y")) *g->add_node() = n;
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  auto model = load(m);
  ASSERT_TRUE(model.ok()) << model.error().message();
  EXPECT_TRUE(model->output_shape().empty()) << shape_to_string(model->output_shape());
}

// A separator that shape inference cannot size is no cut, but the model still loads, runs and
// splits elsewhere (it was refused whole). Here b_again, an unsized Reshape of b, comes between
// the Relu and the second Conv: inference sizes neither b_again nor c after it.
TEST(OnnxLoad, ASeparatorWithoutAStaticShapeIsNoCutButTheModelLoads) {
  onnx::ModelProto m = tiny_model();
  auto* g = m.mutable_graph();
  for (auto& n : *g->mutable_node())
    if (n.op_type() == "Conv" && n.output(0) == "c") n.set_input(0, "b_again");
  for (auto& n : testing::unsized_reshape("b", "b_again")) *g->add_node() = n;
  auto model = load(m);
  ASSERT_TRUE(model.ok()) << model.error().message();
  std::vector<std::string> cuts, unshaped;
  for (const CutPoint& c : model->cuts()) cuts.push_back(c.tensor);
  for (const UnshapedCut& u : model->unshaped_cuts()) unshaped.push_back(u.tensor + " " + u.op_type);
  EXPECT_EQ(cuts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(unshaped, (std::vector<std::string>{"b_again Reshape", "c Conv"}));  // c reads b_again
  auto refused = model->split("b_again");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("could not give it a static shape"), std::string::npos)
      << refused.error().message();
  EXPECT_TRUE(model->split("b").ok());
  auto whole = Network::from_onnx(model->serialized());
  ASSERT_TRUE(whole.ok()) << whole.error().message();
  EXPECT_TRUE(whole->run(Tensor({1, 2, 4, 4})).ok());
}

TEST(OnnxLoad, RejectsRandomBytesAndEmptyInput) {
  std::mt19937 rng(1);
  std::vector<uint8_t> noise(4096);
  for (auto& b : noise) b = static_cast<uint8_t>(rng());
  EXPECT_EQ(OnnxModel::load_bytes(noise.data(), noise.size()).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(OnnxModel::load_bytes(noise.data(), 0).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Network::from_onnx(noise).error().code(), ErrorCode::kInvalidArgument);
}

TEST(OnnxLoad, RejectsEveryTruncationOfARealModel) {
  auto bytes = read_file(testing::assets_dir() + "/models/resnet20_cifar10.onnx");
  ASSERT_TRUE(bytes.ok());
  for (size_t keep : {size_t{1}, size_t{100}, bytes->size() / 3, bytes->size() / 2, bytes->size() - 1}) {
    auto model = OnnxModel::load_bytes(bytes->data(), keep);
    ASSERT_FALSE(model.ok()) << "kept " << keep << " bytes";
    EXPECT_EQ(model.error().code(), ErrorCode::kInvalidArgument) << "kept " << keep << " bytes";
  }
  EXPECT_EQ(OnnxModel::load_file("/nonexistent/model.onnx").error().code(), ErrorCode::kNotFound);
}

// A file is parsed as it is read: /dev/zero, which no model starts like, is refused at once
// as no model (it was read up to the 2 GiB limit before), and bytes after a model are an
// error as in a buffer.
TEST(OnnxLoad, FilesAreParsedAsTheyAreRead) {
  auto zeros = OnnxModel::load_file("/dev/zero");
  ASSERT_FALSE(zeros.ok());
  EXPECT_EQ(zeros.error().message(),
            "/dev/zero: not a valid ONNX model (protobuf parse failed; truncated or corrupt file?)");

  const std::string model = testing::assets_dir() + "/models/resnet20_cifar10.onnx";
  auto bytes = read_file(model);
  ASSERT_TRUE(bytes.ok());
  const auto dir = std::filesystem::temp_directory_path() / ("disc_onnx_files_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, size_t keep, const std::string& extra) {
    std::vector<uint8_t> content(bytes->begin(), bytes->begin() + static_cast<std::ptrdiff_t>(keep));
    content.insert(content.end(), extra.begin(), extra.end());
    EXPECT_TRUE(write_file((dir / name).string(), content).ok());
    return (dir / name).string();
  };
  EXPECT_TRUE(OnnxModel::load_file(write("whole.onnx", bytes->size(), "")).ok());
  const std::string invalid = "not a valid ONNX model (protobuf parse failed; truncated or corrupt file?)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {write("trailing.onnx", bytes->size(), std::string(3, '\0')), invalid},
      {write("zero_tag.onnx", bytes->size(), std::string(1, '\0')), invalid},   // ends a message for a stream parser
      {write("end_group.onnx", bytes->size(), std::string(1, '\x0c')), invalid},  // likewise
      {write("truncated.onnx", bytes->size() / 2, ""), invalid},
      {write("empty.onnx", 0, ""), "empty ONNX model"},
  };
  for (const auto& [path, reason] : cases) {
    auto loaded = OnnxModel::load_file(path);
    ASSERT_FALSE(loaded.ok()) << path;
    EXPECT_EQ(loaded.error().message(), path + ": " + reason);
  }
  // Files of /proc claim a size of 0 and are read all the same.
  auto status = OnnxModel::load_file("/proc/self/status");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(), "/proc/self/status: " + invalid);
  auto directory = OnnxModel::load_file(dir.string());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().message(), "cannot read '" + dir.string() + "': Is a directory");
  std::filesystem::remove_all(dir);
}

TEST(OnnxLoad, RejectsMissingInitializer) {
  auto m = tiny_model();
  m.mutable_graph()->clear_initializer();
  expect_error(m, "input 'W' is neither produced");
}

// kernel_shape is optional; ONNX's shape inference then takes it from the weights and, for
// data of fewer spatial dims than the weights, read past its arrays (found by fuzz_onnx_model).
TEST(OnnxLoad, TakesAMissingKernelShapeFromTheWeights) {
  const auto without_kernel_shapes = [] {
    auto m = tiny_model();
    for (auto& n : *m.mutable_graph()->mutable_node())
      if (n.op_type() == "Conv") n.clear_attribute();
    return m;
  };
  auto model = load(without_kernel_shapes());
  ASSERT_TRUE(model.ok()) << model.error().message();
  EXPECT_EQ(model->cuts().size(), 3u);
  EXPECT_EQ(model->output_shape(), (Shape{1, 2, 4, 4}));

  auto flat = without_kernel_shapes();  // a rank-2 input that no 1x1 kernel fits
  *flat.mutable_graph()->mutable_input(0) = value_info("x", {"1", "2"});
  *flat.mutable_graph()->mutable_output(0) = value_info("y", {"1", "2"});
  expect_error(flat, "kernel_shape has incorrect size");

  auto computed = without_kernel_shapes();  // weights that are no constant
  auto* g = computed.mutable_graph();
  *g->add_node() = node("Relu", {"W"}, {"W_relu"});
  for (auto& n : *g->mutable_node())
    if (n.op_type() == "Conv" && n.output(0) == "c") n.set_input(1, "W_relu");
  expect_error(computed, "no kernel_shape attribute and no constant weights");
}

// OpenCV divides by the weights' dims when it creates the layer (SIGFPE on a fuzzed Gemm).
TEST(OnnxLoad, RejectsEmptyWeights) {
  auto m = tiny_model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->set_dims(1, 0);  // 2 x 0 x 1 x 1
  w->clear_float_data();
  expect_error(m, "its constant input 'W' has a dim of 0");
}

// OpenCV copies as many values as the dims say (a fuzzed weight read past its raw_data).
TEST(OnnxLoad, RejectsTensorsHoldingOtherThanTheirDimsSay) {
  auto m = tiny_model();
  m.mutable_graph()->mutable_initializer(0)->set_dims(0, 6);  // 6 x 2 x 1 x 1, 4 values
  expect_error(m, "initializer 'W' holds 4 values where its dims say 12");

  m = tiny_model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_raw_data(std::string(4 * 4 + 2, '\0'));  // 4.5 floats
  expect_error(m, "initializer 'W' holds 4 values where its dims say 4");

  m = tiny_model();  // the same through a Constant node
  auto* g = m.mutable_graph();
  onnx::NodeProto constant = node("Constant", {}, {"K"});
  auto* value = constant.add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  *value->mutable_t() = g->initializer(0);
  value->mutable_t()->set_dims(0, 3);
  *g->add_node() = constant;
  expect_error(m, "attribute 'value' holds 4 values where its dims say 6");
}

TEST(OnnxLoad, RejectsWindowAttributesThatWouldDivideByZero) {
  const auto with = [](const std::string& name, int64_t value) {
    auto m = tiny_model();
    auto* attr = m.mutable_graph()->mutable_node(1)->add_attribute();  // the first Conv
    attr->set_name(name);
    if (name == "group") {
      attr->set_type(onnx::AttributeProto::INT);
      attr->set_i(value);
    } else {
      attr->set_type(onnx::AttributeProto::INTS);
      for (int i = 0; i < (name == "pads" ? 4 : 2); ++i) attr->add_ints(i == 0 ? value : 1);
    }
    return m;
  };
  expect_error(with("strides", 0), "attribute 'strides' has the value 0 (must be at least 1)");
  expect_error(with("dilations", -1), "attribute 'dilations' has the value -1");
  expect_error(with("group", 0), "attribute 'group' is 0 (must be at least 1)");
  expect_error(with("group", -1), "attribute 'group' is -1");
  expect_error(with("pads", -2), "attribute 'pads' has the value -2 (must not be negative)");
  auto fine = load(with("strides", 1));
  EXPECT_TRUE(fine.ok()) << fine.error().message();
  // Only windowed ops are checked: an opset-2 Pad with negative pads crops, which is legal.
  auto crop = tiny_model();
  crop.mutable_opset_import(0)->set_version(10);
  auto* pad = crop.mutable_graph()->add_node();
  *pad = node("Pad", {"y"}, {"cropped"});
  auto* pads = pad->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : {0, 0, -1, -1, 0, 0, -1, -1}) pads->add_ints(v);
  *crop.mutable_graph()->mutable_output(0) = value_info("cropped", {"batch", "2", "2", "2"});
  auto cropped = load(crop);
  EXPECT_TRUE(cropped.ok()) << cropped.error().message();
}

TEST(OnnxLoad, RejectsControlFlow) {
  auto m = tiny_model();
  auto* n = m.mutable_graph()->add_node();
  *n = node("If", {"b"}, {"z"});
  n->add_attribute()->set_name("then_branch");
  n->mutable_attribute(0)->set_type(onnx::AttributeProto::GRAPH);
  n->mutable_attribute(0)->mutable_g()->set_name("then");
  expect_error(m, "node 'If_z' (If): control-flow");
}

TEST(OnnxLoad, RejectsNewOpsetsUnknownDomainsAndSecondInputs) {
  auto newer = tiny_model();
  newer.mutable_opset_import(0)->set_version(18);
  expect_error(newer, "opset 18 is newer than 17");
  auto domain = tiny_model();
  domain.mutable_graph()->mutable_node(2)->set_domain("com.microsoft");
  expect_error(domain, "node 'Relu_b' (Relu): operator domain 'com.microsoft'");
  auto two = tiny_model();
  *two.mutable_graph()->add_input() = value_info("x2", {"1", "2", "4", "4"});
  expect_error(two, "more than one input");
  // Logits and features both: no split could answer with both, so no cut is listed for it.
  auto two_outputs = tiny_model();
  *two_outputs.mutable_graph()->add_output() = value_info("b", {"batch", "2", "4", "4"});
  expect_error(two_outputs, "model has 2 outputs ('y', 'b'); DISC splits models of one output");
  auto no_output = tiny_model();
  no_output.mutable_graph()->clear_output();
  expect_error(no_output, "no outputs");
  auto dynamic = tiny_model();
  *dynamic.mutable_graph()->mutable_input(0) = value_info("x", {"1", "2", "h", "4"});
  expect_error(dynamic, "dynamic dimension 'h' at axis 2: give the input size (--size HxW)");
}

// An export with a symbolic height and width loads at the size asked for, and runs there; a
// size cannot change a dim the model fixes.
TEST(OnnxLoad, ARequestedSizeFillsDynamicInputDims) {
  auto dynamic = tiny_model();
  *dynamic.mutable_graph()->mutable_input(0) = value_info("x", {"batch", "2", "h", "w"});
  *dynamic.mutable_graph()->mutable_output(0) = value_info("y", {"batch", "2", "h", "w"});
  const std::string bytes = dynamic.SerializeAsString();
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  auto sized = OnnxModel::load_bytes(data, bytes.size(), {1, 2, 6, 5});
  ASSERT_TRUE(sized.ok()) << sized.error().message();
  EXPECT_EQ(sized->input_shape(), (Shape{1, 2, 6, 5}));
  EXPECT_EQ(sized->output_shape(), (Shape{1, 2, 6, 5}));
  ASSERT_FALSE(sized->cuts().empty());
  EXPECT_EQ(sized->cuts().front().shape, (Shape{1, 2, 6, 5}));
  auto net = Network::from_onnx(sized->serialized());
  ASSERT_TRUE(net.ok()) << net.error().message();
  auto out = net->run(Tensor(Shape{1, 2, 6, 5}));
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(out->shape(), (Shape{1, 2, 6, 5}));

  auto fixed = OnnxModel::load_bytes(data, bytes.size(), {1, 3, 6, 5});
  ASSERT_FALSE(fixed.ok());
  EXPECT_NE(fixed.error().message().find("input 'x' is 1x2xhxw, not 1x3x6x5"), std::string::npos)
      << fixed.error().message();
  auto rank = OnnxModel::load_bytes(data, bytes.size(), {1, 2, 6});
  ASSERT_FALSE(rank.ok());
  EXPECT_NE(rank.error().message().find("not of the 3 dims of 1x2x6"), std::string::npos) << rank.error().message();
  // A static model is unchanged by its own shape.
  auto own = load(tiny_model());
  ASSERT_TRUE(own.ok());
  const std::string declared = tiny_model().SerializeAsString();
  auto restated = OnnxModel::load_bytes(reinterpret_cast<const uint8_t*>(declared.data()), declared.size(), {1, 2, 4, 4});
  ASSERT_TRUE(restated.ok()) << restated.error().message();
  EXPECT_EQ(restated->serialized(), own->serialized());
}

TEST(OnnxLoad, RejectsTensorsBeyondTheElementLimit) {
  onnx::ModelProto m = tiny_model();
  *m.mutable_graph()->mutable_input(0) = value_info("x", {"1", "2", "16384", "16384"});  // 2^29 values
  m.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  expect_error(m, "tensor 'x' would hold more than 268435456 values");

  // A model of a few hundred bytes whose Pad would make OpenCV allocate 6 GB.
  m = tiny_model();
  m.mutable_opset_import(0)->set_version(10);
  auto* g = m.mutable_graph();
  g->mutable_node(4)->set_output(0, "y_small");
  onnx::NodeProto pad = node("Pad", {"y_small"}, {"y"});
  add_ints(&pad, "pads", {0, 0, 20000, 20000, 0, 0, 20000, 20000});
  *g->add_node() = pad;
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  expect_error(m, "tensor 'y' would hold more than");
}

TEST(OnnxLoad, RejectsATensorWrittenTwice) {
  auto m = tiny_model();
  *m.mutable_graph()->add_node() = node("Neg", {"a"}, {"b"});  // the Relu writes b too
  expect_error(m, "writes 'b', which node 'Relu_b' (Relu) writes too");
  m = tiny_model();
  *m.mutable_graph()->add_node() = node("Neg", {"a"}, {"x"});
  expect_error(m, "writes 'x', which is a graph input or an initializer");
}

// Sorting, cut finding and splitting take time linear in the graph: a chain of 100 000
// nodes listed backwards took hours before (a pass over all nodes per node placed, and a
// backward walk per candidate cut); the test's timeout catches a return to that.
TEST(OnnxLoad, SortsAndCutsALongChainListedBackwards) {
  constexpr int kNodes = 100000;
  const auto tensor = [](int i) { return fmt::format("t{}", i); };
  onnx::ModelProto m;
  m.set_ir_version(6);
  m.add_opset_import()->set_version(11);
  auto* g = m.mutable_graph();
  *g->add_input() = value_info(tensor(0), {"1", "1", "2", "2"});
  *g->add_output() = value_info(tensor(kNodes), {"1", "1", "2", "2"});
  for (int i = kNodes; i > 0; --i) *g->add_node() = node("Relu", {tensor(i - 1)}, {tensor(i)});
  auto model = load(m);
  ASSERT_TRUE(model.ok()) << model.error().message();
  ASSERT_EQ(model->cuts().size(), static_cast<size_t>(kNodes - 1));  // every tensor but the ends
  for (int i = 0; i < kNodes - 1; i += 9973) {
    EXPECT_EQ(model->cuts()[i].tensor, tensor(i + 1));
    EXPECT_EQ(model->cuts()[i].position, static_cast<size_t>(i));
  }
  auto split = model->split(tensor(kNodes / 2));
  ASSERT_TRUE(split.ok()) << split.error().message();
}

// A node must fit its operator's schema: ONNX's shape inference divided by the output count
// of a Split without outputs (SIGFPE), and a mistyped attribute read as 0 where DISC reads it.
TEST(OnnxLoad, RejectsNodesThatDoNotFitTheirSchema) {
  auto no_outputs = tiny_model();
  *no_outputs.mutable_graph()->add_node() = node("Split", {"b"}, {"unused"});
  no_outputs.mutable_graph()->mutable_node(no_outputs.graph().node_size() - 1)->clear_output();
  expect_error(no_outputs, "(Split): Node (Split_unused) has output size 0 not in range");
  auto float_axis = tiny_model();
  onnx::NodeProto softmax = node("Softmax", {"y"}, {"soft"});
  testing::set_float(softmax, "axis", 1.0f);
  *float_axis.mutable_graph()->add_node() = softmax;
  expect_error(float_axis, "Mismatched attribute type in 'Softmax_soft : axis'");
}

// OpenCV refuses two layers of one name; a repeated node name is made unique.
TEST(OnnxLoad, RenamesRepeatedNodeNames) {
  auto m = tiny_model();
  for (auto& n : *m.mutable_graph()->mutable_node()) n.set_name("same");
  auto model = load(m);
  ASSERT_TRUE(model.ok()) << model.error().message();
  auto network = Network::from_onnx(model->serialized());
  ASSERT_TRUE(network.ok()) << network.error().message();
  EXPECT_TRUE(network->run(Tensor({1, 2, 4, 4})).ok());
}

TEST(OnnxLoad, RejectsACycle) {
  auto m = tiny_model();
  m.mutable_graph()->mutable_node(1)->mutable_input(0)->assign(1, 'y');  // Conv reads the final output
  expect_error(m, "cycle");
}

}  // namespace
}  // namespace disc

namespace disc {
namespace {

// The second Conv of tiny_model() (the one reading cut "b"), found by its output.
onnx::NodeProto* reading_conv(onnx::ModelProto& m) {
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == "Conv" && n.output(0) == "c") return &n;
  return nullptr;
}

void expect_reader_error(const onnx::ModelProto& m, const std::string& fragment) {
  auto model = load(m);
  ASSERT_TRUE(model.ok()) << model.error().message();
  auto kernel = model->reading_convolution("b");
  ASSERT_FALSE(kernel.ok()) << "expected an error mentioning " << fragment;
  EXPECT_NE(kernel.error().message().find(fragment), std::string::npos) << kernel.error().message();
}

TEST(ReadingConvolution, OfTheTinyModel) {
  auto model = load(tiny_model());
  ASSERT_TRUE(model.ok());
  auto kernel = model->reading_convolution("b");
  ASSERT_TRUE(kernel.ok()) << kernel.error().message();
  EXPECT_EQ(kernel->out_channels, 2);
  EXPECT_EQ(kernel->in_per_group, 2);
  EXPECT_EQ(kernel->weights, (std::vector<float>{1.0f, -0.5f, 0.25f, 2.0f}));
  auto relu = model->reading_convolution("a");  // read by a Relu
  ASSERT_FALSE(relu.ok());
  EXPECT_NE(relu.error().message().find("Relu"), std::string::npos) << relu.error().message();
}

// What follows the reading convolution: a Relu or Clip (bounds as attributes up to opset 10,
// as constant inputs from 11) that is its only reader, with the convolution's bias and any
// batch normalization's shift folded in. Anything else leaves it unknown.
TEST(ReadingConvolution, KnowsTheActivationThatFollows) {
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  const auto activation_of = [](const onnx::ModelProto& m) {
    auto model = load(m);
    EXPECT_TRUE(model.ok()) << model.error().message();
    auto kernel = model->reading_convolution("b");
    EXPECT_TRUE(kernel.ok()) << kernel.error().message();
    return kernel->activation;
  };
  const auto last_relu = [](onnx::ModelProto& m) { return m.mutable_graph()->mutable_node(4); };
  auto relu = activation_of(tiny_model());  // Conv without bias, then Relu
  ASSERT_TRUE(relu);
  EXPECT_EQ(relu->bias, (std::vector<float>{0.0f, 0.0f}));
  EXPECT_EQ(relu->min, 0.0f);
  EXPECT_EQ(relu->max, kInfinity);

  // A bias, and a Clip with constant inputs (opset 11; loading lowers its bounds to opset 10's
  // attributes).
  onnx::ModelProto m = tiny_model();
  reading_conv(m)->add_input("B");
  *m.mutable_graph()->add_initializer() = testing::constant("B", {2}, {0.5f, -1.0f});
  *m.mutable_graph()->add_initializer() = testing::constant("low", {}, {0.0f});
  *m.mutable_graph()->add_initializer() = testing::constant("high", {}, {6.0f});
  *last_relu(m) = node("Clip", {"c", "low", "high"}, {"y"});
  auto clip = activation_of(m);
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->bias, (std::vector<float>{0.5f, -1.0f}));
  EXPECT_EQ(clip->min, 0.0f);
  EXPECT_EQ(clip->max, 6.0f);
  *last_relu(m) = node("Clip", {"c", "", "high"}, {"y"});  // no lower bound
  clip = activation_of(m);
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->min, -kInfinity);
  EXPECT_EQ(clip->max, 6.0f);

  // A Clip with attributes (opset 10).
  m = tiny_model();
  m.mutable_opset_import(0)->set_version(10);
  *last_relu(m) = node("Clip", {"c"}, {"y"});
  testing::set_float(*last_relu(m), "min", -1.0f);
  testing::set_float(*last_relu(m), "max", 3.0f);
  clip = activation_of(m);
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->min, -1.0f);
  EXPECT_EQ(clip->max, 3.0f);

  // A batch normalization between them: bias b becomes (b - mean) * scale / sqrt(variance +
  // epsilon) + shift.
  m = tiny_model();
  reading_conv(m)->add_input("B");
  reading_conv(m)->set_output(0, "c_raw");
  *m.mutable_graph()->add_initializer() = testing::constant("B", {2}, {0.5f, -1.0f});
  *m.mutable_graph()->add_initializer() = testing::constant("scale", {2}, {1.0f, 2.0f});
  *m.mutable_graph()->add_initializer() = testing::constant("shift", {2}, {0.25f, 0.0f});
  *m.mutable_graph()->add_initializer() = testing::constant("mean", {2}, {1.5f, 0.0f});
  *m.mutable_graph()->add_initializer() = testing::constant("variance", {2}, {1.0f, 4.0f});
  *m.mutable_graph()->add_node() = node("BatchNormalization", {"c_raw", "scale", "shift", "mean", "variance"}, {"c"});
  auto folded = activation_of(m);
  ASSERT_TRUE(folded);
  EXPECT_NEAR(folded->bias[0], -1.0f / std::sqrt(1.0f + 1e-5f) + 0.25f, 1e-6f);
  EXPECT_NEAR(folded->bias[1], -2.0f / std::sqrt(4.0f + 1e-5f), 1e-6f);

  // Unknown: a Clip that clamps nothing or whose bounds are out of order.
  m = tiny_model();
  m.mutable_opset_import(0)->set_version(10);
  *last_relu(m) = node("Clip", {"c"}, {"y"});
  EXPECT_FALSE(activation_of(m));
  testing::set_float(*last_relu(m), "min", 3.0f);
  testing::set_float(*last_relu(m), "max", -1.0f);
  EXPECT_FALSE(activation_of(m));

  // Unknown: another operator, a second reader, or the output itself leaving the graph.
  m = tiny_model();
  *last_relu(m) = node("Sigmoid", {"c"}, {"y"});
  EXPECT_FALSE(activation_of(m));
  m = tiny_model();
  *last_relu(m) = node("Relu", {"c"}, {"r"});
  *m.mutable_graph()->add_node() = node("Add", {"r", "c"}, {"y"});
  EXPECT_FALSE(activation_of(m));
  m = tiny_model();  // the model answers with the convolution's output; a Relu of it leads nowhere
  reading_conv(m)->set_output(0, "y");
  *last_relu(m) = node("Relu", {"y"}, {"unused"});
  EXPECT_FALSE(activation_of(m));
  m = tiny_model();  // the same behind a batch normalization, which then is not folded in either
  reading_conv(m)->set_output(0, "y");
  *last_relu(m) = node("BatchNormalization", {"y", "scale", "shift", "shift", "scale"}, {"normalized"});
  *m.mutable_graph()->add_node() = node("Relu", {"normalized"}, {"unused"});
  *m.mutable_graph()->add_initializer() = testing::constant("scale", {2}, {2.0f, 2.0f});
  *m.mutable_graph()->add_initializer() = testing::constant("shift", {2}, {0.0f, 0.0f});
  auto model = load(m);
  ASSERT_TRUE(model.ok()) << model.error().message();
  auto kernel = model->reading_convolution("b");
  ASSERT_TRUE(kernel.ok()) << kernel.error().message();
  EXPECT_FALSE(kernel->activation);
  EXPECT_EQ(kernel->weights, (std::vector<float>{1.0f, -0.5f, 0.25f, 2.0f}));
}

TEST(ReadingConvolution, RejectsWhatItCannotShapeFor) {
  onnx::ModelProto m = tiny_model();
  add_ints(reading_conv(m), "dilations", {2, 2});
  expect_reader_error(m, "dilated");

  m = tiny_model();  // short weight data: the loader refuses it before any reader is sought
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_raw_data(std::string(12, '\0'));  // 3 floats where the dims say 4
  expect_error(m, "initializer 'W' holds 3 values where its dims say 4");

  // A Pad that does not pad with zeros, before the convolution.
  m = tiny_model();
  auto* g = m.mutable_graph();
  reading_conv(m)->set_input(0, "b_padded");
  onnx::NodeProto pad = node("Pad", {"b"}, {"b_padded"});
  add_ints(&pad, "pads", {0, 0, 0, 0, 0, 0, 0, 0});
  auto* mode = pad.add_attribute();
  mode->set_name("mode");
  mode->set_type(onnx::AttributeProto::STRING);
  mode->set_s("reflect");
  *g->add_node() = pad;
  m.mutable_opset_import(0)->set_version(10);
  expect_reader_error(m, "reflect");

  // A BatchNormalization after the convolution, folded into its weights: it needs all five
  // inputs and a positive variance + epsilon.
  const auto with_batch_norm = [](const std::vector<std::string>& inputs, float variance) {
    onnx::ModelProto bn = tiny_model();
    auto* graph = bn.mutable_graph();
    reading_conv(bn)->set_output(0, "c_raw");
    *graph->add_node() = node("BatchNormalization", inputs, {"c"});
    *graph->add_initializer() = testing::constant("ones", {2}, {1.0f, 1.0f});
    *graph->add_initializer() = testing::constant("zeros", {2}, {0.0f, 0.0f});
    *graph->add_initializer() = testing::constant("variance", {2}, {1.0f, variance});
    return bn;
  };
  auto folded = load(with_batch_norm({"c_raw", "ones", "zeros", "zeros", "variance"}, 4.0f));
  ASSERT_TRUE(folded.ok()) << folded.error().message();
  auto kernel = folded->reading_convolution("b");
  ASSERT_TRUE(kernel.ok()) << kernel.error().message();
  EXPECT_NEAR(kernel->weights[3], 2.0f / std::sqrt(4.0f + 1e-5f), 1e-6f);  // output channel 1 scaled by 1/2
  // Loading already refuses a BatchNormalization of 2 inputs (its schema wants 5).
  expect_error(with_batch_norm({"c_raw", "ones"}, 4.0f),
               "node 'BatchNormalization_c' (BatchNormalization): Node (BatchNormalization_c) has input size 2 not in "
               "range [min=5, max=5]");
  expect_reader_error(with_batch_norm({"c_raw", "ones", "zeros", "zeros", "variance"}, -1.0f), "not positive");
}

}  // namespace
}  // namespace disc
