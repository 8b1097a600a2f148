#include "runtime/worker/worker.h"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <thread>

#include "graph/json_read.h"
#include "runtime/base/crash_point.h"
#include "runtime/base/log.h"
#include "runtime/engine/runner.h"

namespace switchyard::runtime {
namespace {

std::string default_worker_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device rd;
  char suffix[9];
  std::snprintf(suffix, sizeof(suffix), "%08x", rd());
  return std::string(host[0] ? host : "host") + ":" + std::to_string(::getpid()) + ":" + suffix;
}

// A journal write refused because another worker took the run over (RunQueue's fencing).
bool fenced(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition &&
         s.message().find("refused (fenced)") != std::string::npos;
}

}  // namespace

Result<std::unique_ptr<Worker>> Worker::create(Journal& journal, Engine& engine, Clock& clock,
                                               std::vector<WorkerWorkflow> workflows,
                                               WorkerOptions options, RunQueue* claims) {
  RunQueue* fences = journal.run_queue();
  RunQueue* queue = claims != nullptr ? claims : fences;
  if (fences == nullptr) {
    return invalid_argument("journal " + journal.location() +
                            " has no run queue: workers need a PostgreSQL journal "
                            "(--journal postgresql://...)");
  }
  if (workflows.empty()) return invalid_argument("a worker needs at least one workflow");
  if (options.lease.count() <= 0 || options.heartbeat.count() <= 0 ||
      options.heartbeat >= options.lease) {
    return invalid_argument("a worker's heartbeat must be positive and shorter than its lease");
  }
  if (options.max_runs < 1) return invalid_argument("a worker's max_runs must be at least 1");
  if (options.poll.count() <= 0) options.poll = std::chrono::milliseconds(1);
  if (options.name.empty()) options.name = default_worker_name();
  std::vector<std::string> hashes;
  for (const auto& w : workflows) {
    if (!w.workflow || !w.tools) return invalid_argument("a worker's workflow without its tools");
    hashes.push_back(identify(*w.workflow).hash);
  }
  return std::unique_ptr<Worker>(new Worker(journal, *queue, *fences, engine, clock,
                                            std::move(workflows), std::move(hashes),
                                            std::move(options)));
}

Worker::Worker(Journal& journal, RunQueue& queue, RunQueue& fences, Engine& engine, Clock& clock,
               std::vector<WorkerWorkflow> workflows, std::vector<std::string> hashes,
               WorkerOptions options)
    : journal_(journal),
      queue_(queue),
      fences_(fences),
      engine_(engine),
      clock_(clock),
      workflows_(std::move(workflows)),
      hashes_(std::move(hashes)),
      options_(std::move(options)) {}

Worker::~Worker() {
  abandon();
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return held_.empty(); });
}

void Worker::abandon() {
  abandoned_ = true;
  stop();
  // Runs still here: abandoned without writing to them, their leases ended for another worker
  // to take them over by the resume rules.
  for (const auto& [id, epoch] : held()) {
    (void)queue_.release(options_.name, id, epoch);
    fences_.fence(id, -1);  // no epoch is -1: every write of the run is refused from now on
    (void)engine_.cancel(id, "worker stopped");
  }
}

std::int64_t Worker::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

std::map<std::string, std::int64_t> Worker::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

WorkerStats Worker::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Worker::stop() {
  stopped_ = true;
  std::lock_guard lock(mu_);
  changed_.notify_all();
}

Status Worker::renew() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, epoch] : held_) ids.push_back(id);
  }
  if (ids.empty()) return Status();
  auto still = queue_.renew(options_.name, ids, now_ms(), options_.lease.count());
  if (!still.ok()) return still.status();
  crash_point("after_renew");
  std::map<std::string, std::int64_t> kept(still->begin(), still->end());
  std::vector<std::string> lost;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, epoch] : held_) {
      auto it = kept.find(id);
      if (it == kept.end() || it->second != epoch) lost.push_back(id);
    }
  }
  // Not renewed: finished a moment ago (its end is on its way), or taken over by another worker,
  // whose epoch now refuses every write of ours. Stopping it here saves the calls it would make.
  for (const auto& id : lost) (void)engine_.cancel(id, "lease lost");
  return Status();
}

Status Worker::renew_if_due() {
  const std::int64_t now = now_ms();
  if (renewed_ms_ >= 0 && now - renewed_ms_ < options_.heartbeat.count()) return Status();
  renewed_ms_ = now;
  return renew();
}

Status Worker::deliver_inbox() {
  std::vector<std::string> ids;
  for (const auto& [id, epoch] : held()) ids.push_back(id);
  if (ids.empty()) {
    inbox_seen_.clear();
    return Status();
  }
  auto counts = queue_.inbox_counts(ids);
  if (!counts.ok()) return counts.status();
  std::map<std::string, std::int64_t> seen;
  for (const auto& id : ids) {
    auto now = counts->find(id);
    if (now == counts->end()) continue;
    auto before = inbox_seen_.find(id);
    if (before == inbox_seen_.end() || before->second != now->second) {
      // New resolutions or a cancellation for it (or the first look since it started here:
      // resume applied what was there; what was already applied changes nothing).
      (void)engine_.apply_inbox(id);
    }
    seen[id] = now->second;
  }
  inbox_seen_ = std::move(seen);
  return Status();
}

Result<int> Worker::poll_once() { return poll(/*inbox=*/true); }

Result<int> Worker::poll(bool inbox) {
  if (Status s = renew_if_due(); !s.ok()) return s;
  if (inbox) {
    if (Status s = deliver_inbox(); !s.ok()) return s;
  }
  int started = 0;
  while (!stopped_) {
    int free = 0;
    {
      std::lock_guard lock(mu_);
      free = options_.max_runs - static_cast<int>(held_.size());
    }
    if (free <= 0) break;
    const int limit = std::min(free, std::max(1, options_.claim_batch));
    auto claimed =
        queue_.claim_many(options_.name, hashes_, now_ms(), options_.lease.count(), limit);
    if (!claimed.ok()) return claimed.status();
    // On a claims connection of its own that writes starts, the runs claimed fresh are started
    // there, together (one round trip), not behind the engine's writes on the journal's.
    const bool starts_here = &queue_ != &fences_ && queue_.writes_starts();
    std::vector<const ClaimedRun*> fresh;
    for (const ClaimedRun& run : *claimed) {
      crash_point("after_claim");
      if (starts_here && run.fresh_input) {
        fresh.push_back(&run);
      } else {
        start(run);
      }
      ++started;
    }
    if (!fresh.empty()) start_fresh(fresh);
    if (static_cast<int>(claimed->size()) < limit) break;  // none left
  }
  return started;
}

void Worker::hold(const ClaimedRun& claimed) {
  {
    std::lock_guard lock(mu_);
    held_[claimed.run_id] = claimed.epoch;
    (claimed.taken_over ? stats_.taken_over : stats_.claimed) += 1;
  }
  if (claimed.taken_over) {
    logger().warn("worker {}: taking over run {} from {} (its lease expired), epoch {}",
                  options_.name, claimed.run_id, claimed.previous_owner, claimed.epoch);
  } else {
    logger().info("worker {}: claimed run {}, epoch {}", options_.name, claimed.run_id,
                  claimed.epoch);
  }
}

const WorkerWorkflow& Worker::workflow_of(const ClaimedRun& claimed) const {
  const auto it = std::find(hashes_.begin(), hashes_.end(), claimed.workflow_hash);
  return workflows_[static_cast<std::size_t>(it - hashes_.begin())];
}

void Worker::start_fresh(const std::vector<const ClaimedRun*>& claimed) {
  std::vector<PreparedRun> prepared;
  std::vector<RunQueue::Start> starts;
  prepared.reserve(claimed.size());
  starts.reserve(claimed.size());
  for (const ClaimedRun* c : claimed) {
    hold(*c);
    const WorkerWorkflow& w = workflow_of(*c);
    RunRequest request;
    request.run_id = c->run_id;
    request.input = *c->fresh_input;
    request.tenant = c->tenant;
    auto done = [this, run_id = c->run_id, epoch = c->epoch](Result<RunReport> report) {
      ended(run_id, epoch, report);
    };
    prepared.push_back(engine_.prepare_claimed(w.workflow, w.tools, std::move(request), done));
    starts.emplace_back(c->epoch, prepared.back().start());
  }
  // Each start fenced at its claim's epoch on the claims connection: a run another worker took
  // over meanwhile is refused there, nothing of it written.
  std::vector<Status> written = queue_.write_starts(starts);
  crash_point("after_claimed_start");
  for (std::size_t i = 0; i < prepared.size(); ++i) {
    const ClaimedRun& c = *claimed[i];
    // Abandoned meanwhile (their leases released): not run here; another worker continues them
    // from their start by the resume rules.
    if (abandoned_ && written[i].ok())
      written[i] = Status(StatusCode::kCancelled, "worker stopped");
    const std::vector<Event>& start = starts[i].second;
    if (written[i].ok() && !start.empty()) {
      // The engine's journal continues the run's chain from its start's head, read nowhere.
      fences_.fence_started(c.run_id, c.epoch, start.back().seq, start.back().hash);
    } else {
      fences_.fence_unstarted(c.run_id, c.epoch);
    }
    if (!written[i].ok()) {
      logger().warn("worker {}: cannot start run {}: {}", options_.name, c.run_id,
                    written[i].message());
    }
    // Refused: the run ends here at once with that error (ended() tells lost from failed).
    engine_.begin_prepared(std::move(prepared[i]), written[i]);
  }
}

void Worker::start(const ClaimedRun& claimed) {
  const std::string& run_id = claimed.run_id;
  const std::int64_t epoch = claimed.epoch;
  if (claimed.taken_over) {
    fences_.fence(run_id, epoch);
  } else {
    fences_.fence_unstarted(run_id, epoch);  // never started: nothing to read back
  }
  hold(claimed);
  const WorkerWorkflow& w = workflow_of(claimed);
  auto done = [this, run_id, epoch](Result<RunReport> report) { ended(run_id, epoch, report); };
  if (claimed.fresh_input) {
    // Never started and nothing in its inbox: started as a new run, with nothing to read back.
    RunRequest request;
    request.run_id = run_id;
    request.input = *claimed.fresh_input;
    request.tenant = claimed.tenant;
    engine_.start_claimed(w.workflow, w.tools, std::move(request), std::move(done));
    return;
  }
  Status s = engine_.resume(w.workflow, w.tools, run_id, std::move(done));
  if (s.ok()) return;
  logger().error("worker {}: cannot start run {}: {}", options_.name, run_id, s.message());
  if (s.code() == StatusCode::kFailedPrecondition && !fenced(s)) {
    // Its journal does not re-drive: no worker ever could. It ends failed, saying why.
    (void)journal_.finish_run(
        run_id, "failed",
        nlohmann::json{
            {"run_id", run_id}, {"status", "failed"}, {"error", valid_utf8(s.message())}},
        now_ms());
  } else {
    (void)queue_.release(options_.name, run_id, epoch);
  }
  fences_.unfence(run_id);
  std::lock_guard lock(mu_);
  held_.erase(run_id);
  stats_.failed += 1;
  changed_.notify_all();
}

void Worker::ended(const std::string& run_id, std::int64_t epoch, const Result<RunReport>& report) {
  if (report.ok()) {
    logger().info("worker {}: run {} {}", options_.name, run_id, to_string(report->result.status));
  } else if (fenced(report.status())) {
    logger().warn("worker {}: stopped run {}: another worker took it over: {}", options_.name,
                  run_id, report.status().message());
  } else {
    // The journal failed (the database went away): another worker, or this one, takes it over
    // by the resume rules once it is released.
    logger().error("worker {}: run {} stopped: {}; releasing it", options_.name, run_id,
                   report.status().message());
    (void)queue_.release(options_.name, run_id, epoch);
  }
  fences_.unfence(run_id);
  std::lock_guard lock(mu_);
  held_.erase(run_id);
  if (report.ok()) {
    stats_.finished += 1;
  } else if (fenced(report.status())) {
    stats_.lost += 1;
  } else {
    stats_.failed += 1;
  }
  changed_.notify_all();
}

void Worker::run() {
  while (true) {
    Result<int> started = 0;
    if (!stopped_) {
      const auto now = std::chrono::steady_clock::now();
      const bool inbox = now - inbox_looked_ >= options_.inbox_poll;
      if (inbox) inbox_looked_ = now;
      started = poll(inbox);
      if (!started.ok()) {
        logger().error("worker {}: {}", options_.name, started.status().message());
      }
    } else if (Status s = renew_if_due(); !s.ok()) {
      logger().error("worker {}: {}", options_.name, s.message());
    }
    std::unique_lock lock(mu_);
    if (stopped_ && held_.empty()) return;
    if (started.ok() && *started > 0) continue;
    // Nothing to claim (or full, or stopping): wait for a run to end, the poll interval, or the
    // next heartbeat, whichever comes first. The database failing: try again at the heartbeat.
    const auto wait = stopped_ || !started.ok() ? options_.heartbeat
                                                : std::min(options_.poll, options_.heartbeat);
    changed_.wait_for(lock, wait);
  }
}

Result<std::string> enqueue_run(RunQueue& queue, const graph::Workflow& workflow,
                                const nlohmann::json& input, Clock& clock, std::string run_id,
                                std::string tenant) {
  if (!input.is_object()) return invalid_argument("a run's input must be a JSON object");
  if (!tenant.empty()) {
    if (Status s = check_tenant_key(tenant); !s.ok()) return s;
  }
  WorkflowIdentity id = identify(workflow);
  RunRecord run;
  run.run_id = run_id.empty() ? new_run_id(clock) : std::move(run_id);
  run.workflow = workflow.name();
  run.workflow_hash = id.hash;
  run.workflow_source = id.source;
  run.status = "queued";
  run.started_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
  run.input = input;
  run.tenant = std::move(tenant);
  if (Status s = queue.enqueue(run); !s.ok()) return s;
  return run.run_id;
}

}  // namespace switchyard::runtime
