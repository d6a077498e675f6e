// The assets directory: models/models.json (models and their exact preprocessing) and
// data/ (labelled image sets). Nothing here is specific to one model.
#pragma once

#include <array>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc {

// x = (pixel * scale - mean[c]) / std[c], channels in `color` order, NCHW.
struct Preprocessing {
  enum class Color { kRgb, kBgr };
  // kDirect: resize the whole image to height x width.
  // kCenter: scale the shorter side to round(height / crop), then take the central height x width.
  enum class Resize { kDirect, kCenter };
  static constexpr int kMaxSide = 65536;  // largest height or width
  Color color = Color::kRgb;
  Resize resize = Resize::kDirect;
  float crop = 1.0f;
  float scale = 1.0f;
  std::array<float, 3> mean{0, 0, 0};
  std::array<float, 3> std{1, 1, 1};
  int height = 0;
  int width = 0;
};

// What preprocessing relies on: height and width in 1..kMaxSide, crop in (0, 1], scale
// finite and non-zero, mean finite, std finite and positive. The Error names the field and
// its value (kInvalidArgument, as for the other validations here).
Status validate(const Preprocessing& pre);

struct ModelEntry {
  std::string name;
  std::string path;         // absolute or relative to the working directory
  std::string dataset;      // name of a folder under data/
  std::string input_name;
  Shape input_shape;
  Preprocessing preprocessing;
  int classes = 0;          // the model's output size (e.g. 1001 with a background output)
  int label_offset = 0;     // output index i is dataset class i - label_offset
  double top1 = 0;          // as measured with OpenCV DNN 4.6 (models.json)
  double top5 = 0;          // 0 when models.json gives none
  // models.json's SHA-256 of the file, hex in either case; "" when it gives none. The server, and an
  // edge's split and server-only pipelines where it holds the file, hash the file to check they
  // hold the same model and refuse one that does not match this.
  std::string sha256;
};

// validate(preprocessing), classes >= 1 (the model's output size), and
// 0 <= label_offset < classes: at least one output index must be a data set class.
Status validate(const ModelEntry& entry);

struct LabelledImage {
  static constexpr int kUnlabelled = std::numeric_limits<int>::min();  // matches no output
  std::string path;
  int label = 0;
};

// Two layouts, recognized by the presence of labels.txt:
// - labels.txt ("FILE LABEL" per line; files under images/ if that folder exists), class
//   names from synset_words.txt if present ("WNID name, synonyms" per line). images are in
//   labels.txt order.
// - one folder per class, class index = alphabetical folder order, class names = folder
//   names. images are round-robin over the classes (the i-th file, by name, of each class
//   in turn), so every prefix is class-balanced.
struct Dataset {
  std::string name;
  std::vector<LabelledImage> images;
  std::vector<std::string> class_names;  // index = dataset class
};

// OK when the model's outputs, shifted by its label_offset, are the data set's classes:
// classes - label_offset == the data set's class count. Unknown counts (a model whose output
// shape inference could not size, a data set without class names) are not checked.
Status check_classes(const ModelEntry& entry, const Dataset& dataset);

// A folder of the user's own images, without labels (label kUnlabelled): its regular files
// with an image extension (.jpg .jpeg .png .bmp .ppm .pgm .webp .tif .tiff, any case), by
// name; subfolders and other files are ignored. kNotFound if the folder does not exist or has
// no such file.
Result<Dataset> load_unlabelled_images(const std::string& dir);

// Whether a model is given as a file rather than by its models.json name: the text has a
// '/' or ends in .onnx, in any case.
bool names_a_model_file(const std::string& model);
// 64 hex digits, either case: the form of a SHA-256 in models.json and in a ModelRef.
bool is_sha256_hex(std::string_view text);

class AssetCatalog {
 public:
  // read_file's errors for models/models.json; kInvalidArgument for an entry it refuses.
  static Result<AssetCatalog> load(const std::string& assets_dir);

  const std::string& dir() const { return dir_; }
  const std::vector<ModelEntry>& models() const { return models_; }
  // kNotFound for a name models.json does not list.
  Result<ModelEntry> find_model(const std::string& name) const;
  // kNotFound for a data set that is missing or has no images; kInvalidArgument for a name that
  // is not a folder name or a labels.txt it cannot read.
  Result<Dataset> load_dataset(const std::string& name) const;

 private:
  std::string dir_;
  std::vector<ModelEntry> models_;
};

}  // namespace disc
