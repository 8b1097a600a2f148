#pragma once
// A tool wrapper for tests that reports the outcome the wrapped tool gave, even one the driver
// ignores (an aborted call's late kCancelled, say).

#include <future>
#include <memory>
#include <string>

#include "graph/workflow.h"
#include "tools/tool.h"
#include "tools/tool_set.h"

namespace switchyard::testing {

class WatchedTool : public tools::Tool {
 public:
  explicit WatchedTool(std::unique_ptr<tools::Tool> inner);
  // Reports the first outcome to `seen`, then hands it on. REQUIRES: invoked once.
  void invoke(const tools::Invocation& call, Done done) override;
  // Fulfilled with the wrapped tool's outcome.
  std::promise<tools::Outcome> seen;

 private:
  std::unique_ptr<tools::Tool> inner_;
};

// The tool set of `workflow` with tool `id` wrapped in a WatchedTool (owned by the set).
struct WatchedToolSet {
  std::shared_ptr<tools::ToolSet> tools;
  WatchedTool* watched = nullptr;
};
WatchedToolSet watch_tool(const graph::Workflow& workflow, const std::string& id);

}  // namespace switchyard::testing
