// Constant subgraphs are folded at loading: a Reshape whose shape comes from
// Shape → Gather → Unsqueeze → Concat (a dynamic-axes export's channel shuffle) and a Pad whose
// pads a constant chain builds. The cuts after such chains must be listed, every split must
// give the whole model's output, and the output must be the one computed here by hand.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <climits>
#include <functional>
#include <string>
#include <vector>

#include "disc/model.hpp"
#include "model/tensor_difference.hpp"
#include "model/tiny_onnx.hpp"

namespace disc {
namespace {

using namespace disc::testing;  // the tiny-graph builders of tiny_onnx.hpp

float input_at(size_t i) { return static_cast<float>(i % 11) - 5.0f; }

Tensor test_input() {
  Tensor input({1, 4, 4, 4});
  for (size_t i = 0; i < input.size(); ++i) input.data()[i] = input_at(i);
  return input;
}

// A graph under construction: x[batch,4,4,4] -> b = Relu(x) -> `nodes` -> y of `y_dims`, at
// default-domain `opset`; constants as Constant nodes, as PyTorch writes them.
struct Graph {
  int64_t opset;
  std::vector<onnx::NodeProto> nodes{node("Relu", {"x"}, {"b"})};

  void add(onnx::NodeProto n) { nodes.push_back(std::move(n)); }
  void add_constant(const onnx::TensorProto& value) { nodes.push_back(constant_node(value.name(), value)); }
  // `out` = Unsqueeze(`in`) along axis 0, in the opset's form (axes an input from opset 13).
  void unsqueeze0(const std::string& in, const std::string& out) {
    if (opset >= 13) {
      add_constant(int64s(out + "_axes", {0}));
      add(node("Unsqueeze", {in, out + "_axes"}, {out}));
    } else {
      onnx::NodeProto n = node("Unsqueeze", {in}, {out});
      add_ints(&n, "axes", {0});
      add(n);
    }
  }
  // `out` = Gather(`shape`, i): dim i of the tensor `shape` measures, a scalar.
  void dim(const std::string& shape, int64_t i, const std::string& out) {
    add_constant(int64_scalar(out + "_index", i));
    onnx::NodeProto n = node("Gather", {shape, out + "_index"}, {out});
    set_int(n, "axis", 0);
    add(n);
  }
  void concat0(const std::vector<std::string>& in, const std::string& out) {
    onnx::NodeProto n = node("Concat", in, {out});
    set_int(n, "axis", 0);
    add(n);
  }
  onnx::ModelProto model(const std::vector<std::string>& y_dims) const {
    return testing::model_of(opset, {"batch", "4", "4", "4"}, y_dims, nodes);
  }
};

// torchvision's channel_shuffle of b with 2 groups, its shapes measured at run time:
//   r = b.view(n, 2, c / 2, h * w); t = r.transpose(1, 2); s = t.reshape(n, -1, h, w); y = Relu(s)
// With `int32_dims`, h and w reach the second shape through Cast to int32 and back, which the
// folder does not evaluate.
onnx::ModelProto channel_shuffle(int64_t opset, bool int32_dims = false) {
  Graph g{opset};
  g.add(node("Shape", {"b"}, {"shape"}));
  g.dim("shape", 0, "n");
  g.dim("shape", 1, "c");
  g.dim("shape", 2, "h");
  g.dim("shape", 3, "w");
  g.add_constant(int64_scalar("two", 2));
  g.add(node("Div", {"c", "two"}, {"c_half"}));
  g.add(node("Mul", {"h", "w"}, {"hw"}));
  g.unsqueeze0("n", "n_1");
  g.unsqueeze0("c_half", "c_half_1");
  g.unsqueeze0("hw", "hw_1");
  g.add_constant(int64s("groups", {2}));
  g.concat0({"n_1", "groups", "c_half_1", "hw_1"}, "view_shape");
  g.add(node("Reshape", {"b", "view_shape"}, {"r"}));
  onnx::NodeProto transpose = node("Transpose", {"r"}, {"t"});
  add_ints(&transpose, "perm", {0, 2, 1, 3});
  g.add(transpose);
  std::string h = "h", w = "w";
  if (int32_dims)
    for (std::string* d : {&h, &w}) {
      onnx::NodeProto narrow = node("Cast", {*d}, {*d + "_int32"});
      set_int(narrow, "to", onnx::TensorProto::INT32);
      onnx::NodeProto widen = node("Cast", {*d + "_int32"}, {*d + "_int64"});
      set_int(widen, "to", onnx::TensorProto::INT64);
      g.add(narrow);
      g.add(widen);
      *d += "_int64";
    }
  g.unsqueeze0(h, "h_1");
  g.unsqueeze0(w, "w_1");
  g.add_constant(int64s("rest", {-1}));
  g.concat0({"n_1", "rest", "h_1", "w_1"}, "merge_shape");
  g.add(node("Reshape", {"t", "merge_shape"}, {"s"}));
  g.add(node("Relu", {"s"}, {"y"}));
  return g.model({"batch", "4", "4", "4"});
}

// Channel o of the shuffle is channel (o % 2) * 2 + o / 2 of its input.
float shuffled(size_t i) {
  const size_t o = i / 16;
  return std::max(input_at(((o % 2) * 2 + o / 2) * 16 + i % 16), 0.0f);
}

// F.pad(b, (1, 2, 0, 1), value=0.5) as PyTorch exports it without constant folding: the
// pads (w before, w after, h before, h after) extended with zeros to every dim, reversed in
// pairs and transposed into ONNX's order (all befores, then all afters): [0,0,0,1, 0,0,1,2].
// y = Relu(p), so that p is no graph output.
onnx::ModelProto pad_chain(int64_t opset) {
  Graph g{opset};
  g.add_constant(int64s("torch_pads", {1, 2, 0, 1}));
  g.add_constant(int64s("extension", {4}));
  onnx::NodeProto zeros = node("ConstantOfShape", {"extension"}, {"zeros"});
  auto* value = zeros.add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  *value->mutable_t() = int64s("", {0});
  g.add(zeros);
  g.concat0({"torch_pads", "zeros"}, "extended");
  g.add_constant(int64s("pairs_shape", {-1, 2}));
  g.add(node("Reshape", {"extended", "pairs_shape"}, {"pairs"}));
  g.add_constant(int64s("flip_start", {-1}));
  g.add_constant(int64s("flip_end", {-LLONG_MAX}));
  g.add_constant(int64s("flip_axis", {0}));
  g.add_constant(int64s("flip_step", {-1}));
  g.add(node("Slice", {"pairs", "flip_start", "flip_end", "flip_axis", "flip_step"}, {"flipped"}));
  onnx::NodeProto transpose = node("Transpose", {"flipped"}, {"sides"});
  add_ints(&transpose, "perm", {1, 0});
  g.add(transpose);
  g.add_constant(int64s("flat", {-1}));
  g.add(node("Reshape", {"sides", "flat"}, {"pads_computed"}));
  onnx::NodeProto cast = node("Cast", {"pads_computed"}, {"pads"});
  set_int(cast, "to", onnx::TensorProto::INT64);
  g.add(cast);
  g.add_constant(constant("fill", {}, {0.5f}));
  onnx::NodeProto pad = node("Pad", {"b", "pads", "fill"}, {"p"});
  pad.add_attribute()->set_name("mode");
  pad.mutable_attribute(0)->set_type(onnx::AttributeProto::STRING);
  pad.mutable_attribute(0)->set_s("constant");
  g.add(pad);
  g.add(node("Relu", {"p"}, {"y"}));
  return g.model({"batch", "4", "5", "7"});
}

// The padded map: rows 0..3 and columns 1..4 hold Relu(x), the rest 0.5.
float padded(size_t i) {
  const size_t c = i / 35, h = i % 35 / 7, w = i % 7;
  if (h >= 4 || w < 1 || w >= 5) return 0.5f;
  return std::max(input_at(c * 16 + h * 4 + (w - 1)), 0.0f);
}

struct Loaded {
  onnx::ModelProto proto;  // as normalized
  Tensor output;           // of the whole model on test_input()
};

// Runs `model`, checks its whole output against `expected` (of `shape`), and that head then tail
// gives that output at every cut.
Result<Loaded> expect_runs_as(const OnnxModel& model, const Shape& shape,
                              const std::function<float(size_t)>& expected) {
  Loaded loaded;
  const Bytes bytes = model.serialized();
  if (!loaded.proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return Error("unparsable");
  DISC_ASSIGN_OR_RETURN(Network whole, Network::from_onnx(bytes));
  DISC_ASSIGN_OR_RETURN(loaded.output, whole.run(test_input()));
  EXPECT_EQ(loaded.output.shape(), shape);
  for (size_t i = 0; i < loaded.output.size(); ++i)
    EXPECT_NEAR(loaded.output.data()[i], expected(i), 1e-6f) << "element " << i;
  for (const CutPoint& cut : model.cuts()) {
    DISC_ASSIGN_OR_RETURN(SplitModel split, model.split(cut.tensor));
    DISC_ASSIGN_OR_RETURN(Network head, Network::from_onnx(split.head));
    DISC_ASSIGN_OR_RETURN(Network tail, Network::from_onnx(split.tail));
    DISC_ASSIGN_OR_RETURN(Tensor features, head.run(test_input()));
    EXPECT_EQ(features.shape(), cut.shape) << cut.tensor;
    DISC_ASSIGN_OR_RETURN(Tensor output, tail.run(features));
    EXPECT_LE(testing::relative_difference(loaded.output, output), 1e-6f) << "split at " << cut.tensor;
  }
  return loaded;
}

std::vector<std::string> cut_names(const OnnxModel& model) {
  std::vector<std::string> names;
  for (const CutPoint& cut : model.cuts()) names.push_back(cut.tensor);
  return names;
}

class ConstantFolding : public ::testing::TestWithParam<int64_t> {};

// Before folding, the Shape nodes read b after the first Reshape, so no tensor of the shuffle
// separated the graph, and nothing was listed after b.
TEST_P(ConstantFolding, ShapeChainOfAChannelShuffleFoldsAndItsCutsAreListed) {
  auto model = load(channel_shuffle(GetParam()));
  ASSERT_TRUE(model.ok()) << model.error().message();
  EXPECT_EQ(cut_names(*model), (std::vector<std::string>{"b", "r", "t", "s"}));
  EXPECT_TRUE(model->unshaped_cuts().empty());
  auto r = model->find_cut("r");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->shape, (Shape{1, 2, 2, 16}));
  auto loaded = expect_runs_as(*model, {1, 4, 4, 4}, shuffled);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  for (const char* op : {"Shape", "Gather", "Unsqueeze", "Concat", "Div", "Mul", "Constant"})
    EXPECT_EQ(count_ops(loaded->proto, op), 0u) << op;
  EXPECT_EQ(count_ops(loaded->proto, "Reshape"), 2u);
}

// Before folding, p was unsized at opset 11 (no cut after the Pad), and an opset-13 model was
// refused: the lowering needs the pads constant.
TEST_P(ConstantFolding, PadsComputedFromConstantsFoldAndThePaddedMapIsACut) {
  auto model = load(pad_chain(GetParam()));
  ASSERT_TRUE(model.ok()) << model.error().message();
  EXPECT_EQ(cut_names(*model), (std::vector<std::string>{"b", "p"}));
  auto p = model->find_cut("p");
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->shape, (Shape{1, 4, 5, 7}));
  auto loaded = expect_runs_as(*model, {1, 4, 5, 7}, padded);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  for (const char* op : {"ConstantOfShape", "Concat", "Slice", "Transpose", "Cast"})  // the fill value stays
    EXPECT_EQ(count_ops(loaded->proto, op), 0u) << op;
}

// A cast to int32 is not evaluated: the second shape's chain stays from there on, and computes
// as before; what can be folded (the Shape and the dims it gives) is, so the first Reshape's
// output and the Transpose are cuts all the same.
TEST_P(ConstantFolding, AChainTheFolderCannotEvaluateStaysAndComputesAsBefore) {
  auto model = load(channel_shuffle(GetParam(), /*int32_dims=*/true));
  ASSERT_TRUE(model.ok()) << model.error().message();
  const std::vector<std::string> cuts = cut_names(*model);
  for (const char* cut : {"b", "r", "t"}) EXPECT_NE(std::find(cuts.begin(), cuts.end(), cut), cuts.end()) << cut;
  auto loaded = expect_runs_as(*model, {1, 4, 4, 4}, shuffled);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ(count_ops(loaded->proto, "Cast"), 4u);
  EXPECT_EQ(count_ops(loaded->proto, "Concat"), 1u);  // the second shape's
  EXPECT_EQ(count_ops(loaded->proto, "Shape"), 0u);
}

// Range's values are counted exactly before any is made: start INT64_MAX - 1 with delta
// INT64_MAX has one value, and the second step, which would overflow, is never taken (the
// count was once judged in double and the loop then wrapped around INT64_MAX, filling memory).
TEST(ConstantFoldingLimits, ARangeNearTheInt64LimitFoldsToItsValues) {
  Graph g{11};
  g.add_constant(int64_scalar("start", INT64_MAX - 1));
  g.add_constant(int64_scalar("limit", INT64_MAX));
  g.add_constant(int64_scalar("delta", INT64_MAX));
  g.add(node("Range", {"start", "limit", "delta"}, {"r"}));
  g.add(node("Neg", {"r"}, {"unread"}));
  g.add(node("Relu", {"b"}, {"y"}));
  auto model = load(g.model({"batch", "4", "4", "4"}));
  ASSERT_TRUE(model.ok()) << model.error().message();
  EXPECT_FALSE(cut_names(*model).empty());
}

// A weight that only folding makes constant passes the check every constant weight passes:
// OpenCV 4.6 divides by its dims (SIGFPE on a dim of 0).
TEST(ConstantFoldingLimits, AFoldedWeightWithADimOfZeroIsRefused) {
  Graph g{11};
  g.add_constant(constant("w0", {0}, {}));
  g.add_constant(int64s("w_shape", {0, 4, 1, 1}));
  g.add(node("Reshape", {"w0", "w_shape"}, {"w"}));
  g.add(conv("b", "w", "y"));
  auto model = load(g.model({"batch", "0", "4", "4"}));
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.error().message().find("its constant input 'w' has a dim of 0"), std::string::npos)
      << model.error().message();
}

// libonnx 1.13's data propagation for Slice-13 reads past the end of an empty 1-d input when
// the step is negative (a segmentation fault inside InferShapes): loading runs shape inference
// without data propagation, since the constant folding sizes what it would have.
TEST(ConstantFoldingLimits, ReversingAnEmptyVectorLoads) {
  for (int64_t opset : {10, 11, 13})
    for (const char* data : {"empty", "empty_shape"})
      for (int64_t start : {-1, 0}) {
        SCOPED_TRACE("opset " + std::to_string(opset) + ", " + data + ", start " + std::to_string(start));
        Graph g{opset};
        g.add_constant(int64s("empty", {}));
        g.add_constant(int64_scalar("scalar", 3));
        g.add(node("Shape", {"scalar"}, {"empty_shape"}));
        g.add_constant(int64s("start", {start}));
        g.add_constant(int64s("end", {-LLONG_MAX}));
        g.add_constant(int64s("axis", {0}));
        g.add_constant(int64s("step", {-1}));
        g.add(node("Slice", {data, "start", "end", "axis", "step"}, {"reversed"}));
        g.add(node("Neg", {"reversed"}, {"unread"}));
        g.add(node("Relu", {"b"}, {"y"}));
        auto model = load(g.model({"batch", "4", "4", "4"}));
        ASSERT_TRUE(model.ok()) << model.error().message();
        EXPECT_EQ(cut_names(*model), (std::vector<std::string>{"b"}));
      }
}

INSTANTIATE_TEST_SUITE_P(Opsets, ConstantFolding, ::testing::Values(11, 13),
                         [](const ::testing::TestParamInfo<int64_t>& info) {
                           return "Opset" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace disc
