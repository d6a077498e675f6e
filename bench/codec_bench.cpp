// Encode/decode throughput (GB/s of fp32 input, single thread unless a name says threads=N) and compression ratio of
// every registered codec on realistic feature maps, beside memcpy and plain zstd level 1
// on the same bytes. Maps: the synthetic ones plus every .npy in $DISC_BENCH_FEATURES.
#include <benchmark/benchmark.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>

#include "disc/codec.hpp"
#include "disc/npy.hpp"
#include "synthetic_maps.hpp"

namespace {

using disc::bench::FeatureMap;

std::vector<FeatureMap> load_maps() {
  std::vector<FeatureMap> maps = disc::bench::synthetic_feature_maps();
  const char* dir = std::getenv("DISC_BENCH_FEATURES");
  if (!dir) return maps;
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".npy") files.push_back(entry.path());
  if (ec) std::cerr << "DISC_BENCH_FEATURES: " << ec.message() << "\n";
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto tensor = disc::read_npy(file.string());
    if (!tensor.ok()) {
      std::cerr << file.string() << ": " << tensor.error().message() << "\n";
      continue;
    }
    maps.push_back({file.stem().string(), std::move(tensor).value()});
  }
  return maps;
}

// Each codec at its defaults, and at speed=1 / transform=1 if it has such a parameter; and
// disc at the end-to-end benchmark's setting (range-coded path, doc/RESULTS.md), in the
// transform mode with the energy gain (whose encoder decodes its own payload) and with
// whole-plane blocks (transforms up to 32 points instead of 8).
std::vector<std::string> codec_specs() {
  std::vector<std::string> specs = {"disc:bits=3,clip=3", "disc:transform=1,gain=1", "disc:transform=1,tile=1",
                                    "disc:cells=1,bits=2,clip=2.7"};
  for (const disc::CodecInfo& info : disc::codec_list()) {
    specs.push_back(info.name);
    for (const disc::ParamInfo& p : info.params)
      if (p.name == "speed" || p.name == "transform") specs.push_back(info.name + ":" + p.name + "=1");
  }
  return specs;
}

void set_throughput(benchmark::State& state, const disc::Tensor& t) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(t.bytes()));
}

void bench_memcpy(benchmark::State& state, const disc::Tensor* t) {
  std::vector<float> copy(t->size());
  for (auto _ : state) {
    std::memcpy(copy.data(), t->data(), t->bytes());
    benchmark::DoNotOptimize(copy.data());
    benchmark::ClobberMemory();
  }
  set_throughput(state, *t);
}

void bench_zstd1_compress(benchmark::State& state, const disc::Tensor* t) {
  std::vector<char> out(ZSTD_compressBound(t->bytes()));
  size_t n = 0;
  for (auto _ : state) {
    n = ZSTD_compress(out.data(), out.size(), t->data(), t->bytes(), 1);
    benchmark::DoNotOptimize(out.data());
  }
  if (ZSTD_isError(n)) return state.SkipWithError(ZSTD_getErrorName(n));
  set_throughput(state, *t);
  state.counters["ratio"] = static_cast<double>(t->bytes()) / static_cast<double>(n);
}

void bench_zstd1_decompress(benchmark::State& state, const disc::Tensor* t) {
  std::vector<char> frame(ZSTD_compressBound(t->bytes()));
  frame.resize(ZSTD_compress(frame.data(), frame.size(), t->data(), t->bytes(), 1));
  std::vector<float> out(t->size());
  for (auto _ : state) {
    const size_t n = ZSTD_decompress(out.data(), t->bytes(), frame.data(), frame.size());
    if (n != t->bytes()) return state.SkipWithError("zstd round trip failed");
    benchmark::DoNotOptimize(out.data());
  }
  set_throughput(state, *t);
}

// Stream size (header + payload + CRC), as sent over the wire.
void bench_encode(benchmark::State& state, const disc::Tensor* t, std::string spec,
                  std::shared_ptr<const disc::ConvKernel> reader = nullptr, int threads = 1) {
  auto parsed = disc::CodecSpec::parse(spec);
  if (!parsed.ok()) return state.SkipWithError(parsed.error().message().c_str());
  auto codec = disc::make_codec(*parsed, disc::EncoderContext{std::move(reader), threads});
  if (!codec.ok()) return state.SkipWithError(codec.error().message().c_str());
  size_t stream_bytes = 0;
  for (auto _ : state) {
    auto stream = disc::compress(*t, **codec);
    if (!stream.ok()) return state.SkipWithError(stream.error().message().c_str());
    stream_bytes = stream->size();
    benchmark::DoNotOptimize(stream->data());
  }
  set_throughput(state, *t);
  state.counters["ratio"] = static_cast<double>(t->bytes()) / static_cast<double>(stream_bytes);
}

// Also reports the reconstruction error relative to the map's max |x|.
void bench_decode(benchmark::State& state, const disc::Tensor* t, std::string spec) {
  auto codec = disc::make_codec(spec);
  if (!codec.ok()) return state.SkipWithError(codec.error().message().c_str());
  auto stream = disc::compress(*t, **codec);
  if (!stream.ok()) return state.SkipWithError(stream.error().message().c_str());
  disc::Tensor back;
  for (auto _ : state) {
    auto decoded = disc::decompress(*stream);
    if (!decoded.ok()) return state.SkipWithError(decoded.error().message().c_str());
    back = std::move(decoded).value();
  }
  set_throughput(state, *t);
  double max_abs = 0, max_err = 0, squared = 0;
  for (size_t i = 0; i < t->size(); ++i) {
    const double err = std::fabs(double{t->data()[i]} - back.data()[i]);
    max_abs = std::max(max_abs, std::fabs(double{t->data()[i]}));
    max_err = std::max(max_err, err);
    squared += err * err;
  }
  const double norm = max_abs > 0 ? max_abs : 1;
  state.counters["ratio"] = static_cast<double>(t->bytes()) / static_cast<double>(stream->size());
  state.counters["max_err"] = max_err / norm;
  state.counters["rmse"] = std::sqrt(squared / static_cast<double>(t->size())) / norm;
}

// The two kinds of reading convolution shaping (shape=1|2) gains most with (doc/CODEC.md): a stride-2 3x3
// depthwise one (mobilenet_v2) and a 1x1 one to an eighth of the channels (squeezenet's
// squeeze layers); and each followed by its activation (a ReLU6 and a ReLU, no bias), which the
// descents then measure their error after. Weights are seeded pseudo-random: the cost depends on
// the shape only.
std::vector<std::pair<std::string, std::shared_ptr<const disc::ConvKernel>>> reading_convolutions(const disc::Shape& shape) {
  if (shape.size() != 4) return {};
  const int channels = static_cast<int>(shape[1]);
  disc::ConvKernel depthwise;
  depthwise.out_channels = depthwise.groups = channels;
  depthwise.in_per_group = 1;
  depthwise.kernel_h = depthwise.kernel_w = 3;
  depthwise.stride_h = depthwise.stride_w = 2;
  depthwise.pad_bottom = depthwise.pad_right = 1;
  disc::ConvKernel squeeze;
  squeeze.out_channels = std::max(1, channels / 8);
  squeeze.in_per_group = channels;
  uint32_t state = 12345;
  for (disc::ConvKernel* k : {&depthwise, &squeeze}) {
    k->weights.resize(static_cast<size_t>(k->out_channels) * k->in_per_group * k->kernel_h * k->kernel_w);
    for (float& w : k->weights) w = static_cast<float>((state = state * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
  }
  disc::ConvKernel depthwise_relu6 = depthwise, squeeze_relu = squeeze;
  depthwise_relu6.activation = disc::ConvActivation{std::vector<float>(static_cast<size_t>(channels), 0.0f), 0.0f, 6.0f};
  squeeze_relu.activation = disc::ConvActivation{std::vector<float>(static_cast<size_t>(squeeze.out_channels), 0.0f),
                                                 0.0f, std::numeric_limits<float>::infinity()};
  return {{"depthwise3x3s2", std::make_shared<const disc::ConvKernel>(std::move(depthwise))},
          {"squeeze1x1", std::make_shared<const disc::ConvKernel>(std::move(squeeze))},
          {"depthwise3x3s2relu6", std::make_shared<const disc::ConvKernel>(std::move(depthwise_relu6))},
          {"squeeze1x1relu", std::make_shared<const disc::ConvKernel>(std::move(squeeze_relu))}};
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Benchmarks hold pointers into `maps`, which lives until they have run.
  const std::vector<FeatureMap> maps = load_maps();
  const std::vector<std::string> specs = codec_specs();
  for (const FeatureMap& map : maps) {
    const disc::Tensor* t = &map.tensor;
    const std::string suffix = "/" + map.name;
    benchmark::RegisterBenchmark(("memcpy" + suffix).c_str(), bench_memcpy, t);
    benchmark::RegisterBenchmark(("zstd1_compress" + suffix).c_str(), bench_zstd1_compress, t);
    benchmark::RegisterBenchmark(("zstd1_decompress" + suffix).c_str(), bench_zstd1_decompress, t);
    for (const std::string& spec : specs) {
      benchmark::RegisterBenchmark(("encode/" + spec + suffix).c_str(), bench_encode, t, spec, nullptr, 1);
      benchmark::RegisterBenchmark(("decode/" + spec + suffix).c_str(), bench_decode, t, spec);
    }
    // Shaped levels (and cell counts) beside the same unshaped; decoding does not change. Under
    // the depthwise reader also on 2 threads (the same stream), timed by the wall clock like the
    // rest of these.
    for (const std::string levels : {"bits=1,clip=2", "bits=2,levels=2,clip=4", "cells=1,bits=2,clip=2.7"}) {
      if (std::find(specs.begin(), specs.end(), "disc:" + levels) == specs.end())
        benchmark::RegisterBenchmark(("encode/disc:" + levels + suffix).c_str(), bench_encode, t, "disc:" + levels,
                                     nullptr, 1)
            ->UseRealTime();
      for (const std::string shaping : {"shape=1,", "shape=2,", "shape=3,"})
        for (const auto& [name, reader] : reading_convolutions(t->shape()))
          for (const int threads : {1, 2}) {
            if (threads > 1 && reader->groups == 1) continue;
            const std::string label = threads > 1 ? name + ",threads=" + std::to_string(threads) : name;
            benchmark::RegisterBenchmark(("encode/disc:" + shaping + levels + "[" + label + "]" + suffix).c_str(),
                                         bench_encode, t, "disc:" + shaping + levels, reader, threads)
                ->UseRealTime();
          }
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
