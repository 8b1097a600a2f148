#pragma once
// Checking JSON values field by field, collecting diagnostics with RFC 6901 pointers. Private to
// the loader (graph/load*.cc).

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/json_read.h"
#include "graph/load.h"

namespace switchyard::graph {

class Checker {
 public:
  Checker(std::string file, std::vector<Diagnostic>& errors, std::vector<Diagnostic>& warnings)
      : file_(std::move(file)), errors_(errors), warnings_(warnings) {}

  void error(const std::string& pointer, std::string message);
  void warn(const std::string& pointer, std::string message);
  std::size_t error_count() const { return errors_.size(); }

  // Warns about each key of `object` that is not in `known` (unknown fields are allowed).
  void warn_unknown(const nlohmann::json& object, const std::string& pointer,
                    std::initializer_list<std::string_view> known);

  // The field `key` of `object` (at `pointer`), or null when absent; errors when `required`.
  const nlohmann::json* field(const nlohmann::json& object, const std::string& pointer,
                              std::string_view key, bool required);

  // Typed getters: absent -> nullopt (an error when required); wrong type or range -> nullopt and
  // an error naming what was expected.
  std::optional<std::string> string(const nlohmann::json& object, const std::string& pointer,
                                    std::string_view key, bool required, bool allow_empty = false);
  std::optional<bool> boolean(const nlohmann::json& object, const std::string& pointer,
                              std::string_view key);
  std::optional<double> number(const nlohmann::json& object, const std::string& pointer,
                               std::string_view key, bool required, double min, double max = 1e300);
  std::optional<std::int64_t> integer(const nlohmann::json& object, const std::string& pointer,
                                      std::string_view key, bool required, std::int64_t min,
                                      std::int64_t max);
  // A value that must be an object; errors otherwise.
  bool expect_object(const nlohmann::json& value, const std::string& pointer);
  bool expect_array(const nlohmann::json& value, const std::string& pointer);

  // Value checks (not fields): a finite number in [min, max] / an integer in [min, max].
  std::optional<double> number_value(const nlohmann::json& value, const std::string& pointer,
                                     double min, double max = 1e300);
  std::optional<std::int64_t> integer_value(const nlohmann::json& value, const std::string& pointer,
                                            std::int64_t min, std::int64_t max);

 private:
  std::string file_;
  std::vector<Diagnostic>& errors_;
  std::vector<Diagnostic>& warnings_;
};

}  // namespace switchyard::graph
