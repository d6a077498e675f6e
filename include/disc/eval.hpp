// Rate–accuracy evaluation of codecs at cut points of a real model, and label-free
// calibration of codec settings.
//
// Accuracy is always measured against the uncompressed split model on the same images:
// the reference prediction of an image at a cut is tail(head(image)) with no codec.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "disc/assets.hpp"
#include "disc/codec.hpp"
#include "disc/loss_basis.hpp"
#include "disc/model.hpp"
#include "disc/plan.hpp"
#include "disc/status.hpp"

namespace disc {

// Expands a sweep description into concrete codec settings. Each item is a codec name
// (its default sweep grid, see doc/EVAL.md) or an explicit grid where `|` separates
// alternatives: "disc:bits=2|3|4,prune=0.1|0.2" yields the 6 combinations. A setting that
// several items yield (written differently or in overlapping grids) is kept once, first
// come first.
Result<std::vector<CodecSpec>> expand_sweep(const std::vector<std::string>& items);

struct EvalProgress {
  std::string stage;  // e.g. "features /MaxPool_output_0" or "jpeg:quality=50"
  size_t done = 0;
  size_t total = 0;
};

struct EvalOptions {
  std::vector<std::string> cuts;   // tensor names, each once; empty = every valid cut
  std::vector<CodecSpec> settings; // each once
  size_t first_image = 0;          // evaluate dataset images [first_image, first_image + images),
                                   // which must lie within the data set
  size_t images = 100;
  size_t chunks = 1;               // code each feature map as this many chunks (disc/chunks.hpp),
                                   // as `disc edge --chunks` sends it; bytes and times summed
  int threads = 1;                 // worker threads (1..kMaxEvalThreads), each with its own
                                   // networks (> 1 sets OpenCV to one thread per network, process-wide)
  // Called from the calling thread only; an exception from it ends the evaluation with an Error.
  std::function<void(const EvalProgress&)> progress;
};
inline constexpr int kMaxEvalThreads = 256;

// One (cut, codec setting) over all evaluated images.
struct EvalRow {
  std::string cut;
  size_t cut_position = 0;
  Shape shape;
  std::string codec;          // the setting, as a CodecSpec string
  std::string codec_name;
  double mean_bytes = 0;      // whole stream (header, side information, checksum)
  double ratio = 0;           // fp32 bytes / mean_bytes
  double bits_per_element = 0;
  double top1 = 0;            // accuracy of the compressed pipeline vs labels
  double top5 = 0;
  double top1_loss_pp = 0;    // reference top-1 minus compressed top-1, percentage points
  double top5_loss_pp = 0;
  double agreement = 0;       // fraction of images whose top-1 equals the reference top-1
  double mean_kl = 0;         // mean KL(reference softmax || compressed softmax), nats
  // Label-free estimate of top1_loss_pp: over images whose top-1 changed from r to c, the
  // mean of p_ref(r) - p_ref(c) (the reference softmax at estimate_temperature, taken as the
  // chance each class is right), in percentage points, and the standard error of the realized
  // loss on these images (each flip is +1 with probability p_ref(r), -1 with p_ref(c), else 0;
  // never below one image's, 100/N pp). A lossless codec's is 0 ± 0: its loss is known, not
  // estimated.
  // The temperature is fitted: the one at which this estimate and the mean drop in top-1
  // probability (max p_ref - max p_compressed) agree, held within 1/4..4 (doc/EVAL.md, "The
  // estimate"). Where the two agree at no temperature in 1/8..16, the sweep's (from_sweep): the
  // lower median of the temperatures fitted at the same cut. 1, the model's own softmax, when
  // over 15 % of the predictions changed, both curves are zero (nothing changed), or no
  // setting of the sweep was fitted.
  double estimated_loss_pp = 0;
  double estimated_loss_se_pp = 0;
  double estimate_temperature = 1;
  bool estimate_temperature_fitted = false;
  bool estimate_temperature_from_sweep = false;
  double encode_ms = 0;       // mean per image
  double decode_ms = 0;
};

struct EvalReport {
  std::string model;
  size_t images = 0;
  size_t first_image = 0;
  size_t chunks = 1;
  // Every image had a label. Without (a folder of the user's own images) the accuracy fields
  // (top1, top5, their losses, reference_top1/5) mean nothing: reports leave them out and
  // judge rows by the label-free estimate (loss_basis()).
  bool labelled = true;
  double reference_top1 = 0;  // uncompressed model on the same images
  double reference_top5 = 0;
  std::vector<EvalRow> rows;
  // Settings left out at a cut, with why: "<cut> <setting>: <reason>" (shape=1|2 where no single
  // convolution reads the cut).
  std::vector<std::string> skipped;

  LossBasis loss_basis() const { return labelled ? LossBasis::kLabels : LossBasis::kEstimate; }
};

// A row's top-1 loss on `basis`: top1_loss_pp, or estimated_loss_pp + estimated_loss_se_pp.
double judged_loss_pp(const EvalRow& row, LossBasis basis);

Result<EvalReport> evaluate(const ModelEntry& model, const Dataset& dataset, const EvalOptions& options);

// Per cut and codec: the rows no other row of the same cut and codec beats in both ratio
// and top-1 loss (judged on `basis`), sorted by ratio.
std::vector<EvalRow> pareto_front(const std::vector<EvalRow>& rows, LossBasis basis = LossBasis::kLabels);

// The highest-ratio row of each (cut, codec) whose loss judged on `basis` is <= budget_pp.
std::vector<EvalRow> best_within_budget(const std::vector<EvalRow>& rows, double budget_pp,
                                        LossBasis basis = LossBasis::kLabels);

// Writes rows.csv, report.json (the rate table `disc plan` reads), summary.md and plots
// (SVG through gnuplot when it is installed) into `dir`, judging rows on report.loss_basis().
Status write_eval_report(const EvalReport& report, const std::string& dir);

// The planner's inputs (disc/plan.hpp) without files: what parse_rate_table makes of the
// report.json that write_eval_report writes, and parse_profile of profile_to_json, with the
// same checks. For an edge device that evaluates or profiles and plans in one process.
Result<RateTable> to_rate_table(const EvalReport& report, LossBasis basis = LossBasis::kLabels);
Result<Profile> to_plan_profile(const ModelProfile& profile);

// Label-free choice of settings for one cut: the highest-ratio setting whose estimated
// top-1 loss on the calibration images, plus one standard error, is within the budget.
// Labels are never read.
bool within_calibration_budget(const EvalRow& row, double budget_pp);
struct Calibration {
  CodecSpec chosen;
  EvalRow calibration_row;   // measured on the calibration images (labels unused)
  std::vector<EvalRow> candidates;
};
// The smallest standard error a calibration on `images` images reports: one image's worth of
// loss, 100 / images pp (doc/EVAL.md, "The margin").
double standard_error_floor_pp(size_t images);
// Whether that floor alone is half of `budget_pp` or more: then only settings that change almost
// no prediction can pass, and more calibration images are what would let others through.
bool too_few_images_for_budget(size_t images, double budget_pp);
// `images`: how many calibration images the rows were measured on, for the advice when no
// setting is within the budget.
Result<Calibration> choose_calibrated(const std::vector<EvalRow>& calibration_rows, double budget_pp, size_t images);

// Writes the label-free columns of calibration rows as CSV (setting, ratio, bits per element,
// agreement, estimated loss, its standard error, the estimate's temperature, and whether the
// setting is within the budget); nothing that needs a label.
Status write_calibration_estimates(const std::vector<EvalRow>& calibration_rows, double budget_pp,
                                   const std::string& path);

}  // namespace disc
