#include "tests/support/poisoned_journal.h"

#include <gtest/gtest.h>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/journal.h"
#include "tests/support/sql.h"
#include "tools/tool_set.h"

namespace switchyard::testing {
namespace {

// Start -> A -> Goal (cheap; A always fails) or Start -> B -> Goal.
std::string workflow_json(const std::string& name) {
  return R"({"format": "switchyard.workflow/v1", "name": ")" + name + R"(",
    "start": "Start", "goal": "Goal",
    "tools": {"A": {"kind": "mock", "fail": "always"}, "B": {"kind": "mock"},
              "Goal": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "A", 1], ["A", "Goal", 0], ["Start", "B", 3], ["B", "Goal", 0]]})";
}

std::string run_one(runtime::Journal& journal, const std::string& json) {
  auto loaded = graph::load(json, "poisoned_journal.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  if (!loaded.ok()) return "";
  runtime::SystemClock clock;
  monitors::HealthTable health(clock);
  runtime::Runner runner(loaded.workflow, *tools::make_tool_set(*loaded.workflow), journal, clock,
                         health);
  auto report = runner.run({});
  EXPECT_TRUE(report.ok()) << report.status().to_string();
  return report.ok() ? report->run_id : "";
}

}  // namespace

std::string poisoned_workflow_json() { return workflow_json("poisoned"); }
std::string clean_workflow_json() { return workflow_json("clean"); }

TwoRuns write_two_runs(const std::string& path) {
  auto journal = runtime::open_sqlite_journal(path);
  EXPECT_TRUE(journal.ok()) << journal.status().to_string();
  if (!journal.ok()) return {};
  TwoRuns runs;
  runs.poisoned = run_one(**journal, poisoned_workflow_json());
  runs.clean = run_one(**journal, clean_workflow_json());
  return runs;
}

std::vector<Poison> poisons(const std::string& path, const std::string& run_id) {
  const std::string run = "'" + run_id + "'";
  auto seq_of = [&](const std::string& type) {
    return query_text(path, "SELECT seq FROM events WHERE run_id = " + run + " AND type = '" +
                                type + "' ORDER BY seq LIMIT 1");
  };
  auto edit = [&](const std::string& type, const std::string& payload) {
    return "UPDATE events SET payload = " + payload + " WHERE run_id = " + run +
           " AND seq = " + seq_of(type);
  };
  auto row = [&](const std::string& type) {
    return "run " + run_id + " seq " + seq_of(type) + " (" + type + "): ";
  };
  const std::string hash = query_text(path, "SELECT workflow_hash FROM runs WHERE run_id = " + run);
  // A poison whose run's rows are refused (and, with `defect`, its runs row too).
  auto rows = [](std::string name, std::string sql, std::string named, bool defect = false) {
    return Poison{std::move(name), std::move(sql), std::move(named), "", true, defect};
  };
  std::vector<Poison> out = {
      rows("PayloadIsAnArray", edit("plan", "'[1, 2]'"),
           row("plan") + "/payload: expected an object, got an array"),
      rows("StepFailedToolIsAnArray",
           edit("step_failed", "json_set(payload, '$.tool', json('[1]'))"),
           row("step_failed") + "/payload/tool: expected a string, got an array"),
      rows("LlmSettledTokensIsAString",
           "INSERT INTO events (run_id, seq, time_ms, type, payload, hash) VALUES (" + run +
               ", 100, 1700000000000, 'llm_settled', '{\"purpose\":\"step\",\"tool\":\"A\","
               "\"tier\":\"cheap\",\"tokens\":\"many\",\"cost_usd\":0.1,\"ok\":true}', '')",
           "run " + run_id + " seq 100 (llm_settled): /payload/tokens: expected an integer, got " +
               "string \"many\""),
      rows("PlanRouteIsANumber", edit("plan", "json_set(payload, '$.route', 5)"),
           row("plan") + "/payload/route: expected an array, got number 5"),
      rows("RunStartedSeedIsAString", edit("run_started", "json_set(payload, '$.seed', 'x')"),
           row("run_started") + "/payload/seed: expected an integer from 0 to 2^64 - 1, got " +
               "string \"x\""),
      rows("PayloadIsNotJson", edit("plan", "'this is not JSON'"),
           row("plan") + "/payload: not JSON"),
      rows("RunFinishedIsNoObject", edit("run_finished", "'\"done\"'"),
           row("run_finished") + "/payload: expected an object, got string \"done\"", true),
      rows("RunInputIsGarbage", "UPDATE runs SET input = '{garbage' WHERE run_id = " + run,
           "run " + run_id + ": /input: not JSON", true),
      Poison{"WorkflowCopyIsGarbage",
             "UPDATE workflows SET source = 'garbage' WHERE hash = '" + hash + "'",
             "workflow " + hash.substr(0, 12) + " (stored copy)", "does not load", false, false},
  };
  return out;
}

std::vector<std::string> poison_names() {
  std::vector<std::string> out;
  for (const auto& p : poisons("", "r")) out.push_back(p.name);
  return out;
}

Poison poison_named(const std::string& path, const std::string& run_id, const std::string& name) {
  for (auto& p : poisons(path, run_id)) {
    if (p.name == name) return p;
  }
  ADD_FAILURE() << "no poison " << name;
  return {};
}

PoisonedJournal write_poisoned_journal(const std::string& path, const std::string& name) {
  PoisonedJournal out;
  out.runs = write_two_runs(path);
  out.poison = poison_named(path, out.runs.poisoned, name);
  EXPECT_EQ(exec_sql(path, out.poison.sql), "") << "poison " << name;
  return out;
}

std::unique_ptr<runtime::Journal> reopen_journal(const std::string& path) {
  auto journal = runtime::open_sqlite_journal(path, {.create_if_missing = false});
  EXPECT_TRUE(journal.ok()) << journal.status().to_string();
  return journal.ok() ? std::move(*journal) : nullptr;
}

int count_of(const std::string& text, const std::string& part) {
  int n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace switchyard::testing
