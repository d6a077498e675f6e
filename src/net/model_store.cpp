#include "model_store.hpp"

#include <algorithm>

#include "disc/edge_client.hpp"
#include "model_fingerprint.hpp"

namespace disc::net {

Result<ModelStore> ModelStore::load(const std::string& assets_dir, const std::vector<std::string>& names) {
  if (names.empty()) return Error("no model to serve");
  DISC_ASSIGN_OR_RETURN(AssetCatalog catalog, AssetCatalog::load(assets_dir));
  ModelStore store;
  for (const std::string& name : names) {
    if (store.find(name)) continue;
    DISC_ASSIGN_OR_RETURN(ModelEntry entry, catalog.find_model(name));
    auto dataset = catalog.load_dataset(entry.dataset);
    if (!dataset.ok()) return dataset.error().with_context(name);
    DISC_RETURN_IF_ERROR(check_classes(entry, *dataset));
    auto loaded = load_identified_model(entry);
    if (!loaded.ok()) return loaded.error().with_context(name);
    const uint64_t fingerprint = model_fingerprint(loaded->sha256);
    store.models_.push_back(std::make_unique<ServedModel>(ServedModel{std::move(entry), std::move(loaded->sha256),
                                                                      fingerprint, std::move(dataset->class_names),
                                                                      std::move(loaded->onnx)}));
  }
  return store;
}

const ServedModel* ModelStore::find(const std::string& name) const {
  const auto it = std::find_if(models_.begin(), models_.end(),
                               [&](const auto& m) { return m->entry.name == name; });
  return it == models_.end() ? nullptr : it->get();
}

}  // namespace disc::net
