// A shared model for the model tests: its models.json entry, the model as loaded and its
// data set's first image, preprocessed.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "disc/assets.hpp"
#include "disc/model.hpp"
#include "model/test_assets.hpp"

namespace disc::testing {

struct SharedModel {
  ModelEntry entry;
  OnnxModel model;
  Tensor image;
};

// Fails the test (and throws from value()) if any part cannot be loaded.
inline SharedModel load_shared_model(const std::string& name) {
  auto catalog = AssetCatalog::load(assets_dir());
  EXPECT_TRUE(catalog.ok()) << catalog.error().message();
  auto entry = catalog->find_model(name);
  EXPECT_TRUE(entry.ok());
  auto model = OnnxModel::load_file(entry->path);
  EXPECT_TRUE(model.ok()) << model.error().message();
  auto dataset = catalog->load_dataset(entry->dataset);
  EXPECT_TRUE(dataset.ok());
  auto image = load_image(dataset->images.at(0).path, entry->preprocessing);
  EXPECT_TRUE(image.ok());
  return {*entry, std::move(model).value(), std::move(image).value()};
}

}  // namespace disc::testing
