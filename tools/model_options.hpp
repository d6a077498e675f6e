// The MODEL argument shared by the model subcommands: a models.json name, or a path to an
// .onnx file described by preprocessing options (which also override a named model's).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "disc/assets.hpp"
#include "disc/model.hpp"

namespace disc::cli {

struct LoadedModel {
  ModelEntry entry;
  OnnxModel model;
};

class ModelOptions {
 public:
  // Declares MODEL (positional) and the preprocessing options on `app`.
  void add_to(CLI::App& app);
  Result<LoadedModel> load() const;
  // load(), refusing a model whose output is not one vector of class scores (e.g. a split's
  // head, 1x256x14x14): classify, accuracy, eval and calibrate read it as logits.
  Result<LoadedModel> load_classifier() const;
  // The model's data set (--dataset for an .onnx file).
  Result<Dataset> dataset(const ModelEntry& entry) const;

 private:
  Result<ModelEntry> entry() const;
  std::string model_;
  std::string size_, color_, resize_, mean_, std_, dataset_;
  float crop_ = 1, scale_ = 1;
  int labels_offset_ = 0;
  CLI::App* app_ = nullptr;
};

// MODEL's ONNX file, loaded: the path itself, or the file models.json names, at the input shape
// its entry gives.
Result<OnnxModel> load_model_file(const std::string& model);

// A whole model, or the head and tail of one of its cuts run back to back.
class Inference {
 public:
  static Result<Inference> make(const OnnxModel& model, const std::string& cut);  // cut "" = whole
  Result<Tensor> run(const Tensor& input);

 private:
  std::vector<Network> stages_;
};

}  // namespace disc::cli
