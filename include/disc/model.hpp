// ONNX models: cut enumeration, splitting into an edge head and a server tail, and
// execution of either half (or the whole model) with OpenCV DNN.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "disc/assets.hpp"
#include "disc/codec.hpp"
#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc {

using Bytes = std::vector<uint8_t>;

// A tensor at which the graph can be split: every path from the graph input to its
// outputs passes through it (so nothing inside a residual block qualifies). Precisely: a
// non-constant node output, not a graph input or output, such that the nodes computing the
// outputs backwards from it read no non-initializer tensor besides it and their own outputs.
struct CutPoint {
  std::string tensor;     // ONNX tensor name
  std::string node;       // name of the node that produces it
  std::string op_type;
  size_t position = 0;    // producer's index in topological order (cuts are sorted by it)
  Shape shape;            // static, batch 1
  size_t elements = 0;
  size_t fp32_bytes() const { return elements * 4; }
};

// A tensor that separates the graph like a cut but that ONNX shape inference could not give a
// static shape (e.g. a Reshape whose shape passes through a cast to int32, which constant
// folding does not evaluate): the head's output needs one, so it is no cut.
struct UnshapedCut {
  std::string tensor;
  std::string node;
  std::string op_type;
};

// Head: graph inputs -> cut tensor. Tail: cut tensor -> graph outputs. Both are complete
// ONNX models (serialized ModelProto) that OpenCV DNN loads from memory.
struct SplitModel {
  CutPoint cut;
  Bytes head;
  Bytes tail;
};

// A loaded, normalized ONNX model: Identity(initializer) nodes folded, symbolic batch
// dimensions fixed to 1, nodes topologically sorted and named, shapes inferred, values computed
// from constants and static shapes alone (Shape → Gather → Concat chains, computed pads) folded
// into initializers; a model of
// opset 12..17 (or opset 11 with Clip bounds as inputs) rewritten into opset 10, which OpenCV
// 4.6 reads (doc/DESIGN.md, "Opset lowering"). Immutable after load (const members are
// thread-safe); a moved-from model may only be destroyed or assigned to. Loading rejects,
// with a message naming the node: opset > 17 or other domains, a node newer than opset 10
// that has no opset-10 form, control flow (If/Loop/Scan), more than one input or output, unresolvable
// dynamic shapes, node inputs that are neither produced, nor an initializer, nor the graph
// input, and what OpenCV 4.6 would compute wrongly (a Gemm with transA = 1 or a non-constant B
// to rewrite, a Softmax over several dims, padded AveragePools that disagree on
// count_include_pad, which OpenCV takes from the producer name; doc/DESIGN.md step 10).
class OnnxModel {
 public:
  // `input_shape`, when not empty, gives the dims the model's input declares dynamic (an export
  // with a symbolic height and width); its other dims must be the declared ones. Empty: only the
  // batch may be dynamic (it becomes 1). A ModelEntry's file loads with its input_shape.
  // Errors: read_file's codes for the file (kNotFound, kPermissionDenied), kResourceExhausted
  // for a model over the size limit, kInvalidArgument for one it refuses.
  static Result<OnnxModel> load_file(const std::string& path, const Shape& input_shape = {});
  static Result<OnnxModel> load_bytes(const uint8_t* data, size_t size, const Shape& input_shape = {});
  OnnxModel(OnnxModel&&) noexcept;
  OnnxModel& operator=(OnnxModel&&) noexcept;
  ~OnnxModel();

  const std::string& input_name() const;
  const Shape& input_shape() const;
  // The static shape of the graph's output; empty if shape inference could not fix it.
  const Shape& output_shape() const;
  const std::vector<CutPoint>& cuts() const;  // in topological order
  const std::vector<UnshapedCut>& unshaped_cuts() const;  // not offered as cuts, in topological order
  // kNotFound for a tensor that is not a cut; kInvalidArgument for one that separates the graph
  // but has no static shape (unshaped_cuts()).
  Result<CutPoint> find_cut(const std::string& tensor) const;
  // find_cut's errors; kInternal if the halves cannot be built.
  Result<SplitModel> split(const std::string& cut_tensor) const;
  // The convolution that reads the cut tensor, for disc's shape=1|2: the cut's one consumer
  // is a Conv (possibly behind a zero-padding Pad), whose weights are constant and scaled by a
  // BatchNormalization that alone reads its output. Otherwise an Error saying what reads it
  // (kInvalidArgument), or find_cut's.
  Result<ConvKernel> reading_convolution(const std::string& cut_tensor) const;
  // A codec for the maps of the cut: with its reading convolution if the setting needs it, and
  // `threads` for its encoder (EncoderContext::threads; 0 = one per hardware thread). Errors:
  // find_cut's, make_codec's, reading_convolution's.
  Result<std::unique_ptr<Codec>> codec_for_cut(const std::string& cut_tensor, const CodecSpec& spec,
                                               int threads = 1) const;
  Bytes serialized() const;  // the whole normalized model

 private:
  struct Impl;
  explicit OnnxModel(std::unique_ptr<Impl> impl);
  // Normalizes impl->model, as parsed, and finds its cuts.
  static Result<OnnxModel> from_parsed(std::unique_ptr<Impl> impl, const Shape& input_shape);
  std::unique_ptr<Impl> impl_;
};

// One OpenCV DNN network (a whole model, a head or a tail) with one input and one output.
// Not thread-safe: use one Network per thread. A moved-from Network may only be destroyed or
// assigned to.
class Network {
 public:
  // kInvalidArgument for a model OpenCV DNN cannot load or that has not one input and one output.
  static Result<Network> from_onnx(const Bytes& onnx);
  Network(Network&&) noexcept;
  Network& operator=(Network&&) noexcept;
  ~Network();

  // Runs the network; `input` must have the shape the network expects. An output that is not
  // finite (NaN or infinity in the input, or values large enough to overflow) is an Error
  // with kInvalidArgument: the input's fault, not the network's, as is an input of another
  // shape. kInternal when OpenCV DNN fails.
  Result<Tensor> run(const Tensor& input);

 private:
  struct Impl;
  explicit Network(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Sets OpenCV's worker thread count for every Network in the process (0 = OpenCV default).
void set_inference_threads(int threads);

// decode_image() and load_image() refuse, before decoding, a JPEG or PNG whose header claims
// more than kMaxImagePixels pixels, and a JPEG of more than kMaxJpegScans scans or more than
// kMaxJpegScanPixels pixels times scans (a progressive image's decoding time grows with both:
// 500 scans of 8192 x 8192 took 5.5 s). Other formats are decoded by OpenCV before their size
// is known (up to its limit of 2^30 pixels), so a server takes only what check_upload_image()
// accepts.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;  // 8192 x 8192
inline constexpr int kMaxJpegScans = 500;
inline constexpr int64_t kMaxJpegScanPixels = int64_t{1} << 30;  // 16 scans of the largest image
// OK for a JPEG or PNG within those limits, whose decoding is bounded in memory and time; the
// Error (kInvalidArgument) says what the header claims otherwise, or that the format is neither.
Status check_upload_image(const uint8_t* data, size_t size);
// Decodes an image file (JPEG, PNG, ...) and applies `pre`: a 1x3xHxW tensor. read_file's
// errors, then decode_image's.
Result<Tensor> load_image(const std::string& path, const Preprocessing& pre);
// Same, from encoded image bytes (e.g. an upload); kInvalidArgument for bytes it cannot decode
// or `pre` cannot apply to.
Result<Tensor> decode_image(const uint8_t* data, size_t size, const Preprocessing& pre);

struct Prediction {
  int label = 0;        // dataset class (label offset applied); -1 for an output with no class
  float probability = 0;  // softmax of the logits
  std::string name;     // class name, if known
};

// The k most probable classes of a logits tensor, best first; every value of the tensor is one
// output (a 2x10 tensor is 20 outputs). Output i is class i - label_offset; with class names,
// a class beyond them gets label -1 (an output with no class), as does one below 0.
std::vector<Prediction> top_k(const Tensor& logits, int k, int label_offset,
                              const std::vector<std::string>& class_names);

struct ProfileOptions {
  int repeats = 10;  // timed runs per image, after one untimed warm-up run
  int threads = 1;   // OpenCV worker threads (set_inference_threads)
  // Called after each cut is timed with (cuts done, cuts in all); may be empty. An exception it
  // throws ends profiling with an Error.
  std::function<void(size_t done, size_t total)> progress;
};

struct CutTiming {
  CutPoint cut;
  double head_ms = 0;  // median over repeats x images, rescaled for drift (profile_model)
  double tail_ms = 0;
};

struct ModelProfile {
  std::string model;
  int threads = 0;
  int repeats = 0;
  int images = 0;
  std::string input_name;
  Shape input_shape;
  double upload_bytes = 0;  // mean encoded size of the images: what server-only inference uploads
  double full_ms = 0;       // median latency of the whole model
  std::vector<CutTiming> cuts;  // every cut of the model, in order
};

// Times the whole model, and the head and tail of every cut, on the given images. Per cut
// the head, the tail and the whole model run interleaved; each cut's medians are rescaled
// by (median of all whole-model runs) / (median of that cut's whole-model runs), which
// cancels the machine's speed drift between cuts.
Result<ModelProfile> profile_model(const std::string& name, const OnnxModel& model,
                                   const std::vector<std::string>& image_paths, const Preprocessing& pre,
                                   const ProfileOptions& options);

// {"model", "threads", "repeats", "images", "input": {"name", "shape", "fp32_bytes",
// "upload_bytes"}, "full_ms", "cuts": [{"tensor", "node", "op_type", "position", "shape",
// "elements", "fp32_bytes", "head_ms", "tail_ms"}]}; times in ms, sizes in bytes.
std::string profile_to_json(const ModelProfile& profile);

}  // namespace disc
