#include "edge_report.hpp"

#include <fmt/format.h>

#include <iostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "disc/timing.hpp"

namespace disc::cli {

const char* mode_name(EdgeMode mode) {
  switch (mode) {
    case EdgeMode::kSplit: return "split";
    case EdgeMode::kEdgeOnly: return "edge-only";
    case EdgeMode::kServerOnly: return "server-only";
  }
  return "?";
}

int top1_of(const EdgeResult& r) { return r.top.empty() ? -2 : r.top.front().label; }

std::string top1_text(const EdgeResult& r) {
  if (r.top.empty()) return "-";
  const Prediction& p = r.top.front();
  return fmt::format("{} {} ({:.3f})", p.label, p.name.substr(0, 18), p.probability);
}

nlohmann::ordered_json timing_json(const EdgeTiming& timing) {
  nlohmann::ordered_json j;
  for (const TimingColumn& c : kTimingColumns) j[c.name] = timing.*c.field;
  return j;
}

Result<int> local_top1(EdgePipeline* local, const std::string& path) {
  if (!local) return -1;
  DISC_ASSIGN_OR_RETURN(EdgeResult reference, local->run(path));
  return top1_of(reference);
}

Status warm_up(EdgePipeline& pipeline, const std::string& path, int count) {
  for (int i = 0; i < count; ++i) DISC_RETURN_IF_ERROR(pipeline.run(path));
  return {};
}

AnswerCounts count_answers(const std::vector<ImageReport>& reports) {
  AnswerCounts c;
  std::vector<double> sent;
  for (const ImageReport& r : reports) {
    const int top1 = top1_of(r.result);
    if (r.job.label >= 0) ++c.labelled, c.correct += top1 == r.job.label;
    if (r.local_top1 != -1) ++c.checked, c.agree += top1 == r.local_top1;
    sent.push_back(static_cast<double>(r.result.bytes_sent));
  }
  c.sent_median = quantile(sent, 0.5);
  return c;
}

std::vector<double> column_values(const std::vector<ImageReport>& reports, double EdgeTiming::*field) {
  std::vector<double> values;
  for (const ImageReport& r : reports) values.push_back(r.result.timing.*field);
  return values;
}

namespace {

// Each image's file name, or, when two images share a file name (CIFAR-10's class folders
// all hold 0000.jpg), its folder and file name.
std::vector<std::string> image_names(const std::vector<ImageReport>& reports) {
  const auto last = [](const std::string& path, int components) {
    size_t at = path.size();
    for (int i = 0; i < components && at != std::string::npos && at > 0; ++i) at = path.find_last_of('/', at - 1);
    return at == std::string::npos ? path : path.substr(at + 1);
  };
  std::vector<std::string> names;
  for (const ImageReport& r : reports) names.push_back(last(r.job.path, 1));
  if (std::set<std::string>(names.begin(), names.end()).size() < names.size())
    for (size_t i = 0; i < reports.size(); ++i) names[i] = last(reports[i].job.path, 2);
  return names;
}

}  // namespace

void print_fixed_plan_table(const EdgeConfig& config, const std::vector<ImageReport>& reports) {
  std::cout << fmt::format("{:<34} {:<30} {:>9}", "image", "top-1 (probability)", "sent B");
  for (const TimingColumn& c : kTimingColumns) std::cout << fmt::format(" {:>8}", c.name);
  std::cout << "   [ms]\n";
  const std::vector<std::string> names = image_names(reports);
  for (size_t i = 0; i < reports.size(); ++i) {
    const ImageReport& r = reports[i];
    std::string name = names[i];
    if (r.job.label >= 0) name += fmt::format(" [{}]", r.job.label);
    std::cout << fmt::format("{:<34} {:<30} {:>9}", name.substr(0, 34), top1_text(r.result), r.result.bytes_sent);
    for (const TimingColumn& c : kTimingColumns) std::cout << fmt::format(" {:>8.2f}", 1e3 * (r.result.timing.*c.field));
    std::cout << "\n";
  }
  for (const auto& [label, q] : {std::pair{"median", 0.5}, std::pair{"p95", 0.95}}) {
    std::cout << fmt::format("{:<34} {:<30} {:>9}", label, "", "");
    for (const TimingColumn& c : kTimingColumns)
      std::cout << fmt::format(" {:>8.2f}", 1e3 * quantile(column_values(reports, c.field), q));
    std::cout << "\n";
  }
  const AnswerCounts c = count_answers(reports);
  const EdgeResult& first = reports.front().result;
  if (config.mode == EdgeMode::kSplit)
    std::cout << fmt::format("sent: median {:.0f} B per image vs {} B raw fp32 at cut {} ({:.1f}x smaller) with {}\n",
                             c.sent_median, first.raw_bytes, config.cut, first.raw_bytes / c.sent_median, config.codec);
  else if (config.mode == EdgeMode::kServerOnly)
    std::cout << fmt::format("sent: median {:.0f} B per image (the image files)\n", c.sent_median);
  if (c.labelled) std::cout << fmt::format("top-1 vs labels: {}/{} = {:.3f}\n", c.correct, c.labelled, double(c.correct) / c.labelled);
  if (c.checked)
    std::cout << fmt::format("agreement with the local full model: {}/{} = {:.3f}\n", c.agree, c.checked,
                             double(c.agree) / c.checked);
}

nlohmann::ordered_json fixed_plan_json(const std::string& model, const EdgeConfig& config,
                                       const std::vector<ImageReport>& reports) {
  nlohmann::ordered_json images = nlohmann::ordered_json::array();
  for (const ImageReport& r : reports) {
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (const Prediction& p : r.result.top) top.push_back({{"label", p.label}, {"probability", p.probability}, {"name", p.name}});
    nlohmann::ordered_json j = {{"path", r.job.path},          {"top", top},
                                {"bytes_sent", r.result.bytes_sent}, {"raw_bytes", r.result.raw_bytes},
                                {"attempts", r.result.attempts},   {"timing", timing_json(r.result.timing)}};
    if (r.job.label >= 0) j["label"] = r.job.label;
    if (r.local_top1 != -1) j["local_top1"] = r.local_top1;
    images.push_back(j);
  }
  nlohmann::ordered_json latency;
  for (const TimingColumn& c : kTimingColumns) {
    const auto values = column_values(reports, c.field);
    latency[c.name] = {{"median", quantile(values, 0.5)}, {"p95", quantile(values, 0.95)}};
  }
  const AnswerCounts c = count_answers(reports);
  nlohmann::ordered_json summary = {{"images", reports.size()},
                                    {"bytes_sent_median", c.sent_median},
                                    {"raw_bytes", reports.front().result.raw_bytes},
                                    {"latency_seconds", latency}};
  summary["top1_accuracy"] = c.labelled ? nlohmann::ordered_json(double(c.correct) / c.labelled) : nullptr;
  summary["local_agreement"] = c.checked ? nlohmann::ordered_json(double(c.agree) / c.checked) : nullptr;
  return nlohmann::ordered_json{{"model", model},
                                {"mode", mode_name(config.mode)},
                                {"cut", config.cut},
                                {"codec", config.mode == EdgeMode::kSplit ? config.codec : ""},
                                {"chunks", config.mode == EdgeMode::kSplit ? config.chunks : 0},
                                {"summary", summary},
                                {"images", images}};
}

}  // namespace disc::cli
