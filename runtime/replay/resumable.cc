#include "runtime/replay/resumable.h"

#include <signal.h>
#include <unistd.h>

#include "runtime/engine/runner.h"
#include "runtime/journal/rows.h"
#include "runtime/replay/verify.h"

namespace switchyard::runtime {

bool owner_alive(const RunRecord& run) {
  const auto pid = static_cast<pid_t>(run.owner_pid);
  return pid > 0 && pid != ::getpid() && ::kill(pid, 0) == 0;
}

Result<std::shared_ptr<const graph::Workflow>> resume_workflow(
    const Journal& journal, const RunRecord& run, std::shared_ptr<const graph::Workflow> given,
    std::string_view given_name) {
  if (given != nullptr) {
    if (identify(*given).hash != run.workflow_hash) {
      return invalid_argument(std::string(given_name) + " is not the workflow run " + run.run_id +
                              " ran (its hash differs): resume with the same file");
    }
    return given;
  }
  auto source = journal.workflow_source(run.workflow_hash);
  if (!source.ok()) return source.status();
  auto doc = decode_workflow_copy(run.workflow_hash, *source);
  if (!doc.ok()) {
    return invalid_argument("run " + run.run_id + ": the journal's copy of workflow " +
                            run.workflow + " cannot be decoded: " + doc.status().message());
  }
  if (redact_workflow_secrets(*doc)) {
    return invalid_argument("run " + run.run_id + ": the journal's copy of workflow " +
                            run.workflow +
                            " has its secrets redacted: pass the original file "
                            "with --workflow");
  }
  return journaled_workflow(journal, run);
}

}  // namespace switchyard::runtime
