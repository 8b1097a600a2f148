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

// Resolves one reference path in `context`; null pointer when missing.
const nlohmann::json* resolve_path(const nlohmann::json& context,
                                   const std::vector<std::string>& path);

}  // namespace switchyard::graph
