#include "tools/output.h"

#include "graph/json_read.h"

namespace switchyard::tools {

Result<nlohmann::json> parse_output(std::string_view text, const graph::OutputLimits& limits,
                                    std::string_view what) {
  const std::string prefix = std::string(what) + ": ";
  if (text.size() > limits.max_output_bytes) {
    return invalid_argument(prefix + std::to_string(text.size()) + " bytes, over the limit of " +
                            std::to_string(limits.max_output_bytes) + " bytes (max_output_bytes)");
  }
  if (json_text_depth(text, limits.max_json_depth) > limits.max_json_depth) {
    return invalid_argument(prefix + "nested deeper than " + std::to_string(limits.max_json_depth) +
                            " arrays/objects (max_json_depth)");
  }
  // The checks above are the ones users configure; parse_untrusted repeats them (cheaply) and
  // turns nlohmann's exceptions into a Status.
  auto parsed = parse_untrusted(text, JsonLimits{.max_depth = limits.max_json_depth,
                                                 .max_bytes = limits.max_output_bytes,
                                                 .what = what});
  if (!parsed.ok()) return parsed.status();
  return std::move(parsed).value();
}

std::string over_output_limit(std::string_view what, std::size_t max_output_bytes) {
  return std::string(what) + ": over the limit of " + std::to_string(max_output_bytes) +
         " bytes (max_output_bytes)";
}

}  // namespace switchyard::tools
