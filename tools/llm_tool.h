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
// prices). Failures: timeout, connect, transport, rate_limited (429, Retry-After kept for the
// monitors), http_status (5xx and other unexpected statuses), bad_output (an answer that is not
// the API's JSON, or content that is not JSON when a schema asks for it), refusal
// (`message.refusal`), schema_invalid, template, unavailable (the key's variable is not set).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "graph/workflow.h"
#include "tools/models.h"
#include "tools/tool.h"

namespace switchyard::tools {

// `models` must outlive the tool. Error (kInvalidArgument): the tool names a tier the models file
// does not have.
Result<std::unique_ptr<Tool>> make_llm_tool(std::string id, graph::LlmTool spec,
                                            std::chrono::milliseconds timeout,
                                            const Models& models);

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
