// The synchronous driver: journaling of a whole run, durability order before non-idempotent
// tools, journal failures, simulated latency.

#include "runtime/engine/runner.h"

#include <gtest/gtest.h>

#include <thread>

#include "graph/load.h"
#include "runtime/journal/forwarding_journal.h"
#include "tools/builtin.h"
#include "tools/mock_tool.h"

namespace switchyard::runtime {
namespace {

std::shared_ptr<const graph::Workflow> load_text(const std::string& text) {
  auto loaded = graph::load(text, "test.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

// Start -> A -> B -> Goal, all mocks; A is not idempotent, B is.
const char* kWorkflow = R"({
  "format": "switchyard.workflow/v1", "name": "three", "start": "Start", "goal": "Goal",
  "tools": {
    "A": {"kind": "mock", "latency_ms": 40, "output": {"a": 1}},
    "B": {"kind": "mock", "idempotent": true, "latency_ms": 2},
    "Goal": {"kind": "mock", "idempotent": true}
  },
  "edges": [["Start", "A", 1], ["A", "B", 1], ["B", "Goal", 1]]
})";

// A tool that records what the journal held when it was invoked.
class JournalPeekingTool : public tools::Tool {
 public:
  JournalPeekingTool(Journal& journal, std::string run_id)
      : journal_(journal), run_id_(std::move(run_id)) {}
  void invoke(const tools::Invocation&, Done done) override {
    auto events = journal_.events(run_id_);
    seen = events.ok() ? events->back().type : "none";
    done(tools::Outcome::success({{"ok", true}}));
  }
  std::string seen;

 private:
  Journal& journal_;
  std::string run_id_;
};

// A journal whose appends fail after the first `ok_appends`.
class FailingJournal : public ForwardingJournal {
 public:
  explicit FailingJournal(int ok_appends) : FailingJournal(ok_appends, make_memory_journal()) {}
  Status append(const std::vector<Event>& e) override {
    if (ok_-- <= 0) return io_error("disk full (injected)");
    return ForwardingJournal::append(e);
  }
  Status append(std::vector<Event>&& e) override { return append(e); }

 private:
  FailingJournal(int ok_appends, std::unique_ptr<Journal> inner)
      : ForwardingJournal(*inner), ok_(ok_appends), owned_(std::move(inner)) {}
  int ok_;
  std::unique_ptr<Journal> owned_;
};

// Counts invocations, always succeeds.
class CountingTool : public tools::Tool {
 public:
  void invoke(const tools::Invocation&, Done done) override {
    ++calls;
    done(tools::Outcome::success(nullptr));
  }
  int calls = 0;
};

TEST(Runner, JournalsTheWholeRunWithDenseSequenceNumbers) {
  auto w = load_text(kWorkflow);
  auto tools = tools::make_tool_set(*w);
  ASSERT_TRUE(tools.ok());
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  Runner runner(w, *tools, *journal, clock, health);
  RunRequest request;
  request.run_id = "r1";
  request.input = {{"customer", "ada"}};
  auto report = runner.run(std::move(request));
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->result.status, RunStatus::kCompleted);

  auto events = journal->events("r1");
  ASSERT_TRUE(events.ok());
  ASSERT_GE(events->size(), 2u);
  EXPECT_EQ(events->front().type, "run_started");
  EXPECT_EQ(events->front().payload["input"]["customer"], "ada");
  EXPECT_EQ(events->front().payload["workflow_hash"], runner.workflow_hash());
  EXPECT_EQ(events->back().type, "run_finished");
  for (std::size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].seq, (std::int64_t)i + 1);

  auto run = journal->get_run("r1");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "completed");
  EXPECT_EQ(run->result["path"], (nlohmann::json{"Start", "A", "B", "Goal"}));
}

TEST(Runner, SimulatesMockLatencyOnAManualClock) {
  auto w = load_text(kWorkflow);
  auto tools = tools::make_tool_set(*w);
  auto journal = make_memory_journal();
  ManualClock clock;
  const auto t0 = clock.now();
  monitors::HealthTable health(clock);
  Runner runner(w, *tools, *journal, clock, health);
  RunRequest request;
  request.run_id = "r1";
  ASSERT_TRUE(runner.run(std::move(request)).ok());
  EXPECT_EQ(clock.now() - t0, std::chrono::milliseconds(42));
  auto run = journal->get_run("r1");
  EXPECT_EQ(run->finished_ms - run->started_ms, 42);
}

TEST(Runner, StepStartedIsJournaledBeforeANonIdempotentToolRuns) {
  auto w = load_text(kWorkflow);
  auto journal = make_memory_journal();
  std::vector<std::unique_ptr<tools::Tool>> list;
  auto peek = std::make_unique<JournalPeekingTool>(*journal, "r1");
  auto* peek_ptr = peek.get();
  list.push_back(std::move(peek));  // A
  list.push_back(tools::make_mock_tool("B", {}));
  list.push_back(tools::make_mock_tool("Goal", {}));
  auto tools = std::make_shared<tools::ToolSet>(std::move(list));
  ManualClock clock;
  monitors::HealthTable health(clock);
  Runner runner(w, tools, *journal, clock, health);
  RunRequest request;
  request.run_id = "r1";
  ASSERT_TRUE(runner.run(std::move(request)).ok());
  EXPECT_EQ(peek_ptr->seen, "step_started");
}

TEST(Runner, StopsInvokingToolsWhenTheJournalCannotBeWritten) {
  auto w = load_text(kWorkflow);
  FailingJournal journal(/*ok_appends=*/0);
  std::vector<std::unique_ptr<tools::Tool>> list;
  auto counting = std::make_unique<CountingTool>();
  auto* counter = counting.get();
  list.push_back(std::move(counting));
  list.push_back(tools::make_mock_tool("B", {}));
  list.push_back(tools::make_mock_tool("Goal", {}));
  ManualClock clock;
  monitors::HealthTable health(clock);
  Runner runner(w, std::make_shared<tools::ToolSet>(std::move(list)), journal, clock, health);
  auto report = runner.run({});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kIo);
  EXPECT_NE(report.status().message().find("disk full"), std::string::npos);
  EXPECT_EQ(counter->calls, 0);  // A is not idempotent: it never runs unjournaled
}

TEST(Runner, KnownDownToolsComeFromTheSharedHealthTable) {
  auto w = load_text(R"({
    "format": "switchyard.workflow/v1", "name": "two-ways", "start": "Start", "goal": "Goal",
    "tools": {"A": {"kind": "mock"}, "B": {"kind": "mock"}, "Goal": {"kind": "mock"}},
    "edges": [["Start", "A", 1], ["Start", "B", 2], ["A", "Goal", 1], ["B", "Goal", 1]]
  })");
  auto tools = tools::make_tool_set(*w);
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  health.mark_down("A", "breaker open");
  Runner runner(w, *tools, *journal, clock, health);
  RunRequest request;
  request.run_id = "r1";
  auto report = runner.run(std::move(request));
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->result.path, (std::vector<std::string>{"Start", "B", "Goal"}));
  auto events = journal->events("r1");
  EXPECT_EQ(events->front().payload["known_down"], (nlohmann::json{"A"}));
}

}  // namespace
}  // namespace switchyard::runtime

namespace switchyard::runtime {
namespace {

TEST(Runner, WaitsForToolsThatAnswerFromAnotherThread) {
  auto w = load_text(R"({
    "format": "switchyard.workflow/v1", "name": "async", "start": "Start", "goal": "Goal",
    "tools": {"A": {"kind": "builtin", "name": "later"}, "Goal": {"kind": "mock"}},
    "edges": [["Start", "A", 1], ["A", "Goal", 1]]
  })");
  tools::BuiltinRegistry builtins;
  std::vector<std::thread> threads;
  builtins.add_async("later", [&threads](const nlohmann::json&, auto done) {
    threads.emplace_back([done] { done(nlohmann::json{{"late", true}}); });
  });
  auto tools = tools::make_tool_set(*w, {.builtins = &builtins});
  ASSERT_TRUE(tools.ok());
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  Runner runner(w, *tools, *journal, clock, health);
  auto report = runner.run({});
  for (auto& t : threads) t.join();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->result.status, RunStatus::kCompleted);
  auto events = journal->events(report->run_id);
  auto ok = std::find_if(events->begin(), events->end(), [](const Event& e) {
    return e.type == "step_succeeded" && e.payload["tool"] == "A";
  });
  ASSERT_NE(ok, events->end());
  EXPECT_EQ(ok->payload["output"], (nlohmann::json{{"late", true}}));
}

}  // namespace
}  // namespace switchyard::runtime
