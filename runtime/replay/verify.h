#pragma once
// replay --verify: is a journaled run what it claims to be? Two checks, both without calling any
// tool or model and without spending:
//  - the hash chain: every event matches its link, none is missing, the run's head is its last;
//  - the decisions: the run machine, re-driven from the recorded outcomes (reenact.h), decides
//    exactly what the journal recorded, event by event, and ends with the recorded result.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "graph/status.h"
#include "graph/workflow.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// The workflow a journaled run ran: the journal's copy (workflows table), loaded. Errors:
// kNotFound when the journal does not hold it (runs journaled before schema version 2);
// kInvalidArgument when it does not load; kFailedPrecondition when its hash is not the run's.
Result<std::shared_ptr<const graph::Workflow>> journaled_workflow(const Journal& journal,
                                                                  const RunRecord& run);

struct VerifyReport {
  std::string run_id;
  std::int64_t events = 0;
  // ok: every row of the run decodes (runtime/journal/rows.h). Otherwise the first that does
  // not ("run r-abc seq 7 (step_failed): /payload/tool: expected a string, got an array"), and
  // the other two checks are not made (each says so).
  Status rows;
  Status chain;               // ok: intact
  Status decisions;           // ok: every decision re-driven and equal
  std::int64_t verified = 0;  // decisions compared
  // > 0: the run is `running` because the service's shutdown interrupted it, and this is the
  // seq of its run_interrupted event, its last: its decisions up to there are what was checked.
  std::int64_t interrupted_at = 0;
  bool ok() const { return rows.ok() && chain.ok() && decisions.ok(); }
  nlohmann::json to_json() const;
};

// Verifies run `run_id` of `journal`. Errors (as a Result): kNotFound for an unknown run, kIo for
// a journal that cannot be read. A run that fails verification is an ok Result whose report
// says why; so is a run with a row that cannot be decoded (VerifyReport::rows). A run that has not
// finished fails it (resume it first), except one whose journal ends with run_interrupted (a
// service shutdown): its decisions so far are re-driven.
Result<VerifyReport> verify_run(const Journal& journal, const std::string& run_id);

// One stored event row as text, as the journal holds it: what verify_event_rows decodes.
struct EventRow {
  std::string type;
  std::string payload;  // the payload's text (JSON, or not)
  std::int64_t time_ms = 0;
};

// The decoding and re-enactment path of `--verify` and resume on arbitrary rows (a fuzz target:
// tests/fuzz): `rows` become the events of run `run_id` (seq 1, 2, ...) decoded as the journal
// decodes them (decode_event_row), and the run is re-driven on `workflow` (reenact), as
// `--verify` does when `complete`, as resume does otherwise. Never crashes or throws, whatever
// the rows hold. Returns the number of decisions verified, or the first problem: a row that
// does not decode (kInvalidArgument naming run and seq) or a decision that differs
// (kFailedPrecondition).
Result<std::int64_t> verify_event_rows(const graph::Workflow& workflow,
                                       const std::vector<EventRow>& rows, bool complete,
                                       const std::string& run_id = "r-fuzz");

// Rows from text, one per line, "<type> <payload text>" (the first space ends the type), each at
// time_ms 1000 * its line number: how a fuzz input (or a seed written by hand) becomes rows.
std::vector<EventRow> event_rows_from_lines(std::string_view text);

}  // namespace switchyard::runtime
