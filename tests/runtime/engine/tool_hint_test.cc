// A tool's own word on its idempotence (tools::Tool::idempotent_hint: an MCP server's
// annotations) decides the durability rules for a tool whose workflow does not give
// `idempotent`: a tool hinted idempotent is called without its step_started written first, one
// hinted not idempotent (destructiveHint) or not hinted has it written first, and the workflow's
// own `idempotent` always wins. The first hint a run uses for a tool is journaled (`tool_hint`),
// resume reads it (a hinted-idempotent call in flight is made again, not escalated in doubt), and
// replay re-drives a journal holding it. Checked for the Runner and the Engine; the tool reads the
// journal when it runs. (The MCP adapter's hints: tests/tools/mcp_tool_test.cc.)

#include <gtest/gtest.h>

#include <optional>

#include "graph/json_read.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/reenact.h"
#include "runtime/engine/resume_plan.h"
#include "runtime/engine/runner.h"
#include "tests/support/graph_builder.h"
#include "tools/builtin.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

// Tool `inner` with a hint of its own.
class HintedTool final : public tools::Tool {
 public:
  HintedTool(std::unique_ptr<tools::Tool> inner, std::optional<bool> hint)
      : inner_(std::move(inner)), hint_(hint) {}
  void invoke(const tools::Invocation& call, Done done) override {
    inner_->invoke(call, std::move(done));
  }
  std::optional<bool> idempotent_hint() const override { return hint_; }

 private:
  std::unique_ptr<tools::Tool> inner_;
  std::optional<bool> hint_;
};

// Start -> X -> Goal; X is the builtin "check" with `x_fields` added (e.g. "idempotent").
std::shared_ptr<const graph::Workflow> hint_workflow(const nlohmann::json& x_fields = {}) {
  nlohmann::json x = {{"kind", "builtin"}, {"name", "check"}};
  if (x_fields.is_object()) x.update(x_fields);
  nlohmann::json w = {{"format", "switchyard.workflow/v1"},
                      {"name", "hints"},
                      {"start", "Start"},
                      {"goal", "Goal"},
                      {"tools", {{"X", x}, {"Goal", {{"kind", "mock"}, {"idempotent", true}}}}},
                      {"edges", {{"Start", "X", 1}, {"X", "Goal", 1}}}};
  return testing::load_workflow(w.dump());
}

class ToolHintTest : public ::testing::TestWithParam<bool> {  // true: the Engine
 protected:
  ToolHintTest() {
    // X: records whether its step_started was in the journal when it was called.
    builtins_.add("check", [this](const nlohmann::json&) -> Result<nlohmann::json> {
      auto events = journal_->events("r1");
      bool found = false;
      if (events.ok()) {
        for (const Event& e : *events)
          found |= e.type == "step_started" && lenient_string(e.payload, "tool") == "X";
      }
      started_written_.push_back(found);
      return nlohmann::json{{"ok", true}};
    });
  }

  // Runs `w` as run r1, X's adapter hinting `hint`; the run's events.
  std::vector<Event> run(const std::shared_ptr<const graph::Workflow>& w,
                         std::optional<bool> hint) {
    std::vector<std::unique_ptr<tools::Tool>> adapters;
    for (graph::ToolIndex t = 0; t < w->tools().size(); ++t) {
      auto made = tools::make_tool(*w, t, {.builtins = &builtins_});
      EXPECT_TRUE(made.ok()) << made.status().message();
      if (!made.ok()) return {};
      adapters.push_back(w->tool(t).id == "X" ? std::make_unique<HintedTool>(std::move(*made), hint)
                                              : std::move(*made));
    }
    auto tools = std::make_shared<tools::ToolSet>(std::move(adapters));
    RunRequest request;
    request.run_id = "r1";
    Result<RunReport> report = Status(StatusCode::kInternal, "not run");
    if (GetParam()) {
      Engine engine(*journal_, clock_, health_, {.threads = 1});
      report = engine.submit(w, tools, std::move(request)).get();
    } else {
      Runner runner(w, tools, *journal_, clock_, health_);
      report = runner.run(std::move(request));
    }
    EXPECT_TRUE(report.ok()) << report.status().message();
    if (report.ok()) {
      EXPECT_EQ(report->result.status, RunStatus::kCompleted);
    }
    auto events = journal_->events("r1");
    EXPECT_TRUE(events.ok());
    return events.ok() ? std::move(*events) : std::vector<Event>{};
  }

  static std::vector<nlohmann::json> hints_of(const std::vector<Event>& events) {
    std::vector<nlohmann::json> out;
    for (const Event& e : events) {
      if (e.type == "tool_hint") out.push_back(e.payload);
    }
    return out;
  }

  tools::BuiltinRegistry builtins_;
  std::unique_ptr<Journal> journal_ = make_memory_journal();
  ManualClock clock_;
  monitors::HealthTable health_{clock_};
  std::vector<bool> started_written_;  // what X saw, per call
};

TEST_P(ToolHintTest, AnUndeclaredToolHintedIdempotentIsCalledBeforeItsStartIsWritten) {
  auto w = hint_workflow();
  ASSERT_NE(w, nullptr);
  const auto events = run(w, true);
  EXPECT_EQ(started_written_, std::vector<bool>{false});
  const nlohmann::json expected = {
      {"tool", "X"}, {"idempotent", true}, {"from", "mcp_annotations"}};
  EXPECT_EQ(hints_of(events), std::vector<nlohmann::json>{expected});
  // A driver event: the journal re-drives as the router decides (replay --verify).
  auto reenacted = reenact(*w, events, /*complete=*/true);
  EXPECT_TRUE(reenacted.ok()) << reenacted.status().message();
}

TEST_P(ToolHintTest, WithoutAHintAnUndeclaredToolsStartIsWrittenBeforeItsCall) {
  auto w = hint_workflow();
  ASSERT_NE(w, nullptr);
  const auto events = run(w, std::nullopt);
  EXPECT_EQ(started_written_, std::vector<bool>{true});
  EXPECT_TRUE(hints_of(events).empty());
}

TEST_P(ToolHintTest, ADestructiveHintKeepsTheStartWrittenFirstAndIsJournaled) {
  auto w = hint_workflow();
  ASSERT_NE(w, nullptr);
  const auto events = run(w, false);
  EXPECT_EQ(started_written_, std::vector<bool>{true});
  ASSERT_EQ(hints_of(events).size(), 1u);
  EXPECT_EQ(hints_of(events)[0]["idempotent"], false);
}

TEST_P(ToolHintTest, TheWorkflowsIdempotentWinsOverAHintThatSaysOtherwise) {
  auto declared_false = hint_workflow({{"idempotent", false}});
  ASSERT_NE(declared_false, nullptr);
  EXPECT_TRUE(hints_of(run(declared_false, true)).empty());
  EXPECT_EQ(started_written_, std::vector<bool>{true});
}

TEST_P(ToolHintTest, AWorkflowThatDeclaresIdempotentTrueIgnoresADestructiveHint) {
  auto declared_true = hint_workflow({{"idempotent", true}});
  ASSERT_NE(declared_true, nullptr);
  EXPECT_TRUE(hints_of(run(declared_true, false)).empty());
  EXPECT_EQ(started_written_, std::vector<bool>{false});
}

// The journal of a run stopped while X was in flight: the events up to X's step_started and
// what follows it before X's answer (with or without the tool_hint).
ResumePlan plan_after_stop(const graph::Workflow& w, const std::vector<Event>& events,
                           bool keep_hint) {
  ResumePoint point;
  point.run.run_id = "r1";
  point.run.status = "running";
  for (const Event& e : events) {
    if (e.type == "step_succeeded") break;
    if (e.type == "tool_hint" && !keep_hint) continue;
    point.recorded.push_back(e);
  }
  auto reenacted = reenact(w, point.recorded, /*complete=*/false);
  EXPECT_TRUE(reenacted.ok()) << reenacted.status().message();
  if (reenacted.ok()) point.reenacted = std::move(*reenacted);
  return point.reenacted ? plan_resume(w, point) : ResumePlan{};
}

TEST_P(ToolHintTest, ResumeMakesAHintedIdempotentCallInFlightAgainInsteadOfEscalating) {
  auto w = hint_workflow();
  ASSERT_NE(w, nullptr);
  const auto events = run(w, true);
  const ResumePlan hinted = plan_after_stop(*w, events, /*keep_hint=*/true);
  EXPECT_EQ(hinted.doubt, "");
  ASSERT_EQ(hinted.again.size(), 1u);
  EXPECT_EQ(w->tool(hinted.again[0].tool).id, "X");
  // Without the journaled hint, the same call is in doubt: X is not idempotent by the workflow.
  const ResumePlan unhinted = plan_after_stop(*w, events, /*keep_hint=*/false);
  EXPECT_NE(unhinted.doubt.find("X is not idempotent"), std::string::npos) << unhinted.doubt;
}

INSTANTIATE_TEST_SUITE_P(Drivers, ToolHintTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Engine" : "Runner");
                         });

}  // namespace
}  // namespace switchyard::runtime
