// Fuzz target: templates (graph/template.h): parse, then render against a context.
// Input: the template text, optionally followed by a NUL byte and the context as JSON (an object
// {"input": ..., "steps": ...}); without one, a fixed context is used.
// Checks: no crash, no exception; a template of valid UTF-8 rendered against a parsed context
// gives valid UTF-8 (rendered text goes into tool calls and the journal).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "graph/json_read.h"
#include "graph/template.h"
#include "tests/fuzz/fuzz_checks.h"

using namespace switchyard;

namespace {

const nlohmann::json& default_context() {
  static const nlohmann::json context = nlohmann::json::parse(R"({
    "input": {"customer": "ada", "amount": 12.5, "items": [1, "two", {"three": 3}], "ok": true,
              "none": null, "nested": {"a": {"b": {"c": "deep"}}}},
    "steps": {"CRM": {"output": {"id": "c-1", "tier": "gold"}}, "Pay": {"output": "paid"}},
    "goal": "Complete", "blocked": ["Stripe"], "options": ["Razorpay", "Paypal"]})");
  return context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json parsed;
  const nlohmann::json* context = &default_context();
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    auto doc = parse_untrusted(text.substr(nul + 1), {.max_depth = 128, .what = "context"});
    if (doc.ok() && doc->is_object()) {
      parsed = std::move(*doc);
      context = &parsed;
    }
    text = text.substr(0, nul);
  }
  auto t = graph::parse_template(text);
  if (!t.ok()) {
    if (valid_utf8(text) == text) fuzz::expect_json_safe(t.status().message(), "parse error");
    return 0;
  }
  for (const auto& part : t->parts) {
    if (part.is_ref) (void)graph::resolve_path(*context, part.path);
  }
  auto rendered = graph::render_template(*t, *context);
  if (valid_utf8(text) != text) return 0;
  if (!rendered.ok()) {
    fuzz::expect_json_safe(rendered.status().message(), "render error");
    return 0;
  }
  fuzz::expect_json_safe(*rendered, "rendered text");
  return 0;
}
