#include "edge_auto.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iostream>

#include "command.hpp"
#include "progress.hpp"

namespace disc::cli {
namespace {

using Request = AutoRequest;

double predicted_ms(const Request& r) { return r.step.plan.latency.total_ms(); }
double measured_ms(const Request& r) { return 1e3 * r.step.result.timing.total; }
// The planner models head..tail; image decoding and preprocessing (`load`) are outside it.
double modelled_measured_ms(const Request& r) { return 1e3 * (r.step.result.timing.total - r.step.result.timing.load); }
double prediction_error(const Request& r) {
  const double measured = modelled_measured_ms(r);
  return measured > 0 ? std::abs(predicted_ms(r) - measured) / measured : 0;
}

struct Summary {
  std::vector<double> latency_ms, prediction_errors;
  std::map<std::string, size_t> plan_uses;
  size_t probes = 0, samples = 0, fallbacks = 0, labelled = 0, correct = 0, checked = 0, agree = 0;
  double mean_latency_ms = 0, mean_predicted_ms = 0;
};

Summary summarize(const std::vector<Request>& requests) {
  Summary s;
  s.plan_uses = plan_uses(requests);
  for (const Request& r : requests) {
    s.latency_ms.push_back(measured_ms(r));
    // A fallback's time includes the failed attempt, which no plan predicts.
    if (!r.step.fallback_from) s.prediction_errors.push_back(prediction_error(r));
    s.mean_latency_ms += measured_ms(r) / static_cast<double>(requests.size());
    s.mean_predicted_ms += predicted_ms(r) / static_cast<double>(requests.size());
    s.probes += r.step.probe;
    s.samples += r.step.sampled;
    s.fallbacks += r.step.fallback_from.has_value();
    const int top1 = top1_of(r.step.result);
    if (r.job.label >= 0) ++s.labelled, s.correct += top1 == r.job.label;
    if (r.local_top1 != -1) ++s.checked, s.agree += top1 == r.local_top1;
  }
  return s;
}

const RemoteFailure* first_fallback(const std::vector<Request>& requests) {
  for (const Request& r : requests)
    if (r.step.fallback_from) return &*r.step.fallback_from;
  return nullptr;
}

nlohmann::ordered_json plan_json(const Plan& p) {
  const LatencyBreakdown& l = p.latency;
  return {{"label", p.label()},   {"kind", plan_kind_name(p.kind)}, {"cut", p.cut},
          {"codec", p.codec},     {"bytes", p.bytes},               {"top1_loss_pp", p.top1_loss_pp},
          {"predicted_ms", {{"head", l.head_ms}, {"encode", l.encode_ms}, {"transfer", l.transfer_ms},
                            {"rtt", l.rtt_ms}, {"decode", l.decode_ms}, {"tail", l.tail_ms}, {"total", l.total_ms()}}}};
}

}  // namespace

Result<std::unique_ptr<AdaptiveEdge>> make_adaptive_edge(AutoSettings settings, const ModelEntry& model,
                                                         std::vector<std::string> class_names, EdgeClient& client) {
  if (settings.profile.empty() || settings.table.empty()) return Error("--auto needs --profile and --table");
  DISC_ASSIGN_OR_RETURN(Profile profile, load_profile(settings.profile));
  DISC_ASSIGN_OR_RETURN(RateTable table, load_rate_table(settings.table, settings.loss));
  auto initial = parse_bandwidth(settings.initial_bandwidth);
  if (!initial.ok()) return initial.error().with_context("--initial-bandwidth");
  settings.options.estimator.initial_bps = *initial;
  if (settings.rtt_ms >= 0) settings.options.rtt_ms = settings.rtt_ms;
  DISC_ASSIGN_OR_RETURN(auto edge,
                        AdaptiveEdge::create(model, std::move(class_names), profile, table, &client, settings.options));
  // Not an error (the run goes on edge-only and probes the link), but not to be mistaken for
  // AGLOP choosing edge-only either: a mistyped address looks just like that.
  if (const auto& failure = edge->start_failure())
    std::cerr << "disc edge: the server did not answer (" << failure->message()
              << "); edge-only until a probe reaches it\n";
  return edge;
}

Result<AutoRequest> run_auto_request(AdaptiveEdge& edge, const ImageJob& job, const Stopwatch& clock) {
  AutoRequest request;
  request.job = job;
  request.start_seconds = clock.seconds();
  DISC_ASSIGN_OR_RETURN(request.step, edge.run(job.path));
  return request;
}

std::map<std::string, size_t> plan_uses(const std::vector<AutoRequest>& requests) {
  std::map<std::string, size_t> uses;
  for (const AutoRequest& r : requests) ++uses[r.step.plan.label()];
  return uses;
}

void print_auto_table(const std::vector<AutoRequest>& requests, const AdaptiveEdge& edge) {
  std::cout << fmt::format("{:>4} {:>8} {:<28} {:<46} {:>9} {:>9} {:>9} {:>9} {:>6}\n", "#", "t_s", "image", "plan",
                           "sent B", "est Mbit", "pred ms", "meas ms", "top-1");
  for (size_t i = 0; i < requests.size(); ++i) {
    const Request& r = requests[i];
    std::string name = r.job.path.substr(r.job.path.find_last_of('/') + 1);
    if (r.job.label >= 0) name += fmt::format(" [{}]", r.job.label);
    // The marks outlive a long label: the label is shortened to leave them room.
    constexpr size_t kPlanWidth = 46;
    const auto fit = [](const std::string& text, size_t width) {
      return text.size() <= width ? text : text.substr(0, width - 3) + "...";
    };
    std::string plan;
    if (r.step.fallback_from) {
      const std::string before = r.step.plan.label() + " (", after = " failed)";
      plan = before + fit(r.step.fallback_from->plan.label(), kPlanWidth - before.size() - after.size()) + after;
    } else {
      const std::string mark = r.step.probe ? " (probe)" : "";
      plan = fit(r.step.plan.label(), kPlanWidth - mark.size()) + mark;
    }
    std::cout << fmt::format("{:>4} {:>8.3f} {:<28} {:<46} {:>9} {:>9.3f} {:>9.2f} {:>9.2f} {:>6}\n", i + 1,
                             r.start_seconds, name.substr(0, 28), plan, r.step.result.bytes_sent,
                             r.step.bandwidth_bps / 1e6, predicted_ms(r), measured_ms(r), top1_of(r.step.result));
  }
  const Summary s = summarize(requests);
  const ComputeScale final_scale = edge.compute_scale();
  std::cout << fmt::format(
      "latency: median {:.2f} ms, mean {:.2f} ms, p95 {:.2f} ms; predicted mean {:.2f} ms\n"
      "prediction error vs measured (load excluded): median {:.1f}%, p95 {:.1f}%\n"
      "RTT {}; bandwidth samples {}, probes {}, final estimate {:.3f} Mbit/s; "
      "compute measured/profiled: edge {:.2f}, server {:.2f}\n",
      quantile(s.latency_ms, 0.5), s.mean_latency_ms, quantile(s.latency_ms, 0.95), s.mean_predicted_ms,
      100 * quantile(s.prediction_errors, 0.5), 100 * quantile(s.prediction_errors, 0.95),
      edge.rtt_measured() ? fmt::format("{:.3f} ms", edge.rtt_ms()) : "not measured (the server never answered)", s.samples,
      s.probes, requests.back().step.bandwidth_after_bps / 1e6, final_scale.edge, final_scale.server);
  if (s.fallbacks) {
    std::cout << fmt::format("{} requests answered here after their remote plan failed; the first failure: {}\n",
                             s.fallbacks, first_fallback(requests)->error.message());
  }
  std::cout << "plans used:\n";
  for (const auto& [label, uses] : s.plan_uses) std::cout << fmt::format("  {:>5}  {}\n", uses, label);
  if (s.labelled) std::cout << fmt::format("top-1 vs labels: {}/{} = {:.3f}\n", s.correct, s.labelled, double(s.correct) / s.labelled);
  if (s.checked)
    std::cout << fmt::format("agreement with the local full model: {}/{} = {:.3f}\n", s.agree, s.checked,
                             double(s.agree) / s.checked);
}

nlohmann::ordered_json auto_run_json(const std::string& model, const AutoSettings& settings, const AdaptiveEdge& edge,
                                     const std::vector<AutoRequest>& requests) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Request& r : requests) {
    nlohmann::ordered_json j = {
        {"t", r.start_seconds},
        {"path", r.job.path},
        {"plan", plan_json(r.step.plan)},
        {"probe", r.step.probe},
        {"bandwidth_bps", r.step.bandwidth_bps},
        {"bandwidth_after_bps", r.step.bandwidth_after_bps},
        {"compute_scale", {{"edge", r.step.scale.edge}, {"server", r.step.scale.server}}},
        {"sampled", r.step.sampled},
        {"bytes_sent", r.step.result.bytes_sent},
        {"top1", top1_of(r.step.result)},
        {"timing", timing_json(r.step.result.timing)}};
    if (const auto& f = r.step.fallback_from)
      j["fallback_from"] = {{"plan", plan_json(f->plan)},
                            {"code", error_code_name(f->error.code())},
                            {"error", f->error.message()}};
    if (r.job.label >= 0) j["label"] = r.job.label;
    if (r.local_top1 != -1) j["local_top1"] = r.local_top1;
    list.push_back(j);
  }
  const Summary s = summarize(requests);
  const ComputeScale final_scale = edge.compute_scale();
  nlohmann::ordered_json uses = nlohmann::ordered_json::object();
  for (const auto& [label, n] : s.plan_uses) uses[label] = n;
  nlohmann::ordered_json summary = {
      {"requests", requests.size()},
      {"latency_ms", {{"median", quantile(s.latency_ms, 0.5)}, {"mean", s.mean_latency_ms},
                      {"p95", quantile(s.latency_ms, 0.95)}}},
      {"predicted_mean_ms", s.mean_predicted_ms},
      {"prediction_error", {{"median", quantile(s.prediction_errors, 0.5)}, {"p95", quantile(s.prediction_errors, 0.95)}}},
      {"samples", s.samples},
      {"probes", s.probes},
      {"fallbacks", s.fallbacks},
      {"final_bandwidth_bps", requests.back().step.bandwidth_after_bps},
      {"final_compute_scale", {{"edge", final_scale.edge}, {"server", final_scale.server}}},
      {"plans", uses}};
  summary["top1_accuracy"] = s.labelled ? nlohmann::ordered_json(double(s.correct) / s.labelled) : nullptr;
  summary["local_agreement"] = s.checked ? nlohmann::ordered_json(double(s.agree) / s.checked) : nullptr;
  return nlohmann::ordered_json{{"model", model},
                                {"mode", "auto"},
                                {"budget_pp", settings.options.top1_budget_pp},
                                {"rtt_ms", edge.rtt_measured() ? nlohmann::ordered_json(edge.rtt_ms()) : nullptr},
                                {"summary", summary},
                                {"requests", list}};
}

int run_edge_auto(AutoSettings settings, const ModelEntry& model, std::vector<std::string> class_names,
                  const std::vector<ImageJob>& jobs, EdgeClient& client, EdgePipeline* local, const Stopwatch& clock) {
  auto edge = make_adaptive_edge(settings, model, std::move(class_names), client);
  if (!edge.ok()) return fail(edge.error());
  std::vector<Request> requests;
  Progress progress("edge --auto", jobs.size());
  for (const ImageJob& job : jobs) {
    auto request = run_auto_request(**edge, job, clock);
    if (!request.ok()) return fail(request.error());
    auto reference = local_top1(local, job.path);
    if (!reference.ok()) return fail(reference.error());
    request->local_top1 = *reference;
    progress.update(requests.size() + 1, request->step.plan.label());
    requests.push_back(std::move(request).value());
  }
  progress.finish();
  if (settings.json)
    std::cout << auto_run_json(model.name, settings, **edge, requests).dump(2) << "\n";
  else
    print_auto_table(requests, **edge);
  return 0;
}

}  // namespace disc::cli
