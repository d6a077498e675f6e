#include "edge_compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>

#include "command.hpp"
#include "disc/codec.hpp"
#include "progress.hpp"

namespace disc::cli {
namespace {

constexpr char kPlanGrammar[] = "a plan is edge-only, server-only, auto or cut=TENSOR[,chunks=N][,codec=SPEC]";
constexpr int kMaxChunks = 1024;  // as --chunks

std::string_view trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// `cut=TENSOR[,chunks=N][,codec=SPEC]`: codec= comes last and takes the rest, commas included.
Result<ComparedPlan> parse_split(std::string_view item, const EdgeConfig& defaults) {
  ComparedPlan plan;
  plan.config = defaults;
  plan.config.mode = EdgeMode::kSplit;
  plan.config.cut.clear();
  std::optional<std::string> cut, chunks, codec;
  for (std::string_view rest = item; !rest.empty();) {
    if (rest.starts_with("codec=")) {
      codec = std::string(rest.substr(6));
      break;
    }
    const size_t comma = rest.find(',');
    const std::string_view field = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t eq = field.find('=');
    if (eq == std::string_view::npos) return Error(kPlanGrammar);
    const std::string_view key = field.substr(0, eq);
    std::optional<std::string>* value = key == "cut" ? &cut : key == "chunks" ? &chunks : nullptr;
    if (!value) return Error(fmt::format("unknown key '{}' ({})", key, kPlanGrammar));
    if (*value) return Error(fmt::format("{}= given twice", key));
    *value = std::string(field.substr(eq + 1));
  }
  if (!cut || cut->empty()) return Error("a split needs cut=TENSOR (and codec=, if any, comes last)");
  for (const char* key : {"cut=", "chunks="})  // no codec has these parameters
    if (codec && (codec->find(std::string(",") + key) != std::string::npos ||
                  codec->find(std::string(":") + key) != std::string::npos))
      return Error(fmt::format("{} after codec=: codec= comes last and takes the rest, so give cut= and chunks= "
                               "before it",
                               key));
  DISC_ASSIGN_OR_RETURN(CodecSpec spec, CodecSpec::parse(codec ? *codec : defaults.codec));
  if (chunks) {
    int n = 0;
    const char* end = chunks->data() + chunks->size();
    const auto [stop, failure] = std::from_chars(chunks->data(), end, n);
    if (failure != std::errc() || stop != end || n < 1 || n > kMaxChunks)
      return Error(fmt::format("chunks={}: a number from 1 to {}", *chunks, kMaxChunks));
    plan.config.chunks = n;
  }
  plan.config.cut = *cut;
  plan.config.codec = spec.to_string();
  plan.label = plan.config.cut + " " + plan.config.codec;
  if (plan.config.chunks > 1) plan.label += fmt::format(" chunks={}", plan.config.chunks);
  return plan;
}

Result<ComparedPlan> parse_plan(std::string_view item, const EdgeConfig& defaults) {
  ComparedPlan plan;
  if (item == "auto") {
    plan.adaptive = true;
  } else if (item == "edge-only" || item == "server-only") {
    plan.config = defaults;
    plan.config.mode = item == "edge-only" ? EdgeMode::kEdgeOnly : EdgeMode::kServerOnly;
    plan.config.cut.clear();
    plan.config.chunks = 1;
  } else {
    DISC_ASSIGN_OR_RETURN(plan, parse_split(item, defaults));
  }
  plan.spec = std::string(item);
  if (plan.label.empty()) plan.label = plan.spec;
  return plan;
}

// A permutation of 0..n-1: Fisher-Yates on the generator's raw outputs, which the standard
// fixes (std::shuffle's use of the generator is implementation-defined), so an order
// depends on the seed only.
std::vector<size_t> shuffled(size_t n, std::mt19937_64& random) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[random() % i]);
  return order;
}

// Where and when a plan ran on one image.
struct Slot {
  size_t order = 0;  // position among the plans that ran on the image
  double start_seconds = 0;
};

// One plan of the comparison and what it measured, one entry per image.
struct PlanRun {
  const ComparedPlan* plan = nullptr;
  std::unique_ptr<EdgePipeline> pipeline;  // fixed plans
  std::unique_ptr<AdaptiveEdge> adaptive;  // auto
  std::vector<ImageReport> reports;        // fixed plans
  std::vector<AutoRequest> requests;       // auto
  std::vector<Slot> slots;

  Status run(const ImageJob& job, size_t order, const Stopwatch& clock) {
    if (adaptive) {
      DISC_ASSIGN_OR_RETURN(AutoRequest request, run_auto_request(*adaptive, job, clock));
      slots.push_back({order, request.start_seconds});
      requests.push_back(std::move(request));
      return {};
    }
    const double start = clock.seconds();
    DISC_ASSIGN_OR_RETURN(EdgeResult result, pipeline->run(job.path));
    slots.push_back({order, start});
    reports.push_back({job, std::move(result)});
    return {};
  }

  void set_local_top1(int top1) {
    if (adaptive)
      requests.back().local_top1 = top1;
    else
      reports.back().local_top1 = top1;
  }

  // The answers in the form the fixed-plan summaries read.
  std::vector<ImageReport> answers() const {
    if (!adaptive) return reports;
    std::vector<ImageReport> out;
    for (const AutoRequest& r : requests) out.push_back({r.job, r.step.result, r.local_top1});
    return out;
  }

  // The single-plan document of this plan, with its label and spec first and every
  // record tagged with the plan, the image's index, the position in that image's order
  // and the start time.
  nlohmann::ordered_json document(const std::string& model, const AutoSettings& auto_settings) const {
    nlohmann::ordered_json single = adaptive ? auto_run_json(model, auto_settings, *adaptive, requests)
                                             : fixed_plan_json(model, plan->config, reports);
    nlohmann::ordered_json& records = single[adaptive ? "requests" : "images"];
    for (size_t i = 0; i < records.size(); ++i) {
      records[i]["plan_label"] = plan->label;
      records[i]["image"] = i;
      records[i]["order"] = slots[i].order;
      records[i]["t"] = slots[i].start_seconds;
    }
    nlohmann::ordered_json doc = {{"label", plan->label}, {"spec", plan->spec}};
    for (auto& [key, value] : single.items()) doc[key] = std::move(value);
    return doc;
  }
};

Result<std::vector<PlanRun>> prepare(const CompareSettings& settings, const ModelEntry& model,
                                     const std::vector<std::string>& class_names, const std::string& warm_image,
                                     EdgeClient* client) {
  std::vector<PlanRun> runs;
  for (const ComparedPlan& plan : settings.plans) {
    PlanRun run;
    run.plan = &plan;
    const std::string context = fmt::format("plan '{}'", plan.spec);
    if (plan.adaptive) {
      if (!client) return Error("auto needs a server").with_context(context);
      auto made = make_adaptive_edge(settings.auto_settings, model, class_names, *client);
      if (!made.ok()) return made.error().with_context(context);
      run.adaptive = std::move(made).value();
    } else {
      auto made = EdgePipeline::create(model, class_names, plan.config, client);
      if (!made.ok()) return made.error().with_context(context);
      run.pipeline = std::move(made).value();
      if (auto warm = warm_up(*run.pipeline, warm_image, settings.warmup); !warm.ok())
        return warm.error().with_context(context);
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

void print_summary_table(const CompareSettings& settings, const std::vector<PlanRun>& runs, size_t images) {
  std::cout << fmt::format("{:<44} {:>9}", "plan", "sent B");
  for (const TimingColumn& c : kTimingColumns) std::cout << fmt::format(" {:>8}", c.name);
  std::cout << fmt::format(" {:>9} {:>6} {:>6}   [ms: medians; p95 total: 95th percentile]\n", "p95 total", "top-1", "local");
  for (const PlanRun& run : runs) {
    const std::vector<ImageReport> answers = run.answers();
    const AnswerCounts c = count_answers(answers);
    std::cout << fmt::format("{:<44} {:>9.0f}", run.plan->label, c.sent_median);
    for (const TimingColumn& column : kTimingColumns)
      std::cout << fmt::format(" {:>8.2f}", 1e3 * quantile(column_values(answers, column.field), 0.5));
    const auto fraction = [](size_t part, size_t whole) {
      return whole ? fmt::format("{:.3f}", double(part) / whole) : std::string("-");
    };
    std::cout << fmt::format(" {:>9.2f} {:>6} {:>6}\n", 1e3 * quantile(column_values(answers, &EdgeTiming::total), 0.95),
                             fraction(c.correct, c.labelled), fraction(c.agree, c.checked));
  }
  for (const PlanRun& run : runs) {
    if (!run.adaptive) continue;
    std::string uses;
    for (const auto& [label, n] : plan_uses(run.requests)) uses += fmt::format("{}{}x {}", uses.empty() ? "" : ", ", n, label);
    std::cout << fmt::format("{}: RTT {:.3f} ms, final estimate {:.3f} Mbit/s; plans used: {}\n", run.plan->label,
                             run.adaptive->rtt_ms(), run.adaptive->bandwidth_estimate_bps() / 1e6, uses);
  }
  std::cout << fmt::format("{} images; every plan ran once per image, in an order shuffled per image (seed {})\n",
                           images, settings.seed);
}

}  // namespace

Result<std::vector<ComparedPlan>> parse_compared_plans(std::string_view text, const EdgeConfig& defaults) {
  std::vector<ComparedPlan> plans;
  std::map<std::string, std::string> items;  // each plan's identity (below) and the item that gave it
  for (size_t begin = 0, position = 1; begin <= text.size(); ++position) {
    const size_t end = std::min(text.find(';', begin), text.size());
    const std::string_view item = trim(text.substr(begin, end - begin));
    begin = end + 1;
    if (item.empty()) {
      if (end == text.size() && position > 1) break;  // a trailing ';'
      return Error(fmt::format("--compare: plan {} is empty ({})", position, kPlanGrammar));
    }
    auto plan = parse_plan(item, defaults);
    if (!plan.ok()) return plan.error().with_context(fmt::format("--compare: plan '{}'", item));
    // Two splits are the same plan if their codecs are the same setting, however written
    // ("disc" and "disc:bits=4"): compared with every parameter, defaults included.
    std::string identity = plan->label;
    if (!plan->adaptive && plan->config.mode == EdgeMode::kSplit) {
      auto codec = make_codec(plan->config.codec);
      if (!codec.ok()) return codec.error().with_context(fmt::format("--compare: plan '{}'", item));
      identity = fmt::format("{} {} chunks={}", plan->config.cut, (*codec)->spec().to_string(), plan->config.chunks);
    }
    const auto [first, added] = items.emplace(identity, std::string(item));
    if (!added)
      return Error(fmt::format("--compare: plan '{}' is given twice (as {}; '{}' is the same plan)", item,
                               plan->label, first->second));
    plans.push_back(std::move(plan).value());
  }
  return plans;
}

int run_edge_compare(const CompareSettings& settings, const ModelEntry& model,
                     const std::vector<std::string>& class_names, const std::vector<ImageJob>& jobs,
                     EdgeClient* client, EdgePipeline* local, const Stopwatch& clock) {
  auto prepared = prepare(settings, model, class_names, jobs.front().path, client);
  if (!prepared.ok()) return fail(prepared.error());
  std::vector<PlanRun>& runs = *prepared;

  std::mt19937_64 random(settings.seed);
  Progress progress("edge --compare", jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    const std::vector<size_t> order = shuffled(runs.size(), random);
    for (size_t position = 0; position < order.size(); ++position) {
      PlanRun& run = runs[order[position]];
      if (Status done = run.run(jobs[i], position, clock); !done.ok())
        return fail(done.error().with_context(fmt::format("plan '{}'", run.plan->spec)));
    }
    auto reference = local_top1(local, jobs[i].path);
    if (!reference.ok()) return fail(reference.error());
    for (PlanRun& run : runs) run.set_local_top1(*reference);
    progress.update(i + 1, "");
  }
  progress.finish();

  if (!settings.json) {
    print_summary_table(settings, runs, jobs.size());
    return 0;
  }
  nlohmann::ordered_json plans = nlohmann::ordered_json::array();
  for (const PlanRun& run : runs) plans.push_back(run.document(model.name, settings.auto_settings));
  std::cout << nlohmann::ordered_json{{"model", model.name},
                                      {"mode", "compare"},
                                      {"seed", settings.seed},
                                      {"images", jobs.size()},
                                      {"plans", plans}}
                   .dump(2)
            << "\n";
  return 0;
}

}  // namespace disc::cli
