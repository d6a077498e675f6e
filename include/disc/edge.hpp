// The edge device's inference pipeline: image -> (head -> encode -> server tail) with a
// timing breakdown of every stage. The three modes share one interface so that callers
// (the CLI, the benchmark, the planner) compare them on equal terms.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "disc/assets.hpp"
#include "disc/codec.hpp"
#include "disc/edge_client.hpp"
#include "disc/model.hpp"
#include "disc/status.hpp"

namespace disc {

enum class EdgeMode {
  kSplit,       // head on the edge, DISC stream to the server, tail on the server
  kEdgeOnly,    // the whole model on the edge; nothing is sent
  kServerOnly,  // the image file is uploaded; the server runs the whole model
};

// Seconds per stage of one image; stages a mode does not have stay 0.
struct EdgeTiming {
  double load = 0;           // edge: image decode + preprocessing
  double head = 0;           // edge: head (split) or whole model (edge-only)
  double encode = 0;         // edge: compress() (chunked: every chunk, summed)
  double transfer = 0;       // round trip - server total (+ server receive, chunked)
  double server_queue = 0;
  double server_decode = 0;  // stream decode (split) or image decode (server-only)
  double tail = 0;           // server: tail (split) or whole model (server-only)
  double total = 0;          // wall clock of the whole run, edge view
};

struct EdgeResult {
  std::vector<Prediction> top;
  EdgeTiming timing;
  size_t bytes_sent = 0;  // request message size; 0 for edge-only
  size_t raw_bytes = 0;   // the cut as raw fp32 (split), the image file (server-only)
  int attempts = 0;
};

struct EdgeConfig {
  EdgeMode mode = EdgeMode::kSplit;
  std::string cut;           // split mode: a cut tensor name
  std::string codec = "raw"; // split mode: codec spec
  int top_k = 5;  // at most the model's outputs: a model with fewer answers with all of them
  // Split mode: send the feature map as this many chunks (disc/chunks.hpp), so that
  // encoding and decoding overlap the transfer; then encode and server decode overlap
  // transfer in the timing and the stages sum to more than the total. 1 = one stream.
  int chunks = 1;
  // Split mode: threads for encoding one map (EncoderContext::threads); 0 = one per hardware
  // thread. Only disc's shape=1|2 under a depthwise reader uses more than one.
  int encode_threads = 0;
};

// Not thread-safe (it runs one Network): one pipeline per thread.
class EdgePipeline {
 public:
  // `client` may be null for edge-only and must outlive the pipeline otherwise.
  static Result<std::unique_ptr<EdgePipeline>> create(const ModelEntry& model, std::vector<std::string> class_names,
                                                      const EdgeConfig& config, EdgeClient* client);
  ~EdgePipeline();

  Result<EdgeResult> run(const std::string& image_path);

 private:
  struct Impl;
  explicit EdgePipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace disc
