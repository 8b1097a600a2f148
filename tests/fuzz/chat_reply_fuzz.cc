// Fuzz target: an OpenAI-compatible provider's chat completion reply, as the llm tool judges and
// charges it (tools::parse_chat_completion, a pure function of the reply), and the advisor's
// answer (tools::parse_advice).
// Input: the reply's body (a chat completion, or anything). Each input is judged three ways: 200
// with an output_schema, 200 without one, and 429 with a Retry-After.
// Checks: no crash, no exception; every reason is one line of valid UTF-8 without the API key;
// tokens >= 0 and a finite cost >= 0; an answer that is ok can be dumped.
//
// Needs tools/llm_tool.h's ChatCall / parse_chat_completion / parse_advice (the tools helper's
// branch); wired in tests/fuzz/CMakeLists.txt once they are on main.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "graph/json_read.h"
#include "graph/json_schema.h"
#include "tests/fuzz/fuzz_checks.h"
#include "tools/llm_tool.h"

using namespace switchyard;

namespace {

constexpr const char* kApiKey = "sk-fuzz-0123456789abcdef";

const graph::JsonSchema& schema() {
  static const graph::JsonSchema compiled = [] {
    auto s = graph::JsonSchema::compile(nlohmann::json::parse(R"({
      "type": "object", "required": ["answer"],
      "properties": {"answer": {"type": "string"}, "score": {"type": "number", "minimum": 0},
                     "tags": {"type": "array", "items": {"type": "string"}}}})"));
    if (!s.ok()) fuzz::fail("setup", s.status().message());
    return *s;
  }();
  return compiled;
}

tools::ChatCall call(bool with_schema) {
  tools::ChatCall c;
  c.tool_id = "Ask";
  c.tier.name = "cheap";
  c.tier.model = "gpt-4o-mini";
  c.tier.base_url = "https://api.example.com/v1";
  c.tier.input_usd_per_mtok = 0.15;
  c.tier.output_usd_per_mtok = 0.6;
  c.tier.context_window = 128000;
  c.tier_index = 0;
  if (with_schema) c.schema = schema();
  c.api_key = kApiKey;
  c.reply_limits = {.max_output_bytes = 1 << 20, .max_json_depth = 128};
  c.answer_limits = {.max_output_bytes = 1 << 20, .max_json_depth = 64};
  c.prompt_tokens_bound = 1000;
  c.max_tokens = 512;
  return c;
}

void check(const tools::Outcome& o, std::string_view what) {
  fuzz::expect_json_safe(o.reason, what);
  if (o.reason.find('\n') != std::string::npos) {
    fuzz::fail(what, "a reason of several lines: " + o.reason);
  }
  if (o.reason.find(kApiKey) != std::string::npos) fuzz::fail(what, "the API key in a reason");
  if (o.tokens < 0) fuzz::fail(what, "negative tokens");
  if (!std::isfinite(o.cost_usd) || o.cost_usd < 0) fuzz::fail(what, "a cost not finite and >= 0");
  if (o.ok) (void)o.output.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  for (const bool with_schema : {true, false}) {
    tools::HttpResponse r;
    r.status = 200;
    r.body = body;
    check(tools::parse_chat_completion(call(with_schema), std::move(r)), "chat reply");
  }
  tools::HttpResponse limited;
  limited.status = 429;
  limited.headers = {{"Retry-After", "7"}, {"Content-Type", "application/json"}};
  limited.body = body;
  check(tools::parse_chat_completion(call(false), std::move(limited)), "429 reply");
  // The advisor's answer: the content as a string, and as the JSON it holds.
  auto advice = tools::parse_advice(nlohmann::json(valid_utf8(body)));
  if (!advice.ok()) fuzz::expect_json_safe(advice.status().message(), "advice");
  if (auto doc = parse_untrusted(body, {.max_depth = 128}); doc.ok()) {
    auto parsed = tools::parse_advice(*doc);
    if (!parsed.ok()) fuzz::expect_json_safe(parsed.status().message(), "advice");
  }
  return 0;
}
