// Codec subcommands: compress, decompress, inspect, stats, codecs.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>

#include "command.hpp"
#include "disc/codec.hpp"
#include "disc/model.hpp"
#include "disc/npy.hpp"
#include "model_options.hpp"

namespace disc::cli {
namespace {

struct CompressOptions {
  std::string in, out, codec = "disc", model, cut;
};

// The codec for a map of `shape`, given the model and cut when the setting needs them (shape=1|2).
Result<std::unique_ptr<Codec>> codec_for(const CompressOptions& o, const Shape& shape) {
  DISC_ASSIGN_OR_RETURN(const CodecSpec spec, CodecSpec::parse(o.codec));
  if (o.model.empty() != o.cut.empty()) return Error("--model and --cut go together");
  if (o.model.empty()) {
    DISC_ASSIGN_OR_RETURN(auto codec, make_codec(spec));
    if (codec->needs_reader()) return Error(spec.to_string() + " needs --model and --cut (the convolution that reads the map)");
    return codec;
  }
  DISC_ASSIGN_OR_RETURN(const OnnxModel model, load_model_file(o.model));
  DISC_ASSIGN_OR_RETURN(const CutPoint cut, model.find_cut(o.cut));
  if (cut.shape != shape)
    return Error("the map is " + shape_to_string(shape) + ", cut " + cut.tensor + " is " + shape_to_string(cut.shape));
  return model.codec_for_cut(o.cut, spec, /*threads=*/0);
}

const CommandRegistration compress_command{{
    "compress", "compress a .npy feature map into a DISC stream",
    [](CLI::App& app) -> std::function<int()> {
      auto o = std::make_shared<CompressOptions>();
      app.add_option("IN", o->in, "input .npy (float32)")->required();
      app.add_option("OUT", o->out, "output stream")->required();
      app.add_option("-c,--codec", o->codec,
                     "codec and settings, e.g. disc or disc:bits=4 (see `disc codecs`)")
          ->capture_default_str();
      app.add_option("--model", o->model, "models.json name or .onnx path whose cut the map is (for disc's shape=1|2)");
      app.add_option("--cut", o->cut, "the cut tensor the map is (with --model)")->check(kNotEmpty);
      return [o] {
        if (auto s = check_not_same_file(o->in, o->out, "IN and OUT"); !s.ok()) return fail(s);
        auto tensor = read_npy(o->in);
        if (!tensor.ok()) return fail(tensor.error());
        auto codec = codec_for(*o, tensor->shape());
        if (!codec.ok()) return fail(codec.error());
        auto stream = compress(*tensor, **codec);
        if (!stream.ok()) return fail(stream.error().with_context(o->in));
        if (auto s = write_file(o->out, *stream); !s.ok()) return fail(s);
        std::cout << fmt::format("{}: {} -> {} bytes ({:.2f}x, {:.3f} bits/element) with {}\n", o->in,
                                 tensor->bytes(), stream->size(),
                                 static_cast<double>(tensor->bytes()) / stream->size(),
                                 8.0 * stream->size() / tensor->size(), codec.value()->spec().to_string());
        return 0;
      };
    }}};

const CommandRegistration decompress_command{{
    "decompress", "decode a DISC stream into a .npy feature map",
    [](CLI::App& app) -> std::function<int()> {
      auto paths = std::make_shared<std::pair<std::string, std::string>>();
      app.add_option("IN", paths->first, "input stream")->required();
      app.add_option("OUT", paths->second, "output .npy")->required();
      return [paths] {
        if (auto s = check_not_same_file(paths->first, paths->second, "IN and OUT"); !s.ok()) return fail(s);
        auto bytes = read_file(paths->first);
        if (!bytes.ok()) return fail(bytes.error());
        auto tensor = decompress(*bytes);
        if (!tensor.ok()) return fail(tensor.error().with_context(paths->first));
        if (auto s = write_npy(paths->second, *tensor); !s.ok()) return fail(s);
        return 0;
      };
    }}};

const CommandRegistration inspect_command{{
    "inspect", "print a DISC stream's header, sizes and parameters (validates the checksum)",
    [](CLI::App& app) -> std::function<int()> {
      auto path = std::make_shared<std::string>();
      app.add_option("IN", *path, "input stream")->required();
      return [path] {
        auto bytes = read_file(*path);
        if (!bytes.ok()) return fail(bytes.error());
        auto info = inspect(*bytes);
        if (!info.ok()) return fail(info.error().with_context(*path));
        auto count = element_count(info->shape);
        const double raw = 4.0 * count.value();
        std::cout << fmt::format(
            "version     {}\ncodec       {}\nshape       {}\nheader      {} bytes\npayload     {} bytes\n"
            "total       {} bytes (incl. 4-byte CRC-32)\nraw fp32    {:.0f} bytes\nratio       {:.2f}x\n"
            "bits/elem   {:.4f}\n",
            info->version, info->spec.to_string(), shape_to_string(info->shape), info->header_bytes,
            info->payload_bytes, info->total_bytes, raw, raw / info->total_bytes,
            8.0 * info->total_bytes / count.value());
        return 0;
      };
    }}};

// What `disc stats` reports. NaN and infinities are only counted; range, mean, standard
// deviation and entropy are over the finite values, computed in double, where neither
// sums of values near ±3.4e38 nor the range between them overflow.
struct ValueStats {
  size_t nans = 0, positive_infinities = 0, negative_infinities = 0;
  size_t finite = 0, zeros = 0, negatives = 0;  // negatives include -inf
  double lo = 0, hi = 0, mean = 0, std = 0;      // of the finite values (0 without one)
};

ValueStats value_stats(std::span<const float> values) {
  ValueStats s;
  double sum = 0;
  for (float x : values) {
    s.zeros += x == 0.0f;
    s.negatives += x < 0.0f;
    if (std::isnan(x)) {
      ++s.nans;
    } else if (std::isinf(x)) {
      ++(x > 0 ? s.positive_infinities : s.negative_infinities);
    } else {
      s.lo = s.finite == 0 ? x : std::min<double>(s.lo, x);
      s.hi = s.finite == 0 ? x : std::max<double>(s.hi, x);
      sum += x;
      ++s.finite;
    }
  }
  if (s.finite == 0) return s;
  s.mean = sum / s.finite;
  double squares = 0;  // about the mean: no cancellation between two large sums
  for (float x : values)
    if (std::isfinite(x)) squares += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(squares / s.finite);
  return s;
}

// Shannon entropy (bits/element) of the finite `values` uniformly quantized to 2^bits levels
// over [s.lo, s.hi]; requires s.finite > 0.
double quantized_entropy(std::span<const float> values, const ValueStats& s, int bits) {
  const int levels = 1 << bits;
  std::vector<size_t> histogram(levels, 0);
  const double step = s.hi > s.lo ? (s.hi - s.lo) / (levels - 1) : 1.0;
  for (float v : values)
    if (std::isfinite(v)) ++histogram[static_cast<size_t>(std::round((v - s.lo) / step))];
  double h = 0;
  for (size_t c : histogram)
    if (c) {
      const double p = static_cast<double>(c) / s.finite;
      h -= p * std::log2(p);
    }
  return h;
}

const CommandRegistration stats_command{{
    "stats", "statistics of a .npy feature map: shape, sparsity, range, empirical entropy, NaN and infinities",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        std::string in;
        int bits = 4;
      };
      auto o = std::make_shared<Opts>();
      app.add_option("IN", o->in, "input .npy")->required();
      app.add_option("-b,--bits", o->bits, "quantization bits for the entropy estimate")
          ->check(CLI::Range(1, 16))
          ->capture_default_str();
      return [o] {
        auto tensor = read_npy(o->in);
        if (!tensor.ok()) return fail(tensor.error());
        const auto v = tensor->values();
        const ValueStats s = value_stats(v);
        const PlaneView pv = plane_view(tensor->shape());
        size_t empty_planes = 0;
        for (size_t p = 0; p < pv.planes; ++p) {
          auto plane = v.subspan(p * pv.plane_size(), pv.plane_size());
          empty_planes += std::all_of(plane.begin(), plane.end(), [](float x) { return x == 0.0f; });
        }
        const double n = static_cast<double>(v.size());
        std::cout << fmt::format(
            "shape          {}\nelements       {}\nzero fraction  {:.4f}\nnegative frac  {:.4f}\n"
            "empty planes   {} of {}\nnon-finite     {} NaN, {} +inf, {} -inf\n",
            shape_to_string(tensor->shape()), v.size(), s.zeros / n, s.negatives / n, empty_planes, pv.planes,
            s.nans, s.positive_infinities, s.negative_infinities);
        if (s.finite == 0) {
          std::cout << "no finite value: no range, mean, std or entropy\n";
          return 0;
        }
        const double h = quantized_entropy(v, s, o->bits);
        std::cout << fmt::format(
            "{}range          [{:.6g}, {:.6g}]\nmean           {:.6g}\nstd            {:.6g}\n"
            "entropy        {:.4f} bits/element at {} bits uniform over the range (order-0 bound: {} vs fp32)\n",
            s.finite < v.size() ? fmt::format("of the {} finite values:\n", s.finite) : "", s.lo + 0.0, s.hi,
            s.mean, s.std, h, o->bits, h > 0 ? fmt::format("{:.1f}x", 32.0 / h) : std::string("no bound, one level"));
        return 0;
      };
    }}};

const CommandRegistration codecs_command{{
    "codecs", "list the codecs and their parameters",
    [](CLI::App&) -> std::function<int()> {
      return [] {
        for (const CodecInfo& c : codec_list()) {
          std::cout << fmt::format("{:<8} {}{}\n", c.name, c.summary, c.lossless ? "" : " [lossy]");
          for (const ParamInfo& p : c.params)
            std::cout << fmt::format("           {}={} in [{}, {}]{}  {}\n", p.name, p.default_value, p.min,
                                     p.max, p.integer ? " integer" : "", p.help);
        }
        return 0;
      };
    }}};

}  // namespace
}  // namespace disc::cli
