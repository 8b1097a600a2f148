#pragma once
// graph::load: parse and validate a workflow document into an immutable Workflow.
//
// Pure: it reads only the text it is given (the caller reads the file). Every problem of the
// document is reported, not only the first, each with the file, the RFC 6901 JSON pointer of the
// offending value and what was expected. Unknown fields are warnings (forward compatibility).
// Thread-safe: no shared state.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "graph/workflow.h"

namespace switchyard::graph {

struct Diagnostic {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  std::string file;     // as given to load()
  std::string pointer;  // RFC 6901, "" for the whole document
  std::string message;  // what is wrong and what was expected
  int line = 0;         // JSON syntax errors only (1-based); 0 otherwise
  int column = 0;
  // "file: /pointer: message" (or "file:line:column: message" for syntax errors).
  std::string to_string() const;
};

struct LoadResult {
  std::shared_ptr<const Workflow> workflow;  // null when errors is not empty
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  bool ok() const { return errors.empty(); }
};

struct LoadOptions {
  // Accept the `scenario` block (scenario files). When false it is reported as an unknown field.
  bool allow_scenario = true;
  // Limits on the text (graph/json_read.h's parse_untrusted, docs/workflow-format.md): nesting of
  // arrays and objects, and size in bytes. A document past either is one error naming the limit.
  std::size_t max_depth = 128;
  std::size_t max_bytes = std::size_t{16} << 20;
};

// Parses `text` (the contents of `file_name`) and validates it against docs/workflow-format.md.
// The text must be UTF-8 (a leading UTF-8 byte order mark is skipped) and a JSON object that names
// no key twice in any object.
LoadResult load(std::string_view text, std::string_view file_name, const LoadOptions& options = {});

}  // namespace switchyard::graph
