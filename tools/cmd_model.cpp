// Model subcommands: models, cuts, split, features, classify, accuracy, profile, check-split.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "disc/model.hpp"
#include "disc/npy.hpp"
#include "model_options.hpp"
#include "progress.hpp"

namespace disc::cli {
namespace {

double zero_fraction(const Tensor& t) {
  const auto v = t.values();
  return static_cast<double>(std::count(v.begin(), v.end(), 0.0f)) / v.size();
}

// The class names of the model's data set, or none if it has no data set; an Error if the
// data set it names (models.json or --dataset) cannot be read.
Result<std::vector<std::string>> class_names(const ModelOptions& options, const ModelEntry& entry) {
  if (entry.dataset.empty()) return std::vector<std::string>{};
  DISC_ASSIGN_OR_RETURN(Dataset dataset, options.dataset(entry));
  return std::move(dataset.class_names);
}

// The first `count` images of the model's data set; an error if it has fewer.
Result<std::vector<std::string>> dataset_images(const ModelOptions& options, const ModelEntry& entry, size_t count) {
  DISC_ASSIGN_OR_RETURN(Dataset dataset, options.dataset(entry));
  if (count > dataset.images.size())
    return Error(fmt::format("{} images asked for: data set {} has only {}", count, dataset.name, dataset.images.size()));
  std::vector<std::string> paths;
  for (size_t i = 0; i < count; ++i) paths.push_back(dataset.images[i].path);
  return paths;
}

const CommandRegistration models_command{{
    "models", "list the models of models.json: name, data set, input shape, reference top-1",
    [](CLI::App&) -> std::function<int()> {
      return [] {
        auto catalog = AssetCatalog::load(globals().assets_dir);
        if (!catalog.ok()) return fail(catalog.error());
        for (const ModelEntry& m : catalog->models())
          std::cout << fmt::format("{:<24} {:<18} {:<12} {:.3f}\n", m.name, m.dataset, shape_to_string(m.input_shape),
                                   m.top1);
        return 0;
      };
    }}};

const CommandRegistration cuts_command{{
    "cuts", "list the tensors at which a model can be split",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ModelOptions model;
        std::string image;
        bool json = false;
      };
      auto o = std::make_shared<Opts>();
      o->model.add_to(app);
      app.add_option("--image", o->image, "also measure each cut's zero fraction on this image");
      app.add_flag("--json", o->json, "machine-readable output");
      return [o] {
        auto loaded = o->model.load();
        if (!loaded.ok()) return fail(loaded.error());
        const OnnxModel& model = loaded->model;
        std::vector<double> zeros;
        if (!o->image.empty()) {
          auto input = load_image(o->image, loaded->entry.preprocessing);
          if (!input.ok()) return fail(input.error());
          for (const CutPoint& cut : model.cuts()) {
            auto split = model.split(cut.tensor);
            if (!split.ok()) return fail(split.error());
            auto head = Network::from_onnx(split->head);
            if (!head.ok()) return fail(head.error().with_context("head at " + cut.tensor));
            auto features = head->run(*input);
            if (!features.ok()) return fail(features.error().with_context("head at " + cut.tensor));
            zeros.push_back(zero_fraction(*features));
          }
        }
        // Separators that shape inference could not size: said, so that a missing cut is explained.
        std::vector<std::string> unshaped;
        for (const UnshapedCut& u : model.unshaped_cuts())
          unshaped.push_back(fmt::format("{} ({} '{}')", u.tensor, u.op_type, u.node));
        const std::string unshaped_note =
            unshaped.empty() ? ""
                             : fmt::format("not cuts for want of a static shape (ONNX shape inference could not size "
                                           "them): {}\n",
                                           fmt::join(unshaped, ", "));
        if (o->json) {
          nlohmann::ordered_json cuts = nlohmann::ordered_json::array();
          for (size_t i = 0; i < model.cuts().size(); ++i) {
            const CutPoint& c = model.cuts()[i];
            nlohmann::ordered_json j = {{"position", c.position}, {"tensor", c.tensor},     {"node", c.node},
                                        {"op_type", c.op_type},   {"shape", c.shape},       {"elements", c.elements},
                                        {"fp32_bytes", c.fp32_bytes()}};
            if (!zeros.empty()) j["zero_fraction"] = zeros[i];
            cuts.push_back(j);
          }
          nlohmann::ordered_json without_shape = nlohmann::ordered_json::array();
          for (const UnshapedCut& u : model.unshaped_cuts())
            without_shape.push_back({{"tensor", u.tensor}, {"node", u.node}, {"op_type", u.op_type}});
          std::cout << nlohmann::ordered_json{{"model", loaded->entry.name}, {"cuts", cuts}, {"unshaped", without_shape}}
                           .dump(2)
                    << "\n";
          return 0;
        }
        if (model.cuts().empty()) {
          std::cout << (unshaped.empty() ? "no valid cut: no tensor alone separates the model's input from its "
                                           "outputs, so it cannot be split (doc/DESIGN.md, \"Cut validity\")\n"
                                         : "no valid cut; " + unshaped_note);
          return 0;
        }
        size_t width = 6;
        for (const CutPoint& c : model.cuts()) width = std::max(width, c.tensor.size());
        std::cout << fmt::format("{:>4}  {:<{}}  {:<18} {:<14} {:>9} {:>10}{}\n", "pos", "tensor", width, "op", "shape",
                                 "elements", "fp32 KiB", zeros.empty() ? "" : "  zeros");
        for (size_t i = 0; i < model.cuts().size(); ++i) {
          const CutPoint& c = model.cuts()[i];
          std::cout << fmt::format("{:>4}  {:<{}}  {:<18} {:<14} {:>9} {:>10.1f}{}\n", c.position, c.tensor, width,
                                   c.op_type, shape_to_string(c.shape), c.elements, c.fp32_bytes() / 1024.0,
                                   zeros.empty() ? "" : fmt::format("  {:.3f}", zeros[i]));
        }
        std::cout << unshaped_note;
        return 0;
      };
    }}};

const CommandRegistration split_command{{
    "split", "write the head and tail models of a cut",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ModelOptions model;
        std::string cut, head, tail;
      };
      auto o = std::make_shared<Opts>();
      o->model.add_to(app);
      app.add_option("--cut", o->cut, "cut tensor (see `disc cuts`)")->required()->check(kNotEmpty);
      app.add_option("--head", o->head, "output head .onnx")->required();
      app.add_option("--tail", o->tail, "output tail .onnx")->required();
      return [o] {
        if (auto s = check_not_same_file(o->head, o->tail, "--head and --tail"); !s.ok()) return fail(s);
        auto loaded = o->model.load();
        if (!loaded.ok()) return fail(loaded.error());
        if (auto s = check_not_same_file(loaded->entry.path, o->head, "MODEL and --head"); !s.ok()) return fail(s);
        if (auto s = check_not_same_file(loaded->entry.path, o->tail, "MODEL and --tail"); !s.ok()) return fail(s);
        auto split = loaded->model.split(o->cut);
        if (!split.ok()) return fail(split.error());
        // Both halves must load in OpenCV before they are handed out.
        for (const Bytes* half : {&split->head, &split->tail})
          if (auto net = Network::from_onnx(*half); !net.ok()) return fail(net.error());
        if (auto s = write_file(o->head, split->head); !s.ok()) return fail(s);
        if (auto s = write_file(o->tail, split->tail); !s.ok()) return fail(s);
        std::cout << fmt::format("cut {} ({}): head {} bytes -> {}, tail {} bytes -> {}\n", o->cut,
                                 shape_to_string(split->cut.shape), split->head.size(), o->head, split->tail.size(),
                                 o->tail);
        return 0;
      };
    }}};

const CommandRegistration features_command{{
    "features", "write the feature maps of images at a cut as .npy files",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ModelOptions model;
        std::string cut, out;
        std::vector<std::string> images;
        size_t dataset_images = 0;
      };
      auto o = std::make_shared<Opts>();
      o->model.add_to(app);
      app.add_option("IMAGES", o->images, "input images");
      app.add_option("--cut", o->cut, "cut tensor (see `disc cuts`)")->required()->check(kNotEmpty);
      app.add_option("--out", o->out, "output folder (files NNNN_<image name>.npy, in input order)")->required();
      app.add_option("--dataset-images", o->dataset_images, "also take the first N images of the model's data set")
          ->check(kNotNegative);
      return [o] {
        auto loaded = o->model.load();
        if (!loaded.ok()) return fail(loaded.error());
        std::vector<std::string> images = o->images;
        if (o->dataset_images > 0) {
          auto extra = dataset_images(o->model, loaded->entry, o->dataset_images);
          if (!extra.ok()) return fail(extra.error());
          images.insert(images.end(), extra->begin(), extra->end());
        }
        if (images.empty()) return fail(Error("no images given (IMAGES or --dataset-images N)"));
        auto split = loaded->model.split(o->cut);
        if (!split.ok()) return fail(split.error());
        auto head = Network::from_onnx(split->head);
        if (!head.ok()) return fail(head.error());
        std::error_code ec;
        std::filesystem::create_directories(o->out, ec);
        if (ec) return fail(Error("cannot create " + o->out + ": " + ec.message()));
        for (size_t i = 0; i < images.size(); ++i) {
          const std::string& image = images[i];
          auto input = load_image(image, loaded->entry.preprocessing);
          if (!input.ok()) return fail(input.error());
          auto features = head->run(*input);
          if (!features.ok()) return fail(features.error().with_context(image));
          // Numbered because different folders may hold files of the same name.
          const std::string file = fmt::format("{:04}_{}.npy", i, std::filesystem::path(image).stem().string());
          const std::string path = (std::filesystem::path(o->out) / file).string();
          if (auto s = write_npy(path, *features); !s.ok()) return fail(s);
          std::cout << fmt::format("{} -> {} ({})\n", image, path, shape_to_string(features->shape()));
        }
        return 0;
      };
    }}};

const CommandRegistration classify_command{{
    "classify", "top-5 classes of images (through head and tail with --cut)",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ModelOptions model;
        std::string cut;
        std::vector<std::string> images;
      };
      auto o = std::make_shared<Opts>();
      o->model.add_to(app);
      app.add_option("IMAGES", o->images, "input images")->required();
      app.add_option("--cut", o->cut, "run head and tail split at this tensor")->check(kNotEmpty);
      return [o] {
        auto loaded = o->model.load_classifier();
        if (!loaded.ok()) return fail(loaded.error());
        auto inference = Inference::make(loaded->model, o->cut);
        if (!inference.ok()) return fail(inference.error());
        auto names_or = class_names(o->model, loaded->entry);
        if (!names_or.ok()) return fail(names_or.error());
        const std::vector<std::string>& names = *names_or;
        for (const std::string& image : o->images) {
          auto input = load_image(image, loaded->entry.preprocessing);
          if (!input.ok()) return fail(input.error());
          auto logits = inference->run(*input);
          if (!logits.ok()) return fail(logits.error().with_context(image));
          std::cout << image << "\n";
          for (const Prediction& p : top_k(*logits, 5, loaded->entry.label_offset, names))
            std::cout << fmt::format("  {:6.2f}%  {:>4}  {}\n", 100 * p.probability, p.label, p.name);
        }
        return 0;
      };
    }}};

const CommandRegistration accuracy_command{{
    "accuracy", "top-1/top-5 on the model's data set, beside the models.json reference",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ModelOptions model;
        std::string cut;
        size_t limit = 0;
      };
      auto o = std::make_shared<Opts>();
      o->model.add_to(app);
      app.add_option("--limit", o->limit, "first N images only (0 = all)")->check(kNotNegative);
      app.add_option("--cut", o->cut, "run head and tail split at this tensor")->check(kNotEmpty);
      return [o] {
        auto loaded = o->model.load_classifier();
        if (!loaded.ok()) return fail(loaded.error());
        auto dataset = o->model.dataset(loaded->entry);
        if (!dataset.ok()) return fail(dataset.error());
        auto inference = Inference::make(loaded->model, o->cut);
        if (!inference.ok()) return fail(inference.error());
        if (o->limit > dataset->images.size())
          return fail(Error(fmt::format("--limit {}: data set {} has only {} images", o->limit, dataset->name,
                                        dataset->images.size())));
        const size_t n = o->limit ? o->limit : dataset->images.size();
        size_t top1 = 0, top5 = 0;
        Progress progress("accuracy", n);
        for (size_t i = 0; i < n; ++i) {
          const LabelledImage& item = dataset->images[i];
          auto input = load_image(item.path, loaded->entry.preprocessing);
          if (!input.ok()) return fail(input.error());
          auto logits = inference->run(*input);
          if (!logits.ok()) return fail(logits.error().with_context(item.path));
          const auto best = top_k(*logits, 5, loaded->entry.label_offset, {});
          top1 += !best.empty() && best[0].label == item.label;
          top5 += std::any_of(best.begin(), best.end(), [&](const Prediction& p) { return p.label == item.label; });
          progress.update(i + 1, fmt::format("top-1 {:.2f}%", 100.0 * top1 / (i + 1)));
        }
        progress.finish();
        const ModelEntry& e = loaded->entry;
        auto reference = [](double value) { return value > 0 ? fmt::format("{:.2f}%", 100 * value) : "-"; };
        std::cout << fmt::format(
            "{} on {} ({} images, {}): top-1 {:.2f}% (models.json {}), top-5 {:.2f}% (models.json {})\n", e.name,
            dataset->name, n, o->cut.empty() ? "whole model" : "split at " + o->cut, 100.0 * top1 / n,
            reference(e.top1), 100.0 * top5 / n, reference(e.top5));
        return 0;
      };
    }}};

const CommandRegistration profile_command{{
    "profile", "median head/tail latency at every cut, as JSON",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ModelOptions model;
        std::string out;
        ProfileOptions profile;
        size_t images = 1;
      };
      auto o = std::make_shared<Opts>();
      o->model.add_to(app);
      app.add_option("--out", o->out, "output JSON")->required();
      app.add_option("--repeats", o->profile.repeats, "timed runs per image")
          ->check(CLI::Range(1, 100000))
          ->capture_default_str();
      app.add_option("--threads", o->profile.threads, "OpenCV threads")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      app.add_option("--images", o->images, "first K images of the model's data set")
          ->check(CLI::Range(1, 100000))
          ->capture_default_str();
      return [o] {
        auto loaded = o->model.load();
        if (!loaded.ok()) return fail(loaded.error());
        if (auto s = check_not_same_file(loaded->entry.path, o->out, "MODEL and --out"); !s.ok()) return fail(s);
        auto images = dataset_images(o->model, loaded->entry, o->images);
        if (!images.ok()) return fail(images.error());
        Progress bar("profile (cuts)", loaded->model.cuts().size());
        ProfileOptions options = o->profile;  // the callback refers to this run's bar only
        options.progress = [&bar](size_t done, size_t) { bar.update(done, ""); };
        auto profile =
            profile_model(loaded->entry.name, loaded->model, *images, loaded->entry.preprocessing, options);
        bar.finish();
        if (!profile.ok()) return fail(profile.error());
        const std::string json = profile_to_json(*profile);
        if (auto s = write_file(o->out, {reinterpret_cast<const uint8_t*>(json.data()), json.size()}); !s.ok())
          return fail(s);
        std::cout << fmt::format("{}: whole model {:.3f} ms, {} cuts -> {}\n", profile->model, profile->full_ms,
                                 profile->cuts.size(), o->out);
        return 0;
      };
    }}};

// Largest |a - b| relative to the largest |a|.
double relative_difference(const Tensor& a, const Tensor& b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double{a.data()[i]} - b.data()[i]));
    scale = std::max(scale, std::abs(double{a.data()[i]}));
  }
  return scale > 0 ? diff / scale : diff;
}

const CommandRegistration check_split_command{{
    "check-split", "verify that head + tail reproduce the whole model at every cut",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ModelOptions model;
        size_t images = 2;
        double tolerance = 1e-5;
      };
      auto o = std::make_shared<Opts>();
      o->model.add_to(app);
      app.add_option("--images", o->images, "first N images of the model's data set")
          ->check(CLI::Range(1, 100000))
          ->capture_default_str();
      app.add_option("--tolerance", o->tolerance, "largest accepted relative difference")
          ->check(kFiniteNotNegative)
          ->capture_default_str();
      return [o] {
        auto loaded = o->model.load();
        if (!loaded.ok()) return fail(loaded.error());
        auto images = dataset_images(o->model, loaded->entry, o->images);
        if (!images.ok()) return fail(images.error());
        auto whole = Inference::make(loaded->model, "");
        if (!whole.ok()) return fail(whole.error());
        std::vector<Tensor> inputs, expected;
        for (const std::string& image : *images) {
          auto input = load_image(image, loaded->entry.preprocessing);
          if (!input.ok()) return fail(input.error());
          auto logits = whole->run(*input);
          if (!logits.ok()) return fail(logits.error());
          inputs.push_back(std::move(input).value());
          expected.push_back(std::move(logits).value());
        }
        double worst = 0;
        size_t failures = 0;
        for (const CutPoint& cut : loaded->model.cuts()) {
          auto split = Inference::make(loaded->model, cut.tensor);
          if (!split.ok()) return fail(split.error().with_context(cut.tensor));
          double cut_worst = 0;
          for (size_t i = 0; i < inputs.size(); ++i) {
            auto logits = split->run(inputs[i]);
            if (!logits.ok()) return fail(logits.error().with_context(cut.tensor));
            if (logits->shape() != expected[i].shape())
              return fail(Error(cut.tensor + ": split output shape differs from the whole model's"));
            cut_worst = std::max(cut_worst, relative_difference(expected[i], *logits));
          }
          worst = std::max(worst, cut_worst);
          if (cut_worst > o->tolerance) {
            ++failures;
            std::cout << fmt::format("MISMATCH at {}: relative difference {:.3g}\n", cut.tensor, cut_worst);
          }
        }
        std::cout << fmt::format("{}: {} cuts x {} images, largest relative difference {:.3g} ({})\n",
                                 loaded->entry.name, loaded->model.cuts().size(), inputs.size(), worst,
                                 failures ? "FAIL" : "ok");
        return failures ? 1 : 0;
      };
    }}};

}  // namespace
}  // namespace disc::cli
