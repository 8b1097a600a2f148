#pragma once
// The models file (`switchyard run --models models.json`): the language-model tiers `llm` tools
// may use, cheapest first. Format and meaning: docs/models.md.
//
//   {"tiers": [{"name": "cheap", "model": "gpt-4o-mini", "base_url": "https://api.openai.com/v1",
//               "api_key_env": "OPENAI_API_KEY", "input_usd_per_mtok": 0.15,
//               "output_usd_per_mtok": 0.6, "context_window": 128000}, ...]}
//
// The file names the environment variable that holds each API key, never the key: keys are read
// when a call is made and never logged, journaled, printed or put in an error message.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/load.h"
#include "graph/status.h"
#include "graph/workflow.h"

namespace switchyard::tools {

struct ModelTier {
  std::string name;
  std::string model;
  std::string base_url;     // the API root; requests go to base_url + "/chat/completions"
  std::string api_key_env;  // empty: no Authorization header (a local server)
  double input_usd_per_mtok = 0;
  double output_usd_per_mtok = 0;
  int context_window = 0;
  std::chrono::milliseconds timeout{60000};

  // The most a call can cost: `prompt_tokens` in, `max_tokens` out.
  double worst_case_usd(std::int64_t prompt_tokens, std::int64_t max_tokens) const;
  double cost_usd(std::int64_t input_tokens, std::int64_t output_tokens) const;
};

struct Models {
  std::vector<ModelTier> tiers;  // cheapest first
  // The file's `limits` on provider replies (the HTTP body of a chat completion), each absent
  // unless the file sets it: then the calling tool's limit applies (docs/models.md#limits).
  std::optional<std::size_t> reply_max_output_bytes;
  std::optional<std::size_t> reply_max_json_depth;
  // The tier named `name`, or null.
  const ModelTier* find(const std::string& name) const;
  // The limits on a provider's reply to a tool whose own limits are `tool_limits`.
  graph::OutputLimits reply_limits(const graph::OutputLimits& tool_limits) const;
};

// The largest models file read, and its nesting limit: past them the file is refused, unread.
inline constexpr std::size_t kMaxModelsFileBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMaxModelsFileDepth = 32;
// What a tier's price may be (USD per million tokens) and its other numbers.
inline constexpr double kMaxUsdPerMtok = 1e6;

// Parses a models file. Errors name the file, the JSON pointer and what was expected (all of
// them, like the workflow loader). Never throws, whatever the text.
struct ModelsResult {
  Models models;
  std::vector<graph::Diagnostic> errors;
  bool ok() const { return errors.empty(); }
};
ModelsResult load_models(std::string_view text, std::string_view file_name);
ModelsResult load_models_file(const std::string& path);

}  // namespace switchyard::tools
