// InterruptGate on its own, over an in-memory journal: what reaches the journal when a run (and
// its fan-out branches) is cancelled for a shutdown, and that everything else passes unchanged.

#include "runtime/service/interrupt_gate.h"

#include <gtest/gtest.h>

#include "tests/support/journal_records.h"

namespace switchyard::service {
namespace {

using nlohmann::json;
using testing::journal_event;
using testing::run_record;

class InterruptGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(inner_->begin_run(run_record("r1", 100)).ok());
    ASSERT_TRUE(gate_.begin_run(run_record("r2", 100)).ok());
  }
  std::vector<runtime::Event> events_of(const std::string& run) {
    auto events = inner_->events(run);
    EXPECT_TRUE(events.ok());
    return events.ok() ? *events : std::vector<runtime::Event>{};
  }
  std::unique_ptr<runtime::Journal> inner_ = runtime::make_memory_journal();
  InterruptGate gate_{*inner_, std::chrono::milliseconds(250)};
};

TEST_F(InterruptGateTest, AShutdownCancellationBecomesOneRunInterruptedNamingEveryCallInFlight) {
  const json branch = {
      {"reason", kInterruptReason}, {"in_flight", "Text"}, {"fanout", "Moderate"}, {"branch", 0}};
  const json line = {{"reason", kInterruptReason}, {"in_flight", "Links"}};
  ASSERT_TRUE(gate_
                  .append({journal_event("r1", 1, "run_started"),
                           journal_event("r1", 2, "step_started", json{{"tool", "Text"}}),
                           journal_event("r1", 3, "cancelled", branch),
                           journal_event("r1", 4, "cancelled", line),
                           journal_event("r1", 5, "run_finished", json{{"status", "cancelled"}})})
                  .ok());
  // The run's final row is held back too: it stays running, for resume.
  ASSERT_TRUE(gate_.finish_run("r1", "cancelled", nullptr, 200).ok());

  const auto events = events_of("r1");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].type, "step_started");
  const runtime::Event& mark = events[2];
  EXPECT_EQ(mark.type, "run_interrupted");
  EXPECT_EQ(mark.seq, 3);  // where the first cancellation was: the sequence stays dense
  EXPECT_EQ(mark.payload["reason"], "shutdown");
  EXPECT_EQ(mark.payload["grace_ms"], 250);
  EXPECT_EQ(mark.payload["in_flight"],
            (json{{{"tool", "Text"}, {"fanout", "Moderate"}, {"branch", 0}}, {{"tool", "Links"}}}));
  EXPECT_EQ(inner_->get_run("r1")->status, "running");
  EXPECT_EQ(gate_.interrupted(), (std::set<std::string>{"r1"}));

  // A later append of the interrupted run (a straggler) is dropped as well.
  ASSERT_TRUE(gate_.append({journal_event("r1", 6, "plan")}).ok());
  EXPECT_EQ(events_of("r1").size(), 3u);
}

TEST_F(InterruptGateTest, OtherRunsAndOtherCancellationsPassUnchanged) {
  const json by_user = {{"reason", "cancelled through the API"}};
  std::vector<runtime::Event> batch = {
      journal_event("r2", 1, "run_started"), journal_event("r2", 2, "cancelled", by_user),
      journal_event("r2", 3, "run_finished", json{{"status", "cancelled"}})};
  ASSERT_TRUE(gate_.append(std::move(batch)).ok());
  ASSERT_TRUE(gate_.finish_run("r2", "cancelled", nullptr, 200).ok());
  const auto events = events_of("r2");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].type, "cancelled");
  EXPECT_EQ(events[1].payload, by_user);
  EXPECT_EQ(inner_->get_run("r2")->status, "cancelled");
  EXPECT_TRUE(gate_.interrupted().empty());
}

}  // namespace
}  // namespace switchyard::service
