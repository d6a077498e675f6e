// `disc profile` JSON -> Profile (format in doc/PLANNER.md).
#include <algorithm>
#include <unordered_set>

#include "disc/plan.hpp"
#include "plan/json_fields.hpp"

namespace disc {
namespace {

using plan_json::Fields;
using plan_json::Json;

// Shape, element count and fp32 size must describe the same tensor.
Status check_sizes(const Fields& f, const Shape& shape, size_t elements, size_t fp32_bytes) {
  if (element_count(shape).value() != elements)
    return Error(f.name("elements") + " is " + std::to_string(elements) + " but the shape " +
                 shape_to_string(shape) + " has " + std::to_string(element_count(shape).value()));
  if (fp32_bytes != 4 * elements)
    return Error(f.name("fp32_bytes") + " is " + std::to_string(fp32_bytes) + ", not 4 * elements");
  return {};
}

Result<ProfiledCut> cut_from(const Json& value, std::string path) {
  DISC_ASSIGN_OR_RETURN(Fields f, Fields::of(value, std::move(path)));
  ProfiledCut cut;
  DISC_ASSIGN_OR_RETURN(cut.tensor, f.string("tensor"));
  DISC_ASSIGN_OR_RETURN(cut.node, f.string("node"));
  DISC_ASSIGN_OR_RETURN(cut.op_type, f.string("op_type"));
  DISC_ASSIGN_OR_RETURN(cut.position, f.count("position"));
  DISC_ASSIGN_OR_RETURN(cut.shape, f.shape("shape"));
  DISC_ASSIGN_OR_RETURN(cut.elements, f.count("elements"));
  DISC_ASSIGN_OR_RETURN(cut.fp32_bytes, f.count("fp32_bytes"));
  DISC_RETURN_IF_ERROR(check_sizes(f, cut.shape, cut.elements, cut.fp32_bytes));
  DISC_ASSIGN_OR_RETURN(cut.head_ms, f.non_negative("head_ms"));
  DISC_ASSIGN_OR_RETURN(cut.tail_ms, f.non_negative("tail_ms"));
  return cut;
}

Result<Profile> profile_from(const Json& document) {
  // The two inputs of `disc plan` are easily swapped.
  if (document.is_object() && document.contains("rows") && !document.contains("input"))
    return Error("this is a rate table (disc eval's report.json), not a profile (disc profile's output)");
  DISC_ASSIGN_OR_RETURN(Fields root, Fields::of(document, ""));
  Profile p;
  DISC_ASSIGN_OR_RETURN(p.model, root.string("model"));
  DISC_ASSIGN_OR_RETURN(Fields input, root.object("input"));
  DISC_ASSIGN_OR_RETURN(p.input_name, input.string("name"));
  DISC_ASSIGN_OR_RETURN(p.input_shape, input.shape("shape"));
  DISC_ASSIGN_OR_RETURN(p.input_fp32_bytes, input.count("fp32_bytes"));
  const size_t input_elements = element_count(p.input_shape).value();
  if (p.input_fp32_bytes != 4 * input_elements)
    return Error(input.name("fp32_bytes") + " is " + std::to_string(p.input_fp32_bytes) + ", not 4 * " +
                 std::to_string(input_elements) + " elements");
  DISC_ASSIGN_OR_RETURN(p.upload_bytes, input.positive("upload_bytes"));
  DISC_ASSIGN_OR_RETURN(p.full_ms, root.non_negative("full_ms"));

  DISC_ASSIGN_OR_RETURN(const Json* cuts, root.array("cuts"));
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < cuts->size(); ++i) {
    DISC_ASSIGN_OR_RETURN(ProfiledCut cut, cut_from((*cuts)[i], plan_json::element_path("cuts", i)));
    if (!seen.insert(cut.tensor).second) return Error("cut '" + cut.tensor + "' is listed twice");
    p.cuts.push_back(std::move(cut));
  }
  std::stable_sort(p.cuts.begin(), p.cuts.end(),
                   [](const ProfiledCut& a, const ProfiledCut& b) { return a.position < b.position; });
  return p;
}

}  // namespace

const ProfiledCut* Profile::find_cut(std::string_view tensor) const {
  auto it = std::find_if(cuts.begin(), cuts.end(), [&](const ProfiledCut& c) { return c.tensor == tensor; });
  return it == cuts.end() ? nullptr : &*it;
}

Result<Profile> parse_profile(std::string_view json) {
  return plan_json::convert_document<Profile>(plan_json::parse_document(json), "profile", profile_from);
}

Result<Profile> load_profile(const std::string& path) {
  return plan_json::convert_document<Profile>(plan_json::load_document(path), "profile " + path, profile_from);
}

}  // namespace disc
