#include "tools/tool_set.h"

#include <algorithm>

#include "tools/builtin.h"
#include "tools/command_tool.h"
#include "tools/http_tool.h"
#include "tools/llm_tool.h"
#include "tools/mcp_tool.h"
#include "tools/mock_tool.h"

namespace switchyard::tools {
namespace {

// How a tool fails in a scenario: `down` on every call, `fail_calls` on the listed calls.
graph::MockFail scenario_failure(const graph::Workflow& w, graph::ToolIndex t) {
  graph::MockFail fail;
  const auto& s = *w.scenario();
  if (std::find(s.down.begin(), s.down.end(), t) != s.down.end()) {
    fail.mode = graph::MockFail::Mode::kAlways;
  } else if (auto it = s.fail_calls.find(t); it != s.fail_calls.end()) {
    fail.mode = graph::MockFail::Mode::kCalls;
    fail.calls = it->second;
  }
  return fail;
}

std::unique_ptr<Tool> scenario_stand_in(const graph::Workflow& w, graph::ToolIndex t) {
  const graph::Tool& tool = w.tool(t);
  graph::MockFail fail = w.scenario() ? scenario_failure(w, t) : graph::MockFail{};
  if (tool.kind == graph::ToolKind::kLlm) return make_mock_model(tool.id, std::move(fail));
  graph::MockTool mock;
  if (const auto* spec = std::get_if<graph::MockTool>(&tool.spec))
    mock = *spec;
  else
    mock.output = {{"tool", tool.id}};
  if (fail.mode != graph::MockFail::Mode::kNever) mock.fail = std::move(fail);
  return make_mock_tool(tool.id, std::move(mock));
}

// A wait step is carried out by the engine, which holds the run until the wait is resolved
// (docs/waits.md); this adapter only answers a driver that cannot hold a run (the synchronous
// Runner): the step fails, naming why.
class WaitStandIn : public Tool {
 public:
  explicit WaitStandIn(std::string id) : id_(std::move(id)) {}
  void invoke(const Invocation&, Done done) override {
    done(Outcome::failed(FailureKind::kUnavailable,
                         "wait step '" + id_ +
                             "': only the engine can hold a run for a wait (run it with "
                             "switchyard run or the embedding API; docs/waits.md)"));
  }

 private:
  std::string id_;
};

std::unique_ptr<Tool> make_wait_stand_in(const std::string& id) {
  return std::make_unique<WaitStandIn>(id);
}

}  // namespace

Result<std::unique_ptr<Tool>> make_tool(const graph::Workflow& workflow, graph::ToolIndex t,
                                        const ToolSetOptions& options) {
  const graph::Tool& tool = workflow.tool(t);
  if (options.scenario) return scenario_stand_in(workflow, t);
  if (const auto* mock = std::get_if<graph::MockTool>(&tool.spec)) {
    return make_mock_tool(tool.id, *mock);
  }
  if (const auto* command = std::get_if<graph::CommandTool>(&tool.spec)) {
    return make_command_tool(tool.id, *command, tool.timeout, tool.limits);
  }
  if (const auto* http = std::get_if<graph::HttpTool>(&tool.spec)) {
    return make_http_tool(tool.id, *http, tool.timeout, tool.limits);
  }
  if (const auto* mcp = std::get_if<graph::McpTool>(&tool.spec)) {
    return make_mcp_tool(tool.id, *mcp, tool.timeout, tool.limits);
  }
  if (const auto* llm = std::get_if<graph::LlmTool>(&tool.spec)) {
    if (options.models == nullptr) {
      return invalid_argument("tool '" + tool.id +
                              "': an llm tool needs a models file "
                              "(switchyard run --models models.json; see docs/models.md)");
    }
    return make_llm_tool(tool.id, *llm, tool.timeout, *options.models, tool.limits);
  }
  if (const auto* builtin = std::get_if<graph::BuiltinTool>(&tool.spec)) {
    auto adapter = options.builtins
                       ? options.builtins->make_tool(tool.id, builtin->name, builtin->args)
                       : nullptr;
    if (!adapter) {
      return invalid_argument("tool '" + tool.id + "': builtin '" + builtin->name +
                              "' is not registered by this program");
    }
    return adapter;
  }
  if (tool.kind == graph::ToolKind::kWait) return make_wait_stand_in(tool.id);
  return invalid_argument("tool '" + tool.id + "': kind '" +
                          std::string(graph::to_string(tool.kind)) +
                          "' cannot run in this build yet (mock, builtin, command, http and mcp "
                          "tools run outside scenario evaluation; see docs/runs.md)");
}

Result<std::shared_ptr<ToolSet>> make_tool_set(const graph::Workflow& workflow,
                                               const ToolSetOptions& options) {
  std::vector<std::unique_ptr<Tool>> tools;
  for (graph::ToolIndex t = 0; t < workflow.tools().size(); ++t) {
    auto tool = make_tool(workflow, t, options);
    if (!tool.ok()) return tool.status();
    tools.push_back(std::move(*tool));
  }
  return std::make_shared<ToolSet>(std::move(tools));
}

}  // namespace switchyard::tools
