// Evaluation subcommands: eval (rate–accuracy sweep) and calibrate (label-free settings).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <system_error>

#include "command.hpp"
#include "model_options.hpp"
#include "progress.hpp"
#include "disc/eval.hpp"
#include "disc/npy.hpp"

namespace disc::cli {
namespace {

// Non-empty items of `text` between `sep`s.
std::vector<std::string> split_list(const std::string& text, char sep) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find(sep, start);
    const std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) items.push_back(item);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return items;
}

// Commas separate codec names, but inside an explicit grid ("disc:bits=2|3,prune=0.1") they
// separate parameters, so a list with a grid or a ';' in it is split at ';'.
Result<std::vector<CodecSpec>> parse_codecs(const std::string& text) {
  const char sep = text.find_first_of(":;") != std::string::npos ? ';' : ',';
  return expand_sweep(split_list(text, sep));
}

// --images: "100" (digits only) is a count of the data set's images, anything else names a folder
// of the user's own (nullopt). A count too large to hold, or a value that reads as another
// number ("-5", "1e3") and names no folder, is an error rather than a folder not found.
Result<std::optional<size_t>> image_count(const std::string& text) {
  const char* end = text.data() + text.size();
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    size_t count = 0;
    if (std::from_chars(text.data(), end, count).ec != std::errc())
      return Error("--images " + text + ": more images than a count can hold");
    return std::optional<size_t>(count);
  }
  double number = 0;
  const char* start = text.data() + (text.starts_with('+') ? 1 : 0);
  const auto parsed = std::from_chars(start, end, number);
  const bool reads_as_number = !text.empty() && parsed.ec != std::errc::invalid_argument && parsed.ptr == end;
  std::error_code ec;
  if (reads_as_number && !std::filesystem::exists(text, ec))
    return Error("--images " + text + ": neither a count of images (digits only) nor a folder");
  return std::optional<size_t>();
}

// One progress bar per evaluation stage.
std::function<void(const EvalProgress&)> progress_printer() {
  auto bar = std::make_shared<std::unique_ptr<Progress>>();
  auto stage = std::make_shared<std::string>();
  return [bar, stage](const EvalProgress& p) {
    if (!*bar || p.stage != *stage) {
      if (*bar) (*bar)->finish();
      *stage = p.stage;
      *bar = std::make_unique<Progress>(p.stage, p.total);
    }
    (*bar)->update(p.done, "");
    if (p.done == p.total) {
      (*bar)->finish();
      bar->reset();
    }
  };
}

struct ModelAndData {
  ModelEntry model;
  Dataset dataset;
};

// The images of `folder`, or without one the model's data set.
Result<ModelAndData> load_model_and_data(const ModelOptions& options, const std::string& folder) {
  DISC_ASSIGN_OR_RETURN(LoadedModel loaded, options.load_classifier());
  DISC_ASSIGN_OR_RETURN(Dataset dataset, folder.empty() ? options.dataset(loaded.entry) : load_unlabelled_images(folder));
  return ModelAndData{std::move(loaded.entry), std::move(dataset)};
}

const CommandRegistration eval_command{{
    "eval", "rate–accuracy sweep of codecs at cuts of a model, against the uncompressed model",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ModelOptions model;
        std::string cuts = "all", codecs = "disc,jpeg,q8zstd,fp16,zfp", out, images = "100";
        size_t first = 0, chunks = 1;
        int threads = 2;
      };
      auto o = std::make_shared<Opts>();
      o->model.add_to(app);
      app.add_option("--cuts", o->cuts, "'all' or comma-separated cut tensor names")->capture_default_str();
      app.add_option("--codecs", o->codecs,
                     "codec names (default grids) separated by ',', or explicit grids separated by ';' "
                     "such as 'disc:bits=2|3|4,prune=0.1|0.2;jpeg:quality=50'")
          ->capture_default_str();
      app.add_option("--images", o->images,
                     "N, a number of the model's data set images, or DIR, every image file in a folder of your own "
                     "(no labels: losses are then label-free estimates plus one standard error)")
          ->check(kNotEmpty)
          ->capture_default_str();
      const CLI::Option* first_image = app.add_option("--first-image", o->first, "index of the first dataset image")
                                           ->check(kNotNegative)
                                           ->capture_default_str();
      app.add_option("--chunks", o->chunks, "code each feature map as N chunks, as `disc edge --chunks N` sends it")
          ->check(CLI::Range(1, 1024))
          ->capture_default_str();
      app.add_option("--threads", o->threads, "worker threads")->check(CLI::Range(1, kMaxEvalThreads))->capture_default_str();
      app.add_option("--out", o->out, "output directory")->required();
      return [o, first_image] {
        auto requested = image_count(o->images);
        if (!requested.ok()) return fail(requested.error());
        const bool own_folder = !requested->has_value();
        if (own_folder && first_image->count() > 0)
          return fail(Error("--first-image counts data set images; not with a folder"));
        auto data = load_model_and_data(o->model, own_folder ? o->images : std::string());
        if (!data.ok()) return fail(data.error());
        EvalOptions options;
        if (o->cuts != "all") {
          options.cuts = split_list(o->cuts, ',');
          if (options.cuts.empty()) return fail(Error("--cuts names no cut (give 'all' or tensor names)"));
        }
        auto sweep = parse_codecs(o->codecs);
        if (!sweep.ok()) return fail(sweep.error());
        options.settings = std::move(sweep).value();
        options.images = own_folder ? data->dataset.images.size() : **requested;
        options.first_image = o->first;
        options.chunks = o->chunks;
        options.threads = o->threads;
        options.progress = progress_printer();
        auto report = evaluate(data->model, data->dataset, options);
        if (!report.ok()) return fail(report.error());
        if (auto s = write_eval_report(*report, o->out); !s.ok()) return fail(s);
        std::cout << fmt::format("{} rows over {} images written to {}\n\n", report->rows.size(), report->images,
                                 o->out);
        auto summary = read_file((std::filesystem::path(o->out) / "summary.md").string());
        if (summary.ok()) std::cout.write(reinterpret_cast<const char*>(summary->data()), summary->size());
        return 0;
      };
    }}};

const CommandRegistration calibrate_command{{
    "calibrate", "choose codec settings for a cut from unlabelled images (agreement with the uncompressed model)",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        ModelOptions model;
        std::string cut, codecs = "disc", images = "100", estimates;
        size_t verify = 0;
        double budget = 1.0;
        int threads = 2;
      };
      auto o = std::make_shared<Opts>();
      o->model.add_to(app);
      app.add_option("--cut", o->cut, "cut tensor name")->required()->check(kNotEmpty);
      app.add_option("--images", o->images,
                     "calibration images (labels unused): N, the last N images of the model's data set, or DIR, "
                     "every image file in a folder of your own")
          ->check(kNotEmpty)
          ->capture_default_str();
      app.add_option("--budget", o->budget, "allowed top-1 loss in percentage points")
          ->check(kBudget)
          ->capture_default_str();
      app.add_option("--codecs", o->codecs, "sweep to choose from (as for `disc eval --codecs`)")
          ->capture_default_str();
      app.add_option("--verify", o->verify,
                     "then measure the chosen setting's top-1 loss on the first N labelled images of the data set "
                     "(disjoint from a count of calibration images; keep a folder of your own disjoint too)")
          ->check(kNotNegative)
          ->capture_default_str();
      app.add_option("--estimates", o->estimates,
                     "write every setting's label-free estimate on the calibration images to this CSV file");
      app.add_option("--threads", o->threads, "worker threads")->check(CLI::Range(1, kMaxEvalThreads))->capture_default_str();
      return [o] {
        auto loaded = o->model.load_classifier();
        if (!loaded.ok()) return fail(loaded.error());
        const ModelEntry& model = loaded->entry;
        auto requested = image_count(o->images);
        if (!requested.ok()) return fail(requested.error());
        const bool own_folder = !requested->has_value();
        // The model's labelled data set serves a count of calibration images and the
        // verification; a folder of the user's own images without --verify needs none.
        Dataset labelled;
        if (!own_folder || o->verify > 0) {
          auto dataset = o->model.dataset(model);
          if (!dataset.ok())
            return fail(own_folder ? dataset.error().with_context("--verify needs the model's labelled data set")
                                   : dataset.error());
          labelled = std::move(dataset).value();
        }
        const size_t total = labelled.images.size();
        Dataset calibration_images;
        EvalOptions options;
        if (own_folder) {
          auto folder = load_unlabelled_images(o->images);
          if (!folder.ok()) return fail(folder.error());
          calibration_images = std::move(folder).value();
          options.first_image = 0;
          options.images = calibration_images.images.size();
          if (o->verify > total)
            return fail(Error(fmt::format("{} verification images exceed the {} images of {}", o->verify, total,
                                          labelled.name)));
        } else {
          const size_t count = **requested;
          if (count == 0) return fail(Error("--images 0: calibration needs at least one image"));
          if (count > total || o->verify > total - count)
            return fail(Error(fmt::format("{} calibration + {} verification images exceed the {} images of {}",
                                          count, o->verify, total, labelled.name)));
          calibration_images = labelled;
          options.first_image = total - count;
          options.images = count;
        }
        // The margin is never below one image's worth of loss (doc/EVAL.md "The margin"), so
        // fewer images than 100 / budget cannot accept any setting.
        if (o->budget <= 0) return fail(Error("--budget 0 accepts no setting: the margin is never below one image"));
        if (o->budget < 0.01)  // 10 000 images would be needed; no data set here has more
          return fail(Error("--budget below 0.01 pp: it would take over 10000 calibration images to show"));
        if (!o->estimates.empty()) {  // said now rather than after the whole calibration
          if (auto s = check_not_same_file(model.path, o->estimates, "MODEL and --estimates"); !s.ok()) return fail(s);
          const std::filesystem::path folder = std::filesystem::path(o->estimates).parent_path();
          const std::string dir = folder.empty() ? "." : folder.string();
          if (access(dir.c_str(), W_OK) != 0)
            return fail(Error("cannot write --estimates '" + o->estimates + "': folder '" + dir + "': " +
                              std::generic_category().message(errno)));
        }
        if (standard_error_floor_pp(options.images) > o->budget)
          return fail(Error(fmt::format(
              "{} calibration images cannot show a loss within {:.2f} pp: one image is {:.2f} pp, and the margin "
              "is never less; use at least {} images (several hundred where you can)",
              options.images, o->budget, standard_error_floor_pp(options.images),
              static_cast<size_t>(std::ceil(100.0 / o->budget)))));
        options.cuts = {o->cut};
        auto sweep = parse_codecs(o->codecs);
        if (!sweep.ok()) return fail(sweep.error());
        options.settings = std::move(sweep).value();
        options.threads = o->threads;
        options.progress = progress_printer();
        auto calibration_report = evaluate(model, calibration_images, options);
        if (!calibration_report.ok()) return fail(calibration_report.error());
        if (!o->estimates.empty())
          if (auto s = write_calibration_estimates(calibration_report->rows, o->budget, o->estimates); !s.ok())
            return fail(s);
        auto choice = choose_calibrated(calibration_report->rows, o->budget, calibration_report->images);
        if (!choice.ok()) return fail(choice.error());
        const EvalRow& c = choice->calibration_row;
        std::cout << fmt::format(
            "chosen     {}\nexpected   {:.1f}x ({:.3f} bits/element, {:.0f} bytes per image)\n"
            "calibrated on {} (labels unused): estimated top-1 loss {:.2f} ± {:.2f} pp, agreement "
            "{:.4f} with the uncompressed model ({} of {} settings met the {:.2f} pp budget)\n"
            "softmax temperature of the estimate: {}\n",
            choice->chosen.to_string(), c.ratio, c.bits_per_element, c.mean_bytes,
            own_folder ? fmt::format("the {} images of {}", options.images, o->images)
                       : fmt::format("images {}..{}", options.first_image, total - 1),
            c.estimated_loss_pp, c.estimated_loss_se_pp, c.agreement, choice->candidates.size(),
            calibration_report->rows.size(), o->budget,
            c.estimate_temperature_fitted
                ? fmt::format("{:.2f} (fitted: where flips and the drop in confidence agree, held within 1/4..4)",
                              c.estimate_temperature)
            : c.estimate_temperature_from_sweep
                ? fmt::format("{:.2f} (the sweep's: flips and the drop in confidence agree at no temperature for "
                              "this setting, so the lower median of the temperatures fitted for the others)",
                              c.estimate_temperature)
                : "1 (the model's own: over 15 % of predictions changed, nothing changed, or flips and the drop in "
                  "confidence agree at no temperature in 1/8..16 for this setting or any other)");
        if (too_few_images_for_budget(calibration_report->images, o->budget))
          std::cout << fmt::format(
              "margin     at least {:.2f} pp with {} images (one image), half the budget or more: calibrate on "
              "several hundred images to let through settings that change a few predictions\n",
              standard_error_floor_pp(calibration_report->images), calibration_report->images);
        if (o->verify == 0) return 0;
        options.settings = {choice->chosen};
        options.first_image = 0;
        options.images = o->verify;
        auto verification = evaluate(model, labelled, options);
        if (!verification.ok()) return fail(verification.error());
        const EvalRow& v = verification->rows.front();
        std::cout << fmt::format(
            "verified on labelled images 0..{}: ratio {:.1f}x, top-1 loss {:.2f} pp (budget {:.2f}: {}), "
            "agreement {:.4f}\n",
            o->verify - 1, v.ratio, v.top1_loss_pp, o->budget, v.top1_loss_pp <= o->budget ? "met" : "NOT met",
            v.agreement);
        return 0;
      };
    }}};

}  // namespace
}  // namespace disc::cli
