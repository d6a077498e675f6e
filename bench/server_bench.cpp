// The inference server on loopback, for sizing --workers and --max-queued: what one gRPC call
// costs (Describe), and Infer of one DISC-coded feature map by 1..16 concurrent edge clients
// (one connection each) against 2 workers, with the server's own queue and tail times beside
// the round trip. A second server with a queue of 4 shows refusals under overload.
// Assets: DISC_ASSETS, else the build's default (../shared).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "disc/assets.hpp"
#include "disc/codec.hpp"
#include "disc/edge_client.hpp"
#include "disc/model.hpp"
#include "disc/server.hpp"

namespace {

constexpr char kModel[] = "resnet20_cifar10";
constexpr char kCodec[] = "disc:bits=4";

template <class T>
T value_or_die(disc::Result<T> result, const char* what) {
  if (!result.ok()) throw std::runtime_error(std::string(what) + ": " + result.error().message());
  return std::move(result).value();
}

std::string assets_dir() {
  const char* env = std::getenv("DISC_ASSETS");
  return env && *env ? env : DISC_BENCH_ASSETS_DIR;
}

// The request every client sends: image 0's feature map at the model's middle cut.
struct Request {
  std::string cut;
  disc::Bytes stream;
};

const Request& request() {
  static const Request r = [] {
    auto catalog = value_or_die(disc::AssetCatalog::load(assets_dir()), "assets");
    auto entry = value_or_die(catalog.find_model(kModel), "model");
    auto dataset = value_or_die(catalog.load_dataset(entry.dataset), "dataset");
    auto onnx = value_or_die(disc::OnnxModel::load_file(entry.path), "onnx");
    const disc::CutPoint& cut = onnx.cuts()[onnx.cuts().size() / 2];
    auto split = value_or_die(onnx.split(cut.tensor), "split");
    auto head = value_or_die(disc::Network::from_onnx(split.head), "head");
    auto input = value_or_die(disc::load_image(dataset.images.at(0).path, entry.preprocessing), "image");
    auto map = value_or_die(head.run(input), "head run");
    auto codec = value_or_die(disc::make_codec(kCodec), "codec");
    return Request{cut.tensor, value_or_die(disc::compress(map, *codec), "compress")};
  }();
  return r;
}

// One server per queue size (0: the default), started on first use and kept.
disc::InferenceServer& server(size_t max_queued) {
  static std::mutex mutex;
  static std::map<size_t, std::unique_ptr<disc::InferenceServer>> servers;
  const std::lock_guard lock(mutex);
  auto& s = servers[max_queued];
  if (!s) {
    disc::ServerOptions options;
    options.models = {kModel};
    options.assets_dir = assets_dir();
    options.workers = 2;
    options.max_queued = max_queued;
    s = value_or_die(disc::InferenceServer::start(options), "server");
  }
  return *s;
}

std::unique_ptr<disc::EdgeClient> client(const disc::InferenceServer& s, int retries) {
  disc::ClientOptions options;
  options.servers = {"127.0.0.1:" + std::to_string(s.port())};
  options.retries = retries;
  return value_or_die(disc::EdgeClient::connect(options), "client");
}

void BM_Describe(benchmark::State& state) {
  auto c = client(server(0), 0);
  for (auto _ : state) {
    auto description = c->describe();
    if (!description.ok()) state.SkipWithError(description.error().message().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Describe)->Threads(1)->Threads(8)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Infer against `max_queued` (0: default); counts refusals instead of failing on them.
void run_infer(benchmark::State& state, size_t max_queued) {
  const Request& r = request();
  auto c = client(server(max_queued), 0);
  double queue = 0, tail = 0, round_trip = 0;
  int64_t answered = 0, refused = 0;
  for (auto _ : state) {
    auto answer = c->infer(disc::ModelRef(kModel), r.cut, r.stream, 1);
    if (answer.ok()) {
      ++answered;
      queue += answer->server.queue;
      tail += answer->server.tail;
      round_trip += answer->round_trip_seconds;
    } else if (answer.error().code() == disc::ErrorCode::kUnavailable) {
      ++refused;
    } else {
      state.SkipWithError(answer.error().message().c_str());
      break;
    }
  }
  // Google Benchmark sums each counter over the threads: kIsRate then divides by the run's
  // time, kAvgIterations by all threads' iterations, kAvgThreads by the thread count (a mean of
  // per-thread means, equal to the per-answer mean when threads answer alike).
  const double per_answer_ms = answered > 0 ? 1e3 / static_cast<double>(answered) : 0;
  state.counters["answered/s"] = benchmark::Counter(static_cast<double>(answered), benchmark::Counter::kIsRate);
  state.counters["refused_share"] =
      benchmark::Counter(static_cast<double>(refused), benchmark::Counter::kAvgIterations);
  state.counters["queue_ms"] = benchmark::Counter(queue * per_answer_ms, benchmark::Counter::kAvgThreads);
  state.counters["tail_ms"] = benchmark::Counter(tail * per_answer_ms, benchmark::Counter::kAvgThreads);
  state.counters["rtt_ms"] = benchmark::Counter(round_trip * per_answer_ms, benchmark::Counter::kAvgThreads);
}

void BM_Infer(benchmark::State& state) { run_infer(state, 0); }
BENCHMARK(BM_Infer)->ThreadRange(1, 16)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_InferQueueOf4(benchmark::State& state) { run_infer(state, 4); }
BENCHMARK(BM_InferQueueOf4)->Threads(16)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
