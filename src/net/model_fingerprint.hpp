// A model entry's file and its SHA-256 (model_file_sha256, disc/edge_client.hpp), by which edge
// and server tell whether they hold the same model.
#pragma once

#include <string>

#include "disc/assets.hpp"
#include "disc/model.hpp"
#include "disc/status.hpp"

namespace disc::net {

struct IdentifiedModel {
  OnnxModel onnx;  // parsed from the very bytes `sha256` was taken of
  std::string sha256;
};

// Reads `entry.path` once: the model (at entry.input_shape) and the digest of those bytes; an
// Error if models.json gives the entry another digest.
Result<IdentifiedModel> load_identified_model(const ModelEntry& entry);

// The SHA-256 of `entry.path`, checked against models.json as above, for an edge that sends
// without loading.
Result<std::string> entry_file_sha256(const ModelEntry& entry);

}  // namespace disc::net
