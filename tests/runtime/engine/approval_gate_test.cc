// Approval before a tool (docs/waits.md#approval-before-a-tool): a tool's own `approval` or
// `policy.approval` puts a gate (an approval wait "<tool>:approval") before each step of the tool;
// approved, the tool runs and its templates read the approval; rejected, the router heals around
// the tool; and what a timeout does (`on_timeout`: fail and heal, or escalate naming the wait).

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "graph/load.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/reenact.h"
#include "tools/builtin.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

std::shared_ptr<const graph::Workflow> gate_load(const std::string& text) {
  auto r = graph::load(text, "gate.json");
  EXPECT_TRUE(r.ok()) << (r.errors.empty()
                              ? ""
                              : r.errors.front().pointer + ": " + r.errors.front().message);
  return r.workflow;
}

// Start -> Refund -> Done, or the dearer Start -> Apologize -> Done. `refund` are Refund's extra
// fields, `policy` the workflow's policy.
std::string gate_refund(const std::string& refund, const std::string& policy = "{}") {
  return R"({"format": "switchyard.workflow/v1", "name": "gate", "start": "Start", "goal": "Done",
    "policy": )" +
         policy + R"(,
    "tools": {
      "Refund": {"kind": "builtin", "name": "refund",
                 "args": {"note": "{{steps.Refund:approval.output.data.note}}"} )" +
         refund + R"(},
      "Apologize": {"kind": "builtin", "name": "echo", "idempotent": true},
      "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
    "edges": [["Start", "Refund", 1], ["Refund", "Done", 1],
              ["Start", "Apologize", 5], ["Apologize", "Done", 1]]})";
}

RunRequest gate_request(const std::string& id) {
  RunRequest r;
  r.run_id = id;
  return r;
}

class ApprovalGateTest : public ::testing::Test {
 protected:
  ApprovalGateTest() {
    builtins_.add("echo", [](const nlohmann::json&) -> Result<nlohmann::json> {
      return nlohmann::json{{"ok", true}};
    });
    builtins_.add_call("refund", [this](const tools::BuiltinCall& call, tools::BuiltinDone done) {
      ++refunds_;
      done(nlohmann::json{{"args", call.args}});
    });
  }
  std::shared_ptr<tools::ToolSet> gate_tools(const graph::Workflow& w) {
    auto set = tools::make_tool_set(w, {.builtins = &builtins_});
    EXPECT_TRUE(set.ok()) << set.status().message();
    return *set;
  }
  std::vector<OpenWait> gate_await(Engine& engine, std::size_t n) {
    for (;;) {
      auto w = engine.waits();
      if (w.size() >= n) return w;
      std::this_thread::yield();
    }
  }
  std::vector<Event> gate_events(const std::string& run_id, const std::string& type) {
    std::vector<Event> out;
    auto events = journal_->events(run_id);
    if (!events.ok()) return out;
    for (Event e : *events) {
      if (e.type != type) continue;
      // Sealed events may carry their payload serialized only.
      if (e.payload.is_null() && !e.payload_json.empty()) {
        e.payload = nlohmann::json::parse(e.payload_json);
      }
      out.push_back(e);
    }
    return out;
  }

  tools::BuiltinRegistry builtins_;
  std::atomic<int> refunds_{0};
  std::unique_ptr<Journal> journal_ = make_memory_journal();
  ManualClock clock_;
  monitors::HealthTable health_{clock_};
};

TEST_F(ApprovalGateTest, AnApprovedToolRunsAfterItsGateAndItsTemplatesReadTheApproval) {
  auto w = gate_load(gate_refund(R"(, "approval": {"name": "refund over $100"})"));
  ASSERT_NE(w, nullptr);
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  auto future = engine.submit(w, gate_tools(*w), gate_request("g1"));
  auto open = gate_await(engine, 1);
  EXPECT_EQ(open[0].wait_id, "Refund:approval#1");
  EXPECT_EQ(open[0].kind, "approval");
  EXPECT_EQ(open[0].name, "refund over $100");
  EXPECT_EQ(open[0].tool, "Refund:approval");
  EXPECT_EQ(refunds_.load(), 0) << "the tool does not run before it is approved";
  ASSERT_TRUE(
      engine
          .resolve_wait(
              "g1", "Refund:approval#1",
              {.decision = WaitAnswer::Decision::kApprove, .data = {{"note", "VIP"}}, .by = "ana"})
          .ok());
  auto r = future.get();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path,
            (std::vector<std::string>{"Start", "Refund:approval", "Refund", "Done"}));
  EXPECT_EQ(refunds_.load(), 1);
  EXPECT_EQ(r->result.outputs["Refund"]["args"]["note"], "VIP");
  // The gate is a wait like any other: it replays and verifies.
  auto again = reenact(*w, *journal_->events("g1"), /*complete=*/true);
  ASSERT_TRUE(again.ok()) << again.status().message();
}

TEST_F(ApprovalGateTest, ARejectedToolNeverRunsAndTheRouterHealsAroundIt) {
  // By policy: Refund is not idempotent, so it needs approval; Apologize and Done are.
  auto w = gate_load(gate_refund("", R"({"approval": {"non_idempotent": true}})"));
  ASSERT_NE(w, nullptr);
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  auto future = engine.submit(w, gate_tools(*w), gate_request("g2"));
  auto open = gate_await(engine, 1);
  EXPECT_EQ(open[0].name, "Refund") << "a policy's gate is named after its tool";
  ASSERT_TRUE(engine
                  .resolve_wait("g2", "Refund:approval#1",
                                {.decision = WaitAnswer::Decision::kReject,
                                 .reason = "looks like fraud",
                                 .by = "ana"})
                  .ok());
  auto r = future.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Apologize", "Done"}));
  EXPECT_EQ(r->result.reroutes, 1);
  EXPECT_EQ(refunds_.load(), 0);
  auto failed = gate_events("g2", "step_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].payload["tool"], "Refund:approval");
  EXPECT_EQ(failed[0].payload["failure"], "rejected");
}

TEST_F(ApprovalGateTest, AGateThatTimesOutWithOnTimeoutFailFailsTheStepAndTheRunReroutes) {
  SystemClock clock;
  monitors::HealthTable health(clock);
  auto w = gate_load(gate_refund(R"(, "approval": {"timeout_ms": 20, "on_timeout": "fail"})"));
  ASSERT_NE(w, nullptr);
  Engine engine(*journal_, clock, health, {.threads = 1});
  auto r = engine.submit(w, gate_tools(*w), gate_request("g3")).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Apologize", "Done"}));
  EXPECT_EQ(gate_events("g3", "step_failed").at(0).payload["failure"], "timeout");
  EXPECT_EQ(gate_events("g3", "wait_resolved").at(0).payload["decision"], "timed_out");
  EXPECT_TRUE(gate_events("g3", "escalated").empty());
  EXPECT_EQ(refunds_.load(), 0);
}

TEST_F(ApprovalGateTest, AWaitThatTimesOutWithOnTimeoutEscalateEndsTheRunEscalatedNamingTheWait) {
  SystemClock clock;
  monitors::HealthTable health(clock);
  // Apologize stays open: escalation is what the workflow asked for, not a lack of routes.
  auto w = gate_load(gate_refund(R"(, "price_usd": 2)", R"({"approval": {"above_usd": 0.5,
                                 "timeout_ms": 20, "on_timeout": "escalate"}})"));
  ASSERT_NE(w, nullptr);
  Engine engine(*journal_, clock, health, {.threads = 1});
  auto r = engine.submit(w, gate_tools(*w), gate_request("g4")).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kEscalated);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start"}));
  auto escalated = gate_events("g4", "escalated");
  ASSERT_EQ(escalated.size(), 1u);
  EXPECT_EQ(escalated[0].payload["reason"], "wait_timeout");
  EXPECT_EQ(escalated[0].payload["message"],
            "wait Refund:approval#1 (approval 'Refund') was not resolved within 20 ms "
            "(on_timeout: escalate)");
  EXPECT_EQ(refunds_.load(), 0);
  EXPECT_TRUE(gate_events("g4", "reroute").empty());
  // The escalation is re-derived from the journal like any decision.
  auto again = reenact(*w, *journal_->events("g4"), /*complete=*/true);
  ASSERT_TRUE(again.ok()) << again.status().message();
}

TEST_F(ApprovalGateTest, ASignalWaitNodeWithOnTimeoutEscalateEscalatesToo) {
  SystemClock clock;
  monitors::HealthTable health(clock);
  auto w = gate_load(R"({"format": "switchyard.workflow/v1", "name": "b", "start": "Start",
    "goal": "Done", "tools": {
      "Confirm": {"kind": "wait", "signal": "confirmed", "timeout_ms": 20, "on_timeout": "escalate"},
      "Release": {"kind": "builtin", "name": "echo", "idempotent": true},
      "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
    "edges": [["Start", "Confirm", 1], ["Confirm", "Done", 1],
              ["Start", "Release", 5], ["Release", "Done", 1]]})");
  ASSERT_NE(w, nullptr);
  Engine engine(*journal_, clock, health, {.threads = 1});
  auto r = engine.submit(w, gate_tools(*w), gate_request("g5")).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kEscalated);
  EXPECT_EQ(gate_events("g5", "escalated").at(0).payload["message"],
            "wait Confirm#1 (signal 'confirmed') was not resolved within 20 ms (on_timeout: "
            "escalate)");
}

}  // namespace
}  // namespace switchyard::runtime
