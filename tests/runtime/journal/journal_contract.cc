// The journal's contract, for every implementation a test program instantiates it with
// (journal_contract.h): the same calls give the same answers from memory, a SQLite file and a
// PostgreSQL database.

#include "tests/runtime/journal/journal_contract.h"

#include <mutex>

#include "runtime/engine/reenact.h"
#include "runtime/journal/forwarding_journal.h"
#include "runtime/journal/waiting.h"
#include "runtime/journal/writer.h"
#include "tests/support/gate.h"
#include "tests/support/journal_records.h"

namespace switchyard::runtime {
namespace {

using testing::journal_event;
using testing::run_record;

TEST_P(JournalContract, RoundTripsRunsAndEvents) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  ASSERT_TRUE(
      journal_->append({journal_event("r1", 1, "run_started"), journal_event("r1", 2, "plan")})
          .ok());
  ASSERT_TRUE(journal_->append({journal_event("r1", 3, "run_finished")}).ok());
  ASSERT_TRUE(journal_->finish_run("r1", "completed", {{"path", {"Start"}}}, 250).ok());

  auto run = journal_->get_run("r1");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "completed");
  EXPECT_EQ(run->workflow_hash, "abc123");
  EXPECT_EQ(run->input, (nlohmann::json{{"customer", "ada"}}));
  EXPECT_EQ(run->result["path"], (nlohmann::json{"Start"}));
  EXPECT_EQ(run->finished_ms, 250);

  auto events = journal_->events("r1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[1].type, "plan");
  EXPECT_EQ((*events)[1].time_ms, 1002);
  EXPECT_EQ((*events)[1].payload["text"], "événement");
}

// finish_run with a null result: the result is the run_finished event's payload with run_id.
TEST_P(JournalContract, ANullResultIsTheRunFinishedEventsPayloadWithTheRunId) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  ASSERT_TRUE(
      journal_
          ->append({journal_event("r1", 1, "run_started"),
                    journal_event("r1", 2, "run_finished",
                                  nlohmann::json{{"status", "completed"}, {"path", {"A", "B"}}})})
          .ok());
  ASSERT_TRUE(journal_->finish_run("r1", "completed", nullptr, 250).ok());
  const nlohmann::json expected = {{"status", "completed"}, {"path", {"A", "B"}}, {"run_id", "r1"}};
  auto run = journal_->get_run("r1");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->result, expected);
  auto listed = journal_->list_runs({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().result, expected);
}

TEST_P(JournalContract, ANullResultWithoutRunFinishedStaysNullAndAGivenResultWins) {
  ASSERT_TRUE(journal_->begin_run(run_record("plain", 100)).ok());
  ASSERT_TRUE(journal_->append({journal_event("plain", 1, "run_started")}).ok());
  ASSERT_TRUE(journal_->finish_run("plain", "failed", nullptr, 250).ok());
  EXPECT_TRUE(journal_->get_run("plain")->result.is_null());

  ASSERT_TRUE(journal_->begin_run(run_record("given", 100)).ok());
  ASSERT_TRUE(journal_
                  ->append({journal_event("given", 1, "run_finished",
                                          nlohmann::json{{"status", "completed"}})})
                  .ok());
  ASSERT_TRUE(journal_->finish_run("given", "completed", {{"probe", "A"}}, 250).ok());
  EXPECT_EQ(journal_->get_run("given")->result, (nlohmann::json{{"probe", "A"}}));
}

TEST_P(JournalContract, EnforcesDenseSequenceNumbers) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  EXPECT_EQ(journal_->append({journal_event("r1", 2, "plan")}).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(journal_->append({journal_event("r1", 1, "run_started")}).ok());
  EXPECT_EQ(journal_->append({journal_event("r1", 1, "again")}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(journal_->events("r1")->size(), 1u);
}

TEST_P(JournalContract, AppendIsAllOrNothing) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  EXPECT_FALSE(journal_->append({journal_event("r1", 1, "a"), journal_event("r1", 3, "gap")}).ok());
  EXPECT_TRUE(journal_->events("r1")->empty());
}

TEST_P(JournalContract, RejectsEventsOfUnknownRunsAndDuplicateRuns) {
  EXPECT_EQ(journal_->append({journal_event("ghost", 1, "a")}).code(), StatusCode::kNotFound);
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  EXPECT_FALSE(journal_->begin_run(run_record("r1", 200)).ok());
  EXPECT_EQ(journal_->get_run("ghost").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(journal_->events("ghost").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(journal_->finish_run("ghost", "completed", nullptr, 1).code(), StatusCode::kNotFound);
}

TEST_P(JournalContract, ListsNewestFirstWithFilters) {
  ASSERT_TRUE(journal_->begin_run(run_record("old", 100, "a", "completed")).ok());
  ASSERT_TRUE(journal_->begin_run(run_record("mid", 200, "b", "escalated")).ok());
  ASSERT_TRUE(journal_->begin_run(run_record("new", 300, "a", "completed")).ok());
  auto ids = [&](const RunFilter& f) {
    std::vector<std::string> out;
    auto runs = journal_->list_runs(f);  // kept alive: ranging over *temporary would dangle
    EXPECT_TRUE(runs.ok());
    for (const auto& r : *runs) out.push_back(r.run_id);
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<std::string>{"new", "mid", "old"}));
  RunFilter by_status;
  by_status.status = "completed";
  EXPECT_EQ(ids(by_status), (std::vector<std::string>{"new", "old"}));
  RunFilter by_workflow;
  by_workflow.workflow = "b";
  EXPECT_EQ(ids(by_workflow), (std::vector<std::string>{"mid"}));
  RunFilter window;
  window.since_ms = 150;
  window.until_ms = 300;
  EXPECT_EQ(ids(window), (std::vector<std::string>{"mid"}));
  RunFilter limited;
  limited.limit = 1;
  EXPECT_EQ(ids(limited), (std::vector<std::string>{"new"}));
}

// The `waiting` status of run lists (docs/waits.md#waiting-runs): Journal::open_waits names the
// waits a run's events leave open (a wait_started without a wait_resolved of the same wait, and,
// in a fan-out branch, without a fanout_joined of its fan-out after it), and
// list_runs_showing_waits lists such a running run as `waiting`, with the status filters
// `running` and `waiting` splitting the running runs, each within its limit.
TEST_P(JournalContract, ARunningRunWithAnOpenWaitIsListedWaitingAndTheFiltersSplitRunningRuns) {
  using nlohmann::json;
  auto journal_run = [&](const std::string& id, std::int64_t started,
                         const std::vector<std::pair<std::string, json>>& events) {
    ASSERT_TRUE(journal_->begin_run(run_record(id, started)).ok());
    std::vector<Event> batch = {journal_event(id, 1)};
    for (const auto& [type, payload] : events) {
      batch.push_back(
          journal_event(id, static_cast<std::int64_t>(batch.size()) + 1, type, payload));
    }
    ASSERT_TRUE(journal_->append(batch).ok());
  };
  const json started = {{"wait", "Ask#1"}, {"kind", "approval"}, {"name", "refund"}};
  // Held at Ask#1; resolved; a branch's wait dropped by its join; one branch of two still held.
  journal_run("held", 400, {{"wait_started", started}});
  journal_run("resolved", 300,
              {{"wait_started", started},
               {"wait_resolved", {{"wait", "Ask#1"}, {"decision", "approved"}}}});
  journal_run("joined", 200,
              {{"wait_started", {{"wait", "B#1"}, {"fanout", "Fan"}, {"branch", 1}}},
               {"fanout_joined", {{"node", "Fan"}, {"cancelled", {1}}}}});
  journal_run("branch", 100,
              {{"wait_started", {{"wait", "A#1"}, {"fanout", "Fan"}, {"branch", 0}}},
               {"wait_started", {{"wait", "B#1"}, {"fanout", "Fan"}, {"branch", 1}}},
               {"wait_resolved", {{"wait", "A#1"}, {"decision", "approved"}}}});
  ASSERT_TRUE(journal_->begin_run(run_record("done", 50)).ok());
  ASSERT_TRUE(
      journal_
          ->append({journal_event("done", 1), journal_event("done", 2, "wait_started", started)})
          .ok());
  ASSERT_TRUE(journal_->finish_run("done", "completed", {{"ok", true}}, 60).ok());

  EXPECT_EQ(*journal_->open_waits("held"), (std::vector<std::string>{"Ask#1"}));
  EXPECT_TRUE(journal_->open_waits("resolved")->empty());
  EXPECT_TRUE(journal_->open_waits("joined")->empty());
  EXPECT_EQ(*journal_->open_waits("branch"), (std::vector<std::string>{"B#1"}));
  EXPECT_EQ(journal_->open_waits("ghost").status().code(), StatusCode::kNotFound);

  auto listed = [&](RunFilter f) {
    std::vector<std::string> out;
    auto runs = list_runs_showing_waits(*journal_, f);
    EXPECT_TRUE(runs.ok()) << runs.status().to_string();
    if (runs.ok()) {
      for (const auto& r : *runs) out.push_back(r.run_id + ":" + r.status);
    }
    return out;
  };
  EXPECT_EQ(listed({}),
            (std::vector<std::string>{"held:waiting", "resolved:running", "joined:running",
                                      "branch:waiting", "done:completed"}));
  RunFilter waiting;
  waiting.status = "waiting";
  EXPECT_EQ(listed(waiting), (std::vector<std::string>{"held:waiting", "branch:waiting"}));
  waiting.limit = 1;
  EXPECT_EQ(listed(waiting), (std::vector<std::string>{"held:waiting"}));
  RunFilter running;
  running.status = "running";
  EXPECT_EQ(listed(running), (std::vector<std::string>{"resolved:running", "joined:running"}));
  running.limit = 1;
  EXPECT_EQ(listed(running), (std::vector<std::string>{"resolved:running"}));
  // The journal's own rows still say running: resume, gc and the owner checks key on it.
  RunFilter rows;
  rows.status = "running";
  EXPECT_EQ(journal_->list_runs(rows)->size(), 4u);
  EXPECT_EQ(journal_->get_run("held")->status, "running");
}

// ---- the durable journals: reopened, read from a second connection, group commit ----

TEST_P(DurableJournalContract, KeepsEverythingAcrossReopen) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  ASSERT_TRUE(journal_->append({journal_event("r1", 1, "run_started")}).ok());
  journal_.reset();
  auto j = GetParam().open(location_, {});
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)->events("r1")->size(), 1u);
  // The sequence continues after a reopen (it is read back, not remembered).
  EXPECT_TRUE((*j)->append({journal_event("r1", 2, "plan")}).ok());
  EXPECT_EQ((*j)->location(), printable_location(location_));
}

TEST_P(DurableJournalContract, ASecondConnectionReadsWhatTheFirstWrote) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  ASSERT_TRUE(journal_->append({journal_event("r1", 1, "run_started")}).ok());
  auto reader = GetParam().open(location_, {.create_if_missing = false});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->events("r1")->size(), 1u);
}

// A reader (runs, replay) finds no journal where there is none, and makes none.
TEST_P(DurableJournalContract, AReaderFindsNoJournalWhereThereIsNoneAndMakesNone) {
  const std::string elsewhere = GetParam().fresh(dir_);
  auto reader = GetParam().open(elsewhere, {.create_if_missing = false});
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound) << reader.status().to_string();
  // Still none: a writer then makes one, empty.
  auto writer = GetParam().open(elsewhere, {});
  ASSERT_TRUE(writer.ok()) << writer.status().to_string();
  EXPECT_TRUE((*writer)->list_runs({})->empty());
}

// Journal::check reads every row (a stored workflow copy that does not load is its one problem
// here); gc removes finished runs before the cutoff with their events, and keeps the rest.
TEST_P(DurableJournalContract, CheckReadsEveryRowAndGcRemovesOldFinishedRuns) {
  for (const std::string id : {"old", "new", "live"}) {
    RunRecord run = run_record(id, 100);
    run.workflow_source = std::make_shared<const std::string>("{}");
    ASSERT_TRUE(journal_->begin_run(run).ok());
    ASSERT_TRUE(journal_->append({journal_event(id, 1), journal_event(id, 2)}).ok());
  }
  ASSERT_TRUE(journal_->finish_run("old", "completed", {{"ok", true}}, 1000).ok());
  ASSERT_TRUE(journal_->finish_run("new", "completed", {{"ok", true}}, 5000).ok());
  auto checked = journal_->check();
  ASSERT_TRUE(checked.ok()) << checked.status().to_string();
  EXPECT_EQ(checked->runs, 3);
  EXPECT_EQ(checked->events, 6);
  EXPECT_EQ(checked->workflows, 1);
  ASSERT_EQ(checked->problems.size(), 1u);
  EXPECT_NE(checked->problems[0].find("(stored copy): does not load"), std::string::npos)
      << checked->problems[0];
  auto gc = journal_->gc(2000);
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  EXPECT_EQ(gc->runs, 1);
  EXPECT_EQ(gc->events, 2);
  EXPECT_EQ(gc->workflows, 0);  // the other runs still use it
  EXPECT_EQ(journal_->get_run("old").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(journal_->events("new")->size(), 2u);
  EXPECT_TRUE(journal_->workflow_source("abc123").ok());
}

// Journal::check reads the wait inbox too: a queued resolution for a wait that no wait_started of
// its run names is a dangling row, named with its run and id; one for a started wait is sound.
TEST_P(JournalContract, CheckNamesAQueuedResolutionForAWaitTheRunNeverStarted) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  ASSERT_TRUE(
      journal_
          ->append({journal_event("r1", 1),
                    journal_event("r1", 2, "wait_started", nlohmann::json{{"wait", "Ask#1"}})})
          .ok());
  ASSERT_TRUE(
      journal_->queue_resolution({.run_id = "r1", .wait_id = "Ask#1", .decision = "approve"}).ok());
  auto sound = journal_->check();
  ASSERT_TRUE(sound.ok()) << sound.status().to_string();
  EXPECT_EQ(sound->queued_resolutions, 1);
  EXPECT_TRUE(sound->problems.empty()) << sound->problems.front();
  ASSERT_TRUE(
      journal_->queue_resolution({.run_id = "r1", .wait_id = "Ask#9", .decision = "approve"}).ok());
  auto dangling = journal_->check();
  ASSERT_TRUE(dangling.ok()) << dangling.status().to_string();
  EXPECT_EQ(dangling->queued_resolutions, 2);
  ASSERT_EQ(dangling->problems.size(), 1u);
  EXPECT_NE(dangling->problems[0].find("run r1 queued resolution "), std::string::npos)
      << dangling->problems[0];
  EXPECT_NE(dangling->problems[0].find("has no wait 'Ask#9'"), std::string::npos)
      << dangling->problems[0];
}

// A run taken over by resume: claim_run records this process; a finished one is refused.
TEST_P(DurableJournalContract, ClaimTakesOverARunningRunOnly) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  EXPECT_TRUE(journal_->claim_run("r1").ok());
  ASSERT_TRUE(journal_->finish_run("r1", "completed", {{"ok", true}}, 200).ok());
  EXPECT_EQ(journal_->claim_run("r1").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(journal_->claim_run("ghost").code(), StatusCode::kNotFound);
}

// The wait inbox (docs/waits.md#while-no-process-holds-the-run): a run's queued resolutions come
// back in order of arrival, every field as stored, and go with the run when gc removes it.
TEST_P(JournalContract, QueuedResolutionsComeBackInOrderPerRunAndGoWithTheRun) {
  ASSERT_TRUE(journal_->begin_run(run_record("r1", 100)).ok());
  ASSERT_TRUE(journal_->begin_run(run_record("r2", 100)).ok());
  QueuedResolution approve{.run_id = "r1",
                           .wait_id = "Approve#1",
                           .decision = "approve",
                           .data = {{"note", "VIP"}, {"text", "événement"}},
                           .by = "ana",
                           .time_ms = 500};
  QueuedResolution signal{.run_id = "r1",
                          .wait_id = "Confirm#2",
                          .decision = "signal",
                          .data = {1, 2},
                          .key = "msg-1",
                          .time_ms = 600};
  QueuedResolution reject{.run_id = "r2",
                          .wait_id = "Approve#1",
                          .decision = "reject",
                          .reason = "fraud",
                          .by = "bo",
                          .time_ms = 700};
  ASSERT_TRUE(journal_->queue_resolution(approve).ok());
  ASSERT_TRUE(journal_->queue_resolution(reject).ok());
  ASSERT_TRUE(journal_->queue_resolution(signal).ok());
  EXPECT_EQ(journal_->queue_resolution({.run_id = "ghost", .wait_id = "A#1", .decision = "signal"})
                .code(),
            StatusCode::kNotFound);

  auto r1 = journal_->queued_resolutions("r1");
  ASSERT_TRUE(r1.ok()) << r1.status().to_string();
  ASSERT_EQ(r1->size(), 2u);
  EXPECT_LT((*r1)[0].id, (*r1)[1].id);
  EXPECT_EQ((*r1)[0].wait_id, "Approve#1");
  EXPECT_EQ((*r1)[0].decision, "approve");
  EXPECT_EQ((*r1)[0].data, approve.data);
  EXPECT_EQ((*r1)[0].by, "ana");
  EXPECT_EQ((*r1)[0].time_ms, 500);
  EXPECT_EQ((*r1)[1].decision, "signal");
  EXPECT_EQ((*r1)[1].data, signal.data);
  EXPECT_EQ((*r1)[1].key, "msg-1");
  auto r2 = journal_->queued_resolutions("r2");
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(r2->size(), 1u);
  EXPECT_EQ((*r2)[0].reason, "fraud");
  EXPECT_EQ((*r2)[0].run_id, "r2");
  EXPECT_TRUE(journal_->queued_resolutions("ghost")->empty());

  ASSERT_TRUE(journal_->finish_run("r1", "completed", {{"ok", true}}, 200).ok());
  ASSERT_TRUE(journal_->gc(1000).ok());
  EXPECT_TRUE(journal_->queued_resolutions("r1")->empty());
  EXPECT_EQ(journal_->queued_resolutions("r2")->size(), 1u);
}

// Counts the groups the writer hands to the journal.
class CountingJournal final : public ForwardingJournal {
 public:
  explicit CountingJournal(std::unique_ptr<Journal> inner)
      : ForwardingJournal(*inner), owned_(std::move(inner)) {}
  std::vector<Status> write_group(std::vector<Write>& writes) override {
    {
      std::lock_guard lock(mu);
      groups.push_back(writes.size());
    }
    return ForwardingJournal::write_group(writes);
  }
  std::mutex mu;
  std::vector<std::size_t> groups;

 private:
  std::unique_ptr<Journal> owned_;
};

// Holds a JournalWriter's thread in a first write (run "r0" begun) from hold() to release(), so
// that what is submitted meanwhile waits for the next group. Made before the writer: the held
// write uses it until the writer is done.
class WriterHold {
 public:
  void hold(JournalWriter& writer) {
    writer.submit([this](Journal& j) {
      gate_.arrive_and_wait();
      return j.begin_run(run_record("r0"));
    });
    gate_.await_arrival();
  }
  void release() { gate_.open(); }

 private:
  testing::Gate gate_;
};

TEST_P(DurableJournalContract, WritesQueuedMeanwhileBecomeOneGroup) {
  CountingJournal journal(std::move(journal_));
  WriterHold hold;
  int acked = 0;
  {
    JournalWriter writer(journal);
    hold.hold(writer);  // until 50 more are queued
    for (int i = 1; i <= 50; ++i) {
      writer.submit([i](Journal& j) { return j.begin_run(run_record("r" + std::to_string(i))); },
                    [&](Status s) {
                      EXPECT_TRUE(s.ok()) << s.to_string();
                      ++acked;  // acknowledgements run on the writer thread, in order
                    });
    }
    hold.release();
  }  // the writer performs what was queued, then stops
  EXPECT_EQ(acked, 50);
  ASSERT_EQ(journal.groups.size(), 2u);
  EXPECT_EQ(journal.groups[0], 1u);
  EXPECT_EQ(journal.groups[1], 50u);
  EXPECT_EQ(journal.list_runs({})->size(), 51u);
}

// What submit_first queues (a claimed run's start) is the next group on its own, ahead of what
// submit queued before it, however much that is.
TEST_P(DurableJournalContract, WritesQueuedFirstMakeTheNextGroupOnTheirOwnAheadOfTheOthers) {
  CountingJournal journal(std::move(journal_));
  WriterHold hold;
  std::vector<std::string> acked;  // in the order of the acknowledgements
  {
    JournalWriter writer(journal);
    hold.hold(writer);
    auto write = [&](const std::string& id, bool first) {
      auto perform = [id](Journal& j) { return j.begin_run(run_record(id)); };
      auto ack = [&acked, id](Status s) {
        EXPECT_TRUE(s.ok()) << s.to_string();
        acked.push_back(id);  // acknowledgements run on the writer thread, in order
      };
      first ? writer.submit_first(perform, ack) : writer.submit(perform, ack);
    };
    for (int i = 1; i <= 10; ++i) write("r" + std::to_string(i), false);
    write("s1", true);
    write("s2", true);
    hold.release();
  }
  ASSERT_EQ(journal.groups.size(), 3u);
  EXPECT_EQ(journal.groups[0], 1u);
  EXPECT_EQ(journal.groups[1], 2u);
  EXPECT_EQ(journal.groups[2], 10u);
  ASSERT_EQ(acked.size(), 12u);
  EXPECT_EQ(acked[0], "s1");
  EXPECT_EQ(acked[1], "s2");
  EXPECT_EQ(acked[2], "r1");
  EXPECT_EQ(acked[11], "r10");
}

// The test's journal, holding one run, "a", begun and without events.
Result<Journal*> journal_with_run_a(std::unique_ptr<Journal>& journal) {
  if (Status s = journal->begin_run(run_record("a")); !s.ok()) return s;
  return journal.get();
}

TEST_P(DurableJournalContract, AFailedWriteLeavesNoTraceAndTheRestOfItsGroupCommits) {
  auto journal = journal_with_run_a(journal_);
  ASSERT_TRUE(journal.ok());
  std::vector<Journal::Write> writes;
  writes.push_back([](Journal& j) { return j.append({journal_event("a", 1)}); });
  // Appends, then fails (a run id taken): what it appended is rolled back with it.
  writes.push_back([](Journal& j) {
    if (Status s = j.append({journal_event("a", 2)}); !s.ok()) return s;
    return j.begin_run(run_record("a"));
  });
  writes.push_back([](Journal& j) { return j.begin_run(run_record("b")); });
  const auto statuses = (*journal)->write_group(writes);
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_FALSE(statuses[1].ok());
  EXPECT_TRUE(statuses[2].ok());
  EXPECT_EQ((*journal)->events("a")->size(), 1u);
  EXPECT_TRUE((*journal)->get_run("b").ok());
  // The sequence goes on from what was committed.
  EXPECT_TRUE((*journal)->append({journal_event("a", 2)}).ok());
  EXPECT_EQ((*journal)->get_run("a")->head_seq, 2);
}

// In a group, a run's row gets its head once (at the end of the group, or with finish_run):
// whatever the group's writes did, the row's head is the chain's last link once it commits.
TEST_P(DurableJournalContract, TheRunsRowHoldsItsHeadAfterAGroupOfAppends) {
  std::vector<Journal::Write> writes;
  writes.push_back([](Journal& j) { return j.begin_run(run_record("a")); });
  writes.push_back([](Journal& j) { return j.append({journal_event("a", 1)}); });
  writes.push_back([](Journal& j) { return j.append({journal_event("a", 2)}); });
  writes.push_back([](Journal& j) { return j.begin_run(run_record("b")); });
  writes.push_back([](Journal& j) {
    if (Status s = j.append({journal_event("b", 1), journal_event("b", 2)}); !s.ok()) return s;
    return j.finish_run("b", "completed", {{"ok", true}}, 5);
  });
  for (const Status& s : journal_->write_group(writes)) EXPECT_TRUE(s.ok()) << s.to_string();
  journal_.reset();  // what is stored, not in the connection's memory
  auto reopened = GetParam().open(location_, {});
  ASSERT_TRUE(reopened.ok());
  for (const std::string id : {"a", "b"}) {
    auto run = (*reopened)->get_run(id);
    auto events = (*reopened)->events(id);
    ASSERT_TRUE(run.ok() && events.ok());
    EXPECT_EQ(run->head_seq, 2) << id;
    EXPECT_EQ(run->head_hash, events->back().hash) << id;
    EXPECT_TRUE(verify_chain(*run, *events).ok()) << id;
  }
  EXPECT_EQ((*reopened)->get_run("b")->status, "completed");
}

TEST_P(DurableJournalContract, AFailedWriteKeepsTheHeadAnEarlierWriteOfTheGroupLeft) {
  auto journal = journal_with_run_a(journal_);
  ASSERT_TRUE(journal.ok());
  std::vector<Journal::Write> writes;
  writes.push_back([](Journal& j) { return j.append({journal_event("a", 1)}); });
  // Appends and finishes, then fails: the append and the finish (which stores the head) are
  // undone, and the head of the first write is what the row gets.
  writes.push_back([](Journal& j) {
    if (Status s = j.append({journal_event("a", 2)}); !s.ok()) return s;
    if (Status s = j.finish_run("a", "completed", {}, 5); !s.ok()) return s;
    return Status(StatusCode::kInternal, "the write gives up");
  });
  const auto statuses = (*journal)->write_group(writes);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_FALSE(statuses[1].ok());
  auto run = (*journal)->get_run("a");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "running");
  EXPECT_EQ(run->head_seq, 1);
  EXPECT_EQ(run->head_hash, (*journal)->events("a")->back().hash);
  EXPECT_TRUE((*journal)->append({journal_event("a", 2)}).ok());
}

TEST_P(DurableJournalContract, AWriteThatGoesOnAfterAFailedCallIsRolledBackWhole) {
  auto journal = journal_with_run_a(journal_);
  ASSERT_TRUE(journal.ok());
  std::vector<Journal::Write> writes;
  writes.push_back([](Journal& j) {
    (void)j.begin_run(run_record("a"));        // fails: taken; the write ignores it...
    return j.append({journal_event("a", 1)});  // ...and appends
  });
  const auto statuses = (*journal)->write_group(writes);
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].code(), StatusCode::kInvalidArgument) << statuses[0].to_string();
  EXPECT_TRUE((*journal)->events("a")->empty());
  EXPECT_EQ((*journal)->get_run("a")->head_seq, 0);
}

}  // namespace
}  // namespace switchyard::runtime
