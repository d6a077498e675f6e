#include "codec/codec_registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "core/error_codes.hpp"

namespace disc {
namespace {

const std::vector<const CodecEntry*>& entries() {
  static const std::vector<const CodecEntry*> all = {&kRawCodec,  &kFp16Codec, &kQ8ZstdCodec, &kJpegCodec,
                                                     &kZstdCodec, &kZfpCodec,  &kDiscCodec};
  return all;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string format_value(float v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

Result<CodecSpec> CodecSpec::parse(std::string_view text) {
  CodecSpec spec;
  const size_t colon = text.find(':');
  spec.name = std::string(trim(text.substr(0, colon)));
  if (spec.name.empty())
    return Error("codec spec '" + std::string(text) + "' has no codec name", ErrorCode::kInvalidArgument);
  if (colon == std::string_view::npos) return spec;
  std::string_view rest = text.substr(colon + 1);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return Error("codec parameter '" + std::string(item) + "' is not key=value", ErrorCode::kInvalidArgument);
    const std::string key(trim(item.substr(0, eq)));
    const std::string value(trim(item.substr(eq + 1)));
    if (std::any_of(spec.params.begin(), spec.params.end(), [&](const auto& p) { return p.first == key; }))
      return Error("codec parameter '" + key + "' is given twice in '" + std::string(text) + "'",
                   ErrorCode::kInvalidArgument);
    float v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    const bool whole = end == value.data() + value.size();
    // A number too large (or too small, other than 0) for a float: from_chars matched it all.
    if (ec == std::errc::result_out_of_range && whole)
      return Error(
          "codec parameter '" + key + "' has an out-of-range value '" + value + "' (not representable as a float)",
          ErrorCode::kInvalidArgument);
    if (ec != std::errc() || !whole || !std::isfinite(v))
      return Error("codec parameter '" + key + "' has a non-numeric value '" + value + "'",
                   ErrorCode::kInvalidArgument);
    spec.params.emplace_back(key, v);
  }
  return spec;
}

std::string CodecSpec::to_string() const {
  std::string s = name;
  for (size_t i = 0; i < params.size(); ++i)
    s += (i ? "," : ":") + params[i].first + "=" + format_value(params[i].second);
  return s;
}

Result<Bytes> Codec::encode_payload(const Tensor& tensor) const {
  DISC_RETURN_IF_ERROR(classified(check_encodable(), ErrorCode::kInvalidArgument));
  DISC_RETURN_IF_ERROR(tensor.check());
  return classified(encode_valid(tensor), ErrorCode::kInvalidArgument);
}

Result<Tensor> Codec::decode_payload(std::span<const uint8_t> payload, const Shape& shape) const {
  DISC_RETURN_IF_ERROR(element_count(shape).status());
  auto tensor = decode_valid(payload, shape);
  if (!tensor.ok()) return decoding_error(tensor.error());
  return tensor;
}

CodecSpec Codec::spec() const {
  CodecSpec s{info().name, {}};
  for (size_t i = 0; i < info().params.size(); ++i) s.params.emplace_back(info().params[i].name, params_[i]);
  return s;
}

const std::vector<CodecInfo>& codec_list() {
  static const std::vector<CodecInfo> list = [] {
    std::vector<CodecInfo> v;
    for (const CodecEntry* e : entries()) v.push_back(e->info());
    std::sort(v.begin(), v.end(), [](const CodecInfo& a, const CodecInfo& b) { return a.id < b.id; });
    return v;
  }();
  return list;
}

Result<const CodecInfo*> find_codec(std::string_view name) {
  for (const CodecInfo& info : codec_list())
    if (info.name == name) return &info;
  std::string known;
  for (const CodecInfo& info : codec_list()) known += (known.empty() ? "" : ", ") + info.name;
  return Error("unknown codec '" + std::string(name) + "' (known: " + known + ")", ErrorCode::kInvalidArgument);
}

Result<std::unique_ptr<Codec>> make_codec(const CodecSpec& spec) { return make_codec(spec, EncoderContext()); }

Result<std::unique_ptr<Codec>> make_codec(const CodecSpec& spec, const EncoderContext& context) {
  if (context.threads < 0 || context.threads > kMaxEncoderThreads)
    return Error(
        "encoder threads must be in 0.." + std::to_string(kMaxEncoderThreads) + " (0: one per hardware thread)",
        ErrorCode::kInvalidArgument);
  for (const CodecEntry* e : entries()) {
    const CodecInfo& info = e->info();
    if (info.name != spec.name) continue;
    std::vector<float> values;
    for (const ParamInfo& p : info.params) values.push_back(p.default_value);
    for (const auto& param : spec.params) {
      const std::string& key = param.first;
      const float value = param.second;
      auto it = std::find_if(info.params.begin(), info.params.end(),
                             [&](const ParamInfo& p) { return p.name == key; });
      if (it == info.params.end()) {
        std::string known;
        for (const ParamInfo& p : info.params) known += (known.empty() ? "" : ", ") + p.name;
        return Error("codec '" + info.name + "' has no parameter '" + key + "'" +
                         (known.empty() ? " (it takes none)" : " (parameters: " + known + ")"),
                     ErrorCode::kInvalidArgument);
      }
      if (!(value >= it->min && value <= it->max))
        return Error("codec '" + info.name + "' parameter " + key + "=" + format_value(value) + " is outside [" +
                         format_value(it->min) + ", " + format_value(it->max) + "]",
                     ErrorCode::kInvalidArgument);
      if (it->integer && value != std::floor(value))
        return Error("codec '" + info.name + "' parameter " + key + " must be a whole number",
                     ErrorCode::kInvalidArgument);
      values[static_cast<size_t>(it - info.params.begin())] = value;
    }
    return classified(e->make(std::move(values), context), ErrorCode::kInvalidArgument);
  }
  return find_codec(spec.name).error();
}

Result<std::unique_ptr<Codec>> make_codec(std::string_view spec_text) {
  DISC_ASSIGN_OR_RETURN(CodecSpec spec, CodecSpec::parse(spec_text));
  return make_codec(spec);
}

}  // namespace disc
