#pragma once
// Reenactment: re-drives a journaled run's RunMachine from the outcomes its journal recorded,
// without calling any tool or model and without spending, and compares every event the machine
// emits with the one the journal holds. Replay --verify uses it to prove that every recorded
// decision (plan, reroute, backtrack, demotion, tier choice, escalation) is what the router
// decides now; resume uses it to rebuild a crashed run's state before continuing it.
//
// What the machine is fed comes from the journal only: run_started (input, known health, seed,
// budget overrides, tier prices), llm_learned (learned start tiers) and each call's outcome
// events (step_succeeded / step_failed / step_retry, llm_call / llm_settled, compensation,
// advisor_answered) and run-level cancellations. Events written by the driver and the monitors
// (run_started, llm_learned, breaker, run_finished) are inputs, not decisions: not compared.
// A tenant's decisions (tenant_reserved) are inputs too, checked against what the machine asked
// for: the call in flight, its worst case, the tenant's arithmetic (granted iff spent + reserved
// + usd <= cap), and the call's outcome (refused iff it failed budget_exhausted).
//
// Thread-compatible.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/status.h"
#include "graph/workflow.h"
#include "runtime/journal/journal.h"
#include "runtime/machine/run_machine.h"

namespace switchyard::runtime {

// A call the machine has handed out and the journal holds no outcome for (resume).
struct PendingCall {
  Action action;
  // Its start (step_started / compensation_started) is in the journal: it may have run.
  bool started_in_journal = false;
  // Its tenant's decision as journaled (tenant_reserved): granted or not; nullopt: none.
  std::optional<bool> tenant_granted;
};

class Reenactment {
 public:
  // The machine, positioned after the last recorded event. Its events now go to `live` (set it
  // before driving the machine further). REQUIRES: the Reenactment outlives the machine's use.
  RunMachine& machine() { return *machine_; }
  void set_live_sink(EventSink* live);
  // Calls handed out with no recorded outcome, by slot (0: the run's own line).
  const std::vector<std::pair<std::uint32_t, PendingCall>>& pending() const { return pending_; }
  // Events the machine emitted past the end of the journal (resume: to be journaled first).
  std::vector<std::pair<std::string, nlohmann::json>> take_fresh();
  // How many recorded decisions were compared and matched.
  std::int64_t verified() const;
  // Whether the journal holds run_finished.
  bool finished() const { return finished_; }
  std::int64_t last_seq() const { return last_seq_; }

 private:
  friend Result<std::unique_ptr<Reenactment>> reenact(const graph::Workflow&,
                                                      const std::vector<Event>&, bool);
  struct Sink;
  struct SinkDeleter {
    void operator()(Sink* s) const;
  };
  std::unique_ptr<Sink, SinkDeleter> sink_;
  std::unique_ptr<RunMachine> machine_;
  std::vector<std::pair<std::uint32_t, PendingCall>> pending_;
  bool finished_ = false;
  std::int64_t last_seq_ = 0;
};

// Re-drives the run whose events are `events` (in seq order) on `workflow` (the one its
// workflow_hash names). `complete`: the journal must hold the whole run (replay --verify):
// every call answered, run_finished present and equal to the machine's result. Otherwise
// (resume) the journal may end anywhere; what is in flight is in pending().
// Errors: kInvalidArgument when the events do not start with run_started; kFailedPrecondition
// naming the first event that differs ("event #12 (reroute): the journal says ..., the router
// now decides ...") or where the journal and the machine part ways.
Result<std::unique_ptr<Reenactment>> reenact(const graph::Workflow& workflow,
                                             const std::vector<Event>& events, bool complete);

// The first event whose hash-chain link does not match its content and predecessor
// (docs/journal.md#hash-chain), or whose run head differs; ok when the chain is intact.
// kFailedPrecondition naming the event.
Status verify_chain(const RunRecord& run, const std::vector<Event>& events);

}  // namespace switchyard::runtime
