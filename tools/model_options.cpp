#include "model_options.hpp"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <sstream>

#include "command.hpp"

namespace disc::cli {
namespace {

Result<std::array<float, 3>> parse_triple(const std::string& text, const char* what) {
  std::array<float, 3> values{};
  std::istringstream in(text);
  char comma = ',';
  for (size_t i = 0; i < 3; ++i)
    if ((i && !(in >> comma)) || comma != ',' || !(in >> values[i]))
      return Error(std::string("--") + what + " expects three comma-separated numbers, got '" + text + "'");
  if (std::string rest; in >> rest) return Error(std::string("--") + what + ": trailing text in '" + text + "'");
  return values;
}

Result<std::pair<int, int>> parse_size(const std::string& text) {
  int h = 0, w = 0;
  char x = 0;
  std::istringstream in(text);
  constexpr int kMax = Preprocessing::kMaxSide;
  if (!(in >> h >> x >> w) || (x != 'x' && x != 'X') || h < 1 || w < 1 || h > kMax || w > kMax)
    return Error("--size expects HxW, got '" + text + "'");
  return std::make_pair(h, w);
}

}  // namespace

void ModelOptions::add_to(CLI::App& app) {
  app_ = &app;
  app.add_option("MODEL", model_, "models.json name, or path to an .onnx file")->required();
  auto* group = app.add_option_group(
      "preprocessing",
      "for an .onnx path (override a named model's); a path's defaults: rgb, direct resize to the input shape, "
      "scale 1, mean 0, std 1, no labels offset");
  group->add_option("--size", size_,
                    "input HxW: fills a dynamic input height and width; a model of fixed size must match it "
                    "(default: the model's input shape)");
  group->add_option("--color", color_, "channel order fed to the model")->check(CLI::IsMember({"rgb", "bgr"}));
  group->add_option("--resize", resize_, "direct or center")->check(CLI::IsMember({"direct", "center"}));
  group->add_option("--crop", crop_, "center-crop fraction")->check(kFiniteNotNegative)->check(CLI::Range(0.01f, 1.0f));
  group->add_option("--scale", scale_, "pixel scale");
  group->add_option("--mean", mean_, "per-channel mean a,b,c");
  group->add_option("--std", std_, "per-channel std a,b,c");
  group->add_option("--labels-offset", labels_offset_, "output index i is class i - N")->check(kNotNegative);
  group->add_option("--dataset", dataset_, "data set folder under data/ (for an .onnx path)");
}

namespace {

// MODEL's models.json entry, or for an .onnx path an entry naming only the file.
Result<ModelEntry> catalog_entry(const std::string& model) {
  if (names_a_model_file(model)) {
    ModelEntry e;
    e.name = std::filesystem::path(model).stem().string();
    e.path = model;
    return e;
  }
  DISC_ASSIGN_OR_RETURN(AssetCatalog catalog, AssetCatalog::load(globals().assets_dir));
  auto entry = catalog.find_model(model);
  std::error_code not_a_file;
  if (!entry.ok() && std::filesystem::is_regular_file(model, not_a_file))
    return Error(entry.error().message() + "; for the file '" + model + "', write ./" + model);
  return entry;
}

}  // namespace

Result<OnnxModel> load_model_file(const std::string& model) {
  DISC_ASSIGN_OR_RETURN(const ModelEntry e, catalog_entry(model));
  return OnnxModel::load_file(e.path, e.input_shape);
}

Result<ModelEntry> ModelOptions::entry() const {
  DISC_ASSIGN_OR_RETURN(ModelEntry e, catalog_entry(model_));
  auto given = [&](const char* name) { return app_->count(name) > 0; };
  Preprocessing& pre = e.preprocessing;
  if (given("--size")) {
    DISC_ASSIGN_OR_RETURN(auto hw, parse_size(size_));
    pre.height = hw.first;
    pre.width = hw.second;
  }
  if (given("--color")) pre.color = color_ == "rgb" ? Preprocessing::Color::kRgb : Preprocessing::Color::kBgr;
  if (given("--resize"))
    pre.resize = resize_ == "direct" ? Preprocessing::Resize::kDirect : Preprocessing::Resize::kCenter;
  if (given("--crop")) {
    if (pre.resize != Preprocessing::Resize::kCenter)
      return Error("--crop applies to a center crop only (--resize center; the resize here is direct)");
    pre.crop = crop_;
  }
  if (given("--scale")) pre.scale = scale_;
  if (given("--mean")) {
    DISC_ASSIGN_OR_RETURN(pre.mean, parse_triple(mean_, "mean"));
  }
  if (given("--std")) {
    DISC_ASSIGN_OR_RETURN(pre.std, parse_triple(std_, "std"));
  }
  if (given("--labels-offset")) e.label_offset = labels_offset_;
  if (given("--dataset")) e.dataset = dataset_;
  return e;
}

Result<LoadedModel> ModelOptions::load() const {
  DISC_ASSIGN_OR_RETURN(ModelEntry e, entry());
  Preprocessing& pre = e.preprocessing;
  // The input shape fills an input's dynamic height and width, and a model of fixed size must
  // match it: --size, or a named model's models.json shape. A path without --size takes its size
  // from the model.
  const Shape sized = app_->count("--size") > 0 ? Shape{1, 3, pre.height, pre.width} : e.input_shape;
  DISC_ASSIGN_OR_RETURN(OnnxModel model, OnnxModel::load_file(e.path, sized));
  const Shape& input = model.input_shape();
  if (input.size() != 4 || input[1] != 3)
    return Error(e.path + ": model input '" + model.input_name() + "' is " + shape_to_string(input) +
                 ", expected 1x3xHxW (an image classifier)");
  pre.height = static_cast<int>(input[2]);
  pre.width = static_cast<int>(input[3]);
  e.input_name = model.input_name();
  e.input_shape = input;
  // The class count is the model's output size: models.json states it (and must agree), an
  // .onnx path has only its graph to tell. Shape inference cannot size every output (a Reshape
  // to a computed shape, as older PyTorch exports flatten): then models.json's count stands,
  // and an .onnx path's count stays unknown (0), so its --labels-offset goes unchecked.
  const Shape& output = model.output_shape();
  if (!output.empty()) {
    DISC_ASSIGN_OR_RETURN(size_t outputs, element_count(output, INT_MAX));
    if (names_a_model_file(model_)) e.classes = static_cast<int>(outputs);
    if (static_cast<size_t>(e.classes) != outputs)
      return Error("models.json gives " + e.name + " " + std::to_string(e.classes) + " classes, but " + e.path +
                   " outputs " + shape_to_string(output));
  }
  auto valid = e.classes > 0 ? validate(e) : validate(e.preprocessing);
  if (!valid.ok()) return valid.error().with_context(e.name);
  return LoadedModel{std::move(e), std::move(model)};
}

Result<LoadedModel> ModelOptions::load_classifier() const {
  DISC_ASSIGN_OR_RETURN(LoadedModel loaded, load());
  const Shape& output = loaded.model.output_shape();
  if (std::count_if(output.begin(), output.end(), [](int64_t d) { return d > 1; }) > 1)
    return Error(loaded.entry.name + ": output " + shape_to_string(output) +
                 " is not a vector of class scores (at most one dim above 1): this command needs a classifier");
  return loaded;
}

Result<Dataset> ModelOptions::dataset(const ModelEntry& entry) const {
  if (entry.dataset.empty()) return Error("model '" + entry.name + "' has no data set (pass --dataset)");
  DISC_ASSIGN_OR_RETURN(AssetCatalog catalog, AssetCatalog::load(globals().assets_dir));
  DISC_ASSIGN_OR_RETURN(Dataset dataset, catalog.load_dataset(entry.dataset));
  DISC_RETURN_IF_ERROR(check_classes(entry, dataset));
  return dataset;
}

Result<Inference> Inference::make(const OnnxModel& model, const std::string& cut) {
  Inference inference;
  if (cut.empty()) {
    DISC_ASSIGN_OR_RETURN(Network whole, Network::from_onnx(model.serialized()));
    inference.stages_.push_back(std::move(whole));
    return inference;
  }
  DISC_ASSIGN_OR_RETURN(SplitModel split, model.split(cut));
  DISC_ASSIGN_OR_RETURN(Network head, Network::from_onnx(split.head));
  DISC_ASSIGN_OR_RETURN(Network tail, Network::from_onnx(split.tail));
  inference.stages_.push_back(std::move(head));
  inference.stages_.push_back(std::move(tail));
  return inference;
}

Result<Tensor> Inference::run(const Tensor& input) {
  Tensor value = input;
  for (Network& stage : stages_) {
    DISC_ASSIGN_OR_RETURN(value, stage.run(value));
  }
  return value;
}

}  // namespace disc::cli
