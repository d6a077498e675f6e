// Sweep grids: what `--codecs NAME` evaluates when no explicit grid is given.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "disc/eval.hpp"

namespace disc {
namespace {

// Default grids span each codec's useful range from near-lossless to heavily lossy; a
// codec's default sweep is the union of its grids. For element-wise disc the accuracy
// follows the quantization step (clip value / levels) more than either parameter alone,
// so those grids step through clip at each bit depth, and through the largest level at
// bits=4 (every levels=L from 9 to 13: steps between bits=3's and bits=4's without clipping at
// a few RMS, which squeezenet's accuracy needs, and one step of L moves its ratio 7-8 %;
// doc/CODEC.md "Levels between bit depths"); zero-level offsets with per-plane
// mean correction (centroid=2,mean=1) at bits=2, also with a small dead zone (prune=0.2),
// gave the best ratio at <= 1 pp on the three hard ReLU cuts (doc/CODEC.md, issue 4), and
// at bits=3 the only setting ahead of JPEG at mobilenet_v1's /Clip_11_output_0
// (doc/RESULTS.md); error diffusion lowered the KL at equal ratio on most hard cuts and
// lets a stronger dead zone through (doc/CODEC.md "Error diffusion"); the transform grid is
// the one measured in doc/CODEC.md, and its coarser half again with the energy gain, which
// lowered the KL on unsigned maps but raised it at most settings on a signed one, plus hf=1.25
// and 1.5 at bits=4, which the gain made usable on resnet56 (doc/CODEC.md "Energy gain");
// levels shaped for the convolution that reads the cut (left out at cuts no single
// convolution reads) from 46x to 97x on tuning images, with level units moved between
// neighbours (shape=2), which lowered the KL by a third at equal ratio where the reader's
// footprints overlap (doc/CODEC.md "Shaping for the convolution that reads the map"); and cell
// counts shaped the same way, which under a stride-2 depthwise reader halved the KL of those
// halftones at equal ratio, and lose to them under a 1x1 one (doc/CODEC.md "Cell counts"); and
// both with the descents' rate term (shape=3), 3-29 % more ratio at equal KL where the reader's
// activation is known (doc/CODEC.md "A rate term in the descents"). A codec without an entry is
// evaluated at its defaults only.
const std::map<std::string, std::vector<std::string>>& default_grids() {
  static const std::map<std::string, std::vector<std::string>> grids = {
      {"disc",
       {"disc:bits=2,clip=1|1.5|2|3",
        "disc:bits=3,clip=2|3|4|5|6",
        "disc:bits=4,clip=4|6|8",
        "disc:bits=4,levels=9|10|11|12|13,clip=0|8",
        "disc:bits=3,clip=4,prune=0.25|0.4",
        "disc:bits=2,clip=3|3.5|4,prune=0|0.2,centroid=2,mean=1",
        "disc:bits=3,clip=2.5|3,prune=0.2,centroid=2,mean=1",
        "disc:bits=2,clip=4.5,prune=0.2|0.3|0.4,centroid=2,mean=1,diffuse=0.5",
        "disc:transform=1,bits=4|5|6,hf=0.25|0.5|1|2",
        "disc:transform=1,bits=4,hf=0.5|1|1.25|1.5|2,gain=1",
        "disc:transform=1,bits=5,hf=0.5|1|2,gain=1",
        "disc:transform=1,tile=1,gain=1,bits=4,hf=0.5|1",
        "disc:transform=1,tile=1,gain=1,bits=5,hf=1|1.5|2|2.5|3",
        "disc:transform=1,tile=1,gain=1,bits=6,hf=4",
        "disc:shape=2,bits=1,clip=1.5|2|2.5|3|4",
        "disc:shape=2,bits=2,levels=2,clip=3|4",
        "disc:shape=2,bits=2,clip=4",
        "disc:cells=1,shape=2,bits=2,clip=2.25|2.7|3.3|4",
        "disc:cells=1,shape=2,bits=2,levels=2,clip=2|2.5|3",
        "disc:shape=3,bits=1,clip=2|2.5|3|4",
        "disc:cells=1,shape=3,bits=2,clip=2|2.25|2.7",
        "disc:cells=1,shape=3,bits=2,levels=2,clip=2"}},
      {"jpeg", {"jpeg:quality=10|20|30|40|50|60|70|80|90"}},
      {"zfp", {"zfp:tolerance=0.2|0.1|0.05|0.02"}},
  };
  return grids;
}

// Splits `text` at `sep`.
std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

// "name:a=1|2,b=3" -> specs for every combination, validated by make_codec and check_encodable.
Result<std::vector<CodecSpec>> expand_grid(const std::string& grid) {
  const size_t colon = grid.find(':');
  const std::string name = grid.substr(0, colon);
  std::vector<std::string> combos = {name};
  if (colon != std::string::npos) {
    for (const std::string& item : split(grid.substr(colon + 1), ',')) {
      const size_t eq = item.find('=');
      if (eq == std::string::npos) return Error("sweep item '" + item + "' is not key=value|value...");
      std::vector<std::string> next;
      for (const std::string& prefix : combos)
        for (const std::string& value : split(item.substr(eq + 1), '|'))
          next.push_back(prefix + (prefix == name ? ":" : ",") + item.substr(0, eq) + "=" + value);
      combos = std::move(next);
    }
  }
  std::vector<CodecSpec> specs;
  for (const std::string& text : combos) {
    DISC_ASSIGN_OR_RETURN(auto codec, make_codec(text));  // validates names, keys and ranges
    if (Status s = codec->check_encodable(); !s.ok()) return s.error().with_context(text);
    specs.push_back(codec->spec());
  }
  return specs;
}

}  // namespace

Result<std::vector<CodecSpec>> expand_sweep(const std::vector<std::string>& items) {
  std::vector<CodecSpec> all;
  std::set<std::string> seen;
  for (const std::string& item : items) {
    const auto defaults = default_grids().find(item);
    const std::vector<std::string> grids =
        defaults != default_grids().end() ? defaults->second : std::vector<std::string>{item};
    for (const std::string& grid : grids) {
      auto specs = expand_grid(grid);
      if (!specs.ok()) return specs.error().with_context("sweep '" + item + "'");
      for (CodecSpec& spec : *specs)
        if (seen.insert(spec.to_string()).second) all.push_back(std::move(spec));
    }
  }
  return all;
}

}  // namespace disc
