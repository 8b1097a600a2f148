// invocation_of: what a driver hands a tool for a kInvoke action (the same for every driver).

#include <gtest/gtest.h>

#include "graph/load.h"
#include "runtime/machine/run_machine.h"

namespace switchyard::runtime {
namespace {

TEST(InvocationOf, CarriesTheActionsCallTheRunIdAndTheCancelToken) {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "i", "start": "Start",
    "goal": "Done", "tools": {"Pay": {"kind": "mock"}, "Done": {"kind": "mock"}},
    "edges": [["Start", "Pay", 1], ["Pay", "Done", 1]]})",
                            "i.json");
  ASSERT_TRUE(loaded.ok());
  const graph::Workflow& w = *loaded.workflow;
  const nlohmann::json context = {{"input", {{"x", 1}}}, {"steps", nlohmann::json::object()}};
  Action action;
  action.type = Action::Type::kInvoke;
  action.tool = w.find_tool("Pay");
  action.call_number = 3;
  action.attempt = 2;
  action.tier = 1;
  action.slot = 4;
  action.context = &context;
  auto cancel = std::make_shared<tools::CallCancel>();
  const std::string run_id = "r-7";

  const tools::Invocation call = invocation_of(w, action, run_id, cancel);
  EXPECT_EQ(call.workflow, &w);
  EXPECT_EQ(call.tool, w.find_tool("Pay"));
  EXPECT_EQ(call.context, &context);
  EXPECT_EQ(call.call_number, 3);
  EXPECT_EQ(call.attempt, 2);
  EXPECT_EQ(call.tier, 1);
  EXPECT_EQ(call.run_id, "r-7");
  EXPECT_EQ(call.cancel, cancel);

  const tools::Invocation uncancellable = invocation_of(w, Action{}, {}, nullptr);
  EXPECT_EQ(uncancellable.cancel, nullptr);
  EXPECT_EQ(uncancellable.call_number, 1);
  EXPECT_EQ(uncancellable.tier, -1);
  EXPECT_TRUE(uncancellable.run_id.empty());
}

}  // namespace
}  // namespace switchyard::runtime
