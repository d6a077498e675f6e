// Network: what it returns must be the graph output, whichever OpenCV layer computes it and
// whatever OpenCV fuses. Each expected value is computed here by hand.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <functional>

#include "disc/model.hpp"
#include "model/tiny_onnx.hpp"

namespace disc {
namespace {

using testing::constant;
using testing::conv;
using testing::load;
using testing::node;
using testing::set_float;
using testing::set_int;
using testing::value_info;

constexpr float kWeights[2][2] = {{1.0f, -0.5f}, {0.25f, 2.0f}};  // [out][in] of the 1x1 Conv
constexpr size_t kPlane = 16;                                       // 4x4

Tensor test_input() {
  Tensor input({1, 2, 4, 4});
  for (size_t i = 0; i < input.size(); ++i) input.data()[i] = static_cast<float>(i % 7) - 3.0f;
  return input;
}

// Channel c, element p of Conv(x, W).
float conv_at(const Tensor& x, size_t c, size_t p) {
  return kWeights[c][0] * x.data()[p] + kWeights[c][1] * x.data()[kPlane + p];
}

// x[1,2,4,4] -> Conv(W) -> a -> `after` -> y of `y_dims`.
onnx::ModelProto conv_then(const std::vector<onnx::NodeProto>& after, const std::vector<onnx::TensorProto>& constants,
                           const std::vector<std::string>& y_dims) {
  onnx::ModelProto m;
  m.set_ir_version(6);
  m.add_opset_import()->set_version(11);
  auto* g = m.mutable_graph();
  g->set_name("conv_then");
  *g->add_input() = value_info("x", {"1", "2", "4", "4"});
  *g->add_output() = value_info("y", y_dims);
  *g->add_initializer() = constant("W", {2, 2, 1, 1}, {kWeights[0][0], kWeights[0][1], kWeights[1][0], kWeights[1][1]});
  for (const auto& c : constants) *g->add_initializer() = c;
  *g->add_node() = conv("x", "W", "a");
  for (const auto& n : after) *g->add_node() = n;
  return m;
}

using Expected = std::function<float(size_t channel, size_t element)>;

void expect_values(const Result<Tensor>& got, const Expected& expected, size_t channels) {
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), channels * kPlane);
  for (size_t c = 0; c < channels; ++c)
    for (size_t p = 0; p < kPlane; ++p)
      EXPECT_NEAR(got->data()[c * kPlane + p], expected(c, p), 1e-5f) << "channel " << c << ", element " << p;
}

// The output of the whole model `m`, or of its head at `cut`.
Result<Tensor> run(const onnx::ModelProto& m, const std::string& cut = "") {
  DISC_ASSIGN_OR_RETURN(OnnxModel model, load(m));
  Bytes onnx = model.serialized();
  if (!cut.empty()) {
    DISC_ASSIGN_OR_RETURN(SplitModel split, model.split(cut));
    onnx = std::move(split.head);
  }
  DISC_ASSIGN_OR_RETURN(Network network, Network::from_onnx(onnx));
  return network.run(test_input());
}

// The node `make(name)` reads the Conv's output and writes `name`: as the graph output, and
// as a cut that a Relu reads.
void expect_after_conv(const std::function<onnx::NodeProto(const std::string&)>& make,
                       const std::vector<onnx::TensorProto>& constants, const Expected& expected, size_t channels) {
  const std::vector<std::string> dims = {"1", std::to_string(channels), "4", "4"};
  {
    SCOPED_TRACE("as the graph output");
    expect_values(run(conv_then({make("y")}, constants, dims)), expected, channels);
  }
  SCOPED_TRACE("as the head's output");
  expect_values(run(conv_then({make("t"), node("Relu", {"t"}, {"y"})}, constants, dims), "t"), expected, channels);
}

// OpenCV 4.6 fuses these layers into the Conv before them; asked for a fused layer's output
// by name, it returned a buffer it never wrote.
TEST(Network, ReturnsABatchNormalizationThatFollowsAConv) {
  const float scale[2] = {2.0f, 0.5f}, bias[2] = {0.1f, -0.3f}, mean[2] = {0.2f, -0.1f}, var[2] = {4.0f, 0.25f};
  expect_after_conv([](const std::string& out) { return node("BatchNormalization", {"a", "s", "b", "m", "v"}, {out}); },
                    {constant("s", {2}, {scale[0], scale[1]}), constant("b", {2}, {bias[0], bias[1]}),
                     constant("m", {2}, {mean[0], mean[1]}), constant("v", {2}, {var[0], var[1]})},
                    [&](size_t c, size_t p) {
                      return scale[c] * (conv_at(test_input(), c, p) - mean[c]) / std::sqrt(var[c] + 1e-5f) + bias[c];
                    },
                    2);
}

TEST(Network, ReturnsAConstantAddedToAConv) {
  expect_after_conv([](const std::string& out) { return node("Add", {"a", "k"}, {out}); },
                    {constant("k", {1}, {1.5f})},
                    [](size_t c, size_t p) { return conv_at(test_input(), c, p) + 1.5f; }, 2);
}

// OpenCV addresses a layer's first output only.
TEST(Network, ReturnsTheSecondOutputOfASplit) {
  expect_after_conv(
      [](const std::string& out) {
        onnx::NodeProto split = node("Split", {"a"}, {"first", out});
        set_int(split, "axis", 1);
        return split;
      },
      {}, [](size_t, size_t p) { return conv_at(test_input(), 1, p); }, 1);
}

// OpenCV has no rank 0: a scalar output comes back as one value.
TEST(Network, ReturnsAScalarOutput) {
  onnx::NodeProto sum = node("ReduceSum", {"a"}, {"y"});
  set_int(sum, "keepdims", 0);
  float expected = 0;
  for (size_t c = 0; c < 2; ++c)
    for (size_t p = 0; p < kPlane; ++p) expected += conv_at(test_input(), c, p);
  const Result<Tensor> y = run(conv_then({sum}, {}, {}));
  ASSERT_TRUE(y.ok()) << y.error().message();
  ASSERT_EQ(y->size(), 1u);
  EXPECT_NEAR(y->data()[0], expected, 1e-4f);
}

// OpenCV 4.6 reads a Gemm as a fully connected layer that took a missing transB for 1, sized
// the layer wrongly with transB = 0, and ignored alpha and beta.
// y = alpha · flatten(Conv(x)) · op(B) + beta · C for flatten(Conv(x)) of 32 values and
// `outputs` outputs: B is 32 x outputs, or outputs x 32 with transB = 1 (`transposed`).
void expect_gemm(const std::function<void(onnx::NodeProto&)>& set_attributes, size_t outputs, bool transposed,
                 float alpha, float beta) {
  std::vector<float> b(32 * outputs), c(outputs);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 5) * 0.25f - 0.5f + static_cast<float>(i % 3) * 0.1f;
  for (size_t j = 0; j < c.size(); ++j) c[j] = static_cast<float>(j) * 0.125f;
  onnx::NodeProto gemm = node("Gemm", {"flat", "B", "C"}, {"y"});
  set_attributes(gemm);
  const int64_t n = static_cast<int64_t>(outputs);
  const std::vector<int64_t> b_dims = transposed ? std::vector<int64_t>{n, 32} : std::vector<int64_t>{32, n};
  const Result<Tensor> y = run(conv_then({node("Flatten", {"a"}, {"flat"}), gemm},
                                         {constant("B", b_dims, b), constant("C", {n}, c)}, {"1", std::to_string(n)}));
  ASSERT_TRUE(y.ok()) << y.error().message();
  ASSERT_EQ(y->size(), outputs);
  const Tensor x = test_input();
  for (size_t j = 0; j < outputs; ++j) {
    float sum = 0;
    for (size_t i = 0; i < 32; ++i)
      sum += conv_at(x, i / kPlane, i % kPlane) * (transposed ? b[j * 32 + i] : b[i * outputs + j]);
    EXPECT_NEAR(y->data()[j], alpha * sum + beta * c[j], 1e-4f) << "output " << j;
  }
}

TEST(Network, GemmMultipliesByBWhateverTransBSays) {
  for (size_t outputs : {32, 8}) {
    SCOPED_TRACE(outputs);
    expect_gemm([](onnx::NodeProto&) {}, outputs, false, 1.0f, 1.0f);                             // transB missing
    expect_gemm([](onnx::NodeProto& g) { set_int(g, "transB", 0); }, outputs, false, 1.0f, 1.0f);  // as ONNX's default
    expect_gemm([](onnx::NodeProto& g) { set_int(g, "transB", 1); }, outputs, true, 1.0f, 1.0f);
  }
}

TEST(Network, GemmScalesByAlphaAndBeta) {
  for (bool transposed : {false, true})
    expect_gemm(
        [transposed](onnx::NodeProto& g) {
          set_int(g, "transB", transposed ? 1 : 0);
          set_float(g, "alpha", 0.5f);
          set_float(g, "beta", -2.0f);
        },
        8, transposed, 0.5f, -2.0f);
}

// One rewritten copy per rewrite, however many Gemms read it, and the original dropped once
// nothing reads it, also when a Constant node gives it.
TEST(Network, GemmOperandsAreRewrittenOnce) {
  const std::vector<float> b(32 * 32, 0.5f);
  onnx::NodeProto constant_b = node("Constant", {}, {"B"});
  auto* value = constant_b.add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  *value->mutable_t() = constant("B", {32, 32}, b);
  const auto m = conv_then({constant_b, node("Flatten", {"a"}, {"flat"}), node("Gemm", {"flat", "B"}, {"g1"}),
                            node("Gemm", {"g1", "B"}, {"y"})},
                           {}, {"1", "32"});
  auto model = load(m);
  ASSERT_TRUE(model.ok()) << model.error().message();
  const Bytes bytes = model->serialized();
  onnx::ModelProto normal;
  ASSERT_TRUE(normal.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  std::vector<std::string> weights;
  for (const auto& t : normal.graph().initializer())
    if (t.dims_size() == 2) weights.push_back(t.name());
  EXPECT_EQ(weights, std::vector<std::string>{"B_transposed"});
  for (const auto& n : normal.graph().node()) EXPECT_NE(n.op_type(), "Constant");
}

// Below IR version 4 shape inference sizes only the initializers declared as graph inputs: a
// rewritten B must be declared too, or what follows the Gemm has no shape and is no cut.
TEST(Network, GemmRewrittenInAnOldModelKeepsTheCutsAfterIt) {
  onnx::ModelProto m = conv_then({node("Flatten", {"a"}, {"flat"}), node("Gemm", {"flat", "B", "C"}, {"z"}),
                                  node("Relu", {"z"}, {"r"}), node("Relu", {"r"}, {"y"})},
                                 {constant("B", {32, 4}, std::vector<float>(128, 0.5f)), constant("C", {4}, {0, 1, 2, 3})},
                                 {"1", "4"});
  m.set_ir_version(3);
  m.mutable_opset_import(0)->set_version(9);
  for (const char* name : {"W", "B", "C"}) {
    auto* input = m.mutable_graph()->add_input();
    for (const auto& t : m.graph().initializer())
      if (t.name() == name) *input = value_info(name, [&] {
          std::vector<std::string> dims;
          for (int64_t d : t.dims()) dims.push_back(std::to_string(d));
          return dims;
        }());
  }
  auto model = load(m);
  ASSERT_TRUE(model.ok()) << model.error().message();
  std::vector<std::string> cuts;
  for (const CutPoint& cut : model->cuts()) cuts.push_back(cut.tensor);
  EXPECT_EQ(cuts, (std::vector<std::string>{"a", "flat", "z", "r"}));
  EXPECT_TRUE(model->unshaped_cuts().empty());
}

// ONNX broadcasts a single C over the outputs; OpenCV wants one per output.
TEST(Network, GemmWithASingleBiasValue) {
  for (const std::vector<int64_t>& c_dims : {std::vector<int64_t>{}, std::vector<int64_t>{1}}) {
    onnx::NodeProto gemm = node("Gemm", {"flat", "B", "C"}, {"y"});
    set_int(gemm, "transB", 1);
    const Result<Tensor> y = run(conv_then({node("Flatten", {"a"}, {"flat"}), gemm},
                                           {constant("B", {3, 32}, std::vector<float>(96, 0.0f)),
                                            constant("C", c_dims, {1.5f})},
                                           {"1", "3"}));
    ASSERT_TRUE(y.ok()) << y.error().message();
    ASSERT_EQ(y->size(), 3u);
    for (size_t j = 0; j < 3; ++j) EXPECT_EQ(y->data()[j], 1.5f);
  }
}

// Two Gemms reading one B with alphas that agree to six decimals share no rewritten copy.
TEST(Network, GemmsSharingBKeepTheirOwnAlpha) {
  onnx::NodeProto first = node("Gemm", {"flat", "B"}, {"g1"});
  onnx::NodeProto second = node("Gemm", {"flat", "B"}, {"g2"});
  set_float(first, "alpha", 1e-7f);
  set_float(second, "alpha", 3e-7f);
  const Result<Tensor> y = run(conv_then({node("Flatten", {"a"}, {"flat"}), first, second,
                                          node("Div", {"g2", "g1"}, {"y"})},
                                         {constant("B", {32, 2}, std::vector<float>(64, 1.0f))}, {"1", "2"}));
  ASSERT_TRUE(y.ok()) << y.error().message();
  ASSERT_EQ(y->size(), 2u);
  for (size_t j = 0; j < 2; ++j) EXPECT_NEAR(y->data()[j], 3.0f, 1e-4f);
}

TEST(Network, GemmWithTransposedAIsRefused) {
  onnx::NodeProto gemm = node("Gemm", {"flat", "B"}, {"y"});
  set_int(gemm, "transA", 1);
  const Result<Tensor> y = run(conv_then({node("Flatten", {"a"}, {"flat"}), gemm},
                                         {constant("B", {32, 32}, std::vector<float>(32 * 32, 1.0f))}, {"1", "32"}));
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.error().message().find("node 'Gemm_y' (Gemm): OpenCV 4.6 ignores transA=1"), std::string::npos)
      << y.error().message();
}

// ---- AveragePool's count_include_pad, which OpenCV 4.6 takes from the producer name ----

// A 3x3 AveragePool of stride 1 padded by `pad` on every side.
onnx::NodeProto average_pool(const std::string& in, const std::string& out, int64_t pad, int64_t count_include_pad) {
  onnx::NodeProto pool = node("AveragePool", {in}, {out});
  testing::add_ints(&pool, "kernel_shape", {3, 3});
  testing::add_ints(&pool, "pads", {pad, pad, pad, pad});
  set_int(pool, "count_include_pad", count_include_pad);
  return pool;
}

// Conv -> AveragePool(3x3, stride 1, pads 1, count_include_pad) -> y, as written by `producer`.
onnx::ModelProto padded_average_pool(int64_t count_include_pad, const std::string& producer) {
  onnx::ModelProto m = conv_then({average_pool("a", "y", 1, count_include_pad)}, {}, {"1", "2", "4", "4"});
  m.set_producer_name(producer);
  return m;
}

// The 3x3 mean around element p of channel c of the Conv's output, over the window's elements
// inside the map, divided by 9 (padding counted) or by their number.
float padded_mean(size_t c, size_t p, bool count_padding) {
  const int y = static_cast<int>(p / 4), x = static_cast<int>(p % 4);
  const Tensor input = test_input();
  float sum = 0;
  int inside = 0;
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) {
      if (y + dy < 0 || y + dy > 3 || x + dx < 0 || x + dx > 3) continue;
      sum += conv_at(input, c, static_cast<size_t>((y + dy) * 4 + x + dx));
      ++inside;
    }
  return sum / static_cast<float>(count_padding ? 9 : inside);
}

// Before, a PyTorch export with count_include_pad=0 (timm's Inception models) divided its
// border windows by 9, and any other producer's count_include_pad=1 by the elements inside.
TEST(Network, AveragePoolCountsPaddingAsTheNodeSaysWhateverTheProducer) {
  for (const std::string producer : {"pytorch", "tf2onnx", ""})
    for (int64_t count : {0, 1}) {
      SCOPED_TRACE(producer + ", count_include_pad=" + std::to_string(count));
      expect_values(
          run(padded_average_pool(count, producer)),
          [count](size_t c, size_t p) { return padded_mean(c, p, count != 0); }, 2);
    }
}

TEST(Network, AveragePoolsThatCountPaddingDifferentlyAreRefused) {
  onnx::ModelProto m = padded_average_pool(1, "pytorch");
  *m.mutable_graph()->add_node() = average_pool("y", "z", 1, 0);
  m.mutable_graph()->mutable_output(0)->set_name("z");
  auto refused = load(m);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("OpenCV 4.6 applies one rule to every AveragePool"), std::string::npos)
      << refused.error().message();
  // Unpadded windows have no padding to count: such a pool agrees with either rule.
  *m.mutable_graph()->mutable_node(m.graph().node_size() - 1) = average_pool("y", "z", 0, 0);
  *m.mutable_graph()->mutable_output(0) = value_info("z", {"1", "2", "2", "2"});
  EXPECT_TRUE(load(m).ok()) << load(m).error().message();
}

// The producer name that would fix the pools would also change a linear Resize.
TEST(Network, AveragePoolPaddingThatWouldChangeAResizeIsRefused) {
  onnx::ModelProto m = padded_average_pool(1, "tf2onnx");
  onnx::NodeProto resize = node("Resize", {"y", "roi", "scales"}, {"z"});
  onnx::AttributeProto* mode = resize.add_attribute();
  mode->set_name("mode");
  mode->set_type(onnx::AttributeProto::STRING);
  mode->set_s("linear");
  *m.mutable_graph()->add_initializer() = constant("roi", {0}, {});
  *m.mutable_graph()->add_initializer() = constant("scales", {4}, {1, 1, 2, 2});
  *m.mutable_graph()->add_node() = resize;
  *m.mutable_graph()->mutable_output(0) = value_info("z", {"1", "2", "8", "8"});
  auto refused = load(m);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("would change node"), std::string::npos) << refused.error().message();
  m.set_producer_name("pytorch");  // the pool's rule already: nothing to change
  EXPECT_TRUE(load(m).ok()) << load(m).error().message();
}

// OpenCV 4.6 imports a Mul of a channels-last map by a per-channel constant (the weight of a
// LayerNorm over channels, as ConvNeXt computes it) but cannot compute it: the error names the
// node, where it once gave OpenCV's assertion alone at the first inference.
TEST(Network, NamesTheNodeOpenCvCannotCompute) {
  onnx::NodeProto to_last = node("Transpose", {"a"}, {"t"});
  testing::add_ints(&to_last, "perm", {0, 2, 3, 1});
  onnx::NodeProto back = node("Transpose", {"scaled"}, {"y"});
  testing::add_ints(&back, "perm", {0, 3, 1, 2});
  const onnx::ModelProto m = conv_then({to_last, node("Mul", {"t", "gamma"}, {"scaled"}), back},
                                       {constant("gamma", {2}, {1.0f, 2.0f})}, {"1", "2", "4", "4"});
  const Result<Tensor> failed = run(m);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(failed.error().message().rfind("OpenCV DNN 4.6 cannot compute node 'Mul_scaled' (Mul) of this model: ", 0),
            0u)
      << failed.error().message();
  // Up to the Transpose before it, the same model computes: value j of the channels-last map is
  // channel j % 2 at position j / 2.
  const Tensor x = test_input();
  expect_values(
      run(m, "t"),
      [&](size_t c, size_t p) {
        const size_t j = c * kPlane + p;
        return conv_at(x, j % 2, j / 2);
      },
      2);
}

}  // namespace
}  // namespace disc
