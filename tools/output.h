#pragma once
// Reading what a tool or a provider sends back: the output's size and nesting are checked
// against the tool's limits (graph::OutputLimits, docs/workflow-format.md#limits) before it is
// parsed, and nothing here throws or recurses on the document (graph/json_read.h).
// Thread-safe: pure functions.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "graph/status.h"
#include "graph/workflow.h"

namespace switchyard::tools {

// `text` parsed as JSON, or kInvalidArgument starting with `what` ("body", "stdout", "provider
// reply") and naming the limit it passed or why it is not JSON:
//   "body: 20000000 bytes, over the limit of 16777216 bytes (max_output_bytes)"
//   "stdout: nested deeper than 128 arrays/objects (max_json_depth)"
//   "body: not JSON: parse error at line 1, column 6: ..."
// A message may quote part of `text` at any length: callers cut it (excerpt()) after scrubbing
// whatever must not be shown.
Result<nlohmann::json> parse_output(std::string_view text, const graph::OutputLimits& limits,
                                    std::string_view what);

// The message for an output stopped while it was read because it passed the byte limit:
// "<what>: over the limit of <max> bytes (max_output_bytes)".
std::string over_output_limit(std::string_view what, std::size_t max_output_bytes);

}  // namespace switchyard::tools
