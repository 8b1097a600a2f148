#pragma once
// The `llm` tool: one call of an OpenAI-compatible Chat Completions API (OpenAI, vLLM, llama.cpp's
// server, Ollama, LiteLLM) per invocation, through the http client (libcurl multi on the tool I/O
// thread).
//
// The request: `model` of the chosen tier, messages (the rendered `system`, if any, then the
// rendered `prompt`), `max_tokens` always set, and, when the tool has an `output_schema`,
// `response_format: {"type": "json_schema", "json_schema": {"name": "output", "schema": ...,
// "strict": true}}`. The API key is read from the tier's `api_key_env` at call time and sent as a
// Bearer token; it never appears in a log, the journal, an outcome or an error message.
//
// The answer: `choices[0].message.content`; with an `output_schema` it must be JSON that satisfies
// the schema (checked with valijson) and becomes the output, else the output is {"text": content}.
// `usage` (prompt_tokens, completion_tokens) gives the outcome's tokens and cost_usd (the tier's
// prices). A reply without a readable usage (absent, or over a limit, or not JSON) is charged the
// call's worst case (Outcome::usage_unknown): spend is never undercounted. Failures: timeout,
// connect, transport, rate_limited (429, Retry-After kept for the monitors), http_status (5xx and
// other unexpected statuses), bad_output (a reply over its limits, not the API's JSON, a `usage`
// whose counts are not integers >= 0, or content that is not JSON when a schema asks for it; the
// reason names the JSON pointer or the limit), refusal (`message.refusal`), schema_invalid,
// template, unavailable (the key's variable is not set).
//
// The reply is read under Models::reply_limits(the tool's limits); the answer in it (content
// parsed as JSON, with a schema) under the tool's limits (graph::OutputLimits).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "graph/workflow.h"
#include "tools/http_client.h"
#include "tools/models.h"
#include "tools/tool.h"

namespace switchyard::tools {

// `models` must outlive the tool. Error (kInvalidArgument): the tool names a tier the models file
// does not have.
Result<std::unique_ptr<Tool>> make_llm_tool(std::string id, graph::LlmTool spec,
                                            std::chrono::milliseconds timeout, const Models& models,
                                            graph::OutputLimits limits = {});

// What one chat completion call's reply is judged and charged by.
struct ChatCall {
  std::string tool_id;  // first in every reason
  ModelTier tier;       // the tier called: names for reasons, prices for the cost
  int tier_index = -1;  // of `tier` in the models file (Outcome::tier)
  std::optional<graph::JsonSchema> schema;  // the tool's output_schema, if any
  std::string api_key;               // scrubbed from everything the provider sends back ("" : none)
  graph::OutputLimits reply_limits;  // on the provider's reply (the HTTP body)
  graph::OutputLimits answer_limits;  // on the answer parsed from `content` (with a schema)
  // The call's worst case, charged when the reply's usage cannot be read: prompt_token_bound()
  // of the request and the tool's max_tokens.
  std::int64_t prompt_tokens_bound = 0;
  std::int64_t max_tokens = 0;
};

// The outcome of one chat completion call, from what the HTTP client got: a pure function of its
// arguments (no I/O, never throws, never crashes on any bytes), so tests and fuzzers can feed it
// any reply. Every reason is one line of valid UTF-8 with the API key redacted; a malformed
// reply is bad_output naming the JSON pointer ("T (cheap: m): provider reply:
// /usage/prompt_tokens: expected an integer, got null") or the limit it passed.
Outcome parse_chat_completion(const ChatCall& call, HttpResponse response);

// The advisor's decision at a dead end (docs/runs.md): its llm tool's output, an object (or a
// string holding one) with optional string members `action` ("demote" or "escalate"), `goal`
// and `message`; each "" when absent or null.
struct Advice {
  std::string action;
  std::string goal;
  std::string message;
};
// Reads an advisor's output without trusting it (never throws): an error (kInvalidArgument)
// naming the JSON pointer when it is not such an object ("/action: expected a string, got
// number 3"; "the answer: not JSON: ..." for a string that is not JSON).
Result<Advice> parse_advice(const nlohmann::json& output);

// What a chat template adds around the text: role markers and separators per message, and a fixed
// part per request (begin/assistant markers, and the default system line some servers' templates
// insert, e.g. Llama 3.1's dates or Qwen's identity: ~25-40 tokens).
inline constexpr std::int64_t kFramingTokensPerMessage = 16;
inline constexpr std::int64_t kFramingTokensPerRequest = 64;

// An upper bound of the prompt tokens a provider reports for one call with this rendered `system`
// (may be empty) and `prompt`: their byte counts (a token is at least one byte), the bytes of the
// tool's output_schema (some providers count the response_format schema as prompt), and the
// framing above. docs/budgets.md: a provider that reports more is charged what it reports and the
// overrun is journaled.
std::int64_t prompt_token_bound(const graph::LlmTool& spec, const std::string& system,
                                const std::string& prompt);

}  // namespace switchyard::tools
