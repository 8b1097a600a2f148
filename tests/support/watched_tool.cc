#include "tests/support/watched_tool.h"

#include <gtest/gtest.h>

namespace switchyard::testing {

WatchedTool::WatchedTool(std::unique_ptr<tools::Tool> inner) : inner_(std::move(inner)) {}

void WatchedTool::invoke(const tools::Invocation& call, Done done) {
  inner_->invoke(call, [this, done = std::move(done)](tools::Outcome o) {
    seen.set_value(o);
    done(std::move(o));
  });
}

WatchedToolSet watch_tool(const graph::Workflow& workflow, const std::string& id) {
  WatchedToolSet out;
  std::vector<std::unique_ptr<tools::Tool>> list;
  for (graph::ToolIndex t = 0; t < workflow.tools().size(); ++t) {
    auto tool = tools::make_tool(workflow, t);
    EXPECT_TRUE(tool.ok()) << tool.status().message();
    if (!tool.ok()) continue;
    if (workflow.tool(t).id != id) {
      list.push_back(std::move(*tool));
      continue;
    }
    auto watched = std::make_unique<WatchedTool>(std::move(*tool));
    out.watched = watched.get();
    list.push_back(std::move(watched));
  }
  out.tools = std::make_shared<tools::ToolSet>(std::move(list));
  return out;
}

}  // namespace switchyard::testing
