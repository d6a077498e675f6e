// `disc edge`: the edge device. Runs the head, encodes, sends to the server and reports
// the answers with a per-stage timing breakdown.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "loss_option.hpp"
#include "connection_options.hpp"
#include "disc/edge.hpp"
#include "disc/model.hpp"
#include "disc/timing.hpp"
#include "edge_auto.hpp"
#include "edge_compare.hpp"
#include "edge_report.hpp"
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
  bool comparing = false;  // --compare given
  std::string compare;
  uint64_t seed = 1;
  // Options that apply in one mode only (in brackets), given or not: refused outside it.
  std::string auto_option;         // the first --auto option given (--profile, --loss, ...; --auto
                                   // or an `auto` plan of --compare), empty if none
  bool codec_given = false;        // --codec (a split: --cut, or --compare's)
  bool chunks_given = false;       // --chunks (likewise)
  bool seed_given = false;         // --seed (--compare)
  bool first_image_given = false;  // --first-image (--dataset-images)
};

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

int run_edge(Opts& o) {
  const Stopwatch clock;
  if (o.edge_only && o.server_only) return fail(Error("--edge-only and --server-only exclude each other"));
  if (o.seed_given && !o.comparing) return fail(Error("--seed orders the plans of --compare; not without it"));
  if (o.first_image_given && o.dataset_images == 0)
    return fail(Error("--first-image selects data set images: give --dataset-images N too"));
  CompareSettings compare;
  bool needs_server = false;
  bool adaptive = o.auto_plan;  // AGLOP runs: --auto, or an `auto` plan of --compare
  if (o.comparing) {
    if (o.auto_plan || o.edge_only || o.server_only || !o.config.cut.empty())
      return fail(Error("--compare lists the plans itself: drop --cut, --edge-only, --server-only and --auto"));
    auto plans = parse_compared_plans(o.compare, o.config);
    if (!plans.ok()) return fail(plans.error());
    compare.plans = std::move(plans).value();
    bool any_split = false;
    for (const ComparedPlan& plan : compare.plans) {
      needs_server |= plan.adaptive || plan.config.mode != EdgeMode::kEdgeOnly;
      adaptive |= plan.adaptive;
      any_split |= !plan.adaptive && !plan.config.cut.empty();
    }
    if ((o.codec_given || o.chunks_given) && !any_split)
      return fail(Error("--codec and --chunks are defaults for the splits of --compare, and it lists none"));
  } else {
    if (o.config.chunks > 1 && (o.auto_plan || o.edge_only || o.server_only))
      return fail(Error("--chunks applies to a split given with --cut only"));
    if (o.codec_given && (o.auto_plan || o.edge_only || o.server_only))
      return fail(Error("--codec applies to a split given with --cut only (--auto chooses the codec itself)"));
    if (!o.config.cut.empty() && (o.edge_only || o.server_only))
      return fail(Error("--cut names a split: not with --edge-only or --server-only"));
    if (o.auto_plan && (o.edge_only || o.server_only || !o.config.cut.empty()))
      return fail(Error("--auto chooses the plan itself: drop --cut, --edge-only and --server-only"));
    o.config.mode = o.edge_only ? EdgeMode::kEdgeOnly : o.server_only ? EdgeMode::kServerOnly : EdgeMode::kSplit;
    if (!o.auto_plan && o.config.mode == EdgeMode::kSplit && o.config.cut.empty())
      return fail(Error("split mode needs --cut (see `disc cuts MODEL`), or use --edge-only / --server-only / --auto"
                        " / --compare"));
    needs_server = o.config.mode != EdgeMode::kEdgeOnly;
  }
  if (!adaptive && !o.auto_option.empty())
    return fail(Error(o.auto_option + " steers AGLOP: it applies with --auto (or an auto plan of --compare) only"));
  if (needs_server && o.connection.client_options().servers.empty())
    return fail(Error("--server is required unless every plan is edge-only"));
  if (const std::string link = o.connection.link_option_given(); !needs_server && !link.empty())
    return fail(Error(link + " shapes the connection to a server, and every plan here is edge-only"));
  set_inference_threads(o.threads);

  auto catalog = AssetCatalog::load(globals().assets_dir);
  if (!catalog.ok()) return fail(catalog.error());
  auto entry = catalog->find_model(o.model);
  if (!entry.ok()) return fail(entry.error());
  auto jobs = collect_images(o, *catalog, *entry);
  if (!jobs.ok()) return fail(jobs.error());
  auto dataset = catalog->load_dataset(entry->dataset);
  if (dataset.ok())
    if (auto s = check_classes(*entry, *dataset); !s.ok()) return fail(s);
  const std::vector<std::string> class_names = dataset.ok() ? dataset->class_names : std::vector<std::string>{};

  std::unique_ptr<EdgeClient> client;
  if (needs_server) {
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
  o.auto_settings.json = o.json;
  o.auto_settings.options.top_k = o.config.top_k;
  o.auto_settings.options.encode_threads = o.config.encode_threads;
  o.auto_settings.options.warm_new_plans = o.warmup > 0;
  if (o.comparing) {
    compare.seed = o.seed;
    compare.warmup = o.warmup;
    compare.json = o.json;
    compare.auto_settings = o.auto_settings;
    return run_edge_compare(compare, *entry, class_names, *jobs, client.get(), local.get(), clock);
  }
  if (o.auto_plan) return run_edge_auto(o.auto_settings, *entry, class_names, *jobs, *client, local.get(), clock);
  auto pipeline = EdgePipeline::create(*entry, class_names, o.config, client.get());
  if (!pipeline.ok()) return fail(pipeline.error());
  if (auto warm = warm_up(**pipeline, jobs->front().path, o.warmup); !warm.ok()) return fail(warm.error());

  std::vector<ImageReport> reports;
  Progress progress("edge", jobs->size());
  for (const ImageJob& job : *jobs) {
    auto result = (*pipeline)->run(job.path);
    if (!result.ok()) return fail(result.error());
    auto reference = local_top1(local.get(), job.path);
    if (!reference.ok()) return fail(reference.error());
    reports.push_back({job, std::move(result).value(), *reference});
    progress.update(reports.size(), top1_text(reports.back().result));
  }
  progress.finish();
  if (o.json)
    std::cout << fixed_plan_json(o.model, o.config, reports).dump(2) << "\n";
  else
    print_fixed_plan_table(o.config, reports);
  return 0;
}

const CommandRegistration edge_command{{
    "edge", "classify images as an edge device: head here, tail on a `disc serve` server",
    [](CLI::App& app) -> std::function<int()> {
      auto o = std::make_shared<Opts>();
      o->config.codec = "disc";
      o->connection.add_to(app, /*server_required=*/false);
      app.add_option("-m,--model", o->model, "models.json model name")->required();
      app.add_option("-c,--cut", o->config.cut, "cut tensor (split mode)")->check(kNotEmpty);
      CLI::Option* codec =
          app.add_option("--codec", o->config.codec, "codec spec for the cut's feature map (see `disc codecs`)")
              ->capture_default_str();
      CLI::Option* chunks =
          app.add_option("--chunks", o->config.chunks,
                         "split mode: send the feature map as N chunks so that encoding and the server's decoding "
                         "overlap the transfer (doc/FORMAT.md, \"Chunked feature maps\"; --compare: for splits without "
                         "chunks=)")
              ->check(CLI::Range(1, 1024))
              ->capture_default_str();
      app.add_flag("--edge-only", o->edge_only, "run the whole model here; send nothing");
      app.add_flag("--server-only", o->server_only, "upload the image files; the server runs the whole model");
      app.add_option("IMAGE", o->images, "image files");
      app.add_option("--dataset-images", o->dataset_images, "also classify N images of the model's data set")
          ->check(kNotNegative);
      CLI::Option* first_image =
          app.add_option("--first-image", o->first_image, "with --dataset-images: index of the first one")
              ->check(kNotNegative)
              ->capture_default_str();
      app.add_option("-k,--top-k", o->config.top_k, "classes per answer")->check(CLI::Range(1, 1000))->capture_default_str();
      app.add_option("--warmup", o->warmup, "untimed runs of the first image before measuring (--compare: per plan)")
          ->check(CLI::Range(0, 100))
          ->capture_default_str();
      app.add_option("--threads", o->threads, "OpenCV threads (0 = OpenCV default)")->check(CLI::Range(0, 256));
      app.add_option("--encode-threads", o->config.encode_threads,
                     "threads for encoding one map (0 = one per hardware thread; only shape=1|2 under a depthwise "
                     "reader uses more than one, for the same stream)")
          ->check(CLI::Range(0, kMaxEncoderThreads))
          ->capture_default_str();
      app.add_flag("--check-local", o->check_local, "also run the whole model locally and report top-1 agreement");
      app.add_flag("--json", o->json, "machine-readable output");
      app.add_flag("--auto", o->auto_plan, "AGLOP online mode: re-plan cut and codec per request (needs --profile, --table)");
      CLI::Option* compare =
          app.add_option("--compare", o->compare,
                         "measure several plans in this one process: every image runs through every plan, in an "
                         "order shuffled per image (--seed). PLANS is ';'-separated: edge-only, server-only, "
                         "cut=TENSOR[,chunks=N][,codec=SPEC] (codec= last; else --chunks, --codec) and auto "
                         "(AGLOP with the --auto options below, its state kept across images). Prints each plan's "
                         "report (--json: records tagged plan_label, image, order, t) or a table of medians and p95")
              ->option_text("PLANS");
      CLI::Option* seed = app.add_option("--seed", o->seed, "--compare: seed of the per-image plan order")
          ->check(kNotNegative)
          ->capture_default_str();
      AutoSettings& a = o->auto_settings;
      const std::vector<const CLI::Option*> auto_options = {
          app.add_option("--profile", a.profile, "--auto: profile JSON from `disc profile`"),
          app.add_option("--table", a.table, "--auto: rate-accuracy table JSON (report.json of `disc eval`)"),
          add_loss_option(app, a.loss, "--auto: "),
          app.add_option("--budget", a.options.top1_budget_pp, "--auto: largest acceptable top-1 loss, percentage points")
              ->check(kBudget)
              ->capture_default_str(),
          app.add_option("--edge-speed", a.options.edge_speed, "--auto: edge speed relative to the profiling machine")
              ->capture_default_str(),
          app.add_option("--rtt-ms", a.rtt_ms, "--auto: fixed transfer cost in ms (default: median Describe round trip)")
              ->check(kFiniteNotNegative)->check(CLI::Range(0.0, 1e6)),
          app.add_option("--initial-bandwidth", a.initial_bandwidth, "--auto: bandwidth estimate before any transfer")
              ->capture_default_str(),
          app.add_option("--burst", a.options.burst_bytes,
                         "--auto: bytes per request the link passes before its rate applies (shaper bucket), if known")
              ->check(kFiniteNotNegative)->check(CLI::Range(0.0, 1e12))
              ->capture_default_str(),
          app.add_option("--compute-alpha", a.options.compute_alpha,
                         "--auto: EWMA weight of each request's measured/profiled compute time (0 = trust the profile)")
              ->check(kFiniteNotNegative)->check(CLI::Range(0.0, 1.0))
              ->capture_default_str(),
          app.add_option("--min-sample-bytes", a.options.min_sample_bytes,
                         "--auto: smallest request that feeds the bandwidth estimator")
              ->check(kNotNegative)
              ->capture_default_str(),
          app.add_option("--probe-every", a.options.probe_every,
                         "--auto: requests in a row without a bandwidth sample before a probe (0 = never)")
              ->check(kNotNegative)
              ->capture_default_str(),
          app.add_flag_callback("--no-local-fallback", [&a] { a.options.local_fallback = false; },
                       "--auto: fail a request whose server is unreachable, busy or too slow (default: answer it "
                       "with the whole model here and plan edge-only until the next probe)"),
      };
      return [o, compare, codec, chunks, seed, first_image, auto_options] {
        o->comparing = compare->count() > 0;
        o->codec_given = codec->count() > 0;
        o->chunks_given = chunks->count() > 0;
        o->seed_given = seed->count() > 0;
        o->first_image_given = first_image->count() > 0;
        for (const CLI::Option* option : auto_options)
          if (option->count() > 0 && o->auto_option.empty()) o->auto_option = option->get_name();
        return run_edge(*o);
      };
    }}};

}  // namespace
}  // namespace disc::cli
