#pragma once
// Engine: runs many runs at once on a few threads, never blocking a thread on a tool call.
//
// Each engine thread owns one event loop (Boost.Asio io_context) and a run is pinned to one of
// them for its whole life (or, with run(), to a loop the calling thread drives): its state is
// touched by that thread only, so the hot path takes no lock. (One io_context shared by several
// threads is several times slower for tiny handlers; see docs/benchmarks.md.) A run is a
// continuation chain over the same RunMachine the synchronous Runner drives, so decisions and
// journal are identical. Journal writes go through one writer thread (or, for a journal in memory,
// on the run's own thread, in line); before a non-idempotent tool is invoked, and after it
// answered (before the run invokes anything else or waits on its other calls), the run waits
// (without blocking its thread) until its events so far are written (docs/journal.md).
//
// Usage:
//   Engine engine(journal, clock, health, {.threads = 2});
//   auto future = engine.submit(workflow, tools, {.input = {...}});
//   Result<RunReport> report = future.get();
//
// Thread-safe: every public method may be called from any thread.

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graph/clock.h"
#include "graph/status.h"
#include "graph/workflow.h"
#include "monitors/health_table.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/journal.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {

struct EngineOptions {
  // Event-loop threads; 0: the machine's hardware concurrency.
  int threads = 0;
  // Mock latencies: waited for on the run's timer (real clock) or added to a ManualClock.
  bool simulate_latency = true;
  // How often tools with a `probe` and an open breaker are probed (docs/monitors.md#probes);
  // 0: never.
  std::chrono::milliseconds probe_interval{1000};
  // How long a probe URL has to answer (connect and the whole response) before the probe counts
  // as failed; default 5 s. (A probe tool has its own timeout.)
  std::chrono::milliseconds probe_timeout{5000};
  // Told of every probe's result (observability, tests); called on an engine thread.
  std::function<void(const std::string& tool, bool ok)> on_probe = nullptr;
  // The model tiers llm steps choose from (docs/budgets.md); must outlive the engine.
  const tools::Models* models = nullptr;
  // Learned escalation's memory (docs/budgets.md); must outlive the engine. Null: no learning.
  class LlmHistory* history = nullptr;
  // Where throttled tools take their turns (docs/workflow-format.md#throttle); must outlive the
  // engine. Null: the journal's (Journal::call_limiter()).
  CallLimiter* limiter = nullptr;
};

class RunTask;  // one run in flight (engine.cc)

// A run claimed from a queue, made ready by Engine::prepare_claimed and not yet running: its
// start events (run_started and what comes with it), sealed, for the caller to commit on another
// connection before Engine::begin_prepared runs it. Move-only.
class PreparedRun {
 public:
  const std::string& run_id() const { return run_id_; }
  const std::vector<Event>& start() const { return start_; }

 private:
  friend class Engine;
  std::string run_id_;
  std::vector<Event> start_;
  std::shared_ptr<RunTask> task_;
};

// A wait step a run in flight is held at (docs/waits.md).
struct OpenWait {
  std::string run_id;
  std::string wait_id;  // "<tool id>#<call>": unique within the run
  std::string kind;     // approval, signal, timer
  std::string name;     // approval and signal: what is waited for
  std::string tool;
  std::string node;
  std::string fanout;           // "" unless a fan-out branch waits
  std::int64_t branch = -1;     // the branch, or -1
  std::int64_t started_ms = 0;  // Unix ms
  std::int64_t due_ms = 0;      // timer: when it fires; others: their timeout (0: none)
};

// An open wait as GET /v1/waits and `switchyard waits --json` list it (docs/service.md):
// {"run_id", "wait_id", "kind", "name" (null for a timer), "tool", "node", "branch" (-1 outside a
// fan-out), "started_ms", "due_ms" (null: none)}.
nlohmann::json wait_json(const OpenWait& w);

// How a wait is resolved.
struct WaitAnswer {
  enum class Decision { kApprove, kReject, kSignal };
  Decision decision = Decision::kSignal;
  // approve: handed to the step as its output's "data"; signal: the step's output; reject:
  // ignored (see `reason`).
  nlohmann::json data = nullptr;
  std::string reason{};  // reject: why (the step's failure reason)
  std::string by{};      // who resolved it (journaled)
  // Applied once: the same wait resolved again with the same key is accepted and ignored.
  std::string key{};
};

class Engine {
 public:
  using Done = std::function<void(Result<RunReport>)>;

  // REQUIRES: journal, clock and health outlive the engine.
  Engine(Journal& journal, Clock& clock, monitors::HealthTable& health, EngineOptions options = {});
  // Cancels the runs still in flight, waits for them to end, then stops the threads.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts a run; returns its id at once. `done` is called exactly once, on the run's engine
  // thread (the run leaves in_flight() just after it returns: wait_idle() waits for that), with
  // the report, or with kIo when the journal could not be written (nothing is
  // invoked after that), or kInvalidArgument when the run id is already in the journal.
  std::string start(std::shared_ptr<const graph::Workflow> workflow,
                    std::shared_ptr<tools::ToolSet> tools, RunRequest request, Done done);
  // Runs one run on the calling thread and returns its report (what `done` would get): the
  // thread drives the run's own event loop until the run ends (tool answers from other threads,
  // timers, the deadline, cancel()), so a run whose tools answer at once involves no other thread
  // (and none at all with a journal that writes_inline()). The run is in flight, cancellable and
  // counted like any other. May be called from inside a tool of another run (a run in a run).
  Result<RunReport> run(std::shared_ptr<const graph::Workflow> workflow,
                        std::shared_ptr<tools::ToolSet> tools, RunRequest request);
  // The same, as a future.
  std::future<Result<RunReport>> submit(std::shared_ptr<const graph::Workflow> workflow,
                                        std::shared_ptr<tools::ToolSet> tools, RunRequest request);

  // Continues run `run_id`, which did not finish (its process died), on the engine
  // (docs/journal.md#resume), with `workflow` (the one its journal names) and `tools`: its state
  // is rebuilt by re-driving its journal (as Runner::resume does, so completed steps are never
  // re-run; a call in flight is repeated only when that is safe, otherwise the run ends
  // `escalated`, `in_doubt`), and the waits it was held at are held again (docs/waits.md): with
  // their original start, so a timer or timeout whose time passed while the process was down is
  // due at once. Returns once the run is in flight here, its held waits already listed by
  // waits() and resolvable; `done` is then called exactly once as for start(). On an error
  // `done` is not called: kNotFound (unknown run), kFailedPrecondition (finished, another
  // workflow, a journal that does not re-drive, or in flight here already), kIo (journal).
  // The resolutions queued in the journal's wait inbox while no process held the run
  // (Journal::queued_resolutions, docs/waits.md#while-no-process-holds-the-run) resolve its held
  // waits as resolve_wait would, journaled as wait_resolved with their `by` and `key`: the first
  // one queued for a wait, unless it was queued at or after the wait's due time (its timer or
  // timeout then wins). A cancellation queued there cancels the run before it takes a step.
  // start() for a run whose row a worker's claim has made already (queued, then running, with no
  // events; docs/scale-out.md#workers): the same, without writing the row. The caller fences
  // the run and has checked that nothing waits in the inbox for it (ClaimedRun::fresh_input).
  // Its run_started is handed to the journal writer before this returns (the run does not wait
  // for it): committed with the next group, even when every step is idempotent.
  std::string start_claimed(std::shared_ptr<const graph::Workflow> workflow,
                            std::shared_ptr<tools::ToolSet> tools, RunRequest request, Done done);
  // start_claimed() in two halves, for a worker that commits a claimed run's start itself on the
  // connection it claimed on, right after the claim (docs/scale-out.md#workers):
  // prepare_claimed makes the run and its start events (as start_claimed would write them: the
  // same payloads, a chain that starts empty) and writes nothing; begin_prepared runs it once
  // `started` says how writing PreparedRun::start() went. OK: the events are committed (its
  // journal's listeners are told of them, Journal::announce) and the run continues its chain from
  // them: the caller has fenced it with RunQueue::fence_started at their head. Not OK: the run
  // ends at once with that error (`done` gets it), writing nothing. REQUIRES: a journal that
  // chains_events() and does not write inline (PostgreSQL).
  PreparedRun prepare_claimed(std::shared_ptr<const graph::Workflow> workflow,
                              std::shared_ptr<tools::ToolSet> tools, RunRequest request, Done done);
  void begin_prepared(PreparedRun prepared, const Status& started);
  Status resume(std::shared_ptr<const graph::Workflow> workflow,
                std::shared_ptr<tools::ToolSet> tools, const std::string& run_id, Done done);

  // Cancels a run in flight: its tool call in flight is abandoned (a late answer is ignored), the
  // cancellation is journaled, and the run ends `failed`. False when no such run is in flight.
  bool cancel(const std::string& run_id, const std::string& reason = "request");

  // The waits the runs in flight are held at, oldest first.
  std::vector<OpenWait> waits() const;
  // Resolves wait `wait_id` of run `run_id`: journals `wait_resolved` and continues the run (an
  // approval: the step succeeds; a rejection: it fails `rejected` and the run heals; a signal:
  // the step's output is its data). Errors: kNotFound (no such open wait), kInvalidArgument (a
  // decision that does not fit the wait's kind: approve/reject an approval, signal a signal; a
  // timer is resolved by time only), kFailedPrecondition (already resolved, under another key).
  // Resolving again with the same non-empty key succeeds and changes nothing.
  Status resolve_wait(const std::string& run_id, const std::string& wait_id, WaitAnswer answer);
  // Sends signal `name` to run `run_id`: resolves its oldest open signal wait of that name.
  // Errors as resolve_wait's; kNotFound when the run does not wait for that signal.
  Status signal(const std::string& run_id, const std::string& name, WaitAnswer answer);

  // Applies what the journal's wait inbox holds for run `run_id`, in flight here, as resume()
  // does: its queued resolutions to the waits it is held at now (those already resolved, or not
  // held, are left alone), and a queued cancellation cancels it. A worker calls it when new rows
  // arrive for a run it holds (docs/scale-out.md). False when the run is not in flight here.
  bool apply_inbox(const std::string& run_id);

  // Whether run `run_id` is in flight in this engine (started or resumed here, not ended).
  bool holds(const std::string& run_id) const;

  // Blocks until no run is in flight.
  void wait_idle();
  int threads() const;
  std::size_t in_flight() const;

 private:
  // Applies the queued resolutions of `run_id` to its held waits (wait id -> due), and cancels
  // it when a cancellation is queued.
  void apply_queued(const std::string& run_id, const std::map<std::string, std::int64_t>& held_due);
  std::string start_task(std::shared_ptr<const graph::Workflow> workflow,
                         std::shared_ptr<tools::ToolSet> tools, RunRequest request, Done done,
                         bool row_exists);
  friend class RunTask;
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::runtime
