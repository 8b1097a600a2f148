#pragma once
// A real SQLite journal with real runs, and the SQL that poisons one of them as someone with the
// sqlite3 shell could: the journal the "a poisoned journal is survived" tests start from
// (tests/runtime/{journal,engine,replay,cli,service}).

#include <memory>
#include <string>
#include <vector>

namespace switchyard::runtime {
class Journal;
}

namespace switchyard::testing {

// Two finished runs of two small workflows, journaled now (system clock) by a real Runner into
// a new SQLite journal at `path`: `poisoned` (workflow "poisoned": its first tool fails, the run
// reroutes: run_started, plan, step_failed, reroute, ... run_finished) and `clean` (workflow
// "clean", the same graph).
struct TwoRuns {
  std::string poisoned;
  std::string clean;
};
TwoRuns write_two_runs(const std::string& path);

// The workflow files the runs ran (for a CLI that runs them again).
std::string poisoned_workflow_json();
std::string clean_workflow_json();

// One way to poison run `run_id`'s rows, and what every report of it says.
struct Poison {
  std::string name;  // a test name's suffix: "PayloadIsAnArray"
  std::string sql;   // run on the journal file
  // What names the bad row wherever it is reported (the start's skip message, `journal check`,
  // `replay --verify`): "run r-... seq 2 (plan): /payload: expected an object, got an array".
  std::string named;
  // What `replay --verify` of the run says ("" : `named`). (A stored workflow copy that is
  // garbage leaves the run's rows decodable: its decisions cannot be re-driven.)
  std::string verify_named;
  // Whether the run's own rows are refused (false: only its workflow copy is bad).
  bool rows = true;
  // Whether `runs` lists the run with a defect (its runs row cannot be decoded).
  bool row_defect = false;
};
// Every poison of the issue: a payload that is an array, a field of the wrong type in
// step_failed, llm_settled (a row added), plan and run_started, a payload that is not JSON, a
// run_finished that is no object, a runs row whose input is garbage, a stored workflow copy that
// is garbage. `path` is the journal (for the seq of the rows it names).
std::vector<Poison> poisons(const std::string& path, const std::string& run_id);
// Their names, in that order; and the one named `name` (a test failure if there is none).
std::vector<std::string> poison_names();
Poison poison_named(const std::string& path, const std::string& run_id, const std::string& name);

// What every poisoned-journal test starts from: write_two_runs(path), then poison `name` of the
// run `poisoned` applied to the file (a test failure if the SQL does not run).
struct PoisonedJournal {
  TwoRuns runs;
  Poison poison;
};
PoisonedJournal write_poisoned_journal(const std::string& path, const std::string& name);

// The SQLite journal at `path` opened again (not created); null, and a test failure, if it
// cannot be.
std::unique_ptr<runtime::Journal> reopen_journal(const std::string& path);

// How many times `part` occurs in `text` (a bad row is named once, the skip said once).
int count_of(const std::string& text, const std::string& part);

}  // namespace switchyard::testing
