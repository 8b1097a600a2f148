#pragma once
// Runner: executes runs of a workflow, one at a time per call, journaling every event.
//
// It drives a RunMachine: asks it for the next action, invokes the tool, feeds the outcome back.
// This driver is synchronous (the calling thread runs the whole run); the asynchronous engine
// drives the same machine, so decisions and journal are the same whichever runs them.

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "graph/clock.h"
#include "graph/status.h"
#include "graph/workflow.h"
#include "monitors/health_table.h"
#include "runtime/journal/journal.h"
#include "runtime/machine/run_machine.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {

// A workflow as the journal knows it: the hash of its canonical JSON, and that JSON as journaled
// (stored once per hash so that replay and resume can rebuild it), with the values of
// secret-looking headers, env variables and URL parameters replaced by "[redacted]": secrets
// never reach the journal. Computed once per workflow, not per run.
struct WorkflowIdentity {
  std::string hash;                           // of the canonical JSON as loaded (not redacted)
  std::shared_ptr<const std::string> source;  // the canonical JSON as journaled (redacted)
};
WorkflowIdentity identify(const graph::Workflow& w);

inline constexpr const char* kRedacted = "[redacted]";
// Redacts a workflow's JSON in place, as identify() does; true when it holds redacted values
// (redacted now or before: such a workflow can be replayed from the journal, but resuming it
// needs the original file).
bool redact_workflow_secrets(nlohmann::json& source);

class EventBuffer;
class RunHealth;

struct RunRequest {
  nlohmann::json input = nlohmann::json::object();
  graph::Budget budget{};  // overrides of the workflow's budget
  std::string run_id;      // empty: a new unique id
  // Of the retry jitter; absent: random (journaled either way).
  std::optional<std::uint64_t> seed{};
  // Engine only: cancel the run (reason "deadline") when it is still going after this long.
  // 0: no deadline.
  std::chrono::milliseconds deadline{0};
  // The run's tenant: the budget key whose shared USD budget its calls reserve against
  // (docs/budgets.md#tenant-budgets); "": none. Journaled in run_started.
  std::string tenant{};
};

struct RunReport {
  std::string run_id;
  RunResult result;
  // The full `run --json` document (docs/cli.md) without "journal".
  nlohmann::json to_json() const;
};

struct RunnerOptions {
  // Mock latencies are simulated on the clock when it is a ManualClock (evaluation); with the
  // system clock the runner really waits that long.
  bool simulate_latency = true;
  // The model tiers llm steps choose from (docs/budgets.md); must outlive the Runner. Null or
  // empty: no tier choice (scenario mode).
  const tools::Models* models = nullptr;
  // Learned escalation's memory (docs/budgets.md); fed by every run. Null: no learning.
  class LlmHistory* history = nullptr;
  // Where throttled tools take their turns (docs/workflow-format.md#throttle); must outlive the
  // Runner. Null: the journal's (Journal::call_limiter()).
  CallLimiter* limiter = nullptr;
};

class RunTenant;

class Runner {
 public:
  // REQUIRES: every reference outlives the Runner. `health` is the process's knowledge of tool
  // health (tools marked down are excluded before the first step).
  Runner(std::shared_ptr<const graph::Workflow> workflow, std::shared_ptr<tools::ToolSet> tools,
         Journal& journal, Clock& clock, monitors::HealthTable& health, RunnerOptions options = {});

  // Executes one run to its end. Errors: kIo when the journal cannot be written (the run is
  // abandoned: nothing more is invoked).
  Result<RunReport> run(RunRequest request);

  // Continues run `run_id`, which did not finish (its process died), from its journal
  // (docs/journal.md#resume): its state is rebuilt by re-driving the recorded outcomes, so
  // completed steps are never re-run; a call that was in flight is repeated only when its tool is
  // idempotent or sends an idempotency key, otherwise the run ends `escalated` with reason
  // `in_doubt` naming the step. Errors: kNotFound (unknown run), kFailedPrecondition (finished,
  // another workflow, a journal that does not re-drive, or a run held at a wait, which this
  // driver cannot hold: Engine::resume holds it; the run is left as it was), kIo (journal).
  Result<RunReport> resume(const std::string& run_id);

  const std::string& workflow_hash() const { return identity_.hash; }

 private:
  // Starts a run (`journal_row`: records its row first; false: resume of a run with no events).
  Result<RunReport> start(RunRequest request, bool journal_row);
  // Runs the machine to its end, invoking tools (`resumed` first: calls to make again).
  // `tenant`: the run's tenant budget; what is left open when it returns is charged its worst case.
  Status drive(RunMachine& machine, EventBuffer& events, RunHealth& health,
               std::vector<Action> resumed, const std::string& run_id, RunTenant& tenant);
  // Journals run_finished (unless the journal has it) and the run's final row.
  Result<RunReport> finish(RunMachine& machine, EventBuffer& events, RunReport report,
                           bool finished_in_journal);

  std::shared_ptr<const graph::Workflow> workflow_;
  std::shared_ptr<tools::ToolSet> tools_;
  Journal& journal_;
  Clock& clock_;
  monitors::HealthTable& health_;
  RunnerOptions options_;
  WorkflowIdentity identity_;
  CallLimiter& limiter_;  // options_.limiter, else the journal's
};

// Whether `status` is Runner::resume's refusal of a run held at a wait (left as it was).
bool held_at_wait(const Status& status);

// A new run id: "r-" + 12 hex digits of the time in ms, 10 of a random salt drawn once per
// process and 6 of a counter; sortable by start time, and in the order one process made them.
std::string new_run_id(const Clock& clock);

}  // namespace switchyard::runtime
