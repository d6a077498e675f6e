#include "plan/json_fields.hpp"

#include <cmath>

#include "disc/npy.hpp"

namespace disc::plan_json {

Result<Json> parse_document(std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    return Error(std::string("invalid JSON: ") + e.what());
  }
}

Result<Json> load_document(const std::string& path) {
  DISC_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  return parse_document(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Result<Fields> Fields::of(const Json& value, std::string path) {
  if (!value.is_object()) return Error((path.empty() ? std::string("document") : path) + " is not an object");
  return Fields(value, std::move(path));
}

std::string Fields::name(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string element_path(const std::string& array_path, size_t index) {
  return array_path + "[" + std::to_string(index) + "]";
}

Result<const Json*> Fields::field(std::string_view key) const {
  auto it = value_->find(key);
  if (it == value_->end()) return Error(name(key) + " is missing");
  return &*it;
}

Result<const Json*> Fields::array(std::string_view key) const {
  DISC_ASSIGN_OR_RETURN(const Json* v, field(key));
  if (!v->is_array()) return Error(name(key) + " is not an array");
  return v;
}

Result<Fields> Fields::object(std::string_view key) const {
  DISC_ASSIGN_OR_RETURN(const Json* v, field(key));
  return Fields::of(*v, name(key));
}

Result<std::string> Fields::string(std::string_view key) const {
  DISC_ASSIGN_OR_RETURN(const Json* v, field(key));
  if (!v->is_string()) return Error(name(key) + " is not a string");
  std::string s = v->get<std::string>();
  if (s.empty()) return Error(name(key) + " is empty");
  return s;
}

Result<bool> Fields::boolean(std::string_view key) const {
  DISC_ASSIGN_OR_RETURN(const Json* v, field(key));
  if (!v->is_boolean()) return Error(name(key) + " is not true or false");
  return v->get<bool>();
}

Result<double> Fields::number(std::string_view key) const {
  DISC_ASSIGN_OR_RETURN(const Json* v, field(key));
  if (!v->is_number()) return Error(name(key) + " is not a number");
  const double d = v->get<double>();
  if (!std::isfinite(d)) return Error(name(key) + " is not finite");
  return d;
}

Result<double> Fields::non_negative(std::string_view key) const {
  DISC_ASSIGN_OR_RETURN(double d, number(key));
  if (d < 0) return Error(name(key) + " is negative");
  return d;
}

Result<double> Fields::positive(std::string_view key) const {
  DISC_ASSIGN_OR_RETURN(double d, number(key));
  if (d <= 0) return Error(name(key) + " is not positive");
  return d;
}

Result<size_t> Fields::count(std::string_view key) const {
  DISC_ASSIGN_OR_RETURN(const Json* v, field(key));
  if (v->is_number_unsigned()) return v->get<size_t>();
  return Error(name(key) + " is not a non-negative integer");
}

Result<Shape> Fields::shape(std::string_view key) const {
  DISC_ASSIGN_OR_RETURN(const Json* v, array(key));
  Shape shape;
  for (const Json& dim : *v) {
    if (!dim.is_number_integer()) return Error(name(key) + " has a non-integer dimension");
    shape.push_back(dim.get<int64_t>());
  }
  if (auto count = element_count(shape); !count.ok()) return count.error().with_context(name(key));
  return shape;
}

}  // namespace disc::plan_json
