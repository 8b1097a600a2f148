#include "graph/json_check.h"

#include <cmath>
#include <cstdint>
#include <sstream>

namespace switchyard::graph {
namespace {

std::string range_text(double min, double max) {
  std::ostringstream out;
  out << ">= " << min;
  if (max < 1e300) out << " and <= " << max;
  return out.str();
}

// The same for integer bounds, written in full (">= 0 and <= 86400000", not "8.64e+07"); no
// upper bound is named when there is none short of the type's own.
std::string range_text(std::int64_t min, std::int64_t max) {
  std::string out = ">= " + std::to_string(min);
  if (max < INT64_MAX) out += " and <= " + std::to_string(max);
  return out;
}

}  // namespace

std::string Diagnostic::to_string() const {
  if (line > 0) {
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  }
  return file + ": " + (pointer.empty() ? "(document)" : pointer) + ": " + message;
}

void Checker::error(const std::string& pointer, std::string message) {
  errors_.push_back({Diagnostic::Severity::kError, file_, pointer, std::move(message), 0, 0});
}

void Checker::warn(const std::string& pointer, std::string message) {
  warnings_.push_back({Diagnostic::Severity::kWarning, file_, pointer, std::move(message), 0, 0});
}

void Checker::warn_unknown(const nlohmann::json& object, const std::string& pointer,
                           std::initializer_list<std::string_view> known) {
  if (!object.is_object()) return;
  for (const auto& [key, value] : object.items()) {
    bool found = false;
    for (auto k : known) found = found || key == k;
    if (!found) warn(pointer_join(pointer, key), "unknown field '" + key + "' (ignored)");
  }
}

const nlohmann::json* Checker::field(const nlohmann::json& object, const std::string& pointer,
                                     std::string_view key, bool required) {
  auto it = object.find(key);
  if (it == object.end()) {
    if (required)
      error(pointer_join(pointer, key), "required field '" + std::string(key) + "' is missing");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> Checker::string(const nlohmann::json& object, const std::string& pointer,
                                           std::string_view key, bool required, bool allow_empty) {
  const nlohmann::json* v = field(object, pointer, key, required);
  if (v == nullptr) return std::nullopt;
  const std::string p = pointer_join(pointer, key);
  if (!v->is_string()) {
    error(p, "expected a string, got " + describe(*v));
    return std::nullopt;
  }
  std::string s = v->get<std::string>();
  if (s.empty() && !allow_empty) {
    error(p, "expected a non-empty string");
    return std::nullopt;
  }
  return s;
}

std::optional<bool> Checker::boolean(const nlohmann::json& object, const std::string& pointer,
                                     std::string_view key) {
  const nlohmann::json* v = field(object, pointer, key, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    error(pointer_join(pointer, key), "expected true or false, got " + describe(*v));
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<double> Checker::number_value(const nlohmann::json& value, const std::string& pointer,
                                            double min, double max) {
  if (!value.is_number()) {
    error(pointer, "expected a finite number " + range_text(min, max) + ", got " + describe(value));
    return std::nullopt;
  }
  const double d = value.get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    error(pointer, "expected a finite number " + range_text(min, max) + ", got " + value.dump());
    return std::nullopt;
  }
  return d;
}

std::optional<std::int64_t> Checker::integer_value(const nlohmann::json& value,
                                                   const std::string& pointer, std::int64_t min,
                                                   std::int64_t max) {
  const std::string expected = "expected an integer " + range_text(min, max);
  if (!value.is_number_integer()) {
    error(pointer, expected + ", got " + describe(value));
    return std::nullopt;
  }
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    error(pointer, expected + ", got " + value.dump());
    return std::nullopt;
  }
  const std::int64_t i = value.get<std::int64_t>();
  if (i < min || i > max) {
    error(pointer, expected + ", got " + value.dump());
    return std::nullopt;
  }
  return i;
}

std::optional<double> Checker::number(const nlohmann::json& object, const std::string& pointer,
                                      std::string_view key, bool required, double min, double max) {
  const nlohmann::json* v = field(object, pointer, key, required);
  if (v == nullptr) return std::nullopt;
  return number_value(*v, pointer_join(pointer, key), min, max);
}

std::optional<std::int64_t> Checker::integer(const nlohmann::json& object,
                                             const std::string& pointer, std::string_view key,
                                             bool required, std::int64_t min, std::int64_t max) {
  const nlohmann::json* v = field(object, pointer, key, required);
  if (v == nullptr) return std::nullopt;
  return integer_value(*v, pointer_join(pointer, key), min, max);
}

bool Checker::expect_object(const nlohmann::json& value, const std::string& pointer) {
  if (value.is_object()) return true;
  error(pointer, "expected an object, got " + describe(value));
  return false;
}

bool Checker::expect_array(const nlohmann::json& value, const std::string& pointer) {
  if (value.is_array()) return true;
  error(pointer, "expected an array, got " + describe(value));
  return false;
}

}  // namespace switchyard::graph
