// Fuzz target: what the MCP client makes of a server's replies (tools/mcp_client.h and
// tools/mcp_tool.h, pure functions, no process or socket): the body of a Streamable HTTP answer
// (tools::parse_http_answer: one JSON-RPC message, a batch, or a text/event-stream of them), each
// message read as the answer to a request (tools::read_mcp_answer, in the 2025-11-25 and the
// stateless 2026-07-28 revision), and each result read as a tools/list page
// (tools::read_tools_page, then each tool's annotations), a server/discover result
// (tools::read_discover_result) and a tools/call result (tools::mcp_call_outcome:
// structuredContent, content, isError). Input: the answer's body; when it holds a NUL byte, the
// bytes before it are its Content-Type and the bytes after it the body. Without one, the body is
// read both as JSON and as an event stream. Checks: no crash, no exception; every error and reason
// is valid UTF-8, and a reply's error is one line; an ok output can be dumped.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fuzz/fuzz_checks.h"
#include "tools/mcp_client.h"
#include "tools/mcp_tool.h"

using namespace switchyard;

namespace {

void check_one_line(const std::string& text, std::string_view what) {
  fuzz::expect_json_safe(text, what);
  if (text.find('\n') != std::string::npos) fuzz::fail(what, "several lines: " + text);
}

void read_result(const nlohmann::json& result, const graph::OutputLimits& limits) {
  nlohmann::json tools = nlohmann::json::array();
  std::string next;
  const Status page = tools::read_tools_page(result, tools, next);
  fuzz::expect_json_safe(page.message(), "tools/list page");
  fuzz::expect_json_safe(next, "nextCursor");
  for (const auto& t : tools) (void)tools::mcp_idempotent_hint(t);
  auto discovered = tools::read_discover_result(result);
  if (discovered.ok()) {
    for (const auto& v : discovered->versions) fuzz::expect_json_safe(v, "supported version");
    (void)discovered->server_info.dump();
  } else {
    fuzz::expect_json_safe(discovered.status().message(), "server/discover result");
  }
  const tools::Outcome o = tools::mcp_call_outcome("Call", result, limits);
  fuzz::expect_json_safe(o.reason, "tools/call outcome");
  if (o.ok) (void)o.output.dump();
}

void read_body(std::string_view content_type, std::string_view body,
               const graph::OutputLimits& limits) {
  const graph::OutputLimits envelope{.max_output_bytes = 2 * limits.max_output_bytes + 65536,
                                     .max_json_depth = limits.max_json_depth + 8};
  auto messages = tools::parse_http_answer(content_type, body, envelope);
  if (!messages.ok()) return check_one_line(messages.status().message(), "http answer");
  for (const auto& m : *messages) {
    for (const bool stateless : {false, true}) {
      const tools::McpReply reply =
          tools::read_mcp_answer(m, "MCP server 'fuzz': tools/call", stateless);
      check_one_line(reply.error, "answer");
      if (reply.failure == tools::FailureKind::kNone && !reply.rpc_error) {
        read_result(reply.result, limits);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const graph::OutputLimits limits{.max_output_bytes = 64 * 1024, .max_json_depth = 64};
  if (const auto nul = input.find('\0'); nul != std::string_view::npos) {
    read_body(input.substr(0, nul), input.substr(nul + 1), limits);
  } else {
    read_body("application/json", input, limits);
    read_body("text/event-stream", input, limits);
  }
  return 0;
}
