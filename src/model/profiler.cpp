// Latency profile of a model: the whole network and both halves at every cut.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "disc/model.hpp"

namespace disc {
namespace {

double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

// Runs `net` once untimed on each input, then `repeats` timed rounds over all inputs.
// Returns the median latency in ms and the outputs of the untimed run.
Result<std::pair<double, std::vector<Tensor>>> time_network(Network& net, const std::vector<Tensor>& inputs,
                                                            int repeats) {
  std::vector<Tensor> outputs;
  for (const Tensor& input : inputs) {
    DISC_ASSIGN_OR_RETURN(Tensor out, net.run(input));
    outputs.push_back(std::move(out));
  }
  std::vector<double> samples;
  for (int r = 0; r < repeats; ++r)
    for (const Tensor& input : inputs) {
      const auto start = std::chrono::steady_clock::now();
      DISC_RETURN_IF_ERROR(net.run(input));
      samples.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
  return std::make_pair(median(std::move(samples)), std::move(outputs));
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

  DISC_ASSIGN_OR_RETURN(Network full, Network::from_onnx(model.serialized()));
  DISC_ASSIGN_OR_RETURN(auto full_timing, time_network(full, inputs, options.repeats));
  profile.full_ms = full_timing.first;
  for (const CutPoint& cut : model.cuts()) {
    DISC_ASSIGN_OR_RETURN(SplitModel split, model.split(cut.tensor));
    DISC_ASSIGN_OR_RETURN(Network head, Network::from_onnx(split.head));
    DISC_ASSIGN_OR_RETURN(Network tail, Network::from_onnx(split.tail));
    DISC_ASSIGN_OR_RETURN(auto head_timing, time_network(head, inputs, options.repeats));
    DISC_ASSIGN_OR_RETURN(auto tail_timing, time_network(tail, head_timing.second, options.repeats));
    profile.cuts.push_back({cut, head_timing.first, tail_timing.first});
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
