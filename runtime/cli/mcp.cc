// switchyard mcp list [--json] [--timeout-ms N] [--header 'Name: value'] SERVER...
// Connects to an MCP server and prints its tools (`tools/list`, every page) with their input
// schemas, annotations and what the annotations mean for Switchyard's policy (docs/mcp.md).
// SERVER is a Streamable HTTP URL (http:// or https://) or a program and its arguments (stdio;
// put `--` before them when they have flags of their own).

#include <future>
#include <ostream>

#include "runtime/cli/cli.h"
#include "tools/mcp_client.h"
#include "tools/mcp_tool.h"

namespace switchyard::cli {
namespace {

struct McpListArgs {
  std::vector<std::string> server;
  std::vector<std::string> headers;  // "Name: value"
  int timeout_ms = 30000;
  bool json = false;
};

std::string hint_text(const nlohmann::json& tool) {
  const auto hint = tools::mcp_idempotent_hint(tool);
  if (!hint) return "no hint (the workflow's `idempotent` decides; default false)";
  return *hint ? "idempotent (readOnlyHint or idempotentHint)" : "not idempotent (destructiveHint)";
}

int list(Context& ctx, const McpListArgs& args) {
  graph::McpServer server;
  server.name = "cli";
  const std::string& first = args.server.front();
  if (first.rfind("http://", 0) == 0 || first.rfind("https://", 0) == 0) {
    if (args.server.size() > 1) {
      return report_error(ctx, invalid_argument("a URL takes no arguments after it"), args.json);
    }
    server.url = first;
    for (const auto& h : args.headers) {
      const auto colon = h.find(':');
      if (colon == std::string::npos) {
        return report_error(
            ctx, invalid_argument("--header: expected 'Name: value', got '" + h + "'"), args.json);
      }
      std::string value = h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      server.headers.emplace_back(h.substr(0, colon), value);
    }
  } else {
    if (!args.headers.empty()) {
      return report_error(ctx, invalid_argument("--header is for Streamable HTTP servers (a URL)"),
                          args.json);
    }
    server.argv = args.server;
  }
  std::promise<tools::McpReply> promise;
  tools::McpRequestOptions options;
  options.timeout = std::chrono::milliseconds(args.timeout_ms);
  tools::mcp_list_tools(server, options,
                        [&promise](tools::McpReply r) { promise.set_value(std::move(r)); });
  tools::McpReply reply = promise.get_future().get();
  tools::stop_mcp_sessions();
  if (reply.failure != tools::FailureKind::kNone || reply.rpc_error) {
    return report_error(ctx, Status(StatusCode::kUnavailable, reply.error), args.json);
  }
  if (args.json) {
    nlohmann::json tools = nlohmann::json::array();
    for (const auto& t : reply.result) {
      nlohmann::json entry = t;
      const auto hint = tools::mcp_idempotent_hint(t);
      entry["switchyard"] = {{"idempotent", hint ? nlohmann::json(*hint) : nlohmann::json()}};
      tools.push_back(std::move(entry));
    }
    *ctx.out << nlohmann::json{{"tools", tools}}.dump(2, ' ', false,
                                                      nlohmann::json::error_handler_t::replace)
             << "\n";
    return kExitOk;
  }
  *ctx.out << reply.result.size() << " tool(s)\n";
  for (const auto& t : reply.result) {
    *ctx.out << "\n" << valid_utf8(lenient_string(t, "name", "(no name)")) << "\n";
    const std::string description = lenient_string(t, "description");
    if (!description.empty()) *ctx.out << "  " << excerpt(description, 300) << "\n";
    *ctx.out << "  policy: " << hint_text(t) << "\n";
    const auto& annotations = lenient_member(t, "annotations");
    if (!annotations.is_null()) {
      *ctx.out << "  annotations: "
               << annotations.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
               << "\n";
    }
    *ctx.out << "  inputSchema: "
             << lenient_member(t, "inputSchema")
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
             << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_mcp(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("mcp", "Discover the tools of Model Context Protocol servers");
  cmd->require_subcommand(1);
  auto* list_cmd = cmd->add_subcommand(
      "list",
      "Print an MCP server's tools with their input schemas and annotations. SERVER: a Streamable "
      "HTTP URL, or a program and its arguments (stdio; put -- before them)");
  auto args = std::make_shared<McpListArgs>();
  list_cmd->add_option("server", args->server, "URL, or PROGRAM [ARGS...]")->required();
  list_cmd->add_option("--header", args->headers,
                       "A request header for a URL, 'Name: value' (repeatable)");
  list_cmd->add_option("--timeout-ms", args->timeout_ms, "Limit on each request (default 30000)")
      ->check(CLI::Range(1, 24 * 3600 * 1000));
  list_cmd->add_flag("--json", args->json, "Print one JSON document");
  list_cmd->callback([&ctx, args] { ctx.exit_code = list(ctx, *args); });
}

}  // namespace switchyard::cli
