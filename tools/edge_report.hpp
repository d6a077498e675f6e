// `disc edge`: what every mode shares (the images, the timing columns, the local check)
// and the report of a fixed plan (per image and summary, as a table or JSON).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "disc/edge.hpp"
#include "disc/status.hpp"

namespace disc::cli {

struct ImageJob {
  std::string path;
  int label = -1;  // -1: unknown
};

// One image through a fixed plan.
struct ImageReport {
  ImageJob job;
  EdgeResult result;
  int local_top1 = -1;  // with --check-local
};

// One timing column: its name and how to read it from a result.
struct TimingColumn {
  const char* name;
  double EdgeTiming::*field;
};
inline constexpr TimingColumn kTimingColumns[] = {
    {"load", &EdgeTiming::load},         {"head", &EdgeTiming::head},
    {"encode", &EdgeTiming::encode},     {"transfer", &EdgeTiming::transfer},
    {"queue", &EdgeTiming::server_queue}, {"decode", &EdgeTiming::server_decode},
    {"tail", &EdgeTiming::tail},         {"total", &EdgeTiming::total},
};

const char* mode_name(EdgeMode mode);

// The answer's top-1 label; -2 when there is no answer.
int top1_of(const EdgeResult& r);

// "label name (probability)" of the answer's top-1, for tables and progress.
std::string top1_text(const EdgeResult& r);

// `timing` in seconds per column, as every JSON report writes it.
nlohmann::ordered_json timing_json(const EdgeTiming& timing);

// Top-1 of the local whole model for `path` (--check-local); -1 when `local` is null.
Result<int> local_top1(EdgePipeline* local, const std::string& path);

// `count` untimed runs of `path`: the server builds the cut's tail and both sides warm up.
Status warm_up(EdgePipeline& pipeline, const std::string& path, int count);

// Top-1 against labels and the local model, and the median bytes sent.
struct AnswerCounts {
  size_t labelled = 0, correct = 0, checked = 0, agree = 0;
  double sent_median = 0;
};
AnswerCounts count_answers(const std::vector<ImageReport>& reports);

// The values of one timing column over `reports`.
std::vector<double> column_values(const std::vector<ImageReport>& reports, double EdgeTiming::*field);

// The report of a fixed plan: the document `disc edge --json` prints, and the table.
nlohmann::ordered_json fixed_plan_json(const std::string& model, const EdgeConfig& config,
                                       const std::vector<ImageReport>& reports);
void print_fixed_plan_table(const EdgeConfig& config, const std::vector<ImageReport>& reports);

}  // namespace disc::cli
