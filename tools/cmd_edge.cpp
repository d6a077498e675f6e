// `disc edge`: the edge device. Runs the head, encodes, sends to the server and reports
// the answers with a per-stage timing breakdown.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "connection_options.hpp"
#include "disc/edge.hpp"
#include "disc/model.hpp"
#include "disc/timing.hpp"
#include "edge_auto.hpp"
#include "progress.hpp"

namespace disc::cli {
namespace {

struct Opts {
  ConnectionOptions connection;
  std::string model;
  EdgeConfig config;
  bool edge_only = false;
  bool server_only = false;
  std::vector<std::string> images;
  size_t dataset_images = 0;
  size_t first_image = 0;
  int warmup = 1;
  int threads = 0;
  bool check_local = false;
  bool json = false;
  bool auto_plan = false;
  AutoSettings auto_settings;
};

struct ImageReport {
  ImageJob job;
  EdgeResult result;
  int local_top1 = -1;  // with --check-local
};

// One timing column: its name and how to read it from a result.
struct Column {
  const char* name;
  double EdgeTiming::*field;
};
constexpr Column kColumns[] = {
    {"load", &EdgeTiming::load},     {"head", &EdgeTiming::head},     {"encode", &EdgeTiming::encode},
    {"transfer", &EdgeTiming::transfer}, {"queue", &EdgeTiming::server_queue},
    {"decode", &EdgeTiming::server_decode}, {"tail", &EdgeTiming::tail}, {"total", &EdgeTiming::total},
};

const char* mode_name(EdgeMode mode) {
  switch (mode) {
    case EdgeMode::kSplit: return "split";
    case EdgeMode::kEdgeOnly: return "edge-only";
    case EdgeMode::kServerOnly: return "server-only";
  }
  return "?";
}

Result<std::vector<ImageJob>> collect_images(const Opts& o, const AssetCatalog& catalog, const ModelEntry& entry) {
  std::vector<ImageJob> jobs;
  for (const std::string& path : o.images) jobs.push_back({path, -1});
  if (o.dataset_images > 0) {
    DISC_ASSIGN_OR_RETURN(Dataset dataset, catalog.load_dataset(entry.dataset));
    if (o.first_image > dataset.images.size() || o.dataset_images > dataset.images.size() - o.first_image)
      return Error(fmt::format("--first-image {} --dataset-images {}: data set {} has only {} images", o.first_image,
                               o.dataset_images, dataset.name, dataset.images.size()));
    for (size_t i = o.first_image; i < o.first_image + o.dataset_images; ++i)
      jobs.push_back({dataset.images[i].path, dataset.images[i].label});
  }
  if (jobs.empty()) return Error("no image: give IMAGE files or --dataset-images N");
  return jobs;
}

std::vector<double> column_values(const std::vector<ImageReport>& reports, double EdgeTiming::*field) {
  std::vector<double> values;
  for (const ImageReport& r : reports) values.push_back(r.result.timing.*field);
  return values;
}

std::string top1_text(const EdgeResult& r) {
  if (r.top.empty()) return "-";
  const Prediction& p = r.top.front();
  return fmt::format("{} {} ({:.3f})", p.label, p.name.substr(0, 18), p.probability);
}

struct Counts {
  size_t labelled = 0, correct = 0, checked = 0, agree = 0;
  double sent_median = 0;
};

Counts count(const std::vector<ImageReport>& reports) {
  Counts c;
  std::vector<double> sent;
  for (const ImageReport& r : reports) {
    const int top1 = r.result.top.empty() ? -2 : r.result.top.front().label;
    if (r.job.label >= 0) ++c.labelled, c.correct += top1 == r.job.label;
    if (r.local_top1 != -1) ++c.checked, c.agree += top1 == r.local_top1;
    sent.push_back(static_cast<double>(r.result.bytes_sent));
  }
  c.sent_median = quantile(sent, 0.5);
  return c;
}

void print_table(const Opts& o, const std::vector<ImageReport>& reports) {
  std::cout << fmt::format("{:<34} {:<30} {:>9}", "image", "top-1 (probability)", "sent B");
  for (const Column& c : kColumns) std::cout << fmt::format(" {:>8}", c.name);
  std::cout << "   [ms]\n";
  for (const ImageReport& r : reports) {
    std::string name = r.job.path.substr(r.job.path.find_last_of('/') + 1);
    if (r.job.label >= 0) name += fmt::format(" [{}]", r.job.label);
    std::cout << fmt::format("{:<34} {:<30} {:>9}", name.substr(0, 34), top1_text(r.result), r.result.bytes_sent);
    for (const Column& c : kColumns) std::cout << fmt::format(" {:>8.2f}", 1e3 * (r.result.timing.*c.field));
    std::cout << "\n";
  }
  for (const auto& [label, q] : {std::pair{"median", 0.5}, std::pair{"p95", 0.95}}) {
    std::cout << fmt::format("{:<34} {:<30} {:>9}", label, "", "");
    for (const Column& c : kColumns) std::cout << fmt::format(" {:>8.2f}", 1e3 * quantile(column_values(reports, c.field), q));
    std::cout << "\n";
  }
  const Counts c = count(reports);
  const EdgeResult& first = reports.front().result;
  if (o.config.mode == EdgeMode::kSplit)
    std::cout << fmt::format("sent: median {:.0f} B per image vs {} B raw fp32 at cut {} ({:.1f}x smaller) with {}\n",
                             c.sent_median, first.raw_bytes, o.config.cut, first.raw_bytes / c.sent_median,
                             o.config.codec);
  else if (o.config.mode == EdgeMode::kServerOnly)
    std::cout << fmt::format("sent: median {:.0f} B per image (the image files)\n", c.sent_median);
  if (c.labelled) std::cout << fmt::format("top-1 vs labels: {}/{} = {:.3f}\n", c.correct, c.labelled, double(c.correct) / c.labelled);
  if (c.checked)
    std::cout << fmt::format("agreement with the local full model: {}/{} = {:.3f}\n", c.agree, c.checked,
                             double(c.agree) / c.checked);
}

void print_json(const Opts& o, const std::vector<ImageReport>& reports) {
  nlohmann::ordered_json images = nlohmann::ordered_json::array();
  for (const ImageReport& r : reports) {
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (const Prediction& p : r.result.top) top.push_back({{"label", p.label}, {"probability", p.probability}, {"name", p.name}});
    nlohmann::ordered_json timing;
    for (const Column& c : kColumns) timing[c.name] = r.result.timing.*c.field;
    nlohmann::ordered_json j = {{"path", r.job.path}, {"top", top}, {"bytes_sent", r.result.bytes_sent},
                                {"raw_bytes", r.result.raw_bytes}, {"attempts", r.result.attempts}, {"timing", timing}};
    if (r.job.label >= 0) j["label"] = r.job.label;
    if (r.local_top1 != -1) j["local_top1"] = r.local_top1;
    images.push_back(j);
  }
  nlohmann::ordered_json latency;
  for (const Column& c : kColumns) {
    const auto values = column_values(reports, c.field);
    latency[c.name] = {{"median", quantile(values, 0.5)}, {"p95", quantile(values, 0.95)}};
  }
  const Counts c = count(reports);
  nlohmann::ordered_json summary = {{"images", reports.size()},
                                    {"bytes_sent_median", c.sent_median},
                                    {"raw_bytes", reports.front().result.raw_bytes},
                                    {"latency_seconds", latency}};
  summary["top1_accuracy"] = c.labelled ? nlohmann::ordered_json(double(c.correct) / c.labelled) : nullptr;
  summary["local_agreement"] = c.checked ? nlohmann::ordered_json(double(c.agree) / c.checked) : nullptr;
  std::cout << nlohmann::ordered_json{{"model", o.model},
                                      {"mode", mode_name(o.config.mode)},
                                      {"cut", o.config.cut},
                                      {"codec", o.config.mode == EdgeMode::kSplit ? o.config.codec : ""},
                                      {"chunks", o.config.mode == EdgeMode::kSplit ? o.config.chunks : 0},
                                      {"summary", summary},
                                      {"images", images}}
                   .dump(2)
            << "\n";
}

int run_edge(Opts& o) {
  const Stopwatch clock;
  if (o.edge_only && o.server_only) return fail(Error("--edge-only and --server-only exclude each other"));
  if (o.config.chunks > 1 && (o.auto_plan || o.edge_only || o.server_only))
    return fail(Error("--chunks applies to a split given with --cut only"));
  if (o.auto_plan && (o.edge_only || o.server_only || !o.config.cut.empty()))
    return fail(Error("--auto chooses the plan itself: drop --cut, --edge-only and --server-only"));
  o.config.mode = o.edge_only ? EdgeMode::kEdgeOnly : o.server_only ? EdgeMode::kServerOnly : EdgeMode::kSplit;
  if (!o.auto_plan && o.config.mode == EdgeMode::kSplit && o.config.cut.empty())
    return fail(Error("split mode needs --cut (see `disc cuts MODEL`), or use --edge-only / --server-only / --auto"));
  if (o.config.mode != EdgeMode::kEdgeOnly && o.connection.client_options().servers.empty())
    return fail(Error("--server is required unless --edge-only"));
  set_inference_threads(o.threads);

  auto catalog = AssetCatalog::load(globals().assets_dir);
  if (!catalog.ok()) return fail(catalog.error());
  auto entry = catalog->find_model(o.model);
  if (!entry.ok()) return fail(entry.error());
  auto jobs = collect_images(o, *catalog, *entry);
  if (!jobs.ok()) return fail(jobs.error());
  auto dataset = catalog->load_dataset(entry->dataset);
  const std::vector<std::string> class_names = dataset.ok() ? dataset->class_names : std::vector<std::string>{};

  std::unique_ptr<EdgeClient> client;
  if (o.config.mode != EdgeMode::kEdgeOnly) {
    auto connected = EdgeClient::connect(o.connection.client_options());
    if (!connected.ok()) return fail(connected.error());
    client = std::move(connected).value();
  }
  std::unique_ptr<EdgePipeline> local;
  if (o.check_local) {
    EdgeConfig local_config = o.config;
    local_config.mode = EdgeMode::kEdgeOnly;
    auto made = EdgePipeline::create(*entry, class_names, local_config, nullptr);
    if (!made.ok()) return fail(made.error());
    local = std::move(made).value();
  }
  if (o.auto_plan) {
    o.auto_settings.json = o.json;
    o.auto_settings.options.top_k = o.config.top_k;
    o.auto_settings.options.warm_new_plans = o.warmup > 0;
    return run_edge_auto(o.auto_settings, *entry, class_names, *jobs, *client, local.get(), clock);
  }
  auto pipeline = EdgePipeline::create(*entry, class_names, o.config, client.get());
  if (!pipeline.ok()) return fail(pipeline.error());

  // Untimed runs first: the server builds the cut's tail and both sides warm up.
  for (int i = 0; i < o.warmup; ++i)
    if (auto r = (*pipeline)->run(jobs->front().path); !r.ok()) return fail(r.error());

  std::vector<ImageReport> reports;
  Progress progress("edge", jobs->size());
  for (const ImageJob& job : *jobs) {
    auto result = (*pipeline)->run(job.path);
    if (!result.ok()) return fail(result.error());
    ImageReport report{job, std::move(result).value()};
    if (local) {
      auto reference = local->run(job.path);
      if (!reference.ok()) return fail(reference.error());
      report.local_top1 = reference->top.empty() ? -2 : reference->top.front().label;
    }
    reports.push_back(std::move(report));
    progress.update(reports.size(), top1_text(reports.back().result));
  }
  progress.finish();
  if (o.json)
    print_json(o, reports);
  else
    print_table(o, reports);
  return 0;
}

const CommandRegistration edge_command{{
    "edge", "classify images as an edge device: head here, tail on a `disc serve` server",
    [](CLI::App& app) -> std::function<int()> {
      auto o = std::make_shared<Opts>();
      o->config.codec = "disc";
      o->connection.add_to(app, /*server_required=*/false);
      app.add_option("-m,--model", o->model, "models.json model name")->required();
      app.add_option("-c,--cut", o->config.cut, "cut tensor (split mode)");
      app.add_option("--codec", o->config.codec, "codec spec for the cut's feature map (see `disc codecs`)")
          ->capture_default_str();
      app.add_option("--chunks", o->config.chunks,
                     "split mode: send the feature map as N chunks so that encoding and the server's decoding "
                     "overlap the transfer (doc/FORMAT.md, \"Chunked feature maps\")")
          ->check(CLI::Range(1, 1024))
          ->capture_default_str();
      app.add_flag("--edge-only", o->edge_only, "run the whole model here; send nothing");
      app.add_flag("--server-only", o->server_only, "upload the image files; the server runs the whole model");
      app.add_option("IMAGE", o->images, "image files");
      app.add_option("--dataset-images", o->dataset_images, "also classify N images of the model's data set");
      app.add_option("--first-image", o->first_image, "with --dataset-images: index of the first one")
          ->capture_default_str();
      app.add_option("-k,--top-k", o->config.top_k, "classes per answer")->check(CLI::Range(1, 1000))->capture_default_str();
      app.add_option("--warmup", o->warmup, "untimed runs of the first image before measuring")
          ->check(CLI::Range(0, 100))
          ->capture_default_str();
      app.add_option("--threads", o->threads, "OpenCV threads (0 = OpenCV default)")->check(CLI::Range(0, 256));
      app.add_flag("--check-local", o->check_local, "also run the whole model locally and report top-1 agreement");
      app.add_flag("--json", o->json, "machine-readable output");
      app.add_flag("--auto", o->auto_plan, "AGLOP online mode: re-plan cut and codec per request (needs --profile, --table)");
      AutoSettings& a = o->auto_settings;
      app.add_option("--profile", a.profile, "--auto: profile JSON from `disc profile`");
      app.add_option("--table", a.table, "--auto: rate-accuracy table JSON (report.json of `disc eval`)");
      app.add_option("--budget", a.options.top1_budget_pp, "--auto: largest acceptable top-1 loss, percentage points")
          ->capture_default_str();
      app.add_option("--edge-speed", a.options.edge_speed, "--auto: edge speed relative to the profiling machine")
          ->capture_default_str();
      app.add_option("--rtt-ms", a.rtt_ms, "--auto: fixed transfer cost in ms (default: median Describe round trip)")
          ->check(CLI::Range(0.0, 1e6));
      app.add_option("--initial-bandwidth", a.initial_bandwidth, "--auto: bandwidth estimate before any transfer")
          ->capture_default_str();
      app.add_option("--burst", a.options.burst_bytes,
                     "--auto: bytes per request the link passes before its rate applies (shaper bucket), if known")
          ->check(CLI::Range(0.0, 1e12))
          ->capture_default_str();
      app.add_option("--compute-alpha", a.options.compute_alpha,
                     "--auto: EWMA weight of each request's measured/profiled compute time (0 = trust the profile)")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str();
      app.add_option("--min-sample-bytes", a.options.min_sample_bytes,
                     "--auto: smallest request that feeds the bandwidth estimator")
          ->capture_default_str();
      app.add_option("--probe-every", a.options.probe_every,
                     "--auto: requests in a row without a bandwidth sample before a probe (0 = never)")
          ->capture_default_str();
      return [o] { return run_edge(*o); };
    }}};

}  // namespace
}  // namespace disc::cli
