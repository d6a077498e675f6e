#include "plan/input_checks.hpp"

#include <cmath>
#include <set>
#include <utility>

#include "disc/codec.hpp"

namespace disc::plan_internal {
namespace {

bool non_negative(double x) { return std::isfinite(x) && x >= 0; }

Status check_cut(const ProfiledCut& cut) {
  if (cut.tensor.empty()) return Error("a cut has no tensor name");
  const auto bad = [&](const std::string& what) { return Error("cut '" + cut.tensor + "': " + what); };
  auto elements = element_count(cut.shape);
  if (!elements.ok()) return bad(elements.error().message());
  if (*elements != cut.elements || cut.fp32_bytes != 4 * cut.elements)
    return bad("elements and fp32_bytes must be the shape's " + std::to_string(*elements) + " and 4 times that");
  if (!non_negative(cut.head_ms) || !non_negative(cut.tail_ms)) return bad("head_ms and tail_ms must be finite and >= 0");
  return Status();
}

}  // namespace

Status check_profile(const Profile& profile, const std::string& what) {
  const auto bad = [&](const std::string& message) { return Error(what + ": " + message); };
  auto elements = element_count(profile.input_shape);
  if (!elements.ok()) return bad("input shape: " + elements.error().message());
  if (profile.input_fp32_bytes != 4 * *elements) return bad("input_fp32_bytes must be 4 times the input's elements");
  if (!(std::isfinite(profile.upload_bytes) && profile.upload_bytes > 0))
    return bad("upload_bytes must be finite and > 0");
  if (!non_negative(profile.full_ms)) return bad("full_ms must be finite and >= 0");
  std::set<std::string> tensors;
  for (size_t i = 0; i < profile.cuts.size(); ++i) {
    const ProfiledCut& cut = profile.cuts[i];
    if (Status s = check_cut(cut); !s.ok()) return bad(s.error().message());
    if (!tensors.insert(cut.tensor).second) return bad("cut '" + cut.tensor + "' is listed twice");
    if (i > 0 && cut.position < profile.cuts[i - 1].position)
      return bad("cuts must be sorted by position ('" + cut.tensor + "' comes after a later one)");
  }
  return Status();
}

Status check_rate_table(const RateTable& table) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const RateRow& row : table.rows) {
    const auto bad = [&](const std::string& message) {
      return Error("rate table: row (" + row.cut + ", " + row.codec + "): " + message);
    };
    if (row.cut.empty()) return bad("no cut");
    auto codec = make_codec(row.codec);
    if (!codec.ok()) return bad(codec.error().message());
    if (Status s = (*codec)->check_encodable(); !s.ok()) return bad(s.error().message());
    if (!(std::isfinite(row.mean_bytes) && row.mean_bytes > 0)) return bad("mean_bytes must be finite and > 0");
    if (!std::isfinite(row.top1_loss_pp)) return bad("top1_loss_pp must be finite");
    if (!non_negative(row.encode_ms) || !non_negative(row.decode_ms))
      return bad("encode_ms and decode_ms must be finite and >= 0");
    if (!seen.emplace(row.cut, (*codec)->spec().to_string()).second) return bad("listed twice");
  }
  return Status();
}

}  // namespace disc::plan_internal
