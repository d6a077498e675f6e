// `disc eval` JSON -> RateTable (format in doc/PLANNER.md).
#include <set>
#include <utility>

#include "disc/codec.hpp"
#include "disc/plan.hpp"
#include "plan/json_fields.hpp"

namespace disc {
namespace {

using plan_json::Fields;
using plan_json::Json;

// A row and its setting's full spelling (Codec::spec()), which tells two spellings of one
// setting apart from two settings.
struct ParsedRow {
  RateRow row;
  std::string setting;
};

Result<ParsedRow> row_from(const Json& value, std::string path, LossBasis basis) {
  DISC_ASSIGN_OR_RETURN(Fields f, Fields::of(value, std::move(path)));
  RateRow row;
  DISC_ASSIGN_OR_RETURN(row.cut, f.string("cut"));
  DISC_ASSIGN_OR_RETURN(std::string codec, f.string("codec"));
  auto spec = CodecSpec::parse(codec);
  if (!spec.ok()) return spec.error().with_context(f.name("codec"));
  // A plan may only name a setting the edge can encode: the table may come from another build,
  // or from before the encoder refused parameters its mode ignores.
  auto configured = make_codec(*spec);
  if (!configured.ok()) return configured.error().with_context(f.name("codec"));
  if (Status s = (*configured)->check_encodable(); !s.ok())
    return Error(f.name("codec") + ": " + s.error().message() +
                 "; the encoder refuses this setting (remove the row or evaluate again)");
  row.codec = spec->to_string();
  const std::string setting = (*configured)->spec().to_string();
  DISC_ASSIGN_OR_RETURN(row.mean_bytes, f.positive("mean_bytes"));
  if (basis == LossBasis::kLabels) {
    DISC_ASSIGN_OR_RETURN(row.top1_loss_pp, f.number("top1_loss_pp"));
  } else {
    DISC_ASSIGN_OR_RETURN(double estimate, f.number("estimated_loss_pp"));
    DISC_ASSIGN_OR_RETURN(double standard_error, f.non_negative("estimated_loss_se_pp"));
    row.top1_loss_pp = estimate + standard_error;
  }
  DISC_ASSIGN_OR_RETURN(row.encode_ms, f.non_negative("encode_ms"));
  DISC_ASSIGN_OR_RETURN(row.decode_ms, f.non_negative("decode_ms"));
  return ParsedRow{std::move(row), setting};
}

Result<RateTable> table_from(const Json& document, LossBasis basis) {
  if (document.is_object() && document.contains("input") && document.contains("cuts") && !document.contains("rows"))
    return Error("this is a profile (disc profile's output), not a rate table (disc eval's report.json)");
  DISC_ASSIGN_OR_RETURN(Fields root, Fields::of(document, ""));
  RateTable table;
  DISC_ASSIGN_OR_RETURN(table.model, root.string("model"));
  // Tables from before the field were all measured on labelled images.
  if (document.contains("labelled")) {
    DISC_ASSIGN_OR_RETURN(bool labelled, root.boolean("labelled"));
    if (!labelled && basis == LossBasis::kLabels)
      return Error("labelled: the table was measured on images without labels, so it has no measured top-1 loss "
                   "(plan on the label-free estimate: --loss estimate, LossBasis::kEstimate)");
  }
  // `disc eval --chunks N` tables: their bytes and times are of chunked maps, which the
  // planner's one-stream-per-request latency model does not describe.
  if (document.contains("chunks")) {
    DISC_ASSIGN_OR_RETURN(size_t chunks, root.count("chunks"));
    if (chunks == 0) return Error("chunks: 0; a map is sent in at least 1");
    if (chunks > 1)
      return Error("chunks: the table measured maps sent in " + std::to_string(chunks) +
                   " chunks; the planner models one stream per request (evaluate without --chunks, EvalOptions::chunks = 1)");
  }
  DISC_ASSIGN_OR_RETURN(const Json* rows, root.array("rows"));
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < rows->size(); ++i) {
    const std::string path = plan_json::element_path("rows", i);
    DISC_ASSIGN_OR_RETURN(ParsedRow parsed, row_from((*rows)[i], path, basis));
    RateRow& row = parsed.row;
    if (!seen.emplace(row.cut, parsed.setting).second)
      return Error(path + " repeats cut '" + row.cut + "' with codec '" + row.codec + "'");
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace

Result<RateTable> parse_rate_table(std::string_view json, LossBasis basis) {
  return plan_json::convert_document<RateTable>(plan_json::parse_document(json), "rate table",
                                                [basis](const Json& document) { return table_from(document, basis); });
}

Result<RateTable> load_rate_table(const std::string& path, LossBasis basis) {
  return plan_json::convert_document<RateTable>(plan_json::load_document(path), "rate table " + path,
                                                [basis](const Json& document) { return table_from(document, basis); });
}

}  // namespace disc
