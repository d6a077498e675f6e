// The models a server was started with, loaded once and immutable afterwards.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "disc/assets.hpp"
#include "disc/model.hpp"
#include "disc/status.hpp"

namespace disc::net {

struct ServedModel {
  ModelEntry entry;
  std::string sha256;        // of the ONNX file (model_file_sha256)
  uint64_t fingerprint = 0;  // its first 64 bits, as requests carry it
  std::vector<std::string> class_names;  // of entry.dataset; empty if it has none
  OnnxModel onnx;
};

class ModelStore {
 public:
  // Loads every named model of the catalog in `assets_dir`; fails on the first that is
  // unknown or does not load.
  static Result<ModelStore> load(const std::string& assets_dir, const std::vector<std::string>& names);

  // nullptr for a model the server does not serve.
  const ServedModel* find(const std::string& name) const;
  const std::vector<std::unique_ptr<ServedModel>>& models() const { return models_; }

 private:
  std::vector<std::unique_ptr<ServedModel>> models_;
};

}  // namespace disc::net
