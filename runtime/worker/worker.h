#pragma once
// Worker: runs the runs of a shared journal's queue (docs/scale-out.md#workers). Any number of
// workers, in any number of processes on any number of machines, share one PostgreSQL journal:
// each claims queued runs of the workflows it knows (RunQueue::claim, FOR UPDATE SKIP LOCKED),
// runs them on its engine, and holds each by a lease its heartbeats renew. Every journal write
// of a claimed run is fenced at the run's epoch (RunQueue::fence): when this worker's lease
// expired and another worker took the run over (epoch + 1), this worker's next write to it is
// refused, and it stops that run and logs it. A run whose lease expired is taken over through
// Engine::resume: completed steps are never re-run; a non-idempotent call that was in flight
// without an idempotency key ends the run escalated (in_doubt), naming the step.
//
// Usage:
//   auto worker = Worker::create(journal, engine, clock, {{workflow, tools}}, {.name = "w1"});
//   (*worker)->run();  // until stop() from another thread (or a signal handler's flag)
// Tests drive it by hand instead: poll_once() with a ManualClock, no sleeping.
//
// Thread-safety: stop(), held(), stats() from any thread; poll_once() and run() from one thread
// at a time.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graph/clock.h"
#include "graph/status.h"
#include "graph/workflow.h"
#include "runtime/engine/engine.h"
#include "runtime/journal/journal.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {

struct WorkerOptions {
  // The worker's name in runs.owner: unique among the workers sharing the journal. "": the host
  // name, the process id and a random suffix.
  std::string name{};
  // How long a claimed run stays this worker's without a heartbeat. Another worker takes it over
  // once it expired: make it well above the heartbeat, a database hiccup and the clocks' skew.
  std::chrono::milliseconds lease{15000};
  // How often the leases are renewed (run()); < lease.
  std::chrono::milliseconds heartbeat{5000};
  // How long run() waits before looking at the queue again when it found nothing to claim.
  std::chrono::milliseconds poll{100};
  // Runs in flight here at most; the worker claims no more until one ends.
  int max_runs = 64;
  // Runs claimed with one statement at most (RunQueue::claim_many): a worker with free slots
  // takes min(free slots, claim_batch) runs at a time.
  int claim_batch = 16;
  // How often run() looks at the wait inbox of the runs in flight here (cancellations and
  // resolutions queued by other processes): at most once per `inbox_poll` and at least once per
  // `poll` + `inbox_poll` (wall time). poll_once() called by hand looks every time.
  std::chrono::milliseconds inbox_poll{100};
};

// A workflow a worker runs, and its tools.
struct WorkerWorkflow {
  std::shared_ptr<const graph::Workflow> workflow;
  std::shared_ptr<tools::ToolSet> tools;
};

// What a worker did since it was made.
struct WorkerStats {
  std::int64_t claimed = 0;     // from the queue
  std::int64_t taken_over = 0;  // runs another worker held and whose lease had expired
  std::int64_t finished = 0;    // ended here with a final status
  std::int64_t lost = 0;        // stopped here because another worker took them over (fenced)
  std::int64_t failed = 0;      // could not start or ended with a journal error (released)
};

class Worker {
 public:
  // REQUIRES: `engine` writes through `journal` (or a journal wrapping it); journal, engine and
  // clock outlive the worker. `claims`: the queue the worker claims, renews and releases runs
  // on, when not journal's own: another connection to the same database, so that claims and
  // lease renewals do not wait behind the journal's commits (and theirs behind them); it must
  // outlive the worker. Fences are always set on `journal`'s queue, whose writes they guard.
  // With such a `claims` queue (RunQueue::writes_starts), the runs claimed fresh (never started,
  // nothing in their inbox) have their start (run_started, as the engine makes it) committed on
  // it right after the claim, all of one claim together, before the engine runs them.
  // Errors: kInvalidArgument (the journal has no run queue: workers need a PostgreSQL journal;
  // no workflow; options out of range).
  static Result<std::unique_ptr<Worker>> create(Journal& journal, Engine& engine, Clock& clock,
                                                std::vector<WorkerWorkflow> workflows,
                                                WorkerOptions options = {},
                                                RunQueue* claims = nullptr);
  // Stops claiming. Runs still in flight here (run() returns only once there are none) are
  // abandoned: their leases released, their writes refused from then on, cancelled here; another
  // worker takes them over by the resume rules. Returns once they ended here.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // One round: renews the leases of the runs in flight here when `heartbeat` passed since the
  // last renewal on the worker's clock (a run no longer held is cancelled: its writes would be
  // refused anyway), applies what arrived in the wait inbox for the runs in flight here
  // (resolutions of their waits, cancellations: Engine::apply_inbox), then, unless stopped, claims
  // runs (taken-over ones first, then queued ones, oldest first) and starts them on the engine
  // until max_runs are in flight or none is left. Returns how many it started. Errors: the queue's
  // (the database).
  Result<int> poll_once();
  // Calls poll_once() every `poll` while it finds nothing (at once again while it does), renews
  // the leases every `heartbeat`, until stop(); then waits for the runs in flight here to end,
  // still renewing their leases. A failing database is logged and retried every `heartbeat`,
  // not fatal.
  void run();
  // Makes run() return (once the runs in flight ended) and poll_once() claim nothing.
  void stop();
  // stop(), and the runs in flight here are abandoned as the destructor abandons them (leases
  // released, writes refused, cancelled here), so that run() returns as soon as the engine let go
  // of them, without waiting for their ends (a run held at a wait may never end).
  void abandon();

  const std::string& name() const { return options_.name; }
  // The runs in flight here, by id, with the epoch this worker holds each at.
  std::map<std::string, std::int64_t> held() const;
  WorkerStats stats() const;

 private:
  Worker(Journal& journal, RunQueue& queue, RunQueue& fences, Engine& engine, Clock& clock,
         std::vector<WorkerWorkflow> workflows, std::vector<std::string> hashes,
         WorkerOptions options);
  Status renew();
  Status renew_if_due();         // renew() when `heartbeat` passed since the last one
  Status deliver_inbox();        // Engine::apply_inbox for each run held here with new inbox rows
  Result<int> poll(bool inbox);  // poll_once(), looking at the inbox only when `inbox`
  std::int64_t now_ms() const;
  void start(const ClaimedRun& claimed);
  // Runs claimed fresh (ClaimedRun::fresh_input) on a claims queue of its own that writes starts:
  // their starts committed on it together, right after the claim, then handed to the engine.
  void start_fresh(const std::vector<const ClaimedRun*>& claimed);
  void hold(const ClaimedRun& claimed);  // held here from now on (stats, log)
  const WorkerWorkflow& workflow_of(const ClaimedRun& claimed) const;
  void ended(const std::string& run_id, std::int64_t epoch, const Result<RunReport>& report);

  Journal& journal_;
  RunQueue& queue_;   // claims, renewals, releases
  RunQueue& fences_;  // the journal's own: fence and unfence
  Engine& engine_;
  Clock& clock_;
  std::vector<WorkerWorkflow> workflows_;
  std::vector<std::string> hashes_;  // workflows_'s, in order
  WorkerOptions options_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> abandoned_{false};  // abandon() called: runs being started are not run
  std::int64_t renewed_ms_ = -1;        // the clock's time of the last renewal; only run()'s thread
  // The inbox rows seen for each run held here (RunQueue::inbox_counts); only poll_once's thread.
  std::map<std::string, std::int64_t> inbox_seen_;
  // When run() last looked at the inbox (wall time: a bound on how often it queries, whatever
  // the injected clock does); only run()'s thread.
  std::chrono::steady_clock::time_point inbox_looked_{};
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, std::int64_t> held_;  // guarded by mu_
  WorkerStats stats_;                         // guarded by mu_
};

// Admits a run of `workflow` into `queue` for a worker to run (status `queued`); returns its id
// (`run_id`, or a new one when ""). `tenant`: its budget key ("" none), which the worker starts it
// with (docs/budgets.md#tenant-budgets). Errors: kInvalidArgument (an input that is not an object,
// a bad tenant key, a run id already in the journal), the journal's.
Result<std::string> enqueue_run(RunQueue& queue, const graph::Workflow& workflow,
                                const nlohmann::json& input, Clock& clock, std::string run_id = "",
                                std::string tenant = "");

}  // namespace switchyard::runtime
