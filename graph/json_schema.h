#pragma once
// JsonSchema: a compiled JSON Schema (an llm tool's `output_schema`), checked with valijson.
//
// Compiled once, when the workflow is loaded, so that a schema valijson cannot read is a load
// error with its JSON pointer (`switchyard validate` and `run` report it) rather than a failure
// of the first call. Immutable once compiled; copies share the compiled form; safe to use from
// several threads.

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "graph/status.h"

namespace switchyard::graph {

class JsonSchema {
 public:
  // Compiles `document`. Error (kInvalidArgument): not a schema valijson can use (an unknown
  // type name, a keyword with a value of the wrong type, a remote $ref...), with valijson's
  // message. Never throws.
  static Result<JsonSchema> compile(nlohmann::json document);

  // Empty when `value` satisfies the schema; else its first violation ("<where>: <what>").
  std::string violation(const nlohmann::json& value) const;
  // The first violation of `value` as the RFC 6901 pointer of the offending value in it ("" for
  // the value itself) and valijson's description, or nullopt when `value` satisfies the schema.
  struct Violation {
    std::string pointer;
    std::string what;
  };
  std::optional<Violation> first_violation(const nlohmann::json& value) const;
  // The schema as written.
  const nlohmann::json& document() const;

 private:
  struct Impl;
  explicit JsonSchema(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace switchyard::graph
