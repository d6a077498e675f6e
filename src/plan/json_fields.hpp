// Internal: typed, validated access to the fields of the planner's JSON inputs. Every
// accessor names the offending field ("cuts[2].head_ms is missing"); none throws.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error_codes.hpp"
#include "disc/status.hpp"
#include "disc/tensor.hpp"

namespace disc::plan_json {

using Json = nlohmann::json;

// Parses a whole document; syntax errors become an Error.
Result<Json> parse_document(std::string_view text);
Result<Json> load_document(const std::string& path);

// A JSON object together with its path from the document root ("" for the root).
class Fields {
 public:
  // Fails unless `value` is an object.
  static Result<Fields> of(const Json& value, std::string path);

  Result<const Json*> array(std::string_view key) const;
  Result<Fields> object(std::string_view key) const;
  Result<std::string> string(std::string_view key) const;  // non-empty
  Result<bool> boolean(std::string_view key) const;
  Result<double> number(std::string_view key) const;       // finite
  Result<double> non_negative(std::string_view key) const;
  Result<double> positive(std::string_view key) const;
  Result<size_t> count(std::string_view key) const;  // non-negative integer
  Result<Shape> shape(std::string_view key) const;   // valid per element_count()

  // "path.key" (or "key" at the root), for messages about a field's value.
  std::string name(std::string_view key) const;
  const std::string& path() const { return path_; }

 private:
  Fields(const Json& value, std::string path) : value_(&value), path_(std::move(path)) {}
  Result<const Json*> field(std::string_view key) const;

  const Json* value_;
  std::string path_;
};

// "path[index]"
std::string element_path(const std::string& array_path, size_t index);

// `convert`s a parsed (or failed) document; any error gets `context` as its prefix.
template <class T, class Convert>
Result<T> convert_document(Result<Json> document, const std::string& context, Convert convert) {
  Result<T> converted = document.ok() ? convert(*document) : Result<T>(document.error());
  if (!converted.ok()) return classified(converted.error().with_context(context), ErrorCode::kInvalidArgument);
  return converted;
}

}  // namespace disc::plan_json
