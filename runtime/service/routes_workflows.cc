// POST /v1/workflows, GET /v1/workflows, GET /v1/workflows/{name}.

#include "graph/load.h"
#include "runtime/base/workflow_file.h"
#include "runtime/engine/health_json.h"
#include "runtime/engine/runner.h"
#include "runtime/service/log.h"
#include "runtime/service/service_impl.h"

namespace switchyard::service {
namespace {

// The error code (403) of a workflow with a command tool (or an MCP tool whose server is a
// program started over stdio) posted to a server that refuses them.
constexpr const char* kCommandToolsRefused = "command_tools_refused";

}  // namespace

Result<Registered> Service::Impl::register_workflow(const std::string& text,
                                                    const std::string& file, nlohmann::json* errors,
                                                    nlohmann::json* warnings, bool over_http) {
  *errors = nlohmann::json::array();
  *warnings = nlohmann::json::array();
  // Scenario files mock every tool: they are for `eval`, not for a service.
  graph::LoadResult loaded = graph::load(text, file, {.allow_scenario = false});
  for (const auto& d : loaded.warnings) warnings->push_back(runtime::diagnostic_json(d));
  if (!loaded.ok()) {
    for (const auto& d : loaded.errors) errors->push_back(runtime::diagnostic_json(d));
    return invalid_argument(loaded.errors.front().to_string());
  }
  if (over_http && !options.allow_command_tools) {
    // A command tool runs a program on this host, and so does an MCP tool whose server is spoken
    // to over stdio (its argv is started here): not for every token holder to register.
    for (const auto& tool : loaded.workflow->tools()) {
      const bool command = tool.kind == graph::ToolKind::kCommand;
      const bool stdio_mcp =
          tool.kind == graph::ToolKind::kMcp && std::get<graph::McpTool>(tool.spec).server.stdio();
      if (!command && !stdio_mcp) continue;
      const std::string pointer = (nlohmann::json::json_pointer("/tools") / tool.id).to_string();
      const std::string what = command ? "a command tool, which runs a program"
                                       : "an MCP tool whose server (over stdio) is a program run";
      const std::string message = "tool '" + tool.id + "' is " + what +
                                  " on the server's host: this server refuses them over HTTP "
                                  "(start it with --allow-command-tools to accept them)";
      errors->push_back({{"file", file},
                         {"pointer", pointer},
                         {"message", message},
                         {"code", kCommandToolsRefused}});
      return invalid_argument(file + ": " + pointer + ": " + message);
    }
  }
  auto tool_set = tools::make_tool_set(*loaded.workflow, {.models = &models});
  if (!tool_set.ok()) return tool_set.status();
  Registered r;
  r.workflow = loaded.workflow;
  r.tools = *tool_set;
  const runtime::WorkflowIdentity id = runtime::identify(*r.workflow);
  r.hash = id.hash;
  r.source = id.source;
  r.registered_ms = runtime::unix_ms_of(clock.now());
  {
    std::unique_lock lock(registry_mu);
    auto it = registry.find(r.workflow->name());
    if (it != registry.end() && it->second.hash == r.hash) return it->second;  // the same again
    registry[r.workflow->name()] = r;
  }
  logger().info("workflow {} registered (sha256 {})", r.workflow->name(), r.hash.substr(0, 12));
  return r;
}

HttpResponse Service::Impl::post_workflow(const HttpRequest& req) {
  // The loader parses and walks the document; its nesting is bounded first (the size is, by the
  // server's body limit).
  const JsonLimits limits = body_limits();
  if (json_text_depth(req.body, limits.max_depth) > limits.max_depth) {
    const std::string message = "request body: nested deeper than " +
                                std::to_string(limits.max_depth) + " arrays/objects (max_depth)";
    nlohmann::json error = {{"file", "request body"}, {"pointer", ""}, {"message", message}};
    return json_response(400, {{"error",
                                {{"code", "invalid_argument"},
                                 {"message", message},
                                 {"pointer", ""},
                                 {"file", "request body"}}},
                               {"errors", nlohmann::json::array({error})},
                               {"warnings", nlohmann::json::array()}});
  }
  // Validated as a file would be, so that errors carry the same JSON pointers as the CLI's.
  nlohmann::json errors, warnings;
  auto r = register_workflow(req.body, "request body", &errors, &warnings, /*over_http=*/true);
  if (!r.ok()) {
    if (errors.empty()) return error_response(r.status());
    // errors[0] is ours (diagnostic_json or the refusal): an object with these members.
    const nlohmann::json& first = errors[0];
    const bool refused = first.contains("code") && first["code"] == kCommandToolsRefused;
    nlohmann::json body = {{"error",
                            {{"code", refused ? kCommandToolsRefused : "invalid_argument"},
                             {"message", first["message"]},
                             {"pointer", first["pointer"]},
                             {"file", first["file"]}}},
                           {"errors", errors},
                           {"warnings", warnings}};
    return json_response(refused ? 403 : 400, body);
  }
  HttpResponse out = json_response(
      201, {{"name", r->workflow->name()}, {"hash", r->hash}, {"warnings", warnings}});
  out.headers.emplace_back("Location", "/v1/workflows/" + url_encode(r->workflow->name()));
  return out;
}

HttpResponse Service::Impl::list_workflows() {
  nlohmann::json list = nlohmann::json::array();
  std::shared_lock lock(registry_mu);
  for (const auto& [name, r] : registry) {
    list.push_back({{"name", name}, {"hash", r.hash}, {"registered_ms", r.registered_ms}});
  }
  return json_response(200, {{"workflows", list}});
}

HttpResponse Service::Impl::get_workflow(const std::string& name) {
  std::shared_lock lock(registry_mu);
  auto it = registry.find(name);
  if (it == registry.end()) return error_response(not_found("no workflow named " + name));
  // The journaled form: secrets (headers, env, URL parameters) are redacted.
  return json_response(200, {{"name", name},
                             {"hash", it->second.hash},
                             {"registered_ms", it->second.registered_ms},
                             {"workflow", nlohmann::json::parse(*it->second.source)}});
}

}  // namespace switchyard::service
