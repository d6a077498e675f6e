// A small, real evaluation: resnet20_cifar10, two cuts, 50 images.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <nlohmann/json.hpp>

#include "disc/chunks.hpp"
#include "disc/eval.hpp"
#include "disc/model.hpp"

namespace disc {
namespace {

std::string assets_dir() {
  const char* env = std::getenv("DISC_ASSETS");
  return env ? env : DISC_TEST_ASSETS_DIR;
}

class EvalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto catalog = AssetCatalog::load(assets_dir());
    ASSERT_TRUE(catalog.ok()) << catalog.error().message();
    auto model = catalog->find_model("resnet20_cifar10");
    ASSERT_TRUE(model.ok()) << model.error().message();
    model_ = new ModelEntry(*model);
    auto dataset = catalog->load_dataset(model->dataset);
    ASSERT_TRUE(dataset.ok()) << dataset.error().message();
    dataset_ = new Dataset(*dataset);
    auto onnx = OnnxModel::load_file(model->path);
    ASSERT_TRUE(onnx.ok()) << onnx.error().message();
    ASSERT_GE(onnx->cuts().size(), 3u);
    // An early and a middle cut, taken from the graph rather than named.
    cuts_ = new std::vector<std::string>{onnx->cuts()[1].tensor, onnx->cuts()[onnx->cuts().size() / 2].tensor};
  }
  static void TearDownTestSuite() {
    delete model_;
    delete dataset_;
    delete cuts_;
  }

  EvalOptions options(std::vector<std::string> sweep, size_t first, size_t images) const {
    EvalOptions o;
    o.cuts = *cuts_;
    o.settings = expand_sweep(sweep).value();
    o.first_image = first;
    o.images = images;
    o.threads = 2;
    return o;
  }

  static ModelEntry* model_;
  static Dataset* dataset_;
  static std::vector<std::string>* cuts_;
};
ModelEntry* EvalTest::model_ = nullptr;
Dataset* EvalTest::dataset_ = nullptr;
std::vector<std::string>* EvalTest::cuts_ = nullptr;

TEST_F(EvalTest, LosslessCodecsLoseNothingAndRatiosComeFromRealStreams) {
  auto report = evaluate(*model_, *dataset_, options({"raw", "zstd", "disc:bits=0", "jpeg:quality=5"}, 0, 50));
  ASSERT_TRUE(report.ok()) << report.error().message();
  ASSERT_EQ(report->rows.size(), 8u);
  EXPECT_EQ(report->images, 50u);
  EXPECT_GT(report->reference_top1, 0.5);  // resnet20 is ~80% on this set; a broken pipeline is near 10%
  for (const EvalRow& r : report->rows) {
    const double fp32 = 4.0 * element_count(r.shape).value();
    EXPECT_NEAR(r.ratio, fp32 / r.mean_bytes, 1e-9);
    if (r.codec_name == "jpeg") {
      EXPECT_GT(r.ratio, 4.0) << r.cut;  // quality 5 must compress hard...
      EXPECT_GE(r.estimated_loss_se_pp, 100.0 / 50 - 1e-12) << r.cut;  // a lossy setting: at least one image's spread
      continue;
    }
    EXPECT_EQ(r.top1_loss_pp, 0.0) << r.codec << " at " << r.cut;
    EXPECT_EQ(r.top5_loss_pp, 0.0) << r.codec << " at " << r.cut;
    EXPECT_EQ(r.agreement, 1.0) << r.codec << " at " << r.cut;
    EXPECT_NEAR(r.mean_kl, 0.0, 1e-12);
    // Known, not estimated: no standard error, so that planning on the estimate keeps lossless
    // offloading within any budget.
    EXPECT_EQ(r.estimated_loss_pp, 0.0);
    EXPECT_EQ(r.estimated_loss_se_pp, 0.0);
  }
  // raw streams: exactly the fp32 bytes plus the container's fixed overhead.
  const EvalRow& raw = report->rows[0];
  ASSERT_EQ(raw.codec_name, "raw");
  Tensor zeros(raw.shape);
  EXPECT_EQ(raw.mean_bytes, static_cast<double>(compress(zeros, *make_codec("raw").value()).value().size()));
  // ...and a hard JPEG setting changes some predictions (the evaluation sees the codec's damage).
  bool any_jpeg_damage = false;
  for (const EvalRow& r : report->rows) any_jpeg_damage |= r.codec_name == "jpeg" && r.mean_kl > 0;
  EXPECT_TRUE(any_jpeg_damage);
}

TEST_F(EvalTest, ChunkedMapsCountEveryChunksStream) {
  EvalOptions o = options({"raw", "disc:bits=0"}, 0, 10);
  o.chunks = 4;
  auto report = evaluate(*model_, *dataset_, o);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->chunks, 4u);
  for (const EvalRow& r : report->rows) {
    EXPECT_EQ(r.top1_loss_pp, 0.0) << r.codec << " at " << r.cut;
    EXPECT_EQ(r.agreement, 1.0) << r.codec << " at " << r.cut;
  }
  // Four raw streams: the fp32 bytes plus four containers, each with its own header and CRC.
  const EvalRow& raw = report->rows[0];
  ASSERT_EQ(raw.codec_name, "raw");
  size_t expected = 0;
  for (const Slab& slab : split_slabs(raw.shape, 4)) {
    Shape slab_shape = raw.shape;
    slab_shape[chunk_axis(raw.shape)] = static_cast<int64_t>(slab.length);
    expected += compress(Tensor(slab_shape), *make_codec("raw").value()).value().size();
  }
  EXPECT_EQ(raw.mean_bytes, static_cast<double>(expected));
  o.chunks = 0;
  EXPECT_FALSE(evaluate(*model_, *dataset_, o).ok());
}

TEST_F(EvalTest, CalibrationMeetsTheBudgetOnItsOwnImages) {
  // 200 images, so that one image (0.5 pp) is a quarter of the budget.
  const double budget = 2.0;
  const std::vector<std::string> sweep = {"jpeg:quality=2|5|10|20|40|60|80|95"};
  auto report = evaluate(*model_, *dataset_, options(sweep, dataset_->images.size() - 200, 200));
  ASSERT_TRUE(report.ok()) << report.error().message();
  // On these images JPEG quality 60, 80 and 95 change confidences, yet their flips and drops
  // agree at no temperature at one cut or the other.
  EXPECT_GE(std::count_if(report->rows.begin(), report->rows.end(),
                          [](const EvalRow& r) { return r.estimate_temperature_from_sweep; }),
            2);
  for (const std::string& cut : *cuts_) {
    std::vector<EvalRow> one_cut;
    for (const EvalRow& r : report->rows)
      if (r.cut == cut) one_cut.push_back(r);
    auto choice = choose_calibrated(one_cut, budget, report->images);
    ASSERT_TRUE(choice.ok()) << choice.error().message();
    const EvalRow& chosen = choice->calibration_row;
    EXPECT_LE(chosen.estimated_loss_pp + chosen.estimated_loss_se_pp, budget) << cut;
    EXPECT_LE(chosen.top1_loss_pp, budget) << cut;  // measured with the labels calibration never read
    EXPECT_GT(chosen.ratio, 4.0) << cut;
    for (const EvalRow& r : one_cut)  // nothing with a higher ratio also met the budget
      if (r.ratio > chosen.ratio) {
        EXPECT_GT(r.estimated_loss_pp + r.estimated_loss_se_pp, budget) << r.codec;
      }
    EXPECT_FALSE(choose_calibrated(one_cut, -1.0, report->images).ok());
    // A setting without a temperature of its own reads the lower median of the cut's fitted
    // ones; any other is at T = 1.
    std::vector<double> fitted_temperatures;
    for (const EvalRow& r : one_cut)
      if (r.estimate_temperature_fitted) fitted_temperatures.push_back(r.estimate_temperature);
    std::sort(fitted_temperatures.begin(), fitted_temperatures.end());
    for (const EvalRow& r : one_cut) {
      EXPECT_FALSE(r.estimate_temperature_fitted && r.estimate_temperature_from_sweep) << r.codec;
      if (r.estimate_temperature_from_sweep) {
        ASSERT_FALSE(fitted_temperatures.empty()) << r.codec;
        EXPECT_NEAR(r.estimate_temperature, fitted_temperatures[(fitted_temperatures.size() - 1) / 2], 1e-9) << r.codec;
      } else if (!r.estimate_temperature_fitted) {
        EXPECT_EQ(r.estimate_temperature, 1.0) << r.codec;
      }
    }
    // On these 200 JPEG'd images resnet20 is far more confident (0.93 on average) than
    // accurate (0.82): at the middle cut, where a setting's flips and confidence drop agree,
    // they agree on a softer softmax.
    if (cut == cuts_->back()) {
      size_t fitted = 0;
      for (const EvalRow& r : one_cut) {
        if (!r.estimate_temperature_fitted) continue;
        ++fitted;
        EXPECT_GT(r.estimate_temperature, 1.5) << r.codec;
      }
      EXPECT_GE(fitted, one_cut.size() / 2);
    }
  }
}

// A row of cut "c" with what selection reads besides the losses.
EvalRow selection_row(const std::string& codec_name, const std::string& codec, double ratio) {
  EvalRow r;
  r.cut = std::string("c");  // not operator=(const char*): GCC 12 warns falsely there (-Wrestrict)
  r.codec_name = codec_name;
  r.codec = codec;
  r.ratio = ratio;
  return r;
}

TEST(EvalSelection, ParetoFrontAndBudget) {
  auto row = [](const char* codec, double ratio, double loss) {
    EvalRow r = selection_row(codec, codec, ratio);
    r.top1_loss_pp = loss;
    return r;
  };
  const std::vector<EvalRow> rows = {row("a", 10, 0.0), row("a", 20, 0.5), row("a", 15, 0.7),
                                     row("a", 40, 3.0), row("b", 30, 0.9)};
  const auto front = pareto_front(rows);
  ASSERT_EQ(front.size(), 4u);  // a@15 is dominated by a@20
  for (const EvalRow& r : front) EXPECT_NE(r.ratio, 15);
  const auto best = best_within_budget(rows, 1.0);
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0].ratio, 20);
  EXPECT_EQ(best[1].ratio, 30);
}

// With few calibration images one image's worth of loss, the floor of the standard error, takes
// most of the budget; a calibration that accepts nothing says so, and that more images help.
TEST(EvalSelection, CalibrationSaysWhenTooFewImagesLeaveNoRoom) {
  EXPECT_DOUBLE_EQ(standard_error_floor_pp(100), 1.0);
  EXPECT_TRUE(too_few_images_for_budget(100, 1.0));
  EXPECT_TRUE(too_few_images_for_budget(200, 1.0));
  EXPECT_FALSE(too_few_images_for_budget(400, 1.0));
  EXPECT_FALSE(too_few_images_for_budget(100, 3.0));
  auto row = [](const char* codec, double ratio, double estimate, double standard_error) {
    EvalRow r = selection_row("disc", codec, ratio);
    r.estimated_loss_pp = estimate;
    r.estimated_loss_se_pp = standard_error;
    return r;
  };
  const std::vector<EvalRow> few = {row("disc:bits=4", 20, 0.3, 1.0), row("disc:bits=2", 40, 1.5, 1.2)};
  auto none = choose_calibrated(few, 1.0, 100);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("on the 100 calibration images; with 100 images the standard error alone "
                                        "is at least 1.00 pp (one image)"),
            std::string::npos)
      << none.error().message();
  EXPECT_NE(none.error().message().find("calibrate on more images"), std::string::npos);
  const std::vector<EvalRow> many = {row("disc:bits=4", 20, 0.6, 0.5), row("disc:bits=2", 40, 1.5, 0.7)};
  none = choose_calibrated(many, 1.0, 800);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message().find("standard error alone"), std::string::npos) << none.error().message();
  EXPECT_NE(none.error().message().find("widen the sweep toward milder settings, calibrate on more images"),
            std::string::npos)
      << none.error().message();
  auto chosen = choose_calibrated(many, 1.2, 800);
  ASSERT_TRUE(chosen.ok()) << chosen.error().message();
  EXPECT_EQ(chosen->calibration_row.ratio, 20);
}

TEST(EvalSweep, ExpandsGridsAndRejectsBadOnes) {
  auto specs = expand_sweep({"jpeg:quality=10|20,", "raw"});
  EXPECT_FALSE(specs.ok());  // empty item
  specs = expand_sweep({"zstd:level=1|2|3", "raw"});
  ASSERT_TRUE(specs.ok()) << specs.error().message();
  ASSERT_EQ(specs->size(), 4u);
  EXPECT_EQ((*specs)[1].to_string(), "zstd:level=2");
  EXPECT_FALSE(expand_sweep({"zstd:level=1|99"}).ok());
  EXPECT_FALSE(expand_sweep({"nosuchcodec"}).ok());
  EXPECT_FALSE(expand_sweep({"zstd:level"}).ok());
  // A setting the encoder would refuse is refused here, before any image is read.
  specs = expand_sweep({"disc:bits=2|3,hf=1|2"});
  ASSERT_FALSE(specs.ok());
  EXPECT_NE(specs.error().message().find("disc:bits=2,hf=2: codec 'disc': hf applies to transform=1 only"),
            std::string::npos)
      << specs.error().message();
}

// A report holds each (cut, setting) once, which `disc plan` requires of a rate table.
TEST(EvalSweep, KeepsASettingOnceHoweverItIsWritten) {
  auto specs = expand_sweep({"disc:bits=2|2", "disc:bits=3", "disc:clip=6,bits=3", "zstd", "zstd:level=3"});
  ASSERT_TRUE(specs.ok()) << specs.error().message();
  std::vector<std::string> texts;
  for (const CodecSpec& spec : *specs) texts.push_back(spec.to_string());
  ASSERT_EQ(texts.size(), 3u) << ::testing::PrintToString(texts);
  EXPECT_EQ(texts[0].rfind("disc:bits=2,", 0), 0u) << texts[0];
  EXPECT_EQ(texts[1].rfind("disc:bits=3,", 0), 0u) << texts[1];
  EXPECT_EQ(texts[2].rfind("zstd:", 0), 0u) << texts[2];
}

TEST_F(EvalTest, RefusesRepeatedCutsAndSettingsAndImagesPastTheEnd) {
  EvalOptions o = options({"raw"}, 0, 2);
  o.cuts = {(*cuts_)[0], (*cuts_)[0]};
  auto report = evaluate(*model_, *dataset_, o);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().message(), "cut '" + (*cuts_)[0] + "' is listed more than once");

  o = options({"raw"}, 0, 2);
  o.settings.push_back(o.settings.front());
  report = evaluate(*model_, *dataset_, o);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().message(), "codec setting raw is listed more than once");
  // Two spellings of one setting: a parameter at its default, given and left out.
  o.settings = {CodecSpec::parse("disc:bits=3").value(), CodecSpec::parse("disc:bits=3,clip=6").value()};
  report = evaluate(*model_, *dataset_, o);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().message(), "codec setting disc:bits=3,clip=6 is listed more than once");

  const size_t available = dataset_->images.size();
  report = evaluate(*model_, *dataset_, options({"raw"}, available - 1, 2));
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message().find("run past data set"), std::string::npos) << report.error().message();
  report = evaluate(*model_, *dataset_, options({"raw"}, available - 1, 1));
  EXPECT_TRUE(report.ok()) << report.error().message();
}

// Thread counts and the progress callback are a library user's to get wrong: an Error, not a
// process ended by an exception escaping a worker thread.
TEST_F(EvalTest, BadThreadCountsAndThrowingCallbacksAreErrors) {
  for (int threads : {0, -1, kMaxEvalThreads + 1}) {
    EvalOptions o = options({"raw"}, 0, 1);
    o.threads = threads;
    auto report = evaluate(*model_, *dataset_, o);
    ASSERT_FALSE(report.ok()) << threads;
    EXPECT_EQ(report.error().message(), "threads must be in 1..256");
  }
  for (int threads : {1, 2}) {
    EvalOptions o = options({"raw"}, 0, 2);
    o.threads = threads;
    o.progress = [](const EvalProgress&) { throw std::runtime_error("display gone"); };
    auto report = evaluate(*model_, *dataset_, o);
    ASSERT_FALSE(report.ok()) << threads;
    EXPECT_EQ(report.error().message(), "progress callback threw: display gone");
  }
}

TEST(EvalSweep, DefaultDiscGridCoversBothModes) {
  auto specs = expand_sweep({"disc"});
  ASSERT_TRUE(specs.ok()) << specs.error().message();
  // The default sweep of scripts/eval-results took two and a half hours at 78 settings; the 8
  // shape=3 ones added since run only where one convolution reads the cut, as shape=2 does.
  EXPECT_LE(specs->size(), 86u);
  size_t transform = 0, gain = 0, tile = 0, capped = 0, shaped = 0, cells = 0;
  for (const CodecSpec& spec : *specs) {
    for (const auto& [key, value] : spec.params) {
      capped += key == "levels" && value > 0;
      shaped += key == "shape" && value > 0;
      cells += key == "cells" && value > 0;
    }
    transform += spec.to_string().find("transform=1") != std::string::npos;
    gain += spec.to_string().find("gain=1") != std::string::npos;
    tile += spec.to_string().find("tile=1") != std::string::npos;
  }
  EXPECT_GT(transform, 0u);
  EXPECT_LT(transform, specs->size());
  EXPECT_GT(gain, 0u);
  EXPECT_LT(gain, transform);  // with and without: the gain does not help every map
  EXPECT_GT(tile, 0u);
  EXPECT_LT(tile, transform);  // both block shapes: whole planes win on small planes, not everywhere
  EXPECT_GT(capped, 0u);          // steps between two bit depths' (doc/CODEC.md "Levels between bit depths")
  EXPECT_GT(shaped, cells);       // doc/CODEC.md "Shaping for the convolution that reads the map"
  EXPECT_GT(cells, 0u);           // doc/CODEC.md "Cell counts", shaped only
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// resnet20's cuts all feed a residual addition besides a convolution: no setting with
// shape=1 can be used there, and the report says why instead of failing or guessing.
TEST_F(EvalTest, LeavesOutShapingWhereNoSingleConvolutionReadsTheCut) {
  auto report = evaluate(*model_, *dataset_, options({"disc:shape=1,bits=1", "raw"}, 0, 4));
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->rows.size(), cuts_->size());
  for (const EvalRow& row : report->rows) EXPECT_EQ(row.codec_name, "raw");
  ASSERT_EQ(report->skipped.size(), cuts_->size());
  EXPECT_NE(report->skipped[0].find("not by one convolution"), std::string::npos) << report->skipped[0];
  // Left out everywhere, nothing is measured: an error, not an empty report that reads as a result.
  report = evaluate(*model_, *dataset_, options({"disc:shape=1,bits=1"}, 0, 4));
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message().find("no setting could be evaluated at any cut: "), std::string::npos)
      << report.error().message();
  EXPECT_NE(report.error().message().find("not by one convolution"), std::string::npos) << report.error().message();
}

TEST_F(EvalTest, WritesReportFiles) {
  auto report = evaluate(*model_, *dataset_, options({"raw"}, 0, 8));
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_TRUE(report->labelled);
  const auto dir = std::filesystem::temp_directory_path() / "disc_eval_test_report";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(write_eval_report(*report, dir.string()).ok());
  for (const char* f : {"rows.csv", "pareto.csv", "report.json", "summary.md"})
    EXPECT_GT(std::filesystem::file_size(dir / f), 50u) << f;
  const auto json = nlohmann::json::parse(read_text(dir / "report.json"));
  EXPECT_EQ(json["labelled"], true);
  EXPECT_TRUE(json["rows"][0]["top1_loss_pp"].is_number());

  // The planner's table in memory is the one it reads from the file.
  auto from_file = load_rate_table((dir / "report.json").string());
  ASSERT_TRUE(from_file.ok()) << from_file.error().message();
  auto in_memory = to_rate_table(*report);
  ASSERT_TRUE(in_memory.ok()) << in_memory.error().message();
  EXPECT_EQ(in_memory->model, from_file->model);
  ASSERT_EQ(in_memory->rows.size(), report->rows.size());
  ASSERT_EQ(in_memory->rows.size(), from_file->rows.size());
  for (size_t i = 0; i < in_memory->rows.size(); ++i) {
    EXPECT_EQ(in_memory->rows[i].cut, from_file->rows[i].cut);
    EXPECT_EQ(in_memory->rows[i].codec, from_file->rows[i].codec);
    EXPECT_DOUBLE_EQ(in_memory->rows[i].mean_bytes, report->rows[i].mean_bytes);
    EXPECT_DOUBLE_EQ(in_memory->rows[i].top1_loss_pp, report->rows[i].top1_loss_pp);
  }
  std::filesystem::remove_all(dir);
}

// A profile in memory becomes the planner's, with the checks parse_profile makes.
TEST(EvalPlanInputs, AProfileInMemoryIsThePlannersProfile) {
  ModelProfile profile;
  profile.model = "m";
  profile.input_name = "data";
  profile.input_shape = {1, 3, 8, 8};
  profile.upload_bytes = 500;
  profile.full_ms = 3;
  CutTiming late{{"late", "n9", "Relu", 9, {1, 4, 2, 2}, 16}, 2.5, 0.5};
  CutTiming early{{"early", "n2", "Relu", 2, {1, 8, 4, 4}, 128}, 1, 2};
  profile.cuts = {early, late};
  auto planned = to_plan_profile(profile);
  ASSERT_TRUE(planned.ok()) << planned.error().message();
  EXPECT_EQ(planned->model, "m");
  EXPECT_EQ(planned->input_fp32_bytes, 4u * 3 * 8 * 8);
  ASSERT_EQ(planned->cuts.size(), 2u);
  EXPECT_EQ(planned->cuts[1].tensor, "late");
  EXPECT_EQ(planned->cuts[1].fp32_bytes, 64u);
  EXPECT_DOUBLE_EQ(planned->cuts[0].tail_ms, 2);
  profile.cuts[1].tail_ms = -1;
  auto refused = to_plan_profile(profile);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message(), "profile: cuts[1].tail_ms is negative");
}

// A folder of the user's own images has no labels: the report must not read as a loss of 0,
// and settings are judged by the label-free estimate plus one standard error.
TEST_F(EvalTest, ImagesWithoutLabelsAreJudgedByTheEstimate) {
  Dataset unlabelled{"own", {}, {}};
  for (size_t i = 0; i < 200; ++i)
    unlabelled.images.push_back({dataset_->images[i].path, LabelledImage::kUnlabelled});
  auto report = evaluate(*model_, unlabelled, options({"raw", "disc:bits=2|3|4|6"}, 0, 200));
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_FALSE(report->labelled);
  EXPECT_EQ(report->loss_basis(), LossBasis::kEstimate);

  const std::vector<EvalRow> best = best_within_budget(report->rows, 1.0, LossBasis::kEstimate);
  ASSERT_FALSE(best.empty());  // raw changes nothing: 0 plus the one-image floor of 0.5 pp
  for (const EvalRow& chosen : best) {
    EXPECT_LE(chosen.estimated_loss_pp + chosen.estimated_loss_se_pp, 1.0) << chosen.codec;
    for (const EvalRow& r : report->rows) {
      if (r.cut == chosen.cut && r.codec_name == chosen.codec_name && r.ratio > chosen.ratio) {
        EXPECT_GT(judged_loss_pp(r, LossBasis::kEstimate), 1.0) << r.codec << " beats " << chosen.codec;
      }
    }
  }
  // The measured losses (all 0 without labels) would have let every setting through.
  const size_t by_estimate =
      std::count_if(report->rows.begin(), report->rows.end(), [](const EvalRow& r) { return within_calibration_budget(r, 1.0); });
  EXPECT_LT(by_estimate, report->rows.size());

  const auto dir = std::filesystem::temp_directory_path() / "disc_eval_test_unlabelled";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(write_eval_report(*report, dir.string()).ok());
  const auto json = nlohmann::json::parse(read_text(dir / "report.json"));
  EXPECT_EQ(json["labelled"], false);
  EXPECT_TRUE(json["reference_top1"].is_null());
  for (const auto& row : json["rows"]) {
    EXPECT_TRUE(row["top1_loss_pp"].is_null());
    EXPECT_TRUE(row["estimated_loss_se_pp"].is_number());
  }
  const std::string csv = read_text(dir / "rows.csv");
  EXPECT_NE(csv.find(",,,,"), std::string::npos);  // top1, top5 and their losses left empty
  const std::string summary = read_text(dir / "summary.md");
  EXPECT_NE(summary.find("without labels"), std::string::npos);
  // The standard error is never below one image's worth, 0.5 pp here: half the 1 pp budget.
  EXPECT_NE(summary.find("With 200 images one standard error is at least 0.50 pp (one image), half this budget "
                         "or more"),
            std::string::npos)
      << summary;
  // With 150 images (0.67 pp) no setting can be shown within 0.5 pp, and the 1 pp table is
  // squeezed; the summary says so under each table.
  EvalReport few = *report;
  few.images = 150;
  ASSERT_TRUE(write_eval_report(few, dir.string()).ok());
  const std::string squeezed = read_text(dir / "summary.md");
  const std::string note = "With 150 images one standard error is at least 0.67 pp (one image), ";
  const size_t half = squeezed.find(note + "half this budget or more"), more = squeezed.find(note + "more than this budget");
  EXPECT_NE(half, std::string::npos) << squeezed;
  EXPECT_NE(more, std::string::npos) << squeezed;
  EXPECT_LT(half, more) << squeezed;  // the 1.0 pp table comes first
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace disc
