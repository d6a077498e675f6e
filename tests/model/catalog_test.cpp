// models.json validation: every field the code relies on is checked when the catalog loads.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "disc/assets.hpp"
#include "model/test_assets.hpp"

namespace disc {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json shared_models_json() {
  std::ifstream in(testing::assets_dir() + "/models/models.json");
  return json::parse(in);
}

// Loads a copy of the shared models.json after `edit` changed it (model 0 is squeezenet,
// 1000 classes, label offset 0).
Result<AssetCatalog> load_edited(const std::function<void(json&)>& edit) {
  json doc = shared_models_json();
  edit(doc);
  const fs::path dir = fs::temp_directory_path() /
                       (std::string("disc_catalog_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::create_directories(dir / "models");
  std::ofstream(dir / "models" / "models.json") << doc.dump(2);
  auto catalog = AssetCatalog::load(dir.string());
  fs::remove_all(dir);  // the catalog keeps what it parsed; the tests read no data set
  return catalog;
}

struct Case {
  std::string what;
  std::function<void(json&)> edit;
  std::string message;  // the refusal names the field and the value
};

void expect_refused(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    auto catalog = load_edited(c.edit);
    ASSERT_FALSE(catalog.ok()) << c.what;
    const std::string& message = catalog.error().message();
    EXPECT_NE(message.find("models.json: model 0 'squeezenet_v1.1': "), std::string::npos) << c.what << ": " << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << c.what << ": " << message;
    EXPECT_EQ(catalog.error().code(), ErrorCode::kInvalidArgument) << c.what;
  }
}

json& input(json& doc) { return doc["models"][0]["input"]; }

TEST(Catalog, TheSharedModelsJsonLoads) {
  auto catalog = load_edited([](json&) {});
  ASSERT_TRUE(catalog.ok()) << catalog.error().message();
  // What is looked up by name and is not there is not found; a bad name is an invalid argument.
  EXPECT_EQ(catalog->find_model("no_such_model").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(catalog->load_dataset("no_such_set").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(catalog->load_dataset("../data").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(AssetCatalog::load("/nonexistent").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(load_unlabelled_images("/nonexistent").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(catalog->models().size(), shared_models_json()["models"].size());
  auto mobilenet = catalog->find_model("mobilenet_v2_1.0_224");
  ASSERT_TRUE(mobilenet.ok());
  EXPECT_EQ(mobilenet->classes, 1001);
  EXPECT_EQ(mobilenet->label_offset, 1);
}

TEST(Catalog, ClassesAndLabelOffsetMustLeaveAClass) {
  expect_refused({
      {"zero classes", [](json& d) { d["models"][0]["classes"] = 0; },
       "'classes' must be an integer in 1..2147483647, got 0"},
      {"fractional classes", [](json& d) { d["models"][0]["classes"] = 1000.5; }, "got 1000.5"},
      {"boolean classes", [](json& d) { d["models"][0]["classes"] = true; }, "'classes' must be an integer"},
      {"classes beyond int", [](json& d) { d["models"][0]["classes"] = int64_t{1} << 32; }, "got 4294967296"},
      {"negative offset", [](json& d) { d["models"][0]["label_offset"] = -1; }, "'label_offset' must be an integer"},
      {"offset = classes", [](json& d) { d["models"][0]["label_offset"] = 1000; },
       "label_offset 1000 must be in 0..999"},
      {"offset > classes", [](json& d) { d["models"][0]["label_offset"] = 5000; }, "label_offset 5000"},
  });
  auto last = load_edited([](json& d) { d["models"][0]["label_offset"] = 999; });  // class 0 = output 999
  EXPECT_TRUE(last.ok()) << last.error().message();
}

TEST(Catalog, PreprocessingNumbersMustBeUsable) {
  // 1e39 is finite in JSON but infinite as a float; 1e-50 is non-zero but rounds to 0.
  expect_refused({
      {"zero scale", [](json& d) { input(d)["scale"] = 0; }, "scale must be finite and non-zero, got 0"},
      {"scale underflows", [](json& d) { input(d)["scale"] = 1e-50; }, "scale must be finite and non-zero, got 0"},
      {"scale overflows", [](json& d) { input(d)["scale"] = 1e39; }, "scale must be finite and non-zero, got inf"},
      {"infinite mean", [](json& d) { input(d)["mean"][2] = -1e39; }, "mean[2] must be finite, got -inf"},
      {"infinite std", [](json& d) { input(d)["std"][1] = 1e39; }, "std[1] must be finite and positive, got inf"},
      {"zero std", [](json& d) { input(d)["std"][0] = 0; }, "std[0] must be finite and positive, got 0"},
  });
}

TEST(Catalog, InputShapeMustBePositiveIntegers) {
  expect_refused({
      {"zero height", [](json& d) { input(d)["shape"][2] = 0; }, "input shape must be [1,3,H,W]"},
      {"fractional width", [](json& d) { input(d)["shape"][3] = 227.5; }, "got [1,3,227,227.5]"},
      {"batch 2", [](json& d) { input(d)["shape"][0] = 2; }, "input shape must be [1,3,H,W]"},
      {"huge height", [](json& d) { input(d)["shape"][2] = 100000; }, "input size 100000x227 is outside 1..65536"},
  });
}

TEST(Catalog, Sha256MustBe64HexDigitsWhenPresent) {
  expect_refused({
      {"short", [](json& d) { d["models"][0]["sha256"] = "264e7060"; }, "sha256 must be 64 hex digits, got '264e7060'"},
      {"not hex", [](json& d) { d["models"][0]["sha256"] = std::string(63, 'a') + "g"; },
       "sha256 must be 64 hex digits"},
      {"not a string", [](json& d) { d["models"][0]["sha256"] = 42; }, "'sha256' has the wrong type"},
  });
  auto absent = load_edited([](json& d) { d["models"][0].erase("sha256"); });
  EXPECT_TRUE(absent.ok()) << absent.error().message();
}

// A name the CLI would read as a file path, or none, could never be used.
TEST(Catalog, ModelNamesMustBeUsable) {
  for (const auto& [name, message] : {std::pair<std::string, std::string>{"", "model name is empty"},
                                      {"a/b", "model name 'a/b' contains '/' or ends in .onnx"},
                                      {"net.ONNX", "model name 'net.ONNX' contains"}}) {
    auto catalog = load_edited([&](json& d) { d["models"][0]["name"] = name; });
    ASSERT_FALSE(catalog.ok()) << name;
    EXPECT_NE(catalog.error().message().find(message), std::string::npos) << catalog.error().message();
  }
}

// A crop is refused where it would be ignored, as --crop is: model 0 resizes directly.
TEST(Catalog, CropGoesWithCenterResizeOnly) {
  expect_refused({
      {"crop 1.5", [](json& d) { input(d)["crop"] = 1.5; }, "crop applies to resize 'center' only"},
      {"crop text", [](json& d) { input(d)["crop"] = "x"; }, "crop applies to resize 'center' only"},
  });
  auto centered = load_edited([](json& d) { d["models"][1]["input"]["crop"] = 1.5; });
  ASSERT_FALSE(centered.ok());
  EXPECT_NE(centered.error().message().find("crop must be in (0, 1], got 1.5"), std::string::npos)
      << centered.error().message();
}

TEST(Catalog, DuplicateModelNamesAreRefused) {
  auto catalog = load_edited([](json& d) { d["models"][3]["name"] = d["models"][1]["name"]; });
  ASSERT_FALSE(catalog.ok());
  EXPECT_NE(catalog.error().message().find("model 3 'mobilenet_v2_1.0_224': duplicate model name"), std::string::npos)
      << catalog.error().message();
}

}  // namespace
}  // namespace disc
