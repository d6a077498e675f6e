// Cut enumeration and splitting on real models: head + tail must reproduce the whole model.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "disc/assets.hpp"
#include "disc/model.hpp"
#include "disc/npy.hpp"
#include "codec/reference_conv.hpp"
#include "model/shared_model.hpp"
#include "model/tensor_difference.hpp"
#include "model/test_assets.hpp"
#include "model/tiny_onnx.hpp"

namespace disc {
namespace {

void expect_split_equals_whole(const std::string& name) {
  testing::SharedModel f = testing::load_shared_model(name);
  auto whole = Network::from_onnx(f.model.serialized());
  ASSERT_TRUE(whole.ok()) << whole.error().message();
  auto expected = whole->run(f.image);
  ASSERT_TRUE(expected.ok());
  ASSERT_FALSE(f.model.cuts().empty());
  for (const CutPoint& cut : f.model.cuts()) {
    SCOPED_TRACE(cut.tensor);
    auto split = f.model.split(cut.tensor);
    ASSERT_TRUE(split.ok()) << split.error().message();
    auto head = Network::from_onnx(split->head);
    auto tail = Network::from_onnx(split->tail);
    ASSERT_TRUE(head.ok() && tail.ok());
    auto features = head->run(f.image);
    ASSERT_TRUE(features.ok()) << features.error().message();
    EXPECT_EQ(features->shape(), cut.shape);
    auto logits = tail->run(*features);
    ASSERT_TRUE(logits.ok()) << logits.error().message();
    ASSERT_EQ(logits->shape(), expected->shape());
    EXPECT_LE(testing::relative_difference(*expected, *logits), 1e-5f);
  }
}

TEST(Split, HeadThenTailEqualsWholeResnet20) { expect_split_equals_whole("resnet20_cifar10"); }
TEST(Split, HeadThenTailEqualsWholeMobilenetV1) { expect_split_equals_whole("mobilenet_v1_0.25_128"); }

// Separators computed independently of the library: a tensor T separates the graph input
// from the output iff the output is unreachable from the input by a forward walk that
// does not pass through T.
std::set<std::string> separators(const onnx::ModelProto& model) {
  const auto& g = model.graph();
  std::set<std::string> initializers;
  for (const auto& init : g.initializer()) initializers.insert(init.name());
  std::string input;
  for (const auto& in : g.input())
    if (!initializers.count(in.name())) input = in.name();
  auto output_reachable = [&](const std::string& blocked) {
    std::set<std::string> reached{input};
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& node : g.node()) {
        bool fed = std::any_of(node.input().begin(), node.input().end(), [&](const std::string& t) {
          return reached.count(t) && t != blocked;
        });
        for (const auto& out : node.output())
          if (fed && reached.insert(out).second) grew = true;
      }
    }
    return reached.count(g.output(0).name()) && blocked != g.output(0).name();
  };
  std::set<std::string> result;
  for (const auto& node : g.node())
    for (const auto& out : node.output())
      if (out != g.output(0).name() && !output_reachable(out)) result.insert(out);
  return result;
}

TEST(Cuts, Resnet20CutsAreExactlyTheSeparatorsAndExcludeBlockInternals) {
  testing::SharedModel first = testing::load_shared_model("resnet20_cifar10");
  testing::SharedModel second = testing::load_shared_model("resnet20_cifar10");
  auto bytes = read_file(first.entry.path);
  ASSERT_TRUE(bytes.ok());
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())));

  std::set<std::string> cut_tensors;
  for (const CutPoint& c : first.model.cuts()) cut_tensors.insert(c.tensor);
  EXPECT_EQ(cut_tensors, separators(proto));

  // Residual joins: an Add of two computed tensors; its output is a cut, and so is the ReLU
  // after it. The convolutions inside the block are not.
  std::set<std::string> initializers;
  for (const auto& init : proto.graph().initializer()) initializers.insert(init.name());
  std::unordered_map<std::string, const onnx::NodeProto*> producer;
  for (const auto& node : proto.graph().node())
    for (const auto& out : node.output()) producer[out] = &node;
  size_t joins = 0;
  for (const auto& node : proto.graph().node()) {
    if (node.op_type() != "Add" || initializers.count(node.input(0)) || initializers.count(node.input(1))) continue;
    ++joins;
    EXPECT_TRUE(cut_tensors.count(node.output(0))) << node.name();
    for (const auto& consumer : proto.graph().node())
      if (consumer.op_type() == "Relu" && consumer.input(0) == node.output(0)) {
        EXPECT_TRUE(cut_tensors.count(consumer.output(0))) << consumer.name();
      }
    for (const std::string& branch : node.input()) {
      const onnx::NodeProto* p = producer.at(branch);
      if (p->op_type() == "Conv") {
        EXPECT_FALSE(cut_tensors.count(branch)) << "inside block: " << branch;
      }
    }
  }
  EXPECT_EQ(joins, 9u);  // ResNet-20: 3 stages x 3 basic blocks

  // Topological order and stability across loads.
  ASSERT_EQ(first.model.cuts().size(), second.model.cuts().size());
  for (size_t i = 0; i < first.model.cuts().size(); ++i) {
    EXPECT_EQ(first.model.cuts()[i].tensor, second.model.cuts()[i].tensor);
    if (i) {
      EXPECT_LT(first.model.cuts()[i - 1].position, first.model.cuts()[i].position);
    }
    EXPECT_EQ(first.model.cuts()[i].elements * 4, first.model.cuts()[i].fp32_bytes());
  }
}

TEST(Cuts, PlainChainMobilenetCutsAreTheSeparators) {
  testing::SharedModel f = testing::load_shared_model("mobilenet_v1_0.25_128");
  auto bytes = read_file(f.entry.path);
  ASSERT_TRUE(bytes.ok());
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())));
  std::set<std::string> cut_tensors;
  for (const CutPoint& c : f.model.cuts()) cut_tensors.insert(c.tensor);
  EXPECT_EQ(cut_tensors, separators(proto));
  EXPECT_EQ(f.model.input_shape(), (Shape{1, 3, 128, 128}));
}

// Random graphs of Relu, Neg and Add nodes over the input, earlier tensors and Constant
// values, listed in shuffled order, with dead branches (the output is one of the last few
// tensors): the cuts are exactly the separators, and each one splits.
TEST(Cuts, RandomGraphsCutsAreExactlyTheSeparators) {
  std::mt19937 random(7);
  size_t cuts_seen = 0;
  for (int graph_index = 0; graph_index < 300; ++graph_index) {
    onnx::ModelProto m;
    m.set_ir_version(6);
    m.add_opset_import()->set_version(11);
    auto* g = m.mutable_graph();
    g->set_name("random");
    *g->add_input() = testing::value_info("x", {"1", "2", "4", "4"});
    std::vector<std::string> tensors = {"x"};
    std::vector<onnx::NodeProto> nodes;
    const int count = 3 + static_cast<int>(random() % 12);
    const auto pick = [&] { return tensors[random() % tensors.size()]; };
    for (int i = 0; i < count; ++i) {
      const std::string out = fmt::format("t{}", i);
      switch (random() % 4) {
        case 0: nodes.push_back(testing::node("Relu", {pick()}, {out})); break;
        case 1: nodes.push_back(testing::node("Neg", {pick()}, {out})); break;
        case 2: nodes.push_back(testing::node("Add", {pick(), pick()}, {out})); break;
        default: {  // a constant operand
          onnx::NodeProto constant = testing::node("Constant", {}, {out + "_c"});
          auto* value = constant.add_attribute();
          value->set_name("value");
          value->set_type(onnx::AttributeProto::TENSOR);
          *value->mutable_t() = testing::constant("", {1, 2, 1, 1}, {0.5f, -1.0f});
          nodes.push_back(constant);
          nodes.push_back(testing::node("Add", {pick(), out + "_c"}, {out}));
        }
      }
      tensors.push_back(out);
    }
    const std::string output = tensors[tensors.size() - 1 - random() % std::min<size_t>(3, tensors.size() - 1)];
    *g->add_output() = testing::value_info(output, {"1", "2", "4", "4"});
    std::shuffle(nodes.begin(), nodes.end(), random);
    for (const auto& n : nodes) *g->add_node() = n;

    auto model = testing::load(m);
    ASSERT_TRUE(model.ok()) << model.error().message() << "\n" << m.DebugString();
    std::set<std::string> cut_tensors;
    for (const CutPoint& c : model->cuts()) {
      cut_tensors.insert(c.tensor);
      auto split = model->split(c.tensor);
      EXPECT_TRUE(split.ok()) << c.tensor << ": " << split.error().message();
    }
    EXPECT_EQ(cut_tensors, separators(m)) << m.DebugString();
    cuts_seen += cut_tensors.size();
  }
  EXPECT_GT(cuts_seen, 300u);  // the graphs are not all without cuts
}

TEST(Split, UnknownCutIsAnError) {
  testing::SharedModel f = testing::load_shared_model("resnet20_cifar10");
  auto split = f.model.split("no_such_tensor");
  ASSERT_FALSE(split.ok());
  EXPECT_NE(split.error().message().find("no_such_tensor"), std::string::npos);
  EXPECT_EQ(split.error().code(), ErrorCode::kNotFound);
  // A tensor inside a residual block exists but is no cut.
  auto inside = f.model.split("/layer1/layer1.0/conv1/Conv_output_0");
  ASSERT_FALSE(inside.ok());
  EXPECT_EQ(inside.error().code(), ErrorCode::kNotFound);
}

TEST(Network, RejectsAnInputOfTheWrongShape) {
  testing::SharedModel f = testing::load_shared_model("resnet20_cifar10");
  auto net = Network::from_onnx(f.model.serialized());
  ASSERT_TRUE(net.ok());
  auto out = net->run(Tensor({1, 3, 16, 16}));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message().find("1x3x32x32"), std::string::npos);
  EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace disc

namespace disc {
namespace {

// Head features of dataset image `index` at `cut`.
Tensor features_at(const testing::SharedModel& f, const std::string& cut, size_t index) {
  auto catalog = AssetCatalog::load(testing::assets_dir());
  auto dataset = catalog->load_dataset(f.entry.dataset);
  auto image = load_image(dataset->images.at(index).path, f.entry.preprocessing);
  EXPECT_TRUE(image.ok());
  auto split = f.model.split(cut);
  EXPECT_TRUE(split.ok());
  auto head = Network::from_onnx(split->head);
  EXPECT_TRUE(head.ok());
  auto out = head->run(*image);
  EXPECT_TRUE(out.ok()) << out.error().message();
  return std::move(out).value();
}

// The reading convolution is the linear part of the layer after the cut: on the difference
// of two images' maps it gives the difference of that layer's outputs (the bias cancels).
TEST(ReadingConvolution, IsTheLinearPartOfTheNextLayer) {
  testing::SharedModel f = testing::load_shared_model("mobilenet_v1_0.25_128");
  const auto& cuts = f.model.cuts();
  size_t checked = 0, depthwise = 0, padded = 0;
  for (size_t i = 0; i + 2 < cuts.size(); ++i) {
    auto kernel = f.model.reading_convolution(cuts[i].tensor);
    if (!kernel.ok()) continue;
    const size_t next = cuts[i + 1].op_type == "Pad" ? i + 2 : i + 1;
    if (cuts[next].op_type != "Conv") continue;
    SCOPED_TRACE(cuts[i].tensor);
    Tensor difference = features_at(f, cuts[i].tensor, 0);
    const Tensor other = features_at(f, cuts[i].tensor, 1);
    for (size_t k = 0; k < difference.size(); ++k) difference.data()[k] -= other.data()[k];
    const std::vector<double> predicted = testing::reference_conv(*kernel, difference);
    const Tensor a = features_at(f, cuts[next].tensor, 0), b = features_at(f, cuts[next].tensor, 1);
    ASSERT_EQ(predicted.size(), a.size());
    double error = 0, scale = 0;
    for (size_t k = 0; k < a.size(); ++k) {
      const double expected = double{a.data()[k]} - b.data()[k];
      error = std::max(error, std::fabs(predicted[k] - expected));
      scale = std::max(scale, std::fabs(expected));
    }
    EXPECT_LT(error, 1e-3 * scale + 1e-4);
    ++checked;
    depthwise += kernel->groups > 1;
    padded += next == i + 2;
  }
  EXPECT_GE(checked, 4u);
  EXPECT_GT(depthwise, 0u);
  EXPECT_LT(depthwise, checked);  // 1x1 convolutions too
  std::cout << checked << " cuts checked, " << depthwise << " depthwise, " << padded << " behind a Pad\n";
}

// Where the layer after the cut ends in an activation, the reader knows it: with its bias and
// clamp, the reading convolution gives that activation's output (OpenCV's) from the map.
TEST(ReadingConvolution, WithItsActivationGivesTheLayersOutput) {
  testing::SharedModel f = testing::load_shared_model("mobilenet_v1_0.25_128");
  const auto& cuts = f.model.cuts();
  size_t checked = 0;
  for (size_t i = 0; i + 3 < cuts.size(); ++i) {
    auto kernel = f.model.reading_convolution(cuts[i].tensor);
    if (!kernel.ok()) continue;
    ASSERT_TRUE(kernel->activation) << cuts[i].tensor;  // every convolution here is followed by a ReLU6
    const size_t next = (cuts[i + 1].op_type == "Pad" ? i + 2 : i + 1) + 1;  // the Clip after the Conv
    ASSERT_EQ(cuts[next].op_type, "Clip") << cuts[i].tensor;
    SCOPED_TRACE(cuts[i].tensor);
    EXPECT_EQ(kernel->activation->min, 0.0f);
    EXPECT_EQ(kernel->activation->max, 6.0f);
    const std::vector<double> predicted = testing::reference_reader_outputs(*kernel, features_at(f, cuts[i].tensor, 0));
    const Tensor expected = features_at(f, cuts[next].tensor, 0);
    ASSERT_EQ(predicted.size(), expected.size());
    double error = 0;
    for (size_t k = 0; k < predicted.size(); ++k) error = std::max(error, std::fabs(predicted[k] - expected.data()[k]));
    EXPECT_LT(error, 1e-3);
    ++checked;
  }
  EXPECT_GE(checked, 4u);
}

TEST(ReadingConvolution, NamesWhatReadsACutThatNoSingleConvolutionReads) {
  testing::SharedModel f = testing::load_shared_model("resnet20_cifar10");
  ASSERT_FALSE(f.model.cuts().empty());
  auto kernel = f.model.reading_convolution(f.model.cuts().back().tensor);
  ASSERT_FALSE(kernel.ok());
  EXPECT_NE(kernel.error().message().find("not by one convolution"), std::string::npos) << kernel.error().message();
  EXPECT_EQ(kernel.error().code(), ErrorCode::kInvalidArgument);
  auto codec = f.model.codec_for_cut(f.model.cuts().back().tensor, *CodecSpec::parse("disc:shape=1,bits=1"));
  ASSERT_FALSE(codec.ok());
  EXPECT_EQ(codec.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(f.model.codec_for_cut(f.model.cuts().back().tensor, *CodecSpec::parse("disc:bits=1")).ok());
  EXPECT_FALSE(f.model.reading_convolution("no_such_tensor").ok());
  // Whether or not the setting needs the reader, a codec is only for a cut of the model.
  auto elsewhere = f.model.codec_for_cut("no_such_tensor", *CodecSpec::parse("raw"));
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_NE(elsewhere.error().message().find("is not a valid cut of this model"), std::string::npos)
      << elsewhere.error().message();
}

// The progress callback is the caller's code: what it throws ends profiling with an Error, as
// everything else that goes wrong does.
TEST(Profile, AThrowingProgressCallbackIsAnError) {
  const testing::SharedModel shared = testing::load_shared_model("resnet20_cifar10");
  auto catalog = AssetCatalog::load(testing::assets_dir());
  ASSERT_TRUE(catalog.ok());
  auto dataset = catalog->load_dataset(shared.entry.dataset);
  ASSERT_TRUE(dataset.ok());
  ProfileOptions options;
  options.repeats = 1;
  options.progress = [](size_t, size_t) { throw std::runtime_error("stop"); };
  auto profile = profile_model(shared.entry.name, shared.model, {dataset->images.at(0).path},
                               shared.entry.preprocessing, options);
  ASSERT_FALSE(profile.ok());
  EXPECT_EQ(profile.error().message(), "progress callback threw: stop");
}

}  // namespace
}  // namespace disc
