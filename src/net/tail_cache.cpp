#include "tail_cache.hpp"

namespace disc::net {
namespace {

Result<std::shared_ptr<NetworkPool>> build(const ServedModel& model, const std::string& cut) {
  if (cut.empty()) return std::make_shared<NetworkPool>(model.onnx.serialized());
  DISC_ASSIGN_OR_RETURN(SplitModel split, model.onnx.split(cut));
  auto pool = std::make_shared<NetworkPool>(std::move(split.tail));
  // Building the first network now surfaces a tail OpenCV cannot load as this request's error.
  DISC_RETURN_IF_ERROR(pool->lease());
  return pool;
}

}  // namespace

Result<std::shared_ptr<NetworkPool>> TailCache::get(const ServedModel& model, const std::string& cut) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mutex_);
    auto& slot = entries_[{model.entry.name, cut}];
    if (!slot) slot = std::make_shared<Entry>();
    entry = slot;
  }
  std::call_once(entry->built, [&] { entry->pool = build(model, cut); });
  if (!entry->pool.ok()) {
    // A failure is not kept: the next request for this cut tries again.
    std::lock_guard lock(mutex_);
    auto it = entries_.find({model.entry.name, cut});
    if (it != entries_.end() && it->second == entry) entries_.erase(it);
  }
  return entry->pool;
}

}  // namespace disc::net
