// models/models.json and the labelled image sets under data/.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error_codes.hpp"
#include "disc/assets.hpp"
#include "disc/npy.hpp"

namespace disc {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// "0", "0.5", "inf": a float as error messages show it.
std::string number(float value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// Reads `key` of `object` as T, or an Error naming the key.
template <class T>
Result<T> field(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return Error(std::string("missing field '") + key + "'");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return Error(std::string("field '") + key + "' has the wrong type");
  }
}

// Reads `key` of `object` as an integer in [min, max] (not a float or a boolean, which
// nlohmann would convert), or an Error naming the key and the value.
Result<int> integer(const json& object, const char* key, int min, int max) {
  auto it = object.find(key);
  if (it == object.end()) return Error(std::string("missing field '") + key + "'");
  if (!it->is_number_integer() || *it < min || *it > max)
    return Error(std::string("field '") + key + "' must be an integer in " + std::to_string(min) + ".." +
                 std::to_string(max) + ", got " + it->dump());
  return it->get<int>();
}

Result<std::array<float, 3>> triple(const json& object, const char* key) {
  DISC_ASSIGN_OR_RETURN(auto values, field<std::vector<float>>(object, key));
  if (values.size() != 3) return Error(std::string("field '") + key + "' must have 3 values");
  return std::array<float, 3>{values[0], values[1], values[2]};
}

// [1, 3, H, W] with H and W integers in 1..INT_MAX (validate(Preprocessing) bounds them further).
Result<Shape> parse_input_shape(const json& input) {
  auto it = input.find("shape");
  if (it == input.end()) return Error("missing field 'shape'");
  auto is_dim = [](const json& d) { return d.is_number_integer() && d > 0 && d <= std::numeric_limits<int>::max(); };
  if (!it->is_array() || it->size() != 4 || (*it)[0] != 1 || (*it)[1] != 3 ||
      !std::all_of(it->begin(), it->end(), is_dim))
    return Error("input shape must be [1,3,H,W] with positive integers H and W, got " + it->dump());
  return it->get<Shape>();
}

Result<Preprocessing> parse_preprocessing(const json& input, const Shape& shape) {
  Preprocessing pre;
  pre.height = static_cast<int>(shape[2]);
  pre.width = static_cast<int>(shape[3]);
  DISC_ASSIGN_OR_RETURN(std::string color, field<std::string>(input, "color"));
  if (color == "RGB") pre.color = Preprocessing::Color::kRgb;
  else if (color == "BGR") pre.color = Preprocessing::Color::kBgr;
  else return Error("color must be RGB or BGR, got '" + color + "'");
  DISC_ASSIGN_OR_RETURN(std::string resize, field<std::string>(input, "resize"));
  if (resize == "direct") {
    pre.resize = Preprocessing::Resize::kDirect;
    // As --crop: a crop that would be ignored is a mistake in the entry, not a no-op.
    if (input.contains("crop")) return Error("crop applies to resize 'center' only (this entry's resize is direct)");
  } else if (resize == "center") {
    pre.resize = Preprocessing::Resize::kCenter;
    DISC_ASSIGN_OR_RETURN(pre.crop, field<float>(input, "crop"));
  } else {
    return Error("resize must be direct or center, got '" + resize + "'");
  }
  DISC_ASSIGN_OR_RETURN(pre.scale, field<float>(input, "scale"));
  DISC_ASSIGN_OR_RETURN(pre.mean, triple(input, "mean"));
  DISC_ASSIGN_OR_RETURN(pre.std, triple(input, "std"));
  return pre;
}

// " 'NAME'" of a models.json entry, for error messages; "" if it has no name.
std::string name_of(const json& m) {
  auto it = m.find("name");  // end() if m is not an object
  return it != m.end() && it->is_string() ? " '" + it->get<std::string>() + "'" : "";
}


Result<ModelEntry> parse_model(const json& m, const fs::path& models_dir) {
  ModelEntry e;
  DISC_ASSIGN_OR_RETURN(e.name, field<std::string>(m, "name"));
  if (e.name.empty()) return Error("model name is empty");
  // The CLI reads such a MODEL argument as a file path: the entry could never be used.
  if (names_a_model_file(e.name)) return Error("model name '" + e.name + "' contains '/' or ends in .onnx");
  DISC_ASSIGN_OR_RETURN(std::string file, field<std::string>(m, "file"));
  e.path = (models_dir / file).string();
  // Only the digest's form is checked here (hashing every model at each load would read them
  // all); it is compared where a model file is hashed anyway (ModelEntry::sha256).
  if (m.contains("sha256")) {
    DISC_ASSIGN_OR_RETURN(e.sha256, field<std::string>(m, "sha256"));
    if (!is_sha256_hex(e.sha256)) return Error("sha256 must be 64 hex digits, got '" + e.sha256 + "'");
  }
  DISC_ASSIGN_OR_RETURN(e.dataset, field<std::string>(m, "dataset"));
  if (!m.contains("input") || !m["input"].is_object()) return Error("missing object 'input'");
  const json& input = m["input"];
  DISC_ASSIGN_OR_RETURN(e.input_name, field<std::string>(input, "name"));
  DISC_ASSIGN_OR_RETURN(e.input_shape, parse_input_shape(input));
  DISC_ASSIGN_OR_RETURN(e.preprocessing, parse_preprocessing(input, e.input_shape));
  constexpr int kMaxInt = std::numeric_limits<int>::max();
  DISC_ASSIGN_OR_RETURN(e.classes, integer(m, "classes", 1, kMaxInt));
  DISC_ASSIGN_OR_RETURN(e.label_offset, integer(m, "label_offset", 0, kMaxInt));
  DISC_ASSIGN_OR_RETURN(e.top1, field<double>(m, "top1"));
  if (m.contains("top5")) {
    DISC_ASSIGN_OR_RETURN(e.top5, field<double>(m, "top5"));
  }
  DISC_RETURN_IF_ERROR(validate(e));
  return e;
}

Result<std::vector<std::string>> read_lines(const fs::path& path) {
  DISC_ASSIGN_OR_RETURN(auto bytes, read_file(path.string()));
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// "n01440764 tench, Tinca tinca" -> "tench, Tinca tinca"
Result<std::vector<std::string>> read_synset_words(const fs::path& path) {
  DISC_ASSIGN_OR_RETURN(auto lines, read_lines(path));
  std::vector<std::string> names;
  for (const std::string& line : lines) {
    const size_t space = line.find(' ');
    names.push_back(space == std::string::npos ? line : line.substr(space + 1));
  }
  return names;
}

// labels.txt: "FILE LABEL" per line, FILE relative to images/ (or to the data set folder
// if it has no images/). Order: as listed.
Result<Dataset> load_listed_dataset(const fs::path& dir, Dataset dataset) {
  const fs::path image_dir = fs::is_directory(dir / "images") ? dir / "images" : dir;
  if (fs::exists(dir / "synset_words.txt")) {
    DISC_ASSIGN_OR_RETURN(dataset.class_names, read_synset_words(dir / "synset_words.txt"));
  }
  DISC_ASSIGN_OR_RETURN(auto lines, read_lines(dir / "labels.txt"));
  for (size_t i = 0; i < lines.size(); ++i) {
    std::istringstream fields(lines[i]);
    std::string file;
    int label = -1;
    std::string rest;
    if (!(fields >> file >> label) || (fields >> rest) || label < 0 ||
        (!dataset.class_names.empty() && static_cast<size_t>(label) >= dataset.class_names.size()))
      return Error("labels.txt line " + std::to_string(i + 1) + ": expected 'FILE LABEL' with a valid label");
    dataset.images.push_back({(image_dir / file).string(), label});
  }
  return dataset;
}

// <class>/<file>: class index = alphabetical folder order. Order: round-robin over the
// classes (the i-th file of every class in turn, files sorted by name), so every prefix
// is as class-balanced as possible.
Result<Dataset> load_folder_dataset(const fs::path& dir, Dataset dataset) {
  std::vector<std::vector<std::string>> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory()) dataset.class_names.push_back(entry.path().filename().string());
  std::sort(dataset.class_names.begin(), dataset.class_names.end());
  if (dataset.class_names.empty()) return Error("data set " + dir.string() + " has no labels.txt and no class folders");
  size_t longest = 0;
  for (const std::string& name : dataset.class_names) {
    auto& list = files.emplace_back();
    for (const auto& entry : fs::directory_iterator(dir / name))
      if (entry.is_regular_file()) list.push_back(entry.path().string());
    std::sort(list.begin(), list.end());
    longest = std::max(longest, list.size());
  }
  for (size_t i = 0; i < longest; ++i)
    for (size_t c = 0; c < files.size(); ++c)
      if (i < files[c].size()) dataset.images.push_back({files[c][i], static_cast<int>(c)});
  return dataset;
}

}  // namespace

Status validate(const Preprocessing& pre) {
  constexpr int kMax = Preprocessing::kMaxSide;
  if (pre.height < 1 || pre.width < 1 || pre.height > kMax || pre.width > kMax)
    return Error("input size " + std::to_string(pre.height) + "x" + std::to_string(pre.width) + " is outside 1.." +
                     std::to_string(kMax) + " a side",
                 ErrorCode::kInvalidArgument);
  if (!(pre.crop > 0 && pre.crop <= 1))
    return Error("crop must be in (0, 1], got " + number(pre.crop), ErrorCode::kInvalidArgument);
  if (!std::isfinite(pre.scale) || pre.scale == 0)
    return Error("scale must be finite and non-zero, got " + number(pre.scale), ErrorCode::kInvalidArgument);
  for (size_t c = 0; c < 3; ++c) {
    const std::string channel = "[" + std::to_string(c) + "]";
    if (!std::isfinite(pre.mean[c]))
      return Error("mean" + channel + " must be finite, got " + number(pre.mean[c]), ErrorCode::kInvalidArgument);
    if (!std::isfinite(pre.std[c]) || !(pre.std[c] > 0))
      return Error("std" + channel + " must be finite and positive, got " + number(pre.std[c]),
                   ErrorCode::kInvalidArgument);
  }
  return Status();
}

Status validate(const ModelEntry& entry) {
  DISC_RETURN_IF_ERROR(validate(entry.preprocessing));
  if (entry.classes < 1)
    return Error("classes must be at least 1, got " + std::to_string(entry.classes), ErrorCode::kInvalidArgument);
  if (entry.label_offset < 0 || entry.label_offset >= entry.classes)
    return Error("label_offset " + std::to_string(entry.label_offset) + " must be in 0.." +
                     std::to_string(entry.classes - 1) + ": output i is class i - label_offset, and the model has " +
                     std::to_string(entry.classes) + " outputs",
                 ErrorCode::kInvalidArgument);
  return Status();
}

Status check_classes(const ModelEntry& entry, const Dataset& dataset) {
  if (entry.classes < 1 || dataset.class_names.empty()) return Status();
  const size_t predicted = static_cast<size_t>(entry.classes - entry.label_offset);
  const std::string classes = std::to_string(dataset.class_names.size());
  if (predicted == dataset.class_names.size()) return Status();
  if (entry.label_offset == 0)
    return Error(entry.name + ": " + std::to_string(entry.classes) + " outputs, but data set " + dataset.name +
                     " has " + classes + " classes" +
                     (predicted == dataset.class_names.size() + 1
                          ? " (if output 0 is a background class, as in TensorFlow's ImageNet models, the label "
                            "offset is 1: --labels-offset 1, or \"label_offset\": 1 in models.json)"
                          : ""),
                 ErrorCode::kInvalidArgument);
  return Error(entry.name + ": " + std::to_string(entry.classes) + " outputs less label offset " +
                   std::to_string(entry.label_offset) + " leave " + std::to_string(predicted) +
                   (predicted == 1 ? " class" : " classes") + ", but data set " + dataset.name + " has " + classes,
               ErrorCode::kInvalidArgument);
}

Result<AssetCatalog> AssetCatalog::load(const std::string& assets_dir) {
  const fs::path models_dir = fs::path(assets_dir) / "models";
  const fs::path index = models_dir / "models.json";
  auto text = read_file(index.string());
  if (!text.ok())
    return Error(text.error().message() + " (is that the assets directory? the CLI takes --assets DIR or DISC_ASSETS)",
                 text.error().code());
  json doc;
  try {
    doc = json::parse(text->begin(), text->end());
  } catch (const json::exception& e) {
    return Error(index.string() + ": invalid JSON: " + e.what(), ErrorCode::kInvalidArgument);
  }
  if (!doc.contains("models") || !doc["models"].is_array())
    return Error(index.string() + ": missing array 'models'", ErrorCode::kInvalidArgument);
  AssetCatalog catalog;
  catalog.dir_ = assets_dir;
  std::set<std::string> names;
  for (size_t i = 0; i < doc["models"].size(); ++i) {
    const json& m = doc["models"][i];
    const std::string where = index.string() + ": model " + std::to_string(i) + name_of(m);
    auto entry = parse_model(m, models_dir);
    if (!entry.ok()) return classified(entry.error().with_context(where), ErrorCode::kInvalidArgument);
    // find_model() returns the first match: a second entry of the same name would be unreachable.
    if (!names.insert(entry->name).second) return Error(where + ": duplicate model name", ErrorCode::kInvalidArgument);
    catalog.models_.push_back(std::move(entry).value());
  }
  return catalog;
}

bool is_sha256_hex(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c); });
}

bool names_a_model_file(const std::string& model) {
  const std::string extension = ".onnx";
  return model.find('/') != std::string::npos ||
         (model.size() >= extension.size() &&
          std::equal(extension.rbegin(), extension.rend(), model.rbegin(),
                     [](char e, char c) { return e == std::tolower(static_cast<unsigned char>(c)); }));
}

Result<ModelEntry> AssetCatalog::find_model(const std::string& name) const {
  std::string known;
  for (const ModelEntry& m : models_) {
    if (m.name == name) return m;
    known += (known.empty() ? "" : ", ") + m.name;
  }
  std::string message = "unknown model '" + name + "' (known: " + known + ")";
  if (names_a_model_file(name))
    message += ": this takes a models.json name; to use a model file here, give it an entry in "
               "models/models.json of an assets folder of your own (--assets)";
  return Error(message, ErrorCode::kNotFound);
}

Result<Dataset> AssetCatalog::load_dataset(const std::string& name) const {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return Error("invalid data set name '" + name + "'", ErrorCode::kInvalidArgument);
  const fs::path dir = fs::path(dir_) / "data" / name;
  if (!fs::is_directory(dir)) return Error("data set folder " + dir.string() + " not found", ErrorCode::kNotFound);
  Dataset dataset;
  dataset.name = name;
  try {
    auto loaded = fs::exists(dir / "labels.txt") ? load_listed_dataset(dir, std::move(dataset))
                                                : load_folder_dataset(dir, std::move(dataset));
    if (loaded.ok() && loaded->images.empty())
      return Error("data set " + name + " has no images", ErrorCode::kNotFound);
    return classified(std::move(loaded), ErrorCode::kInvalidArgument);
  } catch (const fs::filesystem_error& e) {
    return Error(e.what());
  }
}

Result<Dataset> load_unlabelled_images(const std::string& dir) {
  static const std::set<std::string> kImageExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".ppm",
                                                         ".pgm", ".webp", ".tif", ".tiff"};
  std::error_code error;
  if (!fs::is_directory(dir, error))
    return fs::exists(dir, error) ? Error("image folder " + dir + " is not a folder", ErrorCode::kInvalidArgument)
                                  : Error("image folder " + dir + " not found", ErrorCode::kNotFound);
  Dataset dataset;
  dataset.name = dir;
  try {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::string extension = entry.path().extension().string();
      std::transform(extension.begin(), extension.end(), extension.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (entry.is_regular_file() && kImageExtensions.contains(extension)) files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (std::string& file : files) dataset.images.push_back({std::move(file), LabelledImage::kUnlabelled});
  } catch (const fs::filesystem_error& e) {
    return Error(e.what());
  }
  if (dataset.images.empty()) return Error("image folder " + dir + " has no image files", ErrorCode::kNotFound);
  return dataset;
}

}  // namespace disc
