#pragma once
// How a process that runs workflows starts: `switchyard run` and `resume`, `switchyard health`,
// `switchyard serve` and the embedding API's Runtime::open share this one sequence, so that they
// start alike and say alike what they skipped:
//   1. open the journal (the SQLite file; or one in memory),
//   2. rebuild the health monitor from the journal's recent runs (rebuild_health),
//   3. rebuild learned escalation's history (LlmHistory::rebuild),
//   4. build the engine over the journal, or over a journal wrapping it (a feed, a gate).
// A journal row the rebuilds cannot decode is skipped, never fatal (docs/journal.md#a-poisoned-
// journal): StartupReport lists what was, and skipped_summary() is the one message each front
// end shows (the CLI on stderr, the service in its log and /readyz, the API in its log).
//
// Usage:
//   auto started = start_up(clock, {.journal_path = "switchyard.db", .rebuild_history = true});
//   if (!started.ok()) return started.status();          // the journal cannot be opened or read
//   if (!started->report.skipped.empty()) warn(started->report.summary(path));
//   auto engine = build_engine(*started, *started->journal, clock, {.threads = 2});

#include <chrono>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graph/clock.h"
#include "graph/status.h"
#include "monitors/health_table.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/health_rebuild.h"
#include "runtime/engine/llm_history.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

struct StartupOptions {
  // The SQLite journal's file; "" for a journal in memory (which has nothing to rebuild from).
  std::string journal_path;
  JournalOptions journal{};
  MemoryJournalOptions memory{};  // with no journal_path
  // Rebuild the health monitor from the runs started within `health_window` (a scenario run,
  // which starts from its own known tools, does not).
  bool rebuild_health = true;
  std::chrono::milliseconds health_window = kDefaultHealthWindow;
  // Rebuild learned escalation's history: when llm steps choose among several model tiers.
  bool rebuild_history = false;
};

// What a start did and skipped.
struct StartupReport {
  int outcomes = 0;  // step outcomes replayed into the health monitor
  // What the rebuilds passed over because it cannot be decoded, one line each, each once: runs
  // and events ("run r-abc seq 7 (step_failed): /payload/tool: expected a string, got an
  // array"), stored workflow copies.
  std::vector<std::string> skipped;

  // skipped_summary(skipped, journal_path, max_items).
  std::string summary(const std::string& journal_path, std::size_t max_items = 10) const;
  // {"count": N, "items": [the first `max_items` lines]}: the service's /readyz detail.
  nlohmann::json to_json(std::size_t max_items = 10) const;
};

// What a reader of journal `journal_path` skipped, as people read it: "" when nothing; else a
// first line naming the count and the command that lists every problem (`switchyard journal
// check`), then one indented line per item, at most `max_items`, then "... and K more".
std::string skipped_summary(const std::vector<std::string>& skipped,
                            const std::string& journal_path, std::size_t max_items = 10);

// A started process's journal, health monitor and learned history.
struct Startup {
  std::unique_ptr<Journal> journal;
  std::unique_ptr<monitors::HealthTable> health;  // on the clock start_up was given
  std::unique_ptr<LlmHistory> history;            // rebuilt when asked; fed by runs either way
  StartupReport report;
};

// Steps 1 to 3. REQUIRES: `clock` outlives the health monitor. Errors: opening the journal
// (open_sqlite_journal's), or reading it (I/O); never a row that cannot be decoded (skipped, in
// the report).
Result<Startup> start_up(Clock& clock, const StartupOptions& options);

// Step 4: the engine running runs through `journal` (startup.journal, or a journal wrapping it)
// with the startup's health monitor and, unless `options` names one, its history. REQUIRES:
// `journal`, `clock` and `startup`'s members outlive the engine.
std::unique_ptr<Engine> build_engine(Startup& startup, Journal& journal, Clock& clock,
                                     EngineOptions options);

}  // namespace switchyard::runtime
