#pragma once
// What every resumer checks first (`switchyard resume` and the embedding API's Runtime::resume):
// whether a run's process is really gone, and which workflow to continue it with.

#include <memory>
#include <string>
#include <string_view>

#include "graph/status.h"
#include "graph/workflow.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// Whether the process that owns `run` is alive and not this one: then the run has not crashed
// and must not be resumed.
bool owner_alive(const RunRecord& run);

// The workflow to resume `run` with: `given` when not null (named `given_name` in errors; its
// hash must be the run's), else the journal's copy unless that copy has its secrets redacted.
// Errors: kInvalidArgument (hash differs; redacted copy and nothing given), those of
// Journal::workflow_source and journaled_workflow (runtime/replay/verify.h).
Result<std::shared_ptr<const graph::Workflow>> resume_workflow(
    const Journal& journal, const RunRecord& run, std::shared_ptr<const graph::Workflow> given,
    std::string_view given_name);

}  // namespace switchyard::runtime
