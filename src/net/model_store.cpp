#include "model_store.hpp"

#include <algorithm>

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
    auto onnx = OnnxModel::load_file(entry.path, entry.input_shape);
    if (!onnx.ok()) return onnx.error().with_context(name);
    auto sha256 = entry_file_sha256(entry);
    if (!sha256.ok()) return sha256.error().with_context(name);
    const uint64_t fingerprint = model_fingerprint(*sha256);
    store.models_.push_back(std::make_unique<ServedModel>(ServedModel{
        std::move(entry), std::move(sha256).value(), fingerprint, std::move(dataset->class_names), std::move(onnx).value()}));
  }
  return store;
}

const ServedModel* ModelStore::find(const std::string& name) const {
  const auto it = std::find_if(models_.begin(), models_.end(),
                               [&](const auto& m) { return m->entry.name == name; });
  return it == models_.end() ? nullptr : it->get();
}

}  // namespace disc::net
