// "disc": the DISC feature-map codec. Lossy: prune, clip, quantize to `bits`-bit levels,
// then context-model and range-code them (or, with speed=1, pack them into bytes and zstd them;
// or, with transform=1, quantize and range-code 8x8 DCT coefficients with the same step; or,
// with cells=1, range-code the sum of the levels of each 2x2 cell); with gain=1 the decoder
// then restores the original's energy about the plane means.
// Lossless (bits=0): context-model and range-code the fp32 bit patterns.
// Payload layout in doc/FORMAT.md ("Payload: disc").
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "codec/codec_registry.hpp"
#include "codec/disc/cell_grid.hpp"
#include "codec/disc/cell_shaping.hpp"
#include "codec/disc/energy_gain.hpp"
#include "codec/disc/fast_coder.hpp"
#include "codec/disc/lossless_coder.hpp"
#include "codec/disc/quantizer.hpp"
#include "codec/disc/reader_shaping.hpp"
#include "codec/disc/symbol_coder.hpp"
#include "codec/disc/transform_coder.hpp"
#include "core/bytes.hpp"

namespace disc {
namespace {

using namespace codec_disc;

enum Param {
  kBits, kPrune, kClip, kSpeed, kTransform, kHighFrequency, kChannelSteps, kCentroid, kMean, kDiffuse, kGain, kTile,
  kLevels, kShape, kCells
};

const CodecInfo& disc_info() {
  static const CodecInfo info{
      CodecId::kDisc,
      "disc",
      "prune + clip + b-bit quantization (transform=1: of DCT coefficients) + context-modelled range coding "
      "of feature maps (bits=0: lossless)",
      false,
      {
          {"bits", "bits per quantized level, 1..8 (signed maps: sign included); 0 = lossless", 4, 0, 8, true},
          {"prune", "magnitudes below prune x clip value become exactly 0", 0, 0, 1, false},
          {"clip", "clip magnitudes at clip x RMS of the non-zero values; 0 = no clipping", 6, 0, 1000, false},
          {"speed", "1 = fast entropy stage (levels packed into bytes + zstd) instead of the range coder", 0, 0, 1,
           true},
          {"transform", "1 = quantize the DCT coefficients of each plane's blocks (needs bits >= 1, speed=0, prune=0)",
           0, 0, 1, true},
          {"hf", "transform=1: coefficient (u,v) step = step x (1 + hf x (u+v))", 1, 0, 8, false},
          {"chs",
           "per-plane steps: plane c uses step x 2^(e_c/2), e_c = round(2 chs log2(plane RMS / RMS)); "
           "0 = one step (needs speed=0, transform=0 when > 0)",
           0, 0, 1, false},
          {"centroid",
           "bit mask: 1 = levels >= 1 decode to the mean of the values they hold (element-wise modes); "
           "2 = level 0 of unsigned maps decodes to the mean of its values by neighbourhood (speed=0, "
           "transform=0)",
           0, 0, 3, true},
          {"mean",
           "1 = per-plane mean correction: every element of a plane is shifted so that the plane decodes "
           "to its mean (to step/128; needs speed=0, transform=0)",
           0, 0, 1, true},
          {"diffuse",
           "error diffusion: each element is quantized with this share of the error its coded "
           "neighbours passed on added (Floyd-Steinberg), so mass that rounding and pruning drop "
           "reappears nearby; 0 = plain rounding (needs speed=0, transform=0, chs=0 when > 0)",
           0, 0, 1, false},
          {"gain",
           "1 = energy gain: every plane's deviation from its decoded mean is scaled by one factor, "
           "fitted so that the decoded energy matches the original's (1 byte; encoding then also "
           "decodes; needs bits >= 1, speed=0)",
           0, 0, 1, true},
          {"tile",
           "transform=1: 1 = one DCT block per plane (a side over 32 split into equal tiles of at most 32), "
           "0 = 8x8 blocks",
           0, 0, 1, true},
          {"levels",
           "largest level M, 1..2^bits - 1 (signed maps: at most 2^(bits-1) - 1), so that the step "
           "clip value / M can lie between two bit depths' steps without clipping harder; "
           "0 = 2^bits - 1",
           0, 0, 255, true},
          {"shape",
           "1 = levels moved by +-1 wherever that lowers the squared error of the convolution that reads "
           "the map (the encoder needs it: the model and cut; doc/CODEC.md); 2 = also level units moved "
           "between neighbours (at 1 bit lower error at the same ratio, 2-4x the encoding time of 1); 3 = "
           "as 2, trading a little of that error for rate (smaller levels where the reader barely sees "
           "them); needs bits >= 1, speed=0, transform=0, chs=0, centroid=0, mean=0, diffuse=0, gain=0",
           0, 0, 3, true},
          {"cells",
           "1 = send per 2x2 cell the count of level units, which the decoder spreads over the cell in one "
           "of 4 orders chosen per plane (a quarter of the symbols; with shape=1..3 the counts are chosen "
           "for the reading convolution; doc/CODEC.md); needs bits 1..6 with at most 63 levels, prune=0, "
           "speed=0, transform=0, chs=0, centroid=0, mean=0, diffuse=0, gain=0",
           0, 0, 1, true},
      }};
  return info;
}

constexpr uint8_t kSignedFlag = 1;
constexpr uint8_t kCentroidFlag = 2;    // M int8 centroid offsets follow the step
constexpr uint8_t kPlaneStepFlag = 4;   // plane step exponents in the range-coded body
constexpr uint8_t kDensityFlag = 8;     // zero flags conditioned on the plane's density (range coder)
constexpr uint8_t kZeroFlag = 16;       // 5 zero-level offsets by neighbourhood follow (unsigned, range coder)
constexpr uint8_t kMeanFlag = 32;       // per-plane mean corrections in the range-coded body
constexpr uint8_t kWarmUpFlag = 64;     // range-coder models adapt with Adaptation::kWarmUp
constexpr uint8_t kGainFlag = 128;      // an energy-gain code follows the step
constexpr uint8_t kKnownFlags =
    kSignedFlag | kCentroidFlag | kPlaneStepFlag | kDensityFlag | kZeroFlag | kMeanFlag | kWarmUpFlag | kGainFlag;
// Offset of the energy-gain code in the payload: after the flags byte and the step.
constexpr size_t kGainOffset = 5;
// shape=3's weight of the rate term (shape_levels): measured on tuning images at mobilenet_v1
// /Clip_10_output_0 (0.02 and 0.08), squeezenet /Concat_4_output_0 and mobilenet_v2
// /Clip_12_output_0 (doc/CODEC.md, "A rate term in the descents").
constexpr double kShapingRateWeight = 0.08;

Adaptation adaptation(uint8_t flags) { return flags & kWarmUpFlag ? Adaptation::kWarmUp : Adaptation::kFixed; }

// How the element-wise body is coded, as its flags byte says: the encoder derives it from the
// byte it writes and the decoder from the byte it reads, so the two cannot disagree.
SymbolFormat symbol_format(const Quantizer& quantizer, uint8_t flags) {
  return {quantizer.max_level, quantizer.is_signed, (flags & kDensityFlag) != 0, adaptation(flags)};
}

// With cells=1 the symbols are the counts of 2x2 cells, up to 4 M each.
constexpr int kMaxCellLevel = 63;  // so that 4 M fits the symbol coder's magnitudes (<= 255)
SymbolFormat cell_format(const Quantizer& quantizer, uint8_t flags) {
  SymbolFormat format = symbol_format(quantizer, flags);
  format.max_magnitude = 4 * quantizer.max_level;
  return format;
}
PlaneView cell_view(const PlaneView& view) {
  const CellPlane grid{view.height, view.width};
  return {view.planes, grid.rows(), grid.cols()};
}

// Mean corrections are in units of step / kMeanUnit.
constexpr float kMeanUnit = 64;

// Decodes the levels of one plane into `out`: level values (plane step, centroids), the
// zero-level offsets `zero` (null: none) by the plane's zero classes `classes` (see
// zero_classes(); needed only with `zero`), then the mean correction (0: none), added to every
// element. Unsigned maps never decode negative. Level values are plane.value(q) per element:
// a vectorizable product without centroids, else one lookup in a table of plane.value(q).
void reconstruct_plane(const Quantizer& plane, const int16_t* levels, const PlaneView& view, const uint8_t* zero,
                       const uint8_t* classes, int correction, float* out) {
  const size_t n = view.plane_size();
  if (plane.unit.empty()) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(levels[i]) * plane.step;
  } else {
    const int m = plane.max_level;  // levels are in -m..m (0..m unsigned); m <= 255 as bits <= 8
    assert(m <= 255);
    float value[2 * 255 + 1];
    for (int q = -m; q <= m; ++q) value[q + m] = plane.value(q);
    for (size_t i = 0; i < n; ++i) out[i] = value[levels[i] + m];
  }
  if (zero) {
    float zero_value[kZeroClasses];
    for (int c = 0; c < kZeroClasses; ++c) zero_value[c] = static_cast<float>(zero[c]) / 512.0f * plane.step;
    for (size_t i = 0; i < n; ++i) out[i] = levels[i] == 0 ? zero_value[classes[i]] : out[i];
  }
  if (correction == 0) return;
  const float delta = static_cast<float>(correction) / kMeanUnit * plane.step;
  for (size_t i = 0; i < n; ++i) {
    const float v = out[i] + delta;
    out[i] = plane.is_signed ? v : std::max(0.0f, v);
  }
}

// The correction d_p of each plane: round(kMeanUnit * (true mean - decoded mean) / step_p),
// clamped to kMinMeanCorrection..kMaxMeanCorrection; 0 for a plane of level 0 only (not coded).
// `classes`: the zero classes of every element (with `zero` only).
std::vector<int8_t> mean_corrections(const PlaneView& view, std::span<const float> values,
                                     std::span<const int16_t> levels, const Quantizer& quantizer,
                                     std::span<const int8_t> exponents, const uint8_t* zero, const uint8_t* classes) {
  std::vector<int8_t> corrections(view.planes, 0);
  std::vector<float> decoded(view.plane_size());
  for (size_t p = 0; p < view.planes; ++p) {
    const int16_t* plane_levels = levels.data() + p * view.plane_size();
    if (std::all_of(plane_levels, plane_levels + view.plane_size(), [](int16_t q) { return q == 0; })) continue;
    Quantizer plane = quantizer;
    if (!exponents.empty()) {
      auto q = plane_quantizer(quantizer, exponents[p]);
      if (!q.ok()) continue;
      plane = *q;
    }
    reconstruct_plane(plane, plane_levels, view, zero, zero ? classes + p * view.plane_size() : nullptr, 0,
                      decoded.data());
    double difference = 0;
    for (size_t i = 0; i < view.plane_size(); ++i) difference += double{values[p * view.plane_size() + i]} - decoded[i];
    const double d = std::round(kMeanUnit * difference / (static_cast<double>(view.plane_size()) * plane.step));
    corrections[p] = static_cast<int8_t>(std::clamp(d, double{kMinMeanCorrection}, double{kMaxMeanCorrection}));
  }
  return corrections;
}

class DiscCodec final : public Codec {
 public:
  DiscCodec(std::vector<float> params, const EncoderContext& context)
      : Codec(std::move(params)),
        reader_(context.reader),
        threads_(context.threads > 0 ? context.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) {}
  const CodecInfo& info() const override { return disc_info(); }

  int bits() const { return static_cast<int>(params()[kBits]); }
  int levels() const { return static_cast<int>(params()[kLevels]); }
  bool fast() const { return params()[kSpeed] != 0; }
  bool transform() const { return params()[kTransform] != 0; }
  bool centroid() const { return (static_cast<int>(params()[kCentroid]) & 1) && !transform(); }
  bool zero_centroid() const { return (static_cast<int>(params()[kCentroid]) & 2) && !transform() && !fast(); }
  int mean() const { return transform() || fast() ? 0 : static_cast<int>(params()[kMean]); }
  bool gain() const { return params()[kGain] != 0; }
  bool shape() const { return params()[kShape] != 0; }
  bool cells() const { return params()[kCells] != 0; }
  ShapingMoves shaping_moves() const {
    return params()[kShape] >= 2 ? ShapingMoves::kLevelsAndUnits : ShapingMoves::kLevels;
  }
  // The weight of the rate term of the descents (shape_levels): shape=3 only.
  double shaping_rate_weight() const { return params()[kShape] == 3 ? kShapingRateWeight : 0.0; }
  bool needs_reader() const override { return shape(); }
  bool lossless() const override { return bits() == 0; }
  // The encoder refuses parameters its mode would ignore rather than write them into the header
  // as if they acted; decoders read such streams as without them (doc/FORMAT.md, parameters 1,
  // 2, 5 and 7).
  Status check_encodable() const override {
    const int centroid_mask = static_cast<int>(params()[kCentroid]);
    if (bits() == 0 && (params()[kPrune] != 0 || params()[kClip] != disc_info().params[kClip].default_value))
      return Error(
          "codec 'disc': prune and clip apply with bits >= 1 only (bits=0 keeps every value; they would be "
          "ignored)",
          ErrorCode::kInvalidArgument);
    if (params()[kHighFrequency] != disc_info().params[kHighFrequency].default_value && !transform())
      return Error("codec 'disc': hf applies to transform=1 only (it would be ignored)", ErrorCode::kInvalidArgument);
    if (centroid_mask != 0 && (bits() == 0 || transform()))
      return Error("codec 'disc': centroid applies with bits >= 1 and transform=0 only (it would be ignored)",
                   ErrorCode::kInvalidArgument);
    if ((centroid_mask & 2) && fast())
      return Error("codec 'disc': centroid=2|3 (zero-level offsets) applies with speed=0 only (it would be ignored)",
                   ErrorCode::kInvalidArgument);
    return Status();
  }
  TransformQuantizer transform_quantizer(const Quantizer& quantizer, const PlaneView& view) const {
    return make_transform_quantizer(quantizer, params()[kHighFrequency],
                                    transform_block_shape(view.height, view.width, params()[kTile] != 0));
  }

  // The payload without energy gain, then, with gain=1, the gain fitted to what that payload
  // decodes to, inserted after the step (left out if it would make a value overflow).
  Result<Bytes> encode_valid(const Tensor& tensor) const override {
    DISC_ASSIGN_OR_RETURN(Bytes out, encode_without_gain(tensor));
    if (!gain()) return out;
    DISC_ASSIGN_OR_RETURN(Tensor decoded, decode_payload(out, tensor.shape()));
    const PlaneView view = plane_view(tensor.shape());
    const bool non_negative = !(out[0] & kSignedFlag);
    const int8_t code = fit_energy_gain(view, tensor.values(), decoded.values(), non_negative);
    // Near the largest fp32 steps the scaled values could overflow, which makes a stream invalid.
    if (!apply_energy_gain(code, view, non_negative, decoded.values())) return out;
    out[0] |= kGainFlag;
    out.insert(out.begin() + kGainOffset, static_cast<uint8_t>(code));
    return out;
  }

  // Everything that does not depend on N is read and checked first, and the body must be long
  // enough for the shape (lossy_header, check_section) before the output is allocated. The payload
  // is decoded straight into the output; the only other buffers of the map's size are the
  // element-wise and cell modes' levels (int16_t, half the output; cells=1 adds its counts, a
  // quarter of those).
  Result<Tensor> decode_valid(std::span<const uint8_t> payload, const Shape& shape) const override {
    const PlaneView view = plane_view(shape);
    if (bits() == 0) {
      // The lossless body codes a "plane is all zero" bit per plane at least.
      DISC_RETURN_IF_ERROR(check_section(payload.size(), view.planes, "planes"));
      DISC_ASSIGN_OR_RETURN(Tensor tensor, Tensor::make(shape));
      DISC_RETURN_IF_ERROR(decode_lossless(payload, view, tensor.data()));
      return tensor;
    }
    DISC_ASSIGN_OR_RETURN(const LossyHeader header, lossy_header(payload, view));
    DISC_ASSIGN_OR_RETURN(Tensor tensor, Tensor::make(shape));
    DISC_RETURN_IF_ERROR(decode_lossy(header, view, tensor.values()));
    if (header.gain_code &&
        !apply_energy_gain(*header.gain_code, view, !(header.flags & kSignedFlag), tensor.values()))
      return Error("energy gain " + std::to_string(*header.gain_code) + " makes values overflow fp32");
    return tensor;
  }

 private:
  Result<Bytes> encode_without_gain(const Tensor& tensor) const {
    const PlaneView view = plane_view(tensor.shape());
    Bytes out;
    if (bits() == 0) {
      encode_lossless(view, tensor.data(), &out);
      return out;
    }
    if (shape()) {
      if (!reader_)
        return Error("codec 'disc': shape=" + std::to_string(static_cast<int>(params()[kShape])) +
                     " needs the convolution that reads the map (give the model and cut)");
      DISC_RETURN_IF_ERROR(reader_->check(tensor.shape()));
    }
    DISC_ASSIGN_OR_RETURN(const Quantizer quantizer,
                          fit_quantizer(tensor.values(), {bits(), params()[kPrune], params()[kClip], levels()}));
    if (cells()) {
      DISC_RETURN_IF_ERROR(encode_cells(tensor, quantizer, &out));
      return out;
    }
    ByteWriter w(&out);
    if (transform()) {
      const uint8_t flags = (quantizer.is_signed ? kSignedFlag : 0) | kWarmUpFlag;
      w.u8(flags);
      w.f32(quantizer.step);
      DISC_RETURN_IF_ERROR(encode_transform(view, tensor.values(), transform_quantizer(quantizer, view),
                                            adaptation(flags), &out));
      return out;
    }
    const std::vector<int8_t> exponents =
        params()[kChannelSteps] > 0 && !fast()
            ? fit_plane_exponents(quantizer, tensor.values(), view.plane_size(), params()[kChannelSteps])
            : std::vector<int8_t>();
    std::vector<float> plane_steps;
    std::vector<int16_t> levels;
    if (!fast() || centroid()) {
      levels.resize(tensor.size());
      if (params()[kDiffuse] > 0) {
        for (size_t p = 0; p < view.planes; ++p)
          diffused_levels(quantizer, tensor.data() + p * view.plane_size(), view.height, view.width,
                          params()[kDiffuse], levels.data() + p * view.plane_size());
      } else if (exponents.empty()) {
        for (size_t i = 0; i < levels.size(); ++i) levels[i] = static_cast<int16_t>(quantizer.level(tensor.data()[i]));
        if (shape())
          shape_levels(*reader_, quantizer, tensor.shape(), tensor.data(), levels.data(), shaping_moves(),
                       shaping_rate_weight(), threads_);
      } else {
        for (size_t p = 0; p < view.planes; ++p) {
          DISC_ASSIGN_OR_RETURN(const Quantizer plane, plane_quantizer(quantizer, exponents[p]));
          plane_steps.push_back(plane.step);
          for (size_t i = p * view.plane_size(); i < (p + 1) * view.plane_size(); ++i)
            levels[i] = static_cast<int16_t>(plane.level(tensor.data()[i]));
        }
      }
    }
    const bool zero = zero_centroid() && !quantizer.is_signed;
    const uint8_t flags = static_cast<uint8_t>(
        (quantizer.is_signed ? kSignedFlag : 0) | (centroid() ? kCentroidFlag : 0) |
        (exponents.empty() ? 0 : kPlaneStepFlag) | (fast() ? 0 : kDensityFlag | kWarmUpFlag) | (zero ? kZeroFlag : 0) |
        (mean() ? kMeanFlag : 0));
    w.u8(flags);
    w.f32(quantizer.step);
    std::vector<int8_t> offsets;
    if (centroid()) {
      offsets = centroid_offsets(quantizer, tensor.values(), levels, plane_steps, view.plane_size());
      for (int8_t d : offsets) w.u8(static_cast<uint8_t>(d));
    }
    std::vector<uint8_t> zero_bytes, classes;  // classes: of every element, for the offsets and the corrections
    if (zero) {
      classes.resize(tensor.size());
      for (size_t p = 0; p < view.planes; ++p)
        zero_classes(levels.data() + p * view.plane_size(), view.height, view.width,
                     classes.data() + p * view.plane_size());
      zero_bytes = zero_offsets(tensor.values(), levels, classes, view.plane_size(), quantizer.step, plane_steps);
      for (uint8_t z : zero_bytes) w.u8(z);
    }
    if (fast()) {
      DISC_RETURN_IF_ERROR(encode_fast(quantizer, tensor.values(), &out));
      return out;
    }
    std::vector<int8_t> corrections;
    if (mean()) {
      // What the decoder reconstructs without the correction, plane by plane.
      Quantizer decoder = quantizer;
      if (centroid()) DISC_RETURN_IF_ERROR(set_centroids(&decoder, offsets));
      corrections = mean_corrections(view, tensor.values(), levels, decoder, exponents,
                                     zero ? zero_bytes.data() : nullptr, zero ? classes.data() : nullptr);
    }
    DISC_RETURN_IF_ERROR(encode_symbols(view, symbol_format(quantizer, flags), levels.data(), &out,
                                        exponents.empty() ? nullptr : exponents.data(),
                                        corrections.empty() ? nullptr : corrections.data()));
    return out;
  }

  // cells=1: the counts of each plane's 2x2 cells, started at the cell sums, spread in the order
  // nearest the plane, then (shape=1..3) moved for the reading convolution, which may choose
  // other orders (shape_cells).
  Status encode_cells(const Tensor& tensor, const Quantizer& quantizer, Bytes* out) const {
    const PlaneView view = plane_view(tensor.shape());
    const CellPlane grid{view.height, view.width};
    std::vector<int16_t> counts(view.planes * grid.cells());
    std::vector<uint8_t> orders(view.planes);
    for (size_t p = 0; p < view.planes; ++p) {
      const float* plane = tensor.data() + p * view.plane_size();
      int16_t* plane_counts = counts.data() + p * grid.cells();
      cell_counts(quantizer, grid, plane, plane_counts);
      orders[p] = static_cast<uint8_t>(nearest_cell_order(quantizer, grid, plane, plane_counts));
    }
    if (shape())
      shape_cells(*reader_, quantizer, tensor.shape(), tensor.data(), orders.data(), counts.data(), shaping_moves(),
                  shaping_rate_weight(), threads_);
    const uint8_t flags = (quantizer.is_signed ? kSignedFlag : 0) | kDensityFlag | kWarmUpFlag;
    ByteWriter w(out);
    w.u8(flags);
    w.f32(quantizer.step);
    // Fails only if a count left its range, which cell_counts and the moves rule out.
    return encode_symbols(cell_view(view), cell_format(quantizer, flags), counts.data(), out, nullptr, nullptr,
                          orders.data());
  }

  // A range-coded section that must decode at least `bits` bits (one per unit `what` of the
  // shape) is at least min_section_bytes(bits) long (range_coder.hpp states the invariant).
  static Status check_section(size_t bytes, uint64_t bits, const char* what) {
    if (bytes < min_section_bytes(bits))
      return Error("range-coded section of " + std::to_string(bytes) + " bytes is too short for the " +
                   std::to_string(bits) + " " + what + " of the shape (a bit each: at least " +
                   std::to_string(min_section_bytes(bits)) + " bytes)");
    return Status();
  }

  // What precedes the lossy body, read and validated without allocating.
  struct LossyHeader {
    uint8_t flags = 0;
    Quantizer quantizer;
    std::optional<int8_t> gain_code;
    uint8_t zero[kZeroClasses] = {};
    std::span<const uint8_t> body;
  };

  Result<LossyHeader> lossy_header(std::span<const uint8_t> payload, const PlaneView& view) const {
    LossyHeader h;
    ByteReader r(payload);
    DISC_ASSIGN_OR_RETURN(h.flags, r.u8("flags"));
    const uint8_t flags = h.flags;
    if (flags & ~kKnownFlags) return Error("unknown flags " + std::to_string(flags));
    if ((flags & kZeroFlag) && (flags & kSignedFlag)) return Error("zero-level offsets are not valid for signed maps");
    if (transform() && (flags & (kCentroidFlag | kPlaneStepFlag | kDensityFlag | kZeroFlag)))
      return Error("flags " + std::to_string(flags) + " are not valid in transform mode");
    if (fast() && (flags & (kPlaneStepFlag | kDensityFlag | kZeroFlag | kMeanFlag | kWarmUpFlag | kGainFlag)))
      return Error("plane steps, density contexts, zero-level offsets, mean corrections, warm-up adaptation and "
                   "the energy gain are not valid with speed=1");
    if (transform() && (flags & kMeanFlag)) return Error("mean corrections are not valid in transform mode");
    if (cells() && (flags & (kCentroidFlag | kPlaneStepFlag | kZeroFlag | kMeanFlag | kGainFlag)))
      return Error("flags " + std::to_string(flags) + " are not valid with cells=1");
    DISC_ASSIGN_OR_RETURN(const float step, r.f32("quantization step"));
    DISC_ASSIGN_OR_RETURN(h.quantizer, make_decoder_quantizer(bits(), flags & kSignedFlag, levels(), step));
    if (flags & kGainFlag) {
      DISC_ASSIGN_OR_RETURN(const uint8_t code, r.u8("energy-gain code"));
      h.gain_code = static_cast<int8_t>(code);
    }
    if (flags & kCentroidFlag) {
      DISC_ASSIGN_OR_RETURN(const auto raw, r.bytes(static_cast<size_t>(h.quantizer.max_level), "centroid offsets"));
      std::vector<int8_t> offsets(raw.size());
      std::memcpy(offsets.data(), raw.data(), raw.size());
      DISC_RETURN_IF_ERROR(set_centroids(&h.quantizer, offsets));
    }
    if (flags & kZeroFlag) {
      DISC_ASSIGN_OR_RETURN(const auto raw, r.bytes(kZeroClasses, "zero-level offsets"));
      std::memcpy(h.zero, raw.data(), kZeroClasses);
    }
    DISC_ASSIGN_OR_RETURN(h.body, r.bytes(r.remaining(), "body"));
    if (fast()) {
      // A zstd frame that declares and can hold the packed codes of the N values.
      DISC_RETURN_IF_ERROR(check_fast(h.body, h.quantizer, view.planes * view.plane_size()));
    } else if (transform()) {
      // Every block codes at least its "any non-zero coefficient" bit.
      const BlockShape block = transform_quantizer(h.quantizer, view).block;
      const uint64_t blocks = uint64_t{view.planes} * ((view.height + block.height - 1) / block.height) *
                              ((view.width + block.width - 1) / block.width);
      DISC_RETURN_IF_ERROR(check_section(h.body.size(), blocks, "blocks"));
    } else {
      // Every plane codes at least its "plane is all zero" bit (cells=1 too: the planes are the same).
      DISC_RETURN_IF_ERROR(check_section(h.body.size(), view.planes, "planes"));
    }
    return h;
  }

  // The lossy payload's reconstruction before the energy gain.
  Status decode_lossy(const LossyHeader& header, const PlaneView& view, std::span<float> values) const {
    const uint8_t flags = header.flags;
    const Quantizer& quantizer = header.quantizer;
    const uint8_t* zero = header.zero;
    const std::span<const uint8_t> body = header.body;
    if (fast()) return decode_fast(body, quantizer, values);
    if (transform())
      return decode_transform(body, view, transform_quantizer(quantizer, view), adaptation(flags), values);
    std::vector<int16_t> levels(values.size());
    if (cells()) {
      const CellPlane grid{view.height, view.width};
      std::vector<int16_t> counts(view.planes * grid.cells());
      std::vector<uint8_t> orders(view.planes);
      DISC_RETURN_IF_ERROR(decode_symbols(body, cell_view(view), cell_format(quantizer, flags), counts.data(), nullptr,
                                          nullptr, orders.data()));
      for (size_t p = 0; p < view.planes; ++p) {
        int16_t* plane_levels = levels.data() + p * view.plane_size();
        if (!spread_cells(grid, counts.data() + p * grid.cells(), orders[p], quantizer.max_level, plane_levels))
          return Error("a cell count exceeds " + std::to_string(quantizer.max_level) +
                       " units per element of its cell");
        reconstruct_plane(quantizer, plane_levels, view, nullptr, nullptr, 0, values.data() + p * view.plane_size());
      }
      return Status();
    }
    std::vector<int8_t> exponents(flags & kPlaneStepFlag ? view.planes : 0);
    std::vector<int8_t> corrections(flags & kMeanFlag ? view.planes : 0);
    DISC_RETURN_IF_ERROR(decode_symbols(body, view, symbol_format(quantizer, flags), levels.data(),
                                        exponents.empty() ? nullptr : exponents.data(),
                                        corrections.empty() ? nullptr : corrections.data()));
    std::vector<uint8_t> classes(flags & kZeroFlag ? view.plane_size() : 0);  // the current plane's
    for (size_t p = 0; p < view.planes; ++p) {
      Quantizer plane = quantizer;
      if (!exponents.empty()) {
        DISC_ASSIGN_OR_RETURN(plane, plane_quantizer(quantizer, exponents[p]));
      }
      const int16_t* plane_levels = levels.data() + p * view.plane_size();
      if (!classes.empty()) zero_classes(plane_levels, view.height, view.width, classes.data());
      reconstruct_plane(plane, plane_levels, view, classes.empty() ? nullptr : zero, classes.data(),
                        corrections.empty() ? 0 : corrections[p], values.data() + p * view.plane_size());
    }
    return Status();
  }

  std::shared_ptr<const ConvKernel> reader_;  // for shape=1..3; null if the caller knows none
  int threads_;                                // for shape=1..3, >= 1
};

Result<std::unique_ptr<Codec>> make_disc(std::vector<float> params, const EncoderContext& context) {
  const bool lossless = params[kBits] == 0;
  if (lossless && params[kSpeed] != 0)
    return Error("codec 'disc': lossless mode (bits=0) has no speed=1 variant");
  if (params[kTransform] != 0 && (lossless || params[kSpeed] != 0 || params[kPrune] != 0))
    return Error("codec 'disc': transform=1 needs bits >= 1, speed=0 and prune=0");
  if (params[kChannelSteps] != 0 && (lossless || params[kSpeed] != 0 || params[kTransform] != 0))
    return Error("codec 'disc': chs > 0 needs bits >= 1, speed=0 and transform=0");
  if (params[kMean] != 0 && (lossless || params[kSpeed] != 0 || params[kTransform] != 0))
    return Error("codec 'disc': mean > 0 needs bits >= 1, speed=0 and transform=0");
  if (params[kDiffuse] != 0 &&
      (lossless || params[kSpeed] != 0 || params[kTransform] != 0 || params[kChannelSteps] != 0))
    return Error("codec 'disc': diffuse > 0 needs bits >= 1, speed=0, transform=0 and chs=0");
  if (params[kGain] != 0 && (lossless || params[kSpeed] != 0))
    return Error("codec 'disc': gain=1 needs bits >= 1 and speed=0");
  if (params[kTile] != 0 && params[kTransform] == 0) return Error("codec 'disc': tile=1 needs transform=1");
  if (params[kLevels] != 0 && (lossless || params[kLevels] > max_level(static_cast<int>(params[kBits]), false, 0)))
    return Error("codec 'disc': levels must be 0 or at most 2^bits - 1 (needs bits >= 1)");
  if (params[kShape] != 0 && (lossless || params[kSpeed] != 0 || params[kTransform] != 0 ||
                              params[kChannelSteps] != 0 || params[kCentroid] != 0 || params[kMean] != 0 ||
                              params[kDiffuse] != 0 || params[kGain] != 0))
    return Error("codec 'disc': shape=1..3 needs bits >= 1, speed=0, transform=0, chs=0, centroid=0, mean=0, "
                 "diffuse=0 and gain=0");
  if (params[kCells] != 0 &&
      (lossless ||
       max_level(static_cast<int>(params[kBits]), false, static_cast<int>(params[kLevels])) > kMaxCellLevel ||
       params[kPrune] != 0 || params[kSpeed] != 0 || params[kTransform] != 0 || params[kChannelSteps] != 0 ||
       params[kCentroid] != 0 || params[kMean] != 0 || params[kDiffuse] != 0 || params[kGain] != 0))
    return Error(
        "codec 'disc': cells=1 needs bits 1..6 (or levels <= 63), prune=0, speed=0, transform=0, chs=0, "
        "centroid=0, mean=0, diffuse=0 and gain=0");
  return std::unique_ptr<Codec>(new DiscCodec(std::move(params), context));
}

}  // namespace

const CodecEntry kDiscCodec{disc_info, make_disc};

}  // namespace disc
