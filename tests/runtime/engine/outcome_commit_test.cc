// A side effect's outcome is committed before the run moves on: the answer of a non-idempotent
// call (a step that succeeded or failed, a compensation, a fan-out branch) is in the journal
// before the run invokes anything else, and before it waits on its other calls, so that resume
// calls in doubt only a call that was truly in flight. Checked for every driver: the Runner, and
// the Engine with a journal written in line (in memory) or by its writer thread, each run on an
// engine thread (submit) or on the calling thread (run). The tools read the journal when they
// run. (The crash harness checks the same end to end: tests/runtime/engine/crash_test.cc.)

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime/engine/engine.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/event_feed.h"
#include "runtime/journal/forwarding_journal.h"
#include "tests/support/graph_builder.h"
#include "tools/builtin.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

// A journal in memory that the engine writes through its journal-writer thread, as it writes a
// SQLite file (it writes one that writes_inline() on the run's own thread).
class WrittenByTheWriterThread final : public ForwardingJournal {
 public:
  using ForwardingJournal::ForwardingJournal;
  bool writes_inline() const override { return false; }
};

enum class Driver {
  kRunner,
  kEngineInline,
  kEngineInlineOnCaller,
  kEngineWriter,
  kEngineWriterOnCaller
};

std::string driver_name(const ::testing::TestParamInfo<Driver>& info) {
  switch (info.param) {
    case Driver::kRunner:
      return "Runner";
    case Driver::kEngineInline:
      return "EngineInline";
    case Driver::kEngineInlineOnCaller:
      return "EngineInlineOnTheCallingThread";
    case Driver::kEngineWriter:
      return "EngineWriterThread";
    case Driver::kEngineWriterOnCaller:
      return "EngineWriterThreadOnTheCallingThread";
  }
  return "?";
}

class OutcomeCommitTest : public ::testing::TestWithParam<Driver> {
 protected:
  OutcomeCommitTest() {
    builtins_.add("ok", [](const nlohmann::json&) -> Result<nlohmann::json> {
      return nlohmann::json{{"ok", true}};
    });
    builtins_.add("decline", [](const nlohmann::json&) -> Result<nlohmann::json> {
      return Status(StatusCode::kUnavailable, "card declined");
    });
  }

  // The journal the driver writes (a feed, so that a test may watch the commits).
  EventFeed& journal() {
    const Driver d = GetParam();
    return d == Driver::kEngineWriter || d == Driver::kEngineWriterOnCaller ? writer_feed_
                                                                            : inline_feed_;
  }

  // Registers builtin `name`: it records in `seen` whether run r1's journal held an event `type`
  // of tool `tool` when it was called, and succeeds.
  void add_check(const std::string& name, std::string type, std::string tool) {
    builtins_.add(name,
                  [this, type = std::move(type),
                   tool = std::move(tool)](const nlohmann::json&) -> Result<nlohmann::json> {
                    seen.push_back(journaled(type, tool));
                    return nlohmann::json::object();
                  });
  }

  bool journaled(const std::string& type, const std::string& tool) const {
    auto events = memory_->events("r1");
    if (!events.ok()) return false;
    for (const Event& e : *events) {
      if (e.type == type && e.payload.contains("tool") && e.payload["tool"] == tool) return true;
    }
    return false;
  }

  // Runs `w` as run r1 with the driver under test.
  Result<RunReport> run(const std::shared_ptr<const graph::Workflow>& w) {
    auto tools = tools::make_tool_set(*w, {.builtins = &builtins_});
    if (!tools.ok()) return tools.status();
    RunRequest request;
    request.run_id = "r1";
    const Driver d = GetParam();
    if (d == Driver::kRunner) {
      Runner runner(w, *tools, journal(), clock_, health_);
      return runner.run(std::move(request));
    }
    Engine engine(journal(), clock_, health_, {.threads = 1});
    if (d == Driver::kEngineInlineOnCaller || d == Driver::kEngineWriterOnCaller) {
      return engine.run(w, *tools, std::move(request));
    }
    return engine.submit(w, *tools, std::move(request)).get();
  }

  tools::BuiltinRegistry builtins_;
  std::unique_ptr<Journal> memory_ = make_memory_journal();
  WrittenByTheWriterThread through_writer_{*memory_};
  EventFeed inline_feed_{*memory_};
  EventFeed writer_feed_{through_writer_};
  ManualClock clock_;
  monitors::HealthTable health_{clock_};
  std::vector<bool> seen;  // what the check builtins saw, in call order
};

TEST_P(OutcomeCommitTest, ASideEffectsOutcomeIsJournaledBeforeTheNextToolIsInvoked) {
  add_check("check", "step_succeeded", "T0");
  // T0 has a side effect; T1 and T2 have none (before, nothing made the run write before them).
  auto w = testing::builtin_chain(
      3, {{"T0", {{"name", "ok"}, {"idempotent", false}}}, {"T1", {{"name", "check"}}}}, "ok");
  auto r = run(w);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(seen, std::vector<bool>{true});
}

TEST_P(OutcomeCommitTest, AFailedSideEffectIsJournaledBeforeTheRunReroutes) {
  add_check("check", "step_failed", "Charge");
  auto w = testing::load_workflow(R"({
    "format": "switchyard.workflow/v1", "name": "pay", "start": "Start", "goal": "Done",
    "tools": {
      "Charge":  {"kind": "builtin", "name": "decline"},
      "Invoice": {"kind": "builtin", "name": "check", "idempotent": true},
      "Done":    {"kind": "builtin", "name": "ok", "idempotent": true}
    },
    "edges": [["Start", "Charge", 1], ["Charge", "Done", 1],
              ["Start", "Invoice", 5], ["Invoice", "Done", 1]]
  })");
  auto r = run(w);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Invoice", "Done"}));
  EXPECT_EQ(seen, std::vector<bool>{true});
}

TEST_P(OutcomeCommitTest, ACompensationWithASideEffectIsJournaledBeforeTheRunGoesOn) {
  add_check("check", "compensation", "Release");
  // Ship fails; Reserve has no other way on, so the run backtracks to Start, compensating
  // Reserve with Release (not idempotent), and takes Pickup.
  auto w = testing::load_workflow(R"({
    "format": "switchyard.workflow/v1", "name": "saga", "start": "Start", "goal": "Done",
    "tools": {
      "Reserve": {"kind": "builtin", "name": "ok", "idempotent": true, "compensate": "Release"},
      "Release": {"kind": "builtin", "name": "ok"},
      "Ship":    {"kind": "builtin", "name": "decline", "idempotent": true},
      "Pickup":  {"kind": "builtin", "name": "check", "idempotent": true},
      "Done":    {"kind": "builtin", "name": "ok", "idempotent": true}
    },
    "edges": [["Start", "Reserve", 1], ["Reserve", "Ship", 1], ["Ship", "Done", 1],
              ["Start", "Pickup", 5], ["Pickup", "Done", 1]]
  })");
  auto r = run(w);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "Pickup", "Done"}));
  EXPECT_EQ(r->result.backtracks, 1);
  EXPECT_EQ(seen, std::vector<bool>{true});
}

TEST_P(OutcomeCommitTest, ABranchsSideEffectIsJournaledWhileTheRunWaitsOnAnotherBranch) {
  // Branch Charge has a side effect and answers at once; branch Quote answers (from a thread of
  // its own) once the journal has Charge's outcome, or after 10 s.
  std::mutex mu;
  std::condition_variable changed;
  bool charge_journaled = false;
  std::vector<std::thread> helpers;
  auto sub = journal().subscribe([&](const Event& e) {
    if (e.type != "step_succeeded" || !e.payload.contains("tool")) return;
    if (e.payload["tool"] != "Charge") return;
    std::lock_guard lock(mu);
    charge_journaled = true;
    changed.notify_all();
  });
  builtins_.add_async("quote", [&](const nlohmann::json&, tools::BuiltinDone done) {
    std::lock_guard lock(mu);
    helpers.emplace_back([&, done = std::move(done)] {
      bool journaled_first = false;
      {
        std::unique_lock lock(mu);
        journaled_first =
            changed.wait_for(lock, std::chrono::seconds(10), [&] { return charge_journaled; });
      }
      seen.push_back(journaled_first);
      done(nlohmann::json{{"quote", 12}});
    });
  });
  auto w = testing::load_workflow(R"({
    "format": "switchyard.workflow/v1", "name": "fan", "start": "Start", "goal": "Done",
    "tools": {
      "Charge": {"kind": "builtin", "name": "ok"},
      "Quote":  {"kind": "builtin", "name": "quote", "idempotent": true},
      "Done":   {"kind": "builtin", "name": "ok", "idempotent": true}
    },
    "nodes": {"Fan": {"fanout": {"join": "all", "branches": [
      {"start": "S1", "goal": "Charge", "edges": [["S1", "Charge", 1]]},
      {"start": "S2", "goal": "Quote", "edges": [["S2", "Quote", 1]]}]}}},
    "edges": [["Start", "Fan", 1], ["Fan", "Done", 1]]
  })");
  auto r = run(w);
  std::vector<std::thread> started;
  {
    std::lock_guard lock(mu);
    started = std::move(helpers);
  }
  for (auto& t : started) t.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(seen, std::vector<bool>{true});
}

INSTANTIATE_TEST_SUITE_P(EveryDriver, OutcomeCommitTest,
                         ::testing::Values(Driver::kRunner, Driver::kEngineInline,
                                           Driver::kEngineInlineOnCaller, Driver::kEngineWriter,
                                           Driver::kEngineWriterOnCaller),
                         driver_name);

}  // namespace
}  // namespace switchyard::runtime
