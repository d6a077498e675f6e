// Codec subcommands: compress, decompress, inspect, stats, codecs.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>

#include "command.hpp"
#include "disc/codec.hpp"
#include "disc/npy.hpp"

namespace disc::cli {
namespace {

const CommandRegistration compress_command{{
    "compress", "compress a .npy feature map into a DISC stream",
    [](CLI::App& app) -> std::function<int()> {
      struct Opts {
        std::string in, out, codec = "disc";
      };
      auto o = std::make_shared<Opts>();
      app.add_option("IN", o->in, "input .npy (float32)")->required();
      app.add_option("OUT", o->out, "output stream")->required();
      app.add_option("-c,--codec", o->codec,
                     "codec and settings, e.g. disc or disc:bits=4 (see `disc codecs`)")
          ->capture_default_str();
      return [o] {
        auto tensor = read_npy(o->in);
        if (!tensor.ok()) return fail(tensor.error());
        auto codec = make_codec(o->codec);
        if (!codec.ok()) return fail(codec.error());
        auto stream = compress(*tensor, **codec);
        if (!stream.ok()) return fail(stream.error());
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

// Shannon entropy (bits/element) of `values` uniformly quantized to 2^bits levels over [lo, hi].
double quantized_entropy(std::span<const float> values, float lo, float hi, int bits) {
  const int levels = 1 << bits;
  std::vector<size_t> histogram(levels, 0);
  const float step = hi > lo ? (hi - lo) / (levels - 1) : 1.0f;
  for (float v : values) {
    const float q = std::round((std::clamp(v, lo, hi) - lo) / step);
    ++histogram[static_cast<size_t>(q)];
  }
  double h = 0;
  for (size_t c : histogram)
    if (c) {
      const double p = static_cast<double>(c) / values.size();
      h -= p * std::log2(p);
    }
  return h;
}

const CommandRegistration stats_command{{
    "stats", "statistics of a .npy feature map: shape, sparsity, range, empirical entropy",
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
        size_t zeros = 0, negatives = 0;
        double sum = 0, sum2 = 0;
        float lo = v[0], hi = v[0];
        for (float x : v) {
          zeros += x == 0.0f;
          negatives += x < 0.0f;
          sum += x;
          sum2 += double{x} * x;
          lo = std::min(lo, x);
          hi = std::max(hi, x);
        }
        const PlaneView pv = plane_view(tensor->shape());
        size_t empty_planes = 0;
        for (size_t p = 0; p < pv.planes; ++p) {
          auto plane = v.subspan(p * pv.plane_size(), pv.plane_size());
          empty_planes += std::all_of(plane.begin(), plane.end(), [](float x) { return x == 0.0f; });
        }
        const double n = static_cast<double>(v.size());
        const double mean = sum / n;
        const double h = quantized_entropy(v, lo, hi, o->bits);
        std::cout << fmt::format(
            "shape          {}\nelements       {}\nzero fraction  {:.4f}\nnegative frac  {:.4f}\n"
            "empty planes   {} of {}\nrange          [{:.6g}, {:.6g}]\nmean           {:.6g}\n"
            "std            {:.6g}\nentropy        {:.4f} bits/element at {} bits uniform over the range "
            "(order-0 bound: {:.1f}x vs fp32)\n",
            shape_to_string(tensor->shape()), v.size(), zeros / n, negatives / n, empty_planes, pv.planes, lo + 0.0f, hi,
            mean, std::sqrt(std::max(0.0, sum2 / n - mean * mean)), h, o->bits, h > 0 ? 32.0 / h : INFINITY);
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
