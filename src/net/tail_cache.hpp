// Tails built on first use: for each (model, cut) the tail is split out of the ONNX
// model once and kept, with its pool of networks, for the server's lifetime (so memory
// grows to at most cuts x workers networks per model); a failed build is not kept. The empty
// cut stands for the whole model (server-only inference).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "model_store.hpp"
#include "network_pool.hpp"

namespace disc::net {

class TailCache {
 public:
  // `cut` must be one of model.onnx.cuts() or empty; concurrent first uses of one key
  // build it once.
  Result<std::shared_ptr<NetworkPool>> get(const ServedModel& model, const std::string& cut);

 private:
  struct Entry {
    std::once_flag built;
    Result<std::shared_ptr<NetworkPool>> pool = Error("not built");
  };

  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Entry>> entries_;
};

}  // namespace disc::net
