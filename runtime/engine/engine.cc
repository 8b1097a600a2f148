#include "runtime/engine/engine.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cassert>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "graph/json_read.h"
#include "runtime/base/crash_point.h"
#include "runtime/base/hash.h"
#include "runtime/base/log.h"
#include "runtime/engine/llm_history.h"
#include "runtime/engine/probe_scheduler.h"
#include "runtime/engine/resume_plan.h"
#include "runtime/engine/run_setup.h"
#include "runtime/engine/tenant.h"
#include "runtime/engine/throttle.h"
#include "runtime/engine/tool_hints.h"
#include "runtime/engine/tool_progress.h"
#include "runtime/journal/writer.h"

namespace switchyard::runtime {
namespace asio = boost::asio;

class RunTask;

// The call (RunTask::Call) whose tool is being invoked on this thread by a run that may continue
// inline if the tool answers before invoke() returns; null otherwise.
thread_local const void* t_answering_inline = nullptr;

class Engine::Impl {
 public:
  Impl(Journal& j, Clock& c, monitors::HealthTable& h, EngineOptions o)
      : journal(j),
        clock(c),
        health(h),
        options(o),
        inline_journal(j.writes_inline()),
        limiter(o.limiter != nullptr ? *o.limiter : j.call_limiter()) {
    const int n = options.threads > 0
                      ? options.threads
                      : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) {
      loops.push_back(std::make_unique<asio::io_context>(1));
      guards.push_back(asio::make_work_guard(*loops.back()));
    }
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([this, i] {
        // Named for top, perf and gdb: sy-engine-0, sy-engine-1, ...
        const std::string name = "sy-engine-" + std::to_string(i % 10000);
        pthread_setname_np(pthread_self(), name.c_str());
        loops[i]->run();
      });
    }
    probes.emplace(*loops[0], health, clock, writer,
                   ProbeOptions{.interval = options.probe_interval,
                                .timeout = options.probe_timeout,
                                .on_probe = options.on_probe});
  }

  ~Impl() {
    cancel_all("engine shutdown");
    wait_idle();
    probes->stop();
    for (auto& g : guards) g.reset();
    for (auto& t : threads) t.join();
    // A tool's answer posted from another thread may still be inside asio::post, which wakes the
    // loop's thread after queueing the handler: that thread can finish the run, and this
    // destructor get here, before post has returned. The loops go only once no post is under way.
    while (outside_posts.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  }

  asio::io_context& pick_loop() {
    return *loops[next.fetch_add(1, std::memory_order_relaxed) % loops.size()];
  }

  void add(const std::string& id, const std::shared_ptr<RunTask>& task) {
    std::lock_guard lock(mu);
    runs[id] = task;
  }

  void remove(const std::string& id) {
    std::lock_guard lock(mu);
    runs.erase(id);
    if (runs.empty()) idle.notify_all();
  }

  void wait_idle() {
    std::unique_lock lock(mu);
    idle.wait(lock, [this] { return runs.empty(); });
  }

  bool cancel(const std::string& id, const std::string& reason);
  void cancel_all(const std::string& reason);

  // ---- waits (docs/waits.md) ----
  using WaitKey = std::pair<std::string, std::string>;  // run id, wait id
  struct WaitEntry {
    OpenWait info;
    graph::WaitTool::Kind kind;
    std::weak_ptr<RunTask> task;
  };
  void add_wait(OpenWait info, graph::WaitTool::Kind kind, std::weak_ptr<RunTask> task) {
    std::lock_guard lock(mu);
    WaitKey key{info.run_id, info.wait_id};
    open_waits[key] = WaitEntry{std::move(info), kind, std::move(task)};
  }
  // Takes an open wait for its resolution (under `key`): false when it is not open.
  bool take_wait(const std::string& run, const std::string& wait, const std::string& key) {
    std::lock_guard lock(mu);
    return take_wait_locked({run, wait}, key);
  }
  bool take_wait_locked(const WaitKey& wait, const std::string& key) {
    if (open_waits.erase(wait) == 0) return false;
    resolved_waits[wait] = key;
    return true;
  }
  // The run no longer waits there (its call was dropped: cancel, a decided join).
  void drop_wait(const std::string& run, const std::string& wait) {
    std::lock_guard lock(mu);
    open_waits.erase({run, wait});
  }
  // The run ended: nothing of its waits is kept.
  void forget_waits(const std::string& run) {
    std::lock_guard lock(mu);
    erase_run(open_waits, run);
    erase_run(resolved_waits, run);
  }
  template <typename Map>
  static void erase_run(Map& map, const std::string& run) {
    auto it = map.lower_bound(WaitKey{run, std::string()});
    while (it != map.end() && it->first.first == run) it = map.erase(it);
  }

  // The workflow's hash and canonical JSON, computed once per workflow (not per run).
  WorkflowIdentity identity(const std::shared_ptr<const graph::Workflow>& w) {
    std::lock_guard lock(mu);
    auto it = hashes.find(w.get());
    if (it != hashes.end() && it->second.first.lock() == w) return it->second.second;
    WorkflowIdentity id = identify(*w);
    hashes[w.get()] = {w, id};
    return id;
  }

  Journal& journal;
  Clock& clock;
  monitors::HealthTable& health;
  EngineOptions options;
  // The journal's writes are done on the run's own thread (Journal::writes_inline).
  const bool inline_journal;
  // Where throttled tools take their turns.
  CallLimiter& limiter;
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  // Declared after the loops: destroyed first, so a last acknowledgement still finds its loop.
  JournalWriter writer{journal};
  std::atomic<std::size_t> next{0};
  mutable std::mutex mu;
  std::condition_variable idle;
  std::unordered_map<std::string, std::weak_ptr<RunTask>> runs;
  std::unordered_map<const graph::Workflow*,
                     std::pair<std::weak_ptr<const graph::Workflow>, WorkflowIdentity>>
      hashes;
  // Tools with a `probe` whose breaker is open, checked every probe_interval (on loops[0]).
  std::optional<ProbeScheduler> probes;
  // Waits of runs in flight, and the waits resolved since their run started with the key each was
  // resolved under ("" for none), by (run id, wait id); under `mu`.
  std::map<WaitKey, WaitEntry> open_waits;
  std::map<WaitKey, std::string> resolved_waits;
  // Posts to a loop from threads that are not the engine's (tool answers) under way: counted so
  // that ~Impl does not destroy a loop that such a post is still signalling.
  std::atomic<int> outside_posts{0};
};

// One run, pinned to one event loop. Every member function runs on that loop's thread, except
// request_cancel(), which posts to it.
class RunTask : public std::enable_shared_from_this<RunTask> {
 public:
  RunTask(Engine::Impl& engine, asio::io_context& loop,
          std::shared_ptr<const graph::Workflow> workflow, std::shared_ptr<tools::ToolSet> tools,
          RunRequest request, Engine::Done done)
      : engine_(engine),
        loop_(loop),
        workflow_(std::move(workflow)),
        tools_(std::move(tools)),
        events_(engine.clock, ensure_id(request, engine.clock)),
        health_(engine.health, *workflow_, engine.options.models),
        start_(prepare_run(*workflow_, engine.identity(workflow_), engine.options.models, request,
                           engine.clock, health_, events_)),
        request_(std::move(request)),
        done_(std::move(done)) {
    report_.run_id = request_.run_id;
    tenant_ = RunTenant(engine.journal.tenant_ledger(), request_.tenant, request_.run_id);
    prepare_llm(start_, *workflow_, engine.options.history, events_);
    // A new run's chain starts empty; its events are serialized and hashed here, on the run's
    // thread, so that the single journal writer only stores them.
    if (engine.journal.chains_events()) events_.seal_from("");
  }

  // A run resumed from its journal (Engine::resume): `point` re-driven, `plan` what to do with the
  // calls it had in flight. Its held waits are known from here on (on_wait_answer, hold).
  RunTask(Engine::Impl& engine, asio::io_context& loop,
          std::shared_ptr<const graph::Workflow> workflow, std::shared_ptr<tools::ToolSet> tools,
          ResumePoint point, ResumePlan plan, Engine::Done done)
      : engine_(engine),
        loop_(loop),
        workflow_(std::move(workflow)),
        tools_(std::move(tools)),
        events_(engine.clock, point.run.run_id, point.reenacted->last_seq()),
        health_(engine.health, *workflow_, engine.options.models),
        start_{RunRecord{}, graph::FixedHealth(0), RunMachineOptions{}},
        done_(std::move(done)) {
    request_.run_id = point.run.run_id;
    report_.run_id = request_.run_id;
    for (const HeldWait& h : plan.held) held_starts_[h.wait_id] = h.started_ms;
    resumed_ = std::make_unique<Resumed>(Resumed{std::move(point), std::move(plan)});
  }

  const std::string& id() const { return report_.run_id; }
  asio::io_context& loop() const { return loop_; }

  // A run resumed with no journaled event starts again under its id, whose row exists.
  void skip_row() { journal_row_ = false; }

  // A run claimed from a queue (its row exists, begin() writes nothing): its start events
  // (run_started and what came with it) go to the journal writer now, so that they are committed
  // with the next group, not with the run's first commit point, which is its end when every step
  // is idempotent (docs/journal.md's rule 3). The run does not wait for them. On the caller's
  // thread, before the run is known to the engine or posted to its loop: they are the writer's
  // first write of the run. Were they refused (another worker took the run over), the run's next
  // write fails too (its events do not follow the run's head), and reports their error.
  void write_start_now() {
    if (engine_.inline_journal || events_.empty()) return;
    submit_events(
        nullptr,
        [this](const Status& s) {
          if (!s.ok() && start_error_.ok()) start_error_ = s;
        },
        /*first=*/true);
  }
  // A run claimed from a queue whose start the caller commits elsewhere (Engine::prepare_claimed):
  // its start events, taken out of the run (which continues its chain after them).
  std::vector<Event> take_start() { return events_.take(); }
  // Its start could not be committed (Engine::begin_prepared): it ends with `s`. On its thread.
  void fail_start(const Status& s) { end_without_journal(s); }
  bool resuming() const { return resumed_ != nullptr; }

  // The open waits of a resumed run's held waits (for Engine::waits), with their original start.
  // On the caller's thread, before the run is posted to its loop.
  std::vector<std::pair<OpenWait, graph::WaitTool::Kind>> held_waits() const {
    std::vector<std::pair<OpenWait, graph::WaitTool::Kind>> out;
    if (!resumed_) return out;
    for (const Action& a : resumed_->plan.again) {
      const graph::Tool& tool = workflow_->tool(a.tool);
      if (tool.kind != graph::ToolKind::kWait) continue;
      auto held = held_starts_.find(wait_id(tool, a.call_number));
      if (held == held_starts_.end()) continue;
      out.emplace_back(open_wait(a, held->second), std::get<graph::WaitTool>(tool.spec).kind);
    }
    return out;
  }

  // Continues a resumed run: journals `resumed` (and what the machine decided past the journal's
  // end), then makes the calls in flight again and holds its waits again. On the run's thread.
  void begin_resume() {
    Reenactment& r = *resumed_->point.reenacted;
    ResumePlan& plan = resumed_->plan;
    machine_ = &r.machine();
    r.set_live_sink(&history_sink_);
    finished_in_journal_ = r.finished();
    events_.emit("resumed", std::move(plan.resumed));
    for (auto& [type, payload] : r.take_fresh()) events_.emit(type, std::move(payload));
    tenant_ = RunTenant::resumed(engine_.journal.tenant_ledger(), id(), resumed_->point.recorded);
    tenant_.settle_left_open(events_);
    logger().info("run {} of {} resumed on the engine after event #{}{}", id(), workflow_->name(),
                  r.last_seq(), plan.interrupted ? " (interrupted by a service shutdown)" : "");
    again_.assign(plan.again.begin(), plan.again.end());
    phase_ = Phase::kRunning;
    if (cancel_requested_) return cancel_run();
    if (!plan.doubt.empty()) machine_->escalate_in_doubt(plan.doubt);
    advance();
  }

  // Journals the run's start, then runs it. On the run's thread.
  void begin() {
    auto self = shared_from_this();
    if (request_.deadline.count() > 0) {
      deadline_.emplace(loop_);  // made only for a run that has a deadline
      deadline_->expires_after(request_.deadline);
      deadline_->async_wait([self](const boost::system::error_code& ec) {
        if (!ec) self->cancel_now("deadline");
      });
    }
    if (!journal_row_) {
      // Started again under its id (no event of it was durable): what it reserved is charged.
      tenant_.settle_left_open(events_);
      return on_begun(Status());
    }
    if (engine_.inline_journal) return on_begun(engine_.journal.begin_run(start_.record));
    engine_.writer.submit(
        [record = std::move(start_.record)](Journal& j) { return j.begin_run(record); },
        [self](Status s) {
          self->post_from_outside([self, s = std::move(s)] { self->on_begun(s); });
        });
  }

  void post_wait_answer(std::string wait, WaitAnswer answer) {
    auto self = shared_from_this();
    post_from_outside([self, wait = std::move(wait), answer = std::move(answer)] {
      self->on_wait_answer(wait, answer);
    });
  }

  void request_cancel(std::string reason) {
    auto self = shared_from_this();
    post_from_outside([self, reason = std::move(reason)] { self->cancel_now(reason); });
  }

  // Queues `handler` on the run's loop from any thread; nothing once the run is closed. The
  // handler may hold the last reference to this run: once it is queued, the run may be gone
  // before post() returns (its loop thread ran it), so nothing of the run is touched after.
  template <typename Handler>
  void post_from_outside(Handler&& handler) {
    std::shared_ptr<PostGate> gate = gate_;  // outlives the run
    asio::io_context& loop = loop_;
    gate->posting.fetch_add(1, std::memory_order_seq_cst);
    if (!gate->closed.load(std::memory_order_seq_cst)) {
      asio::post(loop, std::forward<Handler>(handler));
    }
    gate->posting.fetch_sub(1, std::memory_order_release);
  }

  // After the run was delivered, on its thread: no handler is queued on its loop from now on, and
  // none is being queued when this returns (a run driven by Engine::run may then drop its loop).
  void close() {
    gate_->closed.store(true, std::memory_order_seq_cst);
    while (gate_->posting.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  }

 private:
  enum class Phase { kStarting, kFlushing, kRunning, kFinishing, kDone };

  // One tool call in flight (one per slot: the run's line, or a fan-out branch). Whoever claims
  // it first (the tool's answer, an abort or a cancellation) decides its fate.
  // One allocation per call: the cancel token handed to the tool shares the Call's ownership.
  struct Call {
    std::atomic<bool> claimed{false};
    bool claim() { return !claimed.exchange(true); }
    tools::CallCancel cancel;
    graph::ToolIndex tool = graph::kNoIndex;
    // The call keeps the run alive, not the tool: a tool that holds on to its callback (or
    // answers after the engine is gone) must not keep a run, its timers or its loop alive.
    std::shared_ptr<RunTask> keep_alive;
    // Backoff before the call, simulated latency after it; made only when needed.
    std::optional<asio::steady_timer> timer;
    bool settled = false;  // the health monitor was told how the call ended (observe/abandon)
    std::optional<tools::Outcome> answer;   // given before invoke() returned (see advance())
    std::string wait_id;                    // a wait step's call: the wait it holds the run at
    std::shared_ptr<ProgressLog> progress;  // what the tool reported while it ran
    int call_number = 0;
    // A throttled tool's call: when it first asked for its turn, and the slot it was granted
    // (given back when the tool answers).
    std::optional<Clock::TimePoint> turn_since;
    Permit permit;
    bool tenant_asked = false;  // its tenant's reservation was asked for (RunTenant::reserve)
  };

  static const std::string& ensure_id(RunRequest& request, const Clock& clock) {
    if (request.run_id.empty()) request.run_id = new_run_id(clock);
    return request.run_id;
  }

  void on_begun(const Status& s) {
    if (!s.ok()) return end_without_journal(s);
    own_machine_ = std::make_unique<RunMachine>(*workflow_, std::move(request_.input), start_.known,
                                                history_sink_, start_.machine);
    machine_ = own_machine_.get();
    phase_ = Phase::kRunning;
    if (cancel_requested_) return cancel_run();
    advance();
  }

  // Asks the machine for work until it waits on a call or is done. A call of the run's own line
  // that its tool answers at once (a synchronous builtin) continues the run right here, up to
  // kInlineSteps steps in a row, instead of through the back of the loop's queue: the run stays
  // hot in the cache, and other runs still get their turn after those steps. Never recursive:
  // an advance() from inside (the answer's complete()) only asks this loop to go on.
  void advance() {
    if (advancing_) {
      advance_again_ = true;
      return;
    }
    advancing_ = true;
    inline_budget_ = kInlineSteps;
    do {
      advance_again_ = false;
      advance_until_waiting();
      if (inline_answer_) {
        auto [call, outcome] = std::move(*inline_answer_);
        inline_answer_.reset();
        on_outcome(0, call, std::move(outcome));
      }
    } while (advance_again_);
    advancing_ = false;
  }

  // The rules of durability (docs/journal.md): before a non-idempotent tool is invoked, the
  // run's events so far (its step_started included) are written; after a non-idempotent call
  // answered, its outcome is written before the run invokes anything else or waits on other
  // calls, so that a crash leaves in doubt only a call that was truly in flight.
  void advance_until_waiting() {
    for (;;) {
      Action action = next_action();
      switch (action.type) {
        case Action::Type::kDone:
          return finish();
        case Action::Type::kWait:
          // A call's answer continues the run; a side effect's outcome is written meanwhile.
          if (outcome_unsaved_ && !events_.empty()) commit(std::nullopt);
          return;
        case Action::Type::kAbort:
          abort_call(action.slot);
          continue;
        case Action::Type::kInvoke:
          break;
      }
      // A wait's start (wait_started) is written before the run is held there; the wait is open
      // from now on, while it is written (announce_wait).
      const graph::Tool& tool = workflow_->tool(action.tool);
      if (tool.kind == graph::ToolKind::kWait) announce_wait(action);
      if ((outcome_unsaved_ || !hints_.idempotent(action.tool, events_) ||
           tool.kind == graph::ToolKind::kWait) &&
          !events_.empty()) {
        if (!engine_.inline_journal) return commit(action);  // on_flushed() invokes it
        if (!commit_inline()) return;
      }
      start_call(action);
      if (action.slot == 0) return;  // the run's own line waits for its answer
    }
  }

  // Resume: the calls the journal left in flight (and the waits it held) first.
  Action next_action() {
    if (again_.empty()) return machine_->next();
    Action a = again_.front();
    again_.pop_front();
    return a;
  }

  // Writes the events so far, then invokes `action` (if any). A journal in memory is written
  // here, in line; otherwise the run waits (phase kFlushing) for the writer's acknowledgement,
  // deferring the answers that come meanwhile, and on_flushed() goes on.
  void commit(const std::optional<Action>& action) {
    if (engine_.inline_journal) {
      if (commit_inline() && action) start_call(*action);
      return;
    }
    phase_ = Phase::kFlushing;
    outcome_unsaved_ = false;
    auto self = shared_from_this();
    submit_events(nullptr, [self, action](const Status& st) { self->on_flushed(st, action); });
  }

  // Appends the events so far on this thread; false (the run has ended) when that failed.
  bool commit_inline() {
    outcome_unsaved_ = false;
    if (Status s = engine_.journal.append(events_.take()); !s.ok()) {
      end_without_journal(s);
      return false;
    }
    return true;
  }

  void on_flushed(const Status& s, const std::optional<Action>& action) {
    if (!s.ok()) return end_without_journal(s);
    phase_ = Phase::kRunning;
    if (cancel_requested_) return cancel_run();
    if (action) {
      start_call(*action);
      if (action->slot == 0) return;  // (no branch runs when the run's own line calls)
    }
    // Answers that came while the journal was written, then more branches may start.
    auto deferred = std::move(deferred_);
    deferred_.clear();
    for (auto& [slot, outcome] : deferred) feed(slot, std::move(outcome));
    advance();
  }

  void start_call(const Action& action) {
    if (workflow_->tool(action.tool).kind == graph::ToolKind::kWait) return hold(action);
    // A side effect's step_started is durable here (advance_until_waiting), its call not made.
    // (Asked only when the crash tests arm the point: asking may journal a tool's hint.)
    if (crash_point_armed("before_invoke") && !hints_.idempotent(action.tool, events_)) {
      crash_point("before_invoke");
    }
    if (auto refused = health_.admit(action.tool, action.tier, events_)) {
      // The monitor holds the tool down: no call; the answer is the refusal, on the next turn.
      auto self = shared_from_this();
      asio::post(loop_, [self, slot = action.slot, refused = std::move(*refused)]() mutable {
        if (self->cancel_requested_ || self->phase_ == Phase::kFinishing ||
            self->phase_ == Phase::kDone) {
          return;
        }
        self->complete(slot, std::move(refused));
      });
      return;
    }
    auto call = std::make_shared<Call>();
    call->tool = action.tool;
    if (calls_.size() <= action.slot) calls_.resize(action.slot + 1);
    calls_[action.slot] = call;
    const auto delay =
        engine_.options.simulate_latency ? action.delay : std::chrono::milliseconds(0);
    if (delay.count() <= 0) return take_turn(action, call);
    if (engine_.clock.skip_wait(delay)) return take_turn(action, call);
    call->keep_alive = shared_from_this();
    call->timer.emplace(loop_);
    call->timer->expires_after(delay);
    call->timer->async_wait([this, action, call](const boost::system::error_code& ec) {
      // No keep_alive: the call was dropped (drop() claimed it), and the run may be gone.
      auto self = std::move(call->keep_alive);
      if (!self || ec || cancel_requested_ || !current(action.slot, call)) return;
      take_turn(action, call);
    });
  }

  // A throttled tool's call waits for its turn (docs/workflow-format.md#throttle) on the call's
  // timer, holding no thread; then it is invoked. No turn in time: the step fails `throttled`.
  // Before its throttle's turn, a call of a run with a tenant reserves its worst case against
  // the tenant's budget (docs/budgets.md#tenant-budgets): refused, the step fails
  // `budget_exhausted`, not sent.
  void take_turn(const Action& action, const std::shared_ptr<Call>& call) {
    if (!call->tenant_asked) {
      call->tenant_asked = true;
      if (auto refused = tenant_.reserve(action, *workflow_, events_)) {
        return fail_unsent(action.slot, call, std::move(*refused));
      }
    }
    const graph::Tool& tool = workflow_->tool(action.tool);
    if (!tool.throttle) return invoke(action, call);
    if (!call->turn_since) call->turn_since = engine_.clock.now();
    for (;;) {
      TurnStep step = ask_turn(engine_.limiter, tool, *call->turn_since, engine_.clock.now());
      switch (step.kind) {
        case TurnStep::Kind::kGo:
          call->permit = std::move(step.permit);
          return invoke(action, call);
        case TurnStep::Kind::kFail:
          return fail_unsent(action.slot, call, std::move(step.failure));
        case TurnStep::Kind::kWait:
          break;
      }
      if (engine_.clock.skip_wait(step.wait)) continue;  // a manual clock: asked again at once
      call->keep_alive = shared_from_this();
      if (!call->timer) call->timer.emplace(loop_);
      call->timer->expires_after(step.wait);
      call->timer->async_wait([this, action, call](const boost::system::error_code& ec) {
        auto self = std::move(call->keep_alive);
        if (!self || ec || cancel_requested_ || !current(action.slot, call)) return;
        take_turn(action, call);
      });
      return;
    }
  }

  // A call that was not sent (its throttle or its tenant refused it): the monitor learns nothing
  // of the tool from it. The answer is `failure`, on the next turn (as a refusal of the
  // monitor's).
  void fail_unsent(std::uint32_t slot, const std::shared_ptr<Call>& call, tools::Outcome failure) {
    abandon_health(*call);
    asio::post(loop_,
               [self = shared_from_this(), slot, call, failure = std::move(failure)]() mutable {
                 if (self->cancel_requested_ || self->phase_ == Phase::kFinishing ||
                     self->phase_ == Phase::kDone || !self->current(slot, call) || !call->claim()) {
                   return;
                 }
                 self->complete(slot, std::move(failure));
               });
  }

  void invoke(const Action& action, const std::shared_ptr<Call>& call) {
    call->keep_alive = shared_from_this();
    tools::Invocation inv = invocation_of(*workflow_, action, id(),
                                          std::shared_ptr<tools::CallCancel>(call, &call->cancel));
    if (workflow_->tool(action.tool).kind ==
        graph::ToolKind::kMcp) {  // (the one kind that reports)
      call->progress = std::make_shared<ProgressLog>();
      call->call_number = action.call_number;
      inv.progress = ProgressLog::reporter(call->progress);
    }
    const std::uint32_t slot = action.slot;
    // The run's own line may continue inline (see advance()) if the tool answers at once.
    const bool may_inline = slot == 0 && advancing_ && inline_budget_ > 0;
    if (may_inline) t_answering_inline = call.get();
    CallLimiter* limiter = call->permit.lease != 0 ? &engine_.limiter : nullptr;
    tools_->at(action.tool).invoke(inv, [call, slot, limiter](tools::Outcome o) {
      // The throttle's slot is given back when the tool answered, whoever then claims the call.
      if (limiter != nullptr) limiter->release(call->permit);
      // Whoever claims the call first decides it. A late answer (the call was aborted or the
      // run cancelled) touches nothing but the call's own state.
      if (!call->claim()) return;
      if (t_answering_inline == call.get()) {
        // Answered before invoke() returned, on the run's own thread: advance() takes it.
        call->answer = std::move(o);
        return;
      }
      auto self = std::move(call->keep_alive);
      if (!self) return;
      // Tools may answer from any thread, or before invoke() returns: always continue on the
      // run's own loop, never recursively. Counted (Impl::outside_posts): once the handler is
      // queued, the engine may finish the run and be destroyed before post() returns.
      auto& posts = self->engine_.outside_posts;
      posts.fetch_add(1, std::memory_order_acq_rel);
      RunTask& task = *self;
      task.post_from_outside([self = std::move(self), call, slot, o = std::move(o)]() mutable {
        self->on_outcome(slot, call, std::move(o));
      });
      posts.fetch_sub(1, std::memory_order_release);
    });
    t_answering_inline = nullptr;
    if (call->answer) {
      --inline_budget_;
      call->keep_alive.reset();  // this run is alive: advance() runs in one of its handlers
      inline_answer_.emplace(call, std::move(*call->answer));
      call->answer.reset();
    }
  }

  void on_outcome(std::uint32_t slot, const std::shared_ptr<Call>& call, tools::Outcome outcome) {
    if (cancel_requested_ || phase_ == Phase::kFinishing || phase_ == Phase::kDone) {
      return abandon_health(*call);
    }
    call->settled = true;
    if (call->progress) {
      call->progress->emit(events_, workflow_->tool(call->tool).id, call->call_number);
    }
    health_.observe(call->tool, outcome, events_);
    const auto latency = outcome.latency;
    if (!outcome.simulated || latency.count() <= 0 || !engine_.options.simulate_latency) {
      return complete(slot, std::move(outcome));
    }
    if (engine_.clock.skip_wait(latency)) return complete(slot, std::move(outcome));
    call->keep_alive = shared_from_this();
    call->timer.emplace(loop_);
    call->timer->expires_after(latency);
    call->timer->async_wait([this, slot, call, outcome = std::move(outcome)](
                                const boost::system::error_code& ec) mutable {
      auto self = std::move(call->keep_alive);
      if (ec || cancel_requested_ || !current(slot, call)) return;
      complete(slot, std::move(outcome));
    });
  }

  // The open wait a wait step's call `action` holds the run at, started at `started_ms`.
  OpenWait open_wait(const Action& action, std::int64_t started_ms) const {
    const graph::Tool& tool = workflow_->tool(action.tool);
    const auto& spec = std::get<graph::WaitTool>(tool.spec);
    const bool timer = spec.kind == graph::WaitTool::Kind::kTimer;
    const std::chrono::milliseconds after = timer ? spec.delay : spec.timeout;
    OpenWait w;
    w.run_id = id();
    w.wait_id = wait_id(tool, action.call_number);
    w.kind = std::string(graph::to_string(spec.kind));
    w.name = spec.name;
    w.tool = tool.id;
    w.branch = action.slot == 0 ? -1 : static_cast<std::int64_t>(action.slot) - 1;
    w.started_ms = started_ms;
    if (timer || after.count() > 0) w.due_ms = w.started_ms + after.count();
    return w;
  }

  // A wait the run is about to be held at is open from the moment its wait_started is handed to
  // the journal, not only once the run holds it: a client that sees the event (on the event
  // stream, which follows the journal) and resolves the wait at once finds it open, and its
  // answer is kept until the run holds the wait (as for a wait held again on resume). REQUIRES:
  // on the run's thread.
  void announce_wait(const Action& action) {
    const graph::Tool& tool = workflow_->tool(action.tool);
    const std::string id = wait_id(tool, action.call_number);
    if (held_starts_.count(id) != 0) return;  // held again on resume: listed already
    const std::int64_t now = unix_ms(engine_.clock);
    engine_.add_wait(open_wait(action, now), std::get<graph::WaitTool>(tool.spec).kind,
                     weak_from_this());
    held_starts_[id] = now;
  }

  // A wait step: the run is held (no thread, no call) until the wait is resolved (resolve_wait,
  // signal), its timer fires or its timeout passes. A wait held again on resume (held_starts_)
  // counts its timer and timeout from its original start: when that passed while the process was
  // down, it is due at once.
  void hold(const Action& action) {
    const graph::Tool& tool = workflow_->tool(action.tool);
    const auto& spec = std::get<graph::WaitTool>(tool.spec);
    auto call = std::make_shared<Call>();
    call->tool = action.tool;
    call->settled = true;  // a wait is not a call the health monitor watches
    call->wait_id = wait_id(tool, action.call_number);
    if (calls_.size() <= action.slot) calls_.resize(action.slot + 1);
    calls_[action.slot] = call;
    call->keep_alive = shared_from_this();
    const bool timer = spec.kind == graph::WaitTool::Kind::kTimer;
    const std::chrono::milliseconds after = timer ? spec.delay : spec.timeout;
    const std::uint32_t slot = action.slot;
    // The firing holds the run weakly: a wait dropped meanwhile (a decided join, a cancel) gives
    // the run back, which may then end and be freed before a firing already queued runs.
    auto fire = [weak = weak_from_this(), slot, call] {
      if (auto self = weak.lock()) self->on_wait_due(slot, call);
    };
    std::chrono::milliseconds left = after;
    if (auto held = held_starts_.find(call->wait_id); held != held_starts_.end()) {
      // Listed by Engine::resume already; resolved meanwhile, maybe (its answer is kept here).
      left = std::chrono::milliseconds(held->second + after.count() - unix_ms(engine_.clock));
      held_starts_.erase(held);
      if (auto early = early_answers_.find(call->wait_id); early != early_answers_.end()) {
        auto self = shared_from_this();
        asio::post(loop_, [self, wait = call->wait_id, answer = std::move(early->second)] {
          self->on_wait_answer(wait, answer);
        });
        early_answers_.erase(early);
        return;
      }
      if ((timer || after.count() > 0) && left.count() <= 0) {  // due while the process was down
        asio::post(loop_, std::move(fire));
        return;
      }
    } else {
      OpenWait w = open_wait(action, unix_ms(engine_.clock));
      engine_.add_wait(std::move(w), spec.kind, weak_from_this());
    }
    if (!timer && after.count() <= 0) return;
    if (timer && engine_.clock.skip_wait(left)) {  // a manual clock: time is moved, not waited
      asio::post(loop_, std::move(fire));
      return;
    }
    call->timer.emplace(loop_);
    call->timer->expires_after(left);
    call->timer->async_wait([fire = std::move(fire)](const boost::system::error_code& ec) {
      if (!ec) fire();
    });
  }

  // A wait's timer fired, or its timeout passed, unless it was resolved first.
  void on_wait_due(std::uint32_t slot, const std::shared_ptr<Call>& call) {
    if (!current(slot, call) || cancel_requested_ || phase_ == Phase::kFinishing ||
        phase_ == Phase::kDone) {
      return;
    }
    if (!engine_.take_wait(id(), call->wait_id, "")) return;  // resolved: its answer is queued
    const auto& spec = std::get<graph::WaitTool>(workflow_->tool(call->tool).spec);
    if (spec.kind == graph::WaitTool::Kind::kTimer) {
      events_.emit("wait_resolved",
                   {{"wait", call->wait_id}, {"decision", "fired"}, {"by", "timer"}});
      return end_wait(slot, call,
                      tools::Outcome::success({{"fired_at_ms", unix_ms(engine_.clock)}}));
    }
    const std::string why = "no " + std::string(graph::to_string(spec.kind)) + " '" + spec.name +
                            "' within " + std::to_string(spec.timeout.count()) + " ms";
    events_.emit(
        "wait_resolved",
        {{"wait", call->wait_id}, {"decision", "timed_out"}, {"by", "timeout"}, {"reason", why}});
    end_wait(slot, call, tools::Outcome::failed(tools::FailureKind::kTimeout, why));
  }

  // Resolve_wait took this run's wait `wait` for `answer`, whose `by` and `reason` it made valid
  // UTF-8 (on the run's thread).
  void on_wait_answer(const std::string& wait, const WaitAnswer& answer) {
    if (cancel_requested_ || phase_ == Phase::kFinishing || phase_ == Phase::kDone) return;
    std::uint32_t slot = 0;
    while (slot < calls_.size() && !(calls_[slot] && calls_[slot]->wait_id == wait)) ++slot;
    if (slot >= calls_.size()) {
      // A resumed run's held wait resolved before the run holds it again: kept for hold().
      if (held_starts_.count(wait) != 0) early_answers_[wait] = answer;
      return;  // otherwise dropped meanwhile (a decided join)
    }
    std::shared_ptr<Call> call = calls_[slot];
    using Decision = WaitAnswer::Decision;
    static constexpr const char* kDecided[] = {"approved", "rejected", "signalled"};
    nlohmann::json resolved = {{"wait", wait},
                               {"decision", kDecided[static_cast<int>(answer.decision)]}};
    if (!answer.by.empty()) resolved["by"] = answer.by;
    if (!answer.key.empty()) resolved["key"] = valid_utf8(answer.key);
    if (answer.decision == Decision::kReject) resolved["reason"] = answer.reason;
    events_.emit("wait_resolved", std::move(resolved));
    switch (answer.decision) {
      case Decision::kApprove: {
        nlohmann::json out = {{"approved", true}, {"data", answer.data}};
        if (!answer.by.empty()) out["by"] = answer.by;
        return end_wait(slot, call, tools::Outcome::success(std::move(out)));
      }
      case Decision::kReject:
        return end_wait(slot, call,
                        tools::Outcome::failed(
                            tools::FailureKind::kRejected,
                            "rejected" + (answer.by.empty() ? std::string() : " by " + answer.by) +
                                (answer.reason.empty() ? std::string() : ": " + answer.reason)));
      case Decision::kSignal:
        return end_wait(slot, call, tools::Outcome::success(answer.data));
    }
  }

  // The wait held in `slot` is over: the step's outcome goes to the machine, and is written
  // before the run goes on.
  void end_wait(std::uint32_t slot, const std::shared_ptr<Call>& call, tools::Outcome outcome) {
    if (!call->claim()) return;
    auto self = std::move(call->keep_alive);
    if (call->timer) call->timer->cancel();
    outcome_unsaved_ = true;
    complete(slot, std::move(outcome));
  }

  bool current(std::uint32_t slot, const std::shared_ptr<Call>& call) const {
    return slot < calls_.size() && calls_[slot] == call;
  }

  void complete(std::uint32_t slot, tools::Outcome outcome) {
    if (phase_ == Phase::kFlushing) {  // a branch answered while another's start is written
      deferred_.emplace_back(slot, std::move(outcome));
      return;
    }
    feed(slot, std::move(outcome));
    advance();
  }

  // Hands a call's answer to the machine. The answer of a non-idempotent tool's call is to be
  // written before the run goes on (advance_until_waiting); a refused call (the monitor held
  // its tool down) invoked nothing and never had a Call.
  void feed(std::uint32_t slot, tools::Outcome outcome) {
    if (slot < calls_.size() && calls_[slot]) {
      if (!hints_.idempotent(calls_[slot]->tool, events_)) outcome_unsaved_ = true;
      calls_[slot].reset();
    }
    tenant_.settle(slot, outcome, events_);
    machine_->complete(slot, std::move(outcome));
  }

  // The machine no longer wants this call's answer (its fan-out's join was decided).
  void abort_call(std::uint32_t slot) {
    tenant_.abandon(slot, events_);
    if (slot >= calls_.size() || !calls_[slot]) return;
    std::shared_ptr<Call> call = std::move(calls_[slot]);
    drop(*call);
  }

  // A call whose answer the monitor will not see gives back what it holds (a trial slot).
  void abandon_health(Call& call) {
    if (call.settled) return;
    call.settled = true;
    health_.abandon(call.tool);
  }

  // Abandons a call: its answer, if it comes, is ignored; the tool is asked to abort.
  void drop(Call& call) {
    abandon_health(call);
    if (!call.wait_id.empty()) engine_.drop_wait(id(), call.wait_id);
    if (call.timer) call.timer->cancel();
    if (call.claim()) call.keep_alive.reset();
    call.cancel.cancel();
  }

  void cancel_now(const std::string& reason) {
    if (phase_ == Phase::kFinishing || phase_ == Phase::kDone || cancel_requested_) return;
    cancel_requested_ = true;
    cancel_reason_ = reason;
    // Starting or flushing: the pending journal acknowledgement ends the run.
    if (phase_ == Phase::kRunning) cancel_run();
  }

  // Aborts every call in flight, journals the cancellation and ends the run.
  void cancel_run() {
    auto self = shared_from_this();
    for (auto& call : calls_) {
      if (call) drop(*call);
    }
    calls_.clear();
    tenant_.abandon_all(events_);
    machine_->cancel(cancel_reason_);
    finish();
  }

  void finish() {
    phase_ = Phase::kFinishing;
    if (deadline_) deadline_->cancel();
    report_.result = machine_->result();
    tenant_.abandon_all(events_);  // (none is left open: a call the run no longer waits for)
    if (!finished_in_journal_) events_.emit("run_finished", report_.result.to_json());
    auto self = shared_from_this();  // alive until delivered, in line too
    // The result is the run_finished event's (Journal::finish_run): not stored twice.
    auto finish_row = [id = id(), status = std::string(to_string(report_.result.status)),
                       clock = &engine_.clock](Journal& j) {
      return j.finish_run(id, status, nullptr, unix_ms(*clock));
    };
    if (engine_.inline_journal) {
      Status s = engine_.journal.append(events_.take());
      if (s.ok()) s = finish_row(engine_.journal);
      return on_finished(s);
    }
    submit_events(std::move(finish_row), [self](const Status& s) { self->on_finished(s); });
  }

  // Journals the events buffered so far, then `then` (if any) in the same write; `done` gets the
  // write's status on the run's thread. The events are freed there too, once written: not by the
  // journal writer, whose thread is the journal's bottleneck (it drops its write, and with it
  // this reference, before the acknowledgement). A write may be performed twice
  // (Journal::write_group): the events are appended as a copy, never moved from.
  // `first`: JournalWriter::submit_first (the run's first write only).
  template <typename Then, typename Done>
  void submit_events(Then then, Done done, bool first = false) {
    auto batch = std::make_shared<std::vector<Event>>(events_.take());
    (engine_.writer.*(first ? &JournalWriter::submit_first : &JournalWriter::submit))(
        [batch, then = std::move(then)](Journal& j) mutable {
          Status s = j.append(static_cast<const std::vector<Event>&>(*batch));
          if constexpr (!std::is_null_pointer_v<Then>) {
            if (s.ok()) s = then(j);
          }
          return s;
        },
        [self = shared_from_this(), batch, done = std::move(done)](Status s) mutable {
          RunTask& task = *self;
          task.post_from_outside([self = std::move(self), s = std::move(s),
                                  batch = std::move(batch), done = std::move(done)]() mutable {
            batch.reset();
            // The start written ahead failed (write_start_now): the reason this write failed too.
            if (!s.ok() && !self->start_error_.ok()) s = self->start_error_;
            done(s);
          });
        });
  }

  void on_finished(const Status& s) {
    if (!s.ok()) return end_without_journal(s);
    phase_ = Phase::kDone;
    logger().debug("run {} {}", id(), to_string(report_.result.status));
    deliver(report_);
  }

  // The journal failed: nothing more is invoked; the caller learns why.
  void end_without_journal(const Status& s) {
    phase_ = Phase::kDone;
    if (deadline_) deadline_->cancel();
    for (auto& call : calls_) {
      if (call) drop(*call);
    }
    calls_.clear();
    tenant_.abandon_all(events_);  // charged; the events are not written
    logger().error("run {}: journal write failed, nothing more is invoked: {}", id(), s.message());
    deliver(s);
  }

  void deliver(Result<RunReport> result) {
    const std::string run_id = id();
    engine_.forget_waits(run_id);
    Engine::Done done = std::move(done_);
    done(std::move(result));
    engine_.remove(run_id);
  }

  Engine::Impl& engine_;
  asio::io_context& loop_;
  std::shared_ptr<const graph::Workflow> workflow_;
  std::shared_ptr<tools::ToolSet> tools_;
  EventBuffer events_;
  HistorySink history_sink_{events_, engine_.options.history, workflow_->name()};
  RunHealth health_;
  ToolHints hints_{*workflow_, *tools_};  // idempotent: the workflow's, else the tool's hint
  RunStart start_;
  RunRequest request_;
  Engine::Done done_;
  std::optional<asio::steady_timer> deadline_;
  // The machine: the run's own, or (resumed) the reenactment's.
  std::unique_ptr<RunMachine> own_machine_;
  RunMachine* machine_ = nullptr;
  // Resumed runs only: the journal re-driven and what to do with its calls in flight; the calls
  // to make (and waits to hold) again before asking the machine. Every run: the waits open but
  // not held yet (held again on resume, or announced while their wait_started is written), with
  // their start (Unix ms), and answers that came for them before they were held.
  struct Resumed {
    ResumePoint point;
    ResumePlan plan;
  };
  std::unique_ptr<Resumed> resumed_;
  std::deque<Action> again_;
  std::map<std::string, std::int64_t> held_starts_;
  std::map<std::string, WaitAnswer> early_answers_;
  bool finished_in_journal_ = false;  // resumed after run_finished was written (not the row)
  bool journal_row_ = true;           // begin() journals the run's row
  Status start_error_;                // why the start written ahead failed (write_start_now)
  RunTenant tenant_;                  // its tenant's budget (docs/budgets.md#tenant-budgets)
  std::vector<std::shared_ptr<Call>> calls_;                        // in flight, indexed by slot
  std::vector<std::pair<std::uint32_t, tools::Outcome>> deferred_;  // answered while flushing
  // advance()'s trampoline: running, asked to go on, steps it may still continue inline, and
  // the answer (of the run's own line) to continue with.
  static constexpr int kInlineSteps = 16;
  bool advancing_ = false;
  bool advance_again_ = false;
  int inline_budget_ = 0;
  std::optional<std::pair<std::shared_ptr<Call>, tools::Outcome>> inline_answer_;
  Phase phase_ = Phase::kStarting;
  // A non-idempotent call answered and its outcome is not yet handed to the journal.
  bool outcome_unsaved_ = false;
  // Handlers being queued from other threads, and whether the run is closed to them (close()):
  // shared with the posters, since a poster's handler may free the run while it is posting.
  struct PostGate {
    std::atomic<int> posting{0};
    std::atomic<bool> closed{false};
  };
  std::shared_ptr<PostGate> gate_ = std::make_shared<PostGate>();
  bool cancel_requested_ = false;
  std::string cancel_reason_;
  RunReport report_;
};

bool Engine::Impl::cancel(const std::string& id, const std::string& reason) {
  std::shared_ptr<RunTask> task;
  {
    std::lock_guard lock(mu);
    auto it = runs.find(id);
    if (it == runs.end()) return false;
    task = it->second.lock();
  }
  if (!task) return false;
  task->request_cancel(reason);
  return true;
}

void Engine::Impl::cancel_all(const std::string& reason) {
  std::vector<std::shared_ptr<RunTask>> tasks;
  {
    std::lock_guard lock(mu);
    for (auto& [id, weak] : runs) {
      if (auto t = weak.lock()) tasks.push_back(std::move(t));
    }
  }
  for (auto& t : tasks) t->request_cancel(reason);
}

Engine::Engine(Journal& journal, Clock& clock, monitors::HealthTable& health, EngineOptions options)
    : impl_(std::make_unique<Impl>(journal, clock, health, options)) {}

Engine::~Engine() = default;

std::string Engine::start(std::shared_ptr<const graph::Workflow> workflow,
                          std::shared_ptr<tools::ToolSet> tools, RunRequest request, Done done) {
  return start_task(std::move(workflow), std::move(tools), std::move(request), std::move(done),
                    false);
}

std::string Engine::start_claimed(std::shared_ptr<const graph::Workflow> workflow,
                                  std::shared_ptr<tools::ToolSet> tools, RunRequest request,
                                  Done done) {
  return start_task(std::move(workflow), std::move(tools), std::move(request), std::move(done),
                    true);
}

std::string Engine::start_task(std::shared_ptr<const graph::Workflow> workflow,
                               std::shared_ptr<tools::ToolSet> tools, RunRequest request, Done done,
                               bool row_exists) {
  impl_->probes->watch(workflow, tools);
  auto& loop = impl_->pick_loop();
  auto task = std::make_shared<RunTask>(*impl_, loop, std::move(workflow), std::move(tools),
                                        std::move(request), std::move(done));
  if (row_exists) {
    task->skip_row();
    task->write_start_now();
  }
  std::string id = task->id();
  impl_->add(id, task);
  asio::post(loop, [task] { task->begin(); });
  return id;
}

PreparedRun Engine::prepare_claimed(std::shared_ptr<const graph::Workflow> workflow,
                                    std::shared_ptr<tools::ToolSet> tools, RunRequest request,
                                    Done done) {
  impl_->probes->watch(workflow, tools);
  auto& loop = impl_->pick_loop();
  PreparedRun prepared;
  prepared.task_ = std::make_shared<RunTask>(*impl_, loop, std::move(workflow), std::move(tools),
                                             std::move(request), std::move(done));
  prepared.task_->skip_row();
  prepared.run_id_ = prepared.task_->id();
  prepared.start_ = prepared.task_->take_start();
  return prepared;
}

void Engine::begin_prepared(PreparedRun prepared, const Status& started) {
  std::shared_ptr<RunTask> task = std::move(prepared.task_);
  impl_->add(prepared.run_id_, task);
  auto& loop = task->loop();
  if (!started.ok()) {
    asio::post(loop, [task, started] { task->fail_start(started); });
    return;
  }
  // Committed by another journal object: this journal's listeners (an EventFeed) learn of them
  // here, before any later event of the run can be committed.
  impl_->journal.announce(prepared.start_);
  asio::post(loop, [task] { task->begin(); });
}

Status Engine::resume(std::shared_ptr<const graph::Workflow> workflow,
                      std::shared_ptr<tools::ToolSet> tools, const std::string& run_id, Done done) {
  auto point = open_resume(impl_->journal, *workflow, impl_->identity(workflow).hash, run_id);
  if (!point.ok()) return point.status();
  auto& loop = impl_->pick_loop();
  std::shared_ptr<RunTask> task;
  if (!point->reenacted) {
    // Its process died before its first events were durable: nothing non-idempotent was called
    // (its step_started would be journaled), so the run starts again under its own id.
    RunRequest request;
    request.run_id = run_id;
    request.input = point->run.input.is_object() ? point->run.input : nlohmann::json::object();
    request.tenant = point->run.tenant;  // a queued run's (PostgreSQL); "" otherwise
    task = std::make_shared<RunTask>(*impl_, loop, workflow, tools, std::move(request),
                                     std::move(done));
    task->skip_row();
  } else {
    ResumePlan plan = plan_resume(*workflow, *point);
    task = std::make_shared<RunTask>(*impl_, loop, workflow, tools, std::move(*point),
                                     std::move(plan), std::move(done));
  }
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->runs.count(run_id) != 0) {
      return failed_precondition("run " + run_id + " is in flight in this engine");
    }
    impl_->runs[run_id] = task;
  }
  if (Status s = impl_->journal.claim_run(run_id); !s.ok()) {
    impl_->remove(run_id);
    return s;
  }
  impl_->probes->watch(workflow, tools);
  // Its held waits are listed (and may be resolved) from now on, before the run holds them again.
  std::map<std::string, std::int64_t> held_due;  // wait id -> due (Unix ms; 0: none)
  for (auto& [info, kind] : task->held_waits()) {
    held_due[info.wait_id] = info.due_ms;
    impl_->add_wait(std::move(info), kind, task);
  }
  // The resolutions sent while no process held the run (the wait inbox) resolve its held waits,
  // each as if it had come now: queued before the wait was due, and the first for a wait wins;
  // a cancellation sent meanwhile cancels it (posted before it begins: it takes no step).
  apply_queued(run_id, held_due);
  if (task->resuming()) {
    asio::post(loop, [task] { task->begin_resume(); });
  } else {
    asio::post(loop, [task] { task->begin(); });
  }
  return Status();
}

namespace {

// The event loop a thread drives for Engine::run; one per thread, reused by its runs (a run in a
// run, started from a tool on that thread, gets a loop of its own).
thread_local std::unique_ptr<asio::io_context> t_caller_loop;
thread_local bool t_caller_loop_busy = false;

}  // namespace

Result<RunReport> Engine::run(std::shared_ptr<const graph::Workflow> workflow,
                              std::shared_ptr<tools::ToolSet> tools, RunRequest request) {
  impl_->probes->watch(workflow, tools);
  std::unique_ptr<asio::io_context> own;  // for a run in a run
  asio::io_context* loop = nullptr;
  const bool nested = t_caller_loop_busy;
  if (nested) {
    own = std::make_unique<asio::io_context>(1);
    loop = own.get();
  } else {
    if (!t_caller_loop) t_caller_loop = std::make_unique<asio::io_context>(1);
    loop = t_caller_loop.get();
    t_caller_loop_busy = true;
  }
  loop->restart();
  auto guard = asio::make_work_guard(*loop);
  std::optional<Result<RunReport>> out;
  auto task = std::make_shared<RunTask>(*impl_, *loop, std::move(workflow), std::move(tools),
                                        std::move(request), [&out, &guard](Result<RunReport> r) {
                                          out.emplace(std::move(r));
                                          guard.reset();  // run() returns once the queue is empty
                                        });
  impl_->add(task->id(), task);
  task->begin();
  loop->run();
  // Delivered. Late answers (of calls abandoned on the way) are refused from now on; those queued
  // already are drained here, so that the loop holds nothing of this run.
  task->close();
  loop->restart();
  loop->poll();
  if (!nested) t_caller_loop_busy = false;
  assert(out.has_value());
  return std::move(*out);
}

std::future<Result<RunReport>> Engine::submit(std::shared_ptr<const graph::Workflow> workflow,
                                              std::shared_ptr<tools::ToolSet> tools,
                                              RunRequest request) {
  auto promise = std::make_shared<std::promise<Result<RunReport>>>();
  auto future = promise->get_future();
  start(std::move(workflow), std::move(tools), std::move(request),
        [promise](Result<RunReport> r) { promise->set_value(std::move(r)); });
  return future;
}

nlohmann::json wait_json(const OpenWait& w) {
  return {{"run_id", w.run_id},
          {"wait_id", w.wait_id},
          {"kind", w.kind},
          {"name", w.kind == "timer" ? nlohmann::json(nullptr) : nlohmann::json(w.name)},
          {"tool", w.tool},
          // A tool's node has the tool's id (graph/load_graph.cc); the engine may leave it empty.
          {"node", w.node.empty() ? w.tool : w.node},
          {"branch", w.branch},
          {"started_ms", w.started_ms},
          {"due_ms", w.due_ms > 0 ? nlohmann::json(w.due_ms) : nlohmann::json(nullptr)}};
}

std::vector<OpenWait> Engine::waits() const {
  std::vector<OpenWait> out;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [key, entry] : impl_->open_waits) out.push_back(entry.info);
  }
  std::stable_sort(out.begin(), out.end(), [](const OpenWait& a, const OpenWait& b) {
    return a.started_ms < b.started_ms;
  });
  return out;
}

Status Engine::resolve_wait(const std::string& run_id, const std::string& wait_id,
                            WaitAnswer answer) {
  using Decision = WaitAnswer::Decision;
  // The answer is journaled: `by`, `reason` and the data's strings made valid UTF-8 here, once (the
  // key is compared as given, and cleaned where it is journaled), and the data within the limits
  // of outside JSON.
  answer.by = valid_utf8(answer.by);
  answer.reason = valid_utf8(answer.reason);
  auto data =
      parse_untrusted(answer.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                      {.what = "wait data"});
  if (!data.ok()) return data.status();
  answer.data = std::move(*data);
  std::shared_ptr<RunTask> task;
  {
    std::lock_guard lock(impl_->mu);
    const Impl::WaitKey key{run_id, wait_id};
    auto it = impl_->open_waits.find(key);
    if (it == impl_->open_waits.end()) {
      auto done = impl_->resolved_waits.find(key);
      if (done == impl_->resolved_waits.end()) {
        return Status(StatusCode::kNotFound,
                      "run " + run_id + " has no open wait '" + wait_id + "'");
      }
      if (!answer.key.empty() && done->second == answer.key) return Status();  // applied once
      return Status(StatusCode::kFailedPrecondition,
                    "wait '" + wait_id + "' of run " + run_id + " is already resolved");
    }
    const graph::WaitTool::Kind kind = it->second.kind;
    const bool fits =
        kind == graph::WaitTool::Kind::kApproval
            ? answer.decision != Decision::kSignal
            : kind == graph::WaitTool::Kind::kSignal && answer.decision == Decision::kSignal;
    if (!fits) {
      return invalid_argument("wait '" + wait_id + "' of run " + run_id + " is a " +
                              it->second.info.kind + ": " +
                              (kind == graph::WaitTool::Kind::kTimer      ? "it fires by itself"
                               : kind == graph::WaitTool::Kind::kApproval ? "approve or reject it"
                                                                          : "send it a signal"));
    }
    task = it->second.task.lock();
    if (!task) {
      return Status(StatusCode::kNotFound, "run " + run_id + " has no open wait '" + wait_id + "'");
    }
    impl_->take_wait_locked(key, answer.key);
  }
  task->post_wait_answer(wait_id, std::move(answer));
  return Status();
}

Status Engine::signal(const std::string& run_id, const std::string& name, WaitAnswer answer) {
  answer.decision = WaitAnswer::Decision::kSignal;
  std::string wait;
  {
    std::lock_guard lock(impl_->mu);
    const OpenWait* oldest = nullptr;
    for (auto it = impl_->open_waits.lower_bound({run_id, std::string()});
         it != impl_->open_waits.end() && it->first.first == run_id; ++it) {
      const OpenWait& w = it->second.info;
      if (it->second.kind != graph::WaitTool::Kind::kSignal || w.name != name) continue;
      if (oldest == nullptr || w.started_ms < oldest->started_ms) oldest = &w;
    }
    if (oldest == nullptr) {
      if (!answer.key.empty()) {
        for (auto it = impl_->resolved_waits.lower_bound({run_id, std::string()});
             it != impl_->resolved_waits.end() && it->first.first == run_id; ++it) {
          if (it->second == answer.key) return Status();  // this signal was applied already
        }
      }
      return Status(StatusCode::kNotFound,
                    "run " + run_id + " does not wait for signal '" + name + "'");
    }
    wait = oldest->wait_id;
  }
  return resolve_wait(run_id, wait, std::move(answer));
}

void Engine::apply_queued(const std::string& run_id,
                          const std::map<std::string, std::int64_t>& held_due) {
  auto queued = impl_->journal.queued_resolutions(run_id);
  if (!queued.ok()) {
    logger().error("run {}: its queued wait resolutions cannot be read, its waits stay held: {}",
                   run_id, queued.status().message());
    return;
  }
  for (QueuedResolution& q : *queued) {
    if (q.decision == "cancel") {
      logger().info("run {}: cancelled by its queued cancellation (#{}) from {}", run_id, q.id,
                    q.by.empty() ? "an unnamed caller" : q.by);
      (void)impl_->cancel(run_id, q.reason.empty() ? "request" : q.reason);
      return;
    }
    auto held = held_due.find(q.wait_id);
    if (held == held_due.end()) continue;  // resolved already, or no longer waited for
    if (held->second > 0 && q.time_ms >= held->second) {
      logger().info("run {}: the {} of wait {} queued at {} came after its due time: ignored",
                    run_id, q.decision, q.wait_id, q.time_ms);
      continue;
    }
    WaitAnswer answer;
    answer.decision = q.decision == "approve"  ? WaitAnswer::Decision::kApprove
                      : q.decision == "reject" ? WaitAnswer::Decision::kReject
                                               : WaitAnswer::Decision::kSignal;
    answer.data = std::move(q.data);
    answer.reason = std::move(q.reason);
    answer.by = std::move(q.by);
    answer.key = std::move(q.key);
    const Status s = resolve_wait(run_id, q.wait_id, std::move(answer));
    if (s.ok()) {
      logger().info("run {}: wait {} resolved by its queued {} (#{})", run_id, q.wait_id,
                    q.decision, q.id);
    } else if (s.code() != StatusCode::kFailedPrecondition) {  // not: a second one for the wait
      logger().warn("run {}: queued resolution #{} of wait {} not applied: {}", run_id, q.id,
                    q.wait_id, s.message());
    }
  }
}

bool Engine::apply_inbox(const std::string& run_id) {
  std::map<std::string, std::int64_t> held_due;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->runs.count(run_id) == 0) return false;
    for (auto it = impl_->open_waits.lower_bound({run_id, std::string()});
         it != impl_->open_waits.end() && it->first.first == run_id; ++it) {
      held_due[it->second.info.wait_id] = it->second.info.due_ms;
    }
  }
  apply_queued(run_id, held_due);
  return true;
}

bool Engine::holds(const std::string& run_id) const {
  std::lock_guard lock(impl_->mu);
  return impl_->runs.count(run_id) != 0;
}

bool Engine::cancel(const std::string& run_id, const std::string& reason) {
  return impl_->cancel(run_id, reason);
}

void Engine::wait_idle() { impl_->wait_idle(); }

int Engine::threads() const { return static_cast<int>(impl_->loops.size()); }

std::size_t Engine::in_flight() const {
  std::lock_guard lock(impl_->mu);
  return impl_->runs.size();
}

}  // namespace switchyard::runtime
