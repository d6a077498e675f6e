#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <set>

#include "disc/chunks.hpp"
#include "disc/eval.hpp"
#include "disc/model.hpp"
#include "eval/label_free_loss.hpp"
#include "eval/parallel.hpp"

namespace disc {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// What the evaluation keeps of one forward pass: the decision and the distribution.
struct Outcome {
  int top1 = -1;                 // output index of the largest logit
  bool top1_correct = false;
  bool top5_correct = false;
  std::vector<double> probabilities;
};

Outcome score(const Tensor& logits, int label, int label_offset) {
  Outcome o;
  const auto v = logits.values();
  std::vector<size_t> order(v.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t k = std::min<size_t>(5, order.size());
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](size_t a, size_t b) { return v[a] > v[b]; });
  o.top1 = static_cast<int>(order[0]);
  o.top1_correct = o.top1 - label_offset == label;
  for (size_t i = 0; i < k; ++i) o.top5_correct |= static_cast<int>(order[i]) - label_offset == label;
  const float peak = v[order[0]];
  double sum = 0;
  o.probabilities.resize(v.size());
  for (size_t i = 0; i < v.size(); ++i) sum += o.probabilities[i] = std::exp(double{v[i]} - peak);
  for (double& p : o.probabilities) p /= sum;
  return o;
}

double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  double kl = 0;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] > 0) kl += p[i] * std::log(p[i] / std::max(q[i], 1e-300));
  return kl;
}

// The networks one worker thread owns (OpenCV nets are not thread-safe).
struct WorkerNets {
  std::unique_ptr<Network> head, tail;
};

class Evaluation {
 public:
  Evaluation(const ModelEntry& model, const Dataset& dataset, const EvalOptions& options)
      : model_(model), dataset_(dataset), options_(options), workers_(static_cast<size_t>(options.threads)) {}

  Result<EvalReport> run() {
    DISC_ASSIGN_OR_RETURN(OnnxModel onnx, OnnxModel::load_file(model_.path, model_.input_shape));
    DISC_RETURN_IF_ERROR(select_images());
    DISC_ASSIGN_OR_RETURN(std::vector<CutPoint> cuts, select_cuts(onnx));
    DISC_RETURN_IF_ERROR(load_inputs());
    report_.model = model_.name;
    report_.images = images_.size();
    report_.first_image = options_.first_image;
    report_.chunks = options_.chunks;
    report_.labelled = std::none_of(images_.begin(), images_.end(),
                                    [](const LabelledImage& image) { return image.label == LabelledImage::kUnlabelled; });
    DISC_RETURN_IF_ERROR(run_full_model(onnx));
    for (const CutPoint& cut : cuts) DISC_RETURN_IF_ERROR(evaluate_cut(onnx, cut));
    if (report_.rows.empty()) {  // an empty report would read as a result
      if (report_.skipped.empty()) return Error("no setting was evaluated: no cut and setting to evaluate");
      return Error(fmt::format("no setting could be evaluated at any cut: {}{}", report_.skipped.front(),
                               report_.skipped.size() > 1
                                   ? fmt::format(" (and {} more left out)", report_.skipped.size() - 1)
                                   : ""));
    }
    return std::move(report_);
  }

 private:
  Status select_images() {
    const size_t available = dataset_.images.size();
    if (options_.images == 0) return Error("no images selected");
    if (options_.first_image >= available || options_.images > available - options_.first_image)
      return Error(std::to_string(options_.images) + " images from index " + std::to_string(options_.first_image) +
                   " run past data set '" + dataset_.name + "', which has " + std::to_string(available));
    images_.assign(dataset_.images.begin() + options_.first_image,
                   dataset_.images.begin() + options_.first_image + options_.images);
    return Status();
  }

  Result<std::vector<CutPoint>> select_cuts(const OnnxModel& onnx) const {
    if (options_.cuts.empty()) return onnx.cuts();
    std::vector<CutPoint> cuts;
    for (const std::string& name : options_.cuts) {
      if (std::count(options_.cuts.begin(), options_.cuts.end(), name) > 1)
        return Error("cut '" + name + "' is listed more than once");
      DISC_ASSIGN_OR_RETURN(CutPoint cut, onnx.find_cut(name));
      cuts.push_back(std::move(cut));
    }
    return cuts;
  }

  Status for_each_image(const std::string& stage, const std::function<Status(size_t, size_t)>& body) {
    return parallel_for(images_.size(), workers_, body, [&](size_t done) {
      if (options_.progress) options_.progress({stage, done, images_.size()});
    });
  }

  Status load_inputs() {
    inputs_.resize(images_.size());
    return for_each_image("load images", [&](size_t, size_t i) -> Status {
      DISC_ASSIGN_OR_RETURN(inputs_[i], load_image(images_[i].path, model_.preprocessing));
      return Status();
    });
  }

  Status run_full_model(const OnnxModel& onnx) {
    std::vector<std::unique_ptr<Network>> nets(workers_);
    const Bytes whole = onnx.serialized();
    size_t top1 = 0, top5 = 0;
    std::vector<Outcome> outcomes(images_.size());
    DISC_RETURN_IF_ERROR(for_each_image("full model", [&](size_t w, size_t i) -> Status {
      if (!nets[w]) {
        DISC_ASSIGN_OR_RETURN(Network net, Network::from_onnx(whole));
        nets[w] = std::make_unique<Network>(std::move(net));
      }
      DISC_ASSIGN_OR_RETURN(Tensor logits, nets[w]->run(inputs_[i]));
      outcomes[i] = score(logits, images_[i].label, model_.label_offset);
      return Status();
    }));
    for (const Outcome& o : outcomes) {
      top1 += o.top1_correct;
      top5 += o.top5_correct;
    }
    report_.reference_top1 = static_cast<double>(top1) / images_.size();
    report_.reference_top5 = static_cast<double>(top5) / images_.size();
    return Status();
  }

  Status evaluate_cut(const OnnxModel& onnx, const CutPoint& cut) {
    DISC_ASSIGN_OR_RETURN(SplitModel split, onnx.split(cut.tensor));
    std::vector<WorkerNets> nets(workers_);
    auto ensure = [&](size_t w) -> Status {
      if (nets[w].head) return Status();
      DISC_ASSIGN_OR_RETURN(Network head, Network::from_onnx(split.head));
      DISC_ASSIGN_OR_RETURN(Network tail, Network::from_onnx(split.tail));
      nets[w].head = std::make_unique<Network>(std::move(head));
      nets[w].tail = std::make_unique<Network>(std::move(tail));
      return Status();
    };
    std::vector<Tensor> features(images_.size());
    std::vector<Outcome> reference(images_.size());
    std::vector<ReferenceLogits> reference_logits(images_.size());
    DISC_RETURN_IF_ERROR(for_each_image("features " + cut.tensor, [&](size_t w, size_t i) -> Status {
      DISC_RETURN_IF_ERROR(ensure(w));
      DISC_ASSIGN_OR_RETURN(features[i], nets[w].head->run(inputs_[i]));
      DISC_ASSIGN_OR_RETURN(Tensor logits, nets[w].tail->run(features[i]));
      reference[i] = score(logits, images_[i].label, model_.label_offset);
      reference_logits[i] = ReferenceLogits(logits.values());
      return Status();
    }));
    size_t ref_top1 = 0, ref_top5 = 0;
    for (const Outcome& o : reference) {
      ref_top1 += o.top1_correct;
      ref_top5 += o.top5_correct;
    }
    // The label-free estimates are made once the whole sweep is in: a setting whose own
    // temperature cannot be fitted borrows the sweep's.
    const size_t first_row = report_.rows.size();
    std::vector<SettingEvidence> sweep_evidence;
    std::vector<bool> lossless;
    const Result<ConvKernel> reader = onnx.reading_convolution(cut.tensor);
    const EncoderContext context{reader.ok() ? std::make_shared<const ConvKernel>(*reader) : nullptr};
    for (const CodecSpec& setting : options_.settings) {
      DISC_ASSIGN_OR_RETURN(auto codec, make_codec(setting, context));
      if (codec->needs_reader() && (!context.reader || options_.chunks > 1)) {
        report_.skipped.push_back(cut.tensor + " " + codec->spec().to_string() + ": " +
                                  (context.reader ? kWholeMapsOnly : reader.error().message()));
        continue;
      }
      struct PerImage {
        size_t bytes = 0;
        double encode_ms = 0, decode_ms = 0, kl = 0;
        bool top1 = false, top5 = false, agree = false;
      };
      std::vector<PerImage> per(images_.size());
      std::vector<ImageEvidence> image_evidence(images_.size());
      const std::string spec = codec->spec().to_string();
      DISC_RETURN_IF_ERROR(for_each_image(cut.tensor + " " + spec, [&](size_t w, size_t i) -> Status {
        DISC_RETURN_IF_ERROR(ensure(w));
        // As the runtime sends it: one stream, or chunks decoded into place one by one.
        DISC_ASSIGN_OR_RETURN(ChunkAssembler assembler, ChunkAssembler::create(features[i].shape()));
        for (const Slab& slab : split_slabs(features[i].shape(), options_.chunks)) {
          auto t0 = Clock::now();
          DISC_ASSIGN_OR_RETURN(Bytes stream, compress_slab(features[i], *codec, slab));
          per[i].encode_ms += ms_since(t0);
          t0 = Clock::now();
          DISC_RETURN_IF_ERROR(assembler.add(stream));
          per[i].decode_ms += ms_since(t0);
          per[i].bytes += stream.size();
        }
        DISC_ASSIGN_OR_RETURN(Tensor decoded, std::move(assembler).finish());
        DISC_ASSIGN_OR_RETURN(Tensor logits, nets[w].tail->run(decoded));
        const Outcome o = score(logits, images_[i].label, model_.label_offset);
        per[i].top1 = o.top1_correct;
        per[i].top5 = o.top5_correct;
        per[i].agree = o.top1 == reference[i].top1;
        per[i].kl = kl_divergence(reference[i].probabilities, o.probabilities);
        image_evidence[i] = reference_logits[i].compare(logits.values());
        return Status();
      }));
      EvalRow row;
      row.cut = cut.tensor;
      row.cut_position = cut.position;
      row.shape = cut.shape;
      row.codec = spec;
      row.codec_name = codec->info().name;
      const double n = static_cast<double>(images_.size());
      size_t top1 = 0, top5 = 0, agree = 0, bytes = 0;
      for (const PerImage& p : per) {
        bytes += p.bytes;
        row.encode_ms += p.encode_ms / n;
        row.decode_ms += p.decode_ms / n;
        row.mean_kl += p.kl / n;
        top1 += p.top1;
        top5 += p.top5;
        agree += p.agree;
      }
      row.mean_bytes = static_cast<double>(bytes) / n;
      row.ratio = static_cast<double>(cut.fp32_bytes()) / row.mean_bytes;
      row.bits_per_element = 8.0 * row.mean_bytes / static_cast<double>(cut.elements);
      row.top1 = top1 / n;
      row.top5 = top5 / n;
      row.top1_loss_pp = 100.0 * (static_cast<double>(ref_top1) - static_cast<double>(top1)) / n;
      row.top5_loss_pp = 100.0 * (static_cast<double>(ref_top5) - static_cast<double>(top5)) / n;
      row.agreement = agree / n;
      sweep_evidence.push_back(sum_evidence(image_evidence));
      lossless.push_back(codec->lossless());
      report_.rows.push_back(std::move(row));
    }
    const std::vector<LossEstimate> estimates = estimate_sweep(sweep_evidence);
    for (size_t s = 0; s < estimates.size(); ++s) {
      EvalRow& row = report_.rows[first_row + s];
      // A lossless codec hands the tail the reference map on every image, not only on these:
      // its loss is known to be 0, where a statistic would read it as 0 ± one image.
      if (lossless[s]) continue;
      row.estimated_loss_pp = estimates[s].mean_pp;
      row.estimated_loss_se_pp = estimates[s].standard_error_pp;
      row.estimate_temperature = estimates[s].temperature;
      row.estimate_temperature_fitted = estimates[s].temperature_fitted;
      row.estimate_temperature_from_sweep = estimates[s].temperature_from_sweep;
    }
    return Status();
  }

  const ModelEntry& model_;
  const Dataset& dataset_;
  const EvalOptions& options_;
  const size_t workers_;
  std::vector<LabelledImage> images_;
  std::vector<Tensor> inputs_;
  EvalReport report_;
};

}  // namespace

Result<EvalReport> evaluate(const ModelEntry& model, const Dataset& dataset, const EvalOptions& options) {
  if (options.settings.empty()) return Error("no codec settings to evaluate");
  // Two spellings of one setting (a parameter at its default given or not) are one setting.
  std::set<std::string> settings;
  for (const CodecSpec& setting : options.settings) {
    DISC_ASSIGN_OR_RETURN(auto codec, make_codec(setting));
    if (!settings.insert(codec->spec().to_string()).second)
      return Error("codec setting " + setting.to_string() + " is listed more than once");
  }
  if (options.chunks < 1) return Error("chunks must be at least 1");
  if (options.threads < 1 || options.threads > kMaxEvalThreads)
    return Error("threads must be in 1.." + std::to_string(kMaxEvalThreads));
  // Parallelism comes from the workers; OpenCV's own pool would oversubscribe the cores.
  if (options.threads > 1) set_inference_threads(1);
  return Evaluation(model, dataset, options).run();
}

}  // namespace disc
