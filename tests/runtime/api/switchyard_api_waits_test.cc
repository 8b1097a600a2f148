// Waits through the public API (docs/waits.md): a run held at an approval is listed by waits(),
// approved, rejected or signalled from another thread, and journaled.

#include <thread>

#include "tests/runtime/api/api_test_support.h"

namespace switchyard::api_test {
namespace {

api::Workflow refund_workflow() {
  auto w = api::Workflow::from_json(R"({"format": "switchyard.workflow/v1", "name": "refund",
    "start": "Start", "goal": "Done",
    "tools": {"Approve": {"kind": "wait", "approval": "refund over $100"},
              "Refund": {"kind": "builtin", "name": "echo", "idempotent": true},
              "Apologize": {"kind": "builtin", "name": "echo", "idempotent": true},
              "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
    "edges": [["Start", "Approve", 1], ["Approve", "Refund", 1], ["Refund", "Done", 1],
              ["Start", "Apologize", 9], ["Apologize", "Done", 1]]})");
  EXPECT_TRUE(w.ok()) << w.status().message();
  return *w;
}

std::vector<api::Wait> await_waits(api::Runtime& rt, std::size_t n) {
  const auto until = std::chrono::steady_clock::now() + kWait;
  for (;;) {
    auto w = rt.waits();
    if (w.size() >= n || std::chrono::steady_clock::now() > until) return w;
    std::this_thread::yield();
  }
}

TEST(ApiWaits, AnApprovalHeldRunIsListedThenApprovedFromAnotherThread) {
  auto rt = open_runtime();
  ASSERT_TRUE(rt);
  ASSERT_TRUE(add_echo(*rt).ok());
  auto f = rt->submit(refund_workflow(), {.run_id = "refund-1"});
  auto open = await_waits(*rt, 1);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].run_id, "refund-1");
  EXPECT_EQ(open[0].wait_id, "Approve#1");
  EXPECT_EQ(open[0].kind, "approval");
  EXPECT_EQ(open[0].name, "refund over $100");
  std::thread person([&rt] {
    EXPECT_TRUE(rt->approve("refund-1", "Approve#1", {.data = {{"note", "ok"}}, .by = "ana"}).ok());
  });
  person.join();
  auto r = await(f);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, api::RunStatus::kCompleted);
  EXPECT_EQ(output_of(*rt, "refund-1", "Approve")["by"], "ana");
  auto resolved = payloads_of(*rt, "refund-1", "wait_resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]["decision"], "approved");
}

TEST(ApiWaits, ARejectionReroutesAndAWrongDecisionIsRefused) {
  auto rt = open_runtime();
  ASSERT_TRUE(rt);
  ASSERT_TRUE(add_echo(*rt).ok());
  auto f = rt->submit(refund_workflow(), {.run_id = "refund-2"});
  ASSERT_EQ(await_waits(*rt, 1).size(), 1u);
  const api::Status wrong = rt->signal("refund-2", "refund over $100", {.data = 1});
  EXPECT_EQ(wrong.code(), api::StatusCode::kNotFound);
  ASSERT_TRUE(rt->reject("refund-2", "Approve#1", {.reason = "fraud", .by = "ana"}).ok());
  auto r = await(f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, api::RunStatus::kCompleted);
  EXPECT_EQ(r->path, (std::vector<std::string>{"Start", "Apologize", "Done"}));
  auto failed = payloads_of(*rt, "refund-2", "step_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["failure"], "rejected");
  EXPECT_EQ(rt->approve("refund-2", "Approve#1").code(), api::StatusCode::kNotFound);
}

}  // namespace
}  // namespace switchyard::api_test
