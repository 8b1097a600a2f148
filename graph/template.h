#pragma once
// Templates: "{{input.x}}", "{{steps.CRM.output.y}}" inside strings of a tool's configuration.
//
// A template is parsed once into literal text and references. A reference is a dotted path whose
// first segment is a root: `input` (the run's input), `steps` (earlier steps:
// steps.<tool>.output...), or, in escalation prompts, `goal`, `blocked`, `options`. Pure;
// thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "graph/status.h"

namespace switchyard::graph {

struct TemplatePart {
  bool is_ref = false;
  std::string text;               // literal text, or the reference as written ("steps.CRM.output")
  std::vector<std::string> path;  // reference segments: {"steps", "CRM", "output"}
};

struct Template {
  std::vector<TemplatePart> parts;
  bool has_refs() const;
};

// Parses `text`. Errors: unbalanced braces, an empty reference, an unknown root, or a `steps`
// reference without a step name.
Result<Template> parse_template(std::string_view text);

// Renders `t` against `context`, an object {"input": ..., "steps": {...}, ...}. A reference to a
// string inserts it as is; any other value inserts its compact JSON. Error (kInvalidArgument)
// naming the reference when a value is missing.
Result<std::string> render_template(const Template& t, const nlohmann::json& context);

// A JSON value whose strings are templates (an http tool's `body`, a builtin's `args`), each
// string parsed once. Rendered, a string that is exactly one reference ("{{input.order}}")
// becomes the referenced value itself, of whatever type; any other string renders as text.
struct JsonTemplate {
  nlohmann::json shape;           // the value; its strings are rendered from `strings`
  std::vector<Template> strings;  // in the order a pre-order walk meets them
};

// Parses every string in `value`. Errors: parse_template's, naming the first bad string.
Result<JsonTemplate> parse_json_template(const nlohmann::json& value);

// Renders `t` against `context` (as render_template does). Error (kInvalidArgument) naming the
// reference when a value is missing.
Result<nlohmann::json> render_json_template(const JsonTemplate& t, const nlohmann::json& context);

// Resolves one reference path in `context`; null pointer when missing.
const nlohmann::json* resolve_path(const nlohmann::json& context,
                                   const std::vector<std::string>& path);

}  // namespace switchyard::graph
