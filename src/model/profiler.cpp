// Latency profile of a model: the whole network and both halves at every cut.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/exception_error.hpp"
#include "disc/model.hpp"

namespace disc {
namespace {

double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

// Milliseconds `net` takes on `input`; its output (or error) goes to `output`.
double run_ms(Network& net, const Tensor& input, Result<Tensor>& output) {
  const auto start = std::chrono::steady_clock::now();
  output = net.run(input);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// One cut's timings: head, tail and the whole model, interleaved per repeat and image so
// that all three come from the same stretch of time.
struct CutSamples {
  std::vector<double> head, tail, full;
};

Result<CutSamples> time_cut(Network& head, Network& tail, Network& full, const std::vector<Tensor>& inputs,
                            int repeats) {
  std::vector<Tensor> features;
  for (const Tensor& input : inputs) {  // untimed first runs (allocations, one-time setup)
    DISC_ASSIGN_OR_RETURN(Tensor feature, head.run(input));
    DISC_RETURN_IF_ERROR(tail.run(feature));
    DISC_RETURN_IF_ERROR(full.run(input));
    features.push_back(std::move(feature));
  }
  CutSamples samples;
  for (int r = 0; r < repeats; ++r)
    for (size_t i = 0; i < inputs.size(); ++i) {
      Result<Tensor> out = Error("not run");
      samples.head.push_back(run_ms(head, inputs[i], out));
      DISC_RETURN_IF_ERROR(out);
      samples.tail.push_back(run_ms(tail, features[i], out));
      DISC_RETURN_IF_ERROR(out);
      samples.full.push_back(run_ms(full, inputs[i], out));
      DISC_RETURN_IF_ERROR(out);
    }
  return samples;
}

}  // namespace

Result<ModelProfile> profile_model(const std::string& name, const OnnxModel& model,
                                   const std::vector<std::string>& image_paths, const Preprocessing& pre,
                                   const ProfileOptions& options) {
  if (image_paths.empty()) return Error("profiling needs at least one image");
  if (options.repeats < 1) return Error("profiling needs at least one repeat");
  set_inference_threads(options.threads);
  ModelProfile profile;
  profile.model = name;
  profile.threads = options.threads;
  profile.repeats = options.repeats;
  profile.images = static_cast<int>(image_paths.size());
  profile.input_name = model.input_name();
  profile.input_shape = model.input_shape();
  std::vector<Tensor> inputs;
  double upload = 0;
  for (const std::string& path : image_paths) {
    DISC_ASSIGN_OR_RETURN(Tensor input, load_image(path, pre));
    inputs.push_back(std::move(input));
    std::error_code ec;
    upload += static_cast<double>(std::filesystem::file_size(path, ec));
    if (ec) return Error(path + ": " + ec.message());
  }
  profile.upload_bytes = upload / image_paths.size();

  // The host's speed drifts (by tens of percent within minutes on shared machines), and
  // the cuts are timed one after another. Each cut's head and tail are therefore rescaled
  // by (median of every whole-model run) / (median of the whole-model runs interleaved with
  // that cut's): the profile reads as if measured at one speed, so head + tail at any cut
  // compares fairly with the whole model and with other cuts.
  DISC_ASSIGN_OR_RETURN(Network full, Network::from_onnx(model.serialized()));
  std::vector<double> all_full;
  std::vector<std::pair<CutSamples, double>> per_cut;  // samples, median of their full runs
  for (const CutPoint& cut : model.cuts()) {
    DISC_ASSIGN_OR_RETURN(SplitModel split, model.split(cut.tensor));
    DISC_ASSIGN_OR_RETURN(Network head, Network::from_onnx(split.head));
    DISC_ASSIGN_OR_RETURN(Network tail, Network::from_onnx(split.tail));
    DISC_ASSIGN_OR_RETURN(CutSamples samples, time_cut(head, tail, full, inputs, options.repeats));
    all_full.insert(all_full.end(), samples.full.begin(), samples.full.end());
    const double local_full = median(samples.full);
    per_cut.emplace_back(std::move(samples), local_full);
    if (options.progress) {
      try {
        options.progress(per_cut.size(), model.cuts().size());
      } catch (...) {
        return exception_error("progress callback");
      }
    }
  }
  if (per_cut.empty()) {  // a model without cuts: the whole model alone
    for (int r = 0; r < options.repeats; ++r)
      for (const Tensor& input : inputs) {
        Result<Tensor> out = Error("not run");
        all_full.push_back(run_ms(full, input, out));
        DISC_RETURN_IF_ERROR(out);
      }
  }
  profile.full_ms = median(all_full);
  const std::vector<CutPoint>& cuts = model.cuts();
  for (size_t c = 0; c < per_cut.size(); ++c) {
    const auto& [samples, local_full] = per_cut[c];
    const double speed = local_full > 0 ? profile.full_ms / local_full : 1.0;
    profile.cuts.push_back({cuts[c], median(samples.head) * speed, median(samples.tail) * speed});
  }
  return profile;
}

std::string profile_to_json(const ModelProfile& profile) {
  using json = nlohmann::ordered_json;
  json cuts = json::array();
  for (const CutTiming& t : profile.cuts)
    cuts.push_back({{"tensor", t.cut.tensor},
                    {"node", t.cut.node},
                    {"op_type", t.cut.op_type},
                    {"position", t.cut.position},
                    {"shape", t.cut.shape},
                    {"elements", t.cut.elements},
                    {"fp32_bytes", t.cut.fp32_bytes()},
                    {"head_ms", t.head_ms},
                    {"tail_ms", t.tail_ms}});
  size_t input_elements = 1;
  for (int64_t d : profile.input_shape) input_elements *= static_cast<size_t>(d);
  const json doc = {{"model", profile.model},
                    {"threads", profile.threads},
                    {"repeats", profile.repeats},
                    {"images", profile.images},
                    {"input",
                     {{"name", profile.input_name},
                      {"shape", profile.input_shape},
                      {"fp32_bytes", input_elements * 4},
                      {"upload_bytes", profile.upload_bytes}}},
                    {"full_ms", profile.full_ms},
                    {"cuts", cuts}};
  return doc.dump(2) + "\n";
}

}  // namespace disc
