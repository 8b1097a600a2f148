#pragma once
// replay --verify: is a journaled run what it claims to be? Two checks, both without calling any
// tool or model and without spending:
//  - the hash chain: every event matches its link, none is missing, the run's head is its last;
//  - the decisions: the run machine, re-driven from the recorded outcomes (reenact.h), decides
//    exactly what the journal recorded, event by event, and ends with the recorded result.

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

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
  Status chain;               // ok: intact
  Status decisions;           // ok: every decision re-driven and equal
  std::int64_t verified = 0;  // decisions compared
  // > 0: the run is `running` because the service's shutdown interrupted it, and this is the
  // seq of its run_interrupted event, its last: its decisions up to there are what was checked.
  std::int64_t interrupted_at = 0;
  bool ok() const { return chain.ok() && decisions.ok(); }
  nlohmann::json to_json() const;
};

// Verifies run `run_id` of `journal`. Errors (as a Result): kNotFound for an unknown run, kIo for
// a journal that cannot be read. A run that fails verification is an ok Result whose report
// says why. A run that has not finished fails it (resume it first), except one whose journal
// ends with run_interrupted (a service shutdown): its decisions so far are re-driven.
Result<VerifyReport> verify_run(const Journal& journal, const std::string& run_id);

}  // namespace switchyard::runtime
