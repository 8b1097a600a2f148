// A poisoned journal is survived: a row edited into something that cannot be decoded (a payload
// that is an array or not JSON, a field of the wrong type, a runs row or a stored workflow copy
// that is garbage) is refused naming its run and seq, by both journals alike, while every other
// run stays listable and readable; Journal::check lists every such row, each edited row once.

#include "tests/support/poisoned_journal.h"

#include <gtest/gtest.h>

#include "runtime/journal/journal.h"
#include "runtime/journal/rows.h"
#include "tests/support/journal_records.h"
#include "tests/support/run_command.h"
#include "tests/support/sql.h"

namespace switchyard::runtime {
namespace {

using testing::exec_sql;
using testing::journal_event;
using testing::query_text;
using testing::run_record;
using testing::TempDir;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& line : lines) {
    if (contains(line, part)) return true;
  }
  return false;
}

TEST(PoisonedJournal, EachPoisonedRunIsRefusedNamingItsRowWhileEveryRunStaysListed) {
  for (const std::string& name : testing::poison_names()) {
    SCOPED_TRACE(name);
    TempDir dir;
    const std::string path = dir.file("j.db");
    const auto [runs, poison] = testing::write_poisoned_journal(path, name);
    auto journal = testing::reopen_journal(path);
    ASSERT_NE(journal, nullptr);

    auto listed = journal->list_runs({});
    ASSERT_TRUE(listed.ok()) << listed.status().to_string();
    ASSERT_EQ(listed->size(), 2u);
    for (const RunRecord& r : *listed) {
      if (r.run_id == runs.poisoned && poison.row_defect) {
        EXPECT_TRUE(contains(r.defect, poison.named)) << r.defect;
      } else {
        EXPECT_EQ(r.defect, "") << r.run_id;
      }
    }

    auto clean = journal->events(runs.clean);
    ASSERT_TRUE(clean.ok()) << clean.status().to_string();
    EXPECT_GT(clean->size(), 5u);
    EXPECT_TRUE(journal->get_run(runs.clean).ok());

    auto events = journal->events(runs.poisoned);
    if (poison.rows) {
      ASSERT_FALSE(events.ok());
      EXPECT_EQ(events.status().code(), StatusCode::kInvalidArgument);
      EXPECT_TRUE(contains(events.status().message(), poison.named)) << events.status().message();
    } else {
      EXPECT_TRUE(events.ok()) << events.status().to_string();
    }
    if (poison.row_defect) {
      auto run = journal->get_run(runs.poisoned);
      ASSERT_FALSE(run.ok());
      EXPECT_EQ(run.status().code(), StatusCode::kInvalidArgument);
      EXPECT_TRUE(contains(run.status().message(), poison.named)) << run.status().message();
    }
  }
}

TEST(PoisonedJournal, CheckListsEachPoisonedRowAndPassesACleanJournal) {
  TempDir clean;
  testing::write_two_runs(clean.file("j.db"));
  auto sound = testing::reopen_journal(clean.file("j.db"))->check();
  ASSERT_TRUE(sound.ok()) << sound.status().to_string();
  EXPECT_TRUE(sound->problems.empty()) << sound->problems.front();
  EXPECT_EQ(sound->runs, 2);
  EXPECT_EQ(sound->workflows, 2);
  EXPECT_EQ(std::to_string(sound->events),
            query_text(clean.file("j.db"), "SELECT count(*) FROM events"));
  for (const std::string& name : testing::poison_names()) {
    SCOPED_TRACE(name);
    TempDir dir;
    const std::string path = dir.file("j.db");
    const auto [runs, poison] = testing::write_poisoned_journal(path, name);
    auto checked = testing::reopen_journal(path)->check();
    ASSERT_TRUE(checked.ok()) << checked.status().to_string();
    EXPECT_TRUE(any_contains(checked->problems, poison.named))
        << (checked->problems.empty() ? "no problem" : checked->problems.front());
    EXPECT_FALSE(any_contains(checked->problems, runs.clean)) << "the clean run is sound";
  }
}

TEST(JournalCheck, EveryEditedRowIsNamedNotOnlyTheFirst) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  const testing::TwoRuns runs = testing::write_two_runs(path);
  for (const char* seq : {"2", "4"}) {
    ASSERT_EQ(exec_sql(path,
                       "UPDATE events SET payload = json_set(payload, '$.edited', 1) "
                       "WHERE run_id = '" +
                           runs.poisoned + "' AND seq = " + seq),
              "");
  }
  auto checked = testing::reopen_journal(path)->check();
  ASSERT_TRUE(checked.ok());
  ASSERT_EQ(checked->problems.size(), 2u) << checked->problems.front();
  EXPECT_TRUE(contains(checked->problems[0], "run " + runs.poisoned + " seq 2 ("));
  EXPECT_TRUE(contains(checked->problems[0], "does not match its hash"));
  EXPECT_TRUE(contains(checked->problems[1], "run " + runs.poisoned + " seq 4 ("));
}

TEST(JournalCheck, DeletedEventsAMovedHeadAndEventsWithoutARunAreNamed) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  const testing::TwoRuns runs = testing::write_two_runs(path);
  ASSERT_EQ(exec_sql(path, "DELETE FROM events WHERE run_id = '" + runs.poisoned +
                               "' AND seq = 3;"
                               "UPDATE runs SET head_seq = 99 WHERE run_id = '" +
                               runs.clean +
                               "';"
                               "INSERT INTO events (run_id, seq, time_ms, type, payload, hash) "
                               "VALUES ('r-ghost', 1, 1, 'plan', '{}', '')"),
            "");
  auto checked = testing::reopen_journal(path)->check();
  ASSERT_TRUE(checked.ok());
  EXPECT_TRUE(any_contains(checked->problems, "run " + runs.poisoned + ": event #3 is missing"));
  EXPECT_TRUE(any_contains(checked->problems, "run " + runs.clean + ": its head names event #99"));
  EXPECT_TRUE(any_contains(checked->problems, "run r-ghost: 1 event(s) but no row in runs"));
}

// The wait inbox (docs/waits.md#while-no-process-holds-the-run) is read through the same checks:
// a row whose body is not JSON, or whose decision is not one, and a row whose run is not in the
// journal are each named with their run and id, and the rest of the journal stays sound.
TEST(JournalCheck, MalformedAndDanglingWaitInboxRowsAreEachNamed) {
  TempDir dir;
  const std::string path = dir.file("j.db");
  const testing::TwoRuns runs = testing::write_two_runs(path);
  ASSERT_EQ(exec_sql(path,
                     "INSERT INTO wait_inbox (id, run_id, wait_id, time_ms, body) VALUES "
                     "(7, '" +
                         runs.clean +
                         "', 'Ask#1', 1, '{not json'), "
                         "(8, '" +
                         runs.clean +
                         "', 'Ask#1', 1, '{\"decision\": \"maybe\"}'), "
                         "(9, 'r-ghost', 'Ask#1', 1, '{\"decision\": \"approve\"}')"),
            "");
  auto checked = testing::reopen_journal(path)->check();
  ASSERT_TRUE(checked.ok()) << checked.status().to_string();
  EXPECT_EQ(checked->queued_resolutions, 3);
  const std::string clean = "run " + runs.clean + " queued resolution ";
  EXPECT_TRUE(any_contains(checked->problems, clean + "7: "))
      << ::testing::PrintToString(checked->problems);
  EXPECT_TRUE(any_contains(checked->problems,
                           clean + "8: /decision: expected \"approve\", \"reject\", \"signal\""))
      << ::testing::PrintToString(checked->problems);
  EXPECT_TRUE(any_contains(checked->problems,
                           "run r-ghost queued resolution 9 (wait_inbox): the run is not in the "
                           "journal: a dangling inbox row"))
      << ::testing::PrintToString(checked->problems);
  // Each row once: the two bad bodies (whose wait the run never started either) and the ghost.
  for (const char* id : {"7", "8", "9"}) {
    EXPECT_TRUE(any_contains(checked->problems, "queued resolution " + std::string(id)));
  }
}

TEST(MemoryJournal, AnEventWithAFieldOfTheWrongTypeIsRefusedOnReadLikeTheSqliteJournalRefusesIt) {
  auto journal = make_memory_journal();
  ASSERT_TRUE(journal->begin_run(run_record("r1")).ok());
  ASSERT_TRUE(journal->begin_run(run_record("r2")).ok());
  ASSERT_TRUE(
      journal
          ->append({journal_event("r1", 1),
                    journal_event("r1", 2, "step_failed", nlohmann::json{{"tool", {1, 2}}})})
          .ok());
  ASSERT_TRUE(journal->append({journal_event("r2", 1)}).ok());
  auto bad = journal->events("r1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "run r1 seq 2 (step_failed): /payload/tool: expected a string, got an array");
  EXPECT_TRUE(journal->events("r2").ok());
  auto checked = journal->check();
  ASSERT_TRUE(checked.ok());
  ASSERT_EQ(checked->problems.size(), 1u);
  EXPECT_EQ(checked->problems[0], bad.status().message());
}

TEST(MemoryJournal, ARunFinishedEventThatIsNoObjectIsTheRunsDefectNotACrash) {
  auto journal = make_memory_journal();
  ASSERT_TRUE(journal->begin_run(run_record("r1")).ok());
  // Appends check only that a payload is an object: the array hides in a field.
  ASSERT_TRUE(journal
                  ->append({journal_event("r1", 1),
                            journal_event("r1", 2, "run_finished", nlohmann::json{{"path", 7}})})
                  .ok());
  ASSERT_TRUE(journal->finish_run("r1", "completed", nullptr, 5).ok());
  auto listed = journal->list_runs({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].defect,
            "run r1 seq 2 (run_finished): /payload/path: expected an array, got number 7");
  EXPECT_EQ(journal->get_run("r1").status().code(), StatusCode::kInvalidArgument);
}

TEST(JournalRows, ADecodedRowNamesItsRunSeqPointerAndWhatWasExpected) {
  auto deep = std::string(2000, '[') + std::string(2000, ']');
  const struct {
    std::string type, payload, error;
  } cases[] = {
      {"plan", "[1]", "run r seq 3 (plan): /payload: expected an object, got an array"},
      {"plan", "{\"route\": [\"A\", 2]}",
       "run r seq 3 (plan): /payload/route/1: expected a string, got number 2"},
      {"step_failed", "{\"retry_at_ms\": 1e300}",
       "run r seq 3 (step_failed): /payload/retry_at_ms: expected an integer, got number 1e+300"},
      {"step_failed", "{\"latency_us\": 99999999999999999}",
       "run r seq 3 (step_failed): /payload/latency_us: expected a time within +-2^43, got "
       "number 99999999999999999"},
      {"step_succeeded", "{\"branch\": -1}",
       "run r seq 3 (step_succeeded): /payload/branch: expected a branch index (0 or more), got "
       "number -1"},
      {"run_started", "{\"tiers\": [{\"name\": 1}]}",
       "run r seq 3 (run_started): /payload/tiers/0/name: expected a string, got number 1"},
      {"run_started", "{\"factors\": {\"A\": \"x\"}}",
       "run r seq 3 (run_started): /payload/factors/A: expected a number, got string \"x\""},
      {"run_started", "{\"factors\": {\"A\": -2}}",
       "run r seq 3 (run_started): /payload/factors/A: expected a factor (0 or more), got number "
       "-2"},
      {"llm_learned", "{\"start_tiers\": {\"A\": []}}",
       "run r seq 3 (llm_learned): /payload/start_tiers/A: expected an object, got an array"},
      {"advisor_answered", "{\"output\": \"{\\\"action\\\": 5}\"}",
       "run r seq 3 (advisor_answered): /payload/output/action: expected a string, got number 5"},
      {"advisor_answered", "{\"output\": {\"action\": null}}",
       "run r seq 3 (advisor_answered): /payload/output/action: expected a string, got null"},
      {"plan", "{\"conditions\": {\"from\": \"A\"}}",
       "run r seq 3 (plan): /payload/conditions: expected an array, got an object"},
      {"reroute", "{\"conditions\": [{\"from\": \"A\", \"value\": \"yes\"}]}",
       "run r seq 3 (reroute): /payload/conditions/0/value: expected true or false, got string"},
      {"plan", deep, "run r seq 3 (plan): /payload: nested deeper than 1024"},
      {"plan", "", "run r seq 3 (plan): /payload: not JSON"},
  };
  for (const auto& c : cases) {
    auto e = decode_event_row("r", 3, 1000, c.type, c.payload, "");
    ASSERT_FALSE(e.ok()) << c.payload.substr(0, 80);
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(e.status().message().rfind(c.error, 0), 0u) << e.status().message();
  }
  // Unknown types and fields, null for a field, and a string that is not advice all decode.
  for (const auto& [type, payload] : std::vector<std::pair<std::string, std::string>>{
           {"no_such_type", "{\"tool\": [1]}"},
           {"plan", "{\"route\": null, \"whatever\": [1, {}]}"},
           {"plan", "{\"conditions\": [{\"from\": \"A\", \"to\": \"B\", \"value\": null}]}"},
           {"advisor_answered", "{\"output\": \"escalate, please\"}"}}) {
    EXPECT_TRUE(decode_event_row("r", 3, 1000, type, payload, "").ok()) << payload;
  }
  EXPECT_FALSE(decode_event_row("r", 3, -5, "plan", "{}", "").ok()) << "time_ms before 1970";
}

}  // namespace
}  // namespace switchyard::runtime
