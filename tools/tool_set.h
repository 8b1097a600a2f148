#pragma once
// ToolSet: one adapter per tool of a workflow, made once and shared by every run of it.

#include <memory>
#include <vector>

#include "graph/status.h"
#include "graph/workflow.h"
#include "tools/tool.h"

namespace switchyard::tools {

struct ToolSetOptions {
  // Scenario evaluation: every tool becomes a mock with its id (failing as the workflow's
  // `scenario` block says) and every `llm` tool a mock model. No real service is touched.
  bool scenario = false;
  // Where `builtin` tools are looked up (not owned; must outlive the ToolSet). Null: none.
  const class BuiltinRegistry* builtins = nullptr;
  // The model tiers `llm` tools call (not owned; must outlive the ToolSet). Null: none.
  const struct Models* models = nullptr;
};

class ToolSet {
 public:
  explicit ToolSet(std::vector<std::unique_ptr<Tool>> tools) : tools_(std::move(tools)) {}
  Tool& at(graph::ToolIndex t) const { return *tools_[t]; }
  std::size_t size() const { return tools_.size(); }

 private:
  std::vector<std::unique_ptr<Tool>> tools_;
};

// Makes the adapter of tool `t` of `workflow` (errors as make_tool_set's).
Result<std::unique_ptr<Tool>> make_tool(const graph::Workflow& workflow, graph::ToolIndex t,
                                        const ToolSetOptions& options = {});

// Makes the adapters for `workflow`. Errors (kInvalidArgument): a builtin that is not registered,
// or a tool kind this build cannot run outside scenarios, naming the tool and its kind.
Result<std::shared_ptr<ToolSet>> make_tool_set(const graph::Workflow& workflow,
                                               const ToolSetOptions& options = {});

}  // namespace switchyard::tools
