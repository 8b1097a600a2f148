// api::Runtime: the engine, journal, feed, health, models and builtins of an embedding program.
// Queries, verification and resume: switchyard_journal.cc.

#include <switchyard/runtime.h>

#include <atomic>
#include <exception>

#include "runtime/api/runtime_impl.h"
#include "runtime/base/log.h"
#include "runtime/engine/run_setup.h"
#include "runtime/engine/runner.h"
#include "runtime/engine/startup.h"
#include "runtime/replay/wait_inbox.h"
#include "tools/trace_context.h"

namespace switchyard::api {
namespace {

// An embedding program's tool must not take an engine thread down with an exception: it
// becomes the step's failure (kInternal).
template <typename F>
switchyard::Result<nlohmann::json> guarded(const std::string& name, F&& call) {
  try {
    return call();
  } catch (const std::exception& e) {
    return internal_error("builtin " + name + " threw: " + e.what());
  } catch (...) {
    return internal_error("builtin " + name + " threw");
  }
}

switchyard::Result<nlohmann::json> internal_answer(Result<nlohmann::json> r) {
  if (!r.ok()) return api::to_internal(r.status());
  return std::move(*r);
}

Result<RunSummary> summary_of(switchyard::Result<runtime::RunReport> r) {
  if (!r.ok()) return api::to_api(r.status());
  return api::to_api(std::move(*r));
}

}  // namespace

// ---- ToolReply ----

ToolReply::ToolReply(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
ToolReply internal::Access::reply(std::shared_ptr<ToolReply::Impl> impl) {
  return ToolReply(std::move(impl));
}

void ToolReply::operator()(Result<nlohmann::json> answer) const {
  std::function<void(switchyard::Result<nlohmann::json>)> done;
  std::function<void()> abort;  // no longer needed; released outside the lock
  {
    std::lock_guard lock(impl_->mu);
    done = std::move(impl_->done);
    impl_->done = nullptr;
    abort = std::move(impl_->abort);
    impl_->abort = nullptr;
  }
  if (done) done(internal_answer(std::move(answer)));
}

void ToolReply::on_cancel(std::function<void()> abort) const {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->done) return;  // answered: nothing left to abort
    impl_->abort = std::move(abort);
  }
  impl_->cancel->on_cancel([weak = std::weak_ptr<Impl>(impl_)] {
    auto impl = weak.lock();
    if (!impl) return;
    std::function<void()> abort;
    {
      std::lock_guard lock(impl->mu);
      abort = std::move(impl->abort);
      impl->abort = nullptr;
    }
    if (abort) abort();
  });
}

bool ToolReply::cancelled() const { return impl_->cancel->cancelled(); }

// ---- EventSubscription ----

EventSubscription::EventSubscription() = default;
EventSubscription::EventSubscription(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventSubscription internal::Access::subscription(std::unique_ptr<EventSubscription::Impl> impl) {
  return EventSubscription(std::move(impl));
}
EventSubscription::EventSubscription(EventSubscription&&) noexcept = default;
EventSubscription& EventSubscription::operator=(EventSubscription&&) noexcept = default;
EventSubscription::~EventSubscription() = default;
void EventSubscription::reset() { impl_.reset(); }
EventSubscription::operator bool() const { return impl_ != nullptr; }

// ---- Runtime::Impl ----

switchyard::Result<std::shared_ptr<tools::ToolSet>> Runtime::Impl::tools_for(
    const Workflow& workflow) {
  const auto& model = internal::Access::impl(workflow).model;
  std::lock_guard lock(mu);
  auto it = tool_sets.find(model.get());
  if (it != tool_sets.end() && it->second.generation == generation) return it->second.tools;
  // No tiers: an llm tool is refused here, at start, rather than failing at its call.
  auto made = tools::make_tool_set(
      *model, {.builtins = &builtins, .models = models.tiers.empty() ? nullptr : &models});
  if (!made.ok()) return made.status();
  tool_sets[model.get()] = CachedTools{model, generation, *made};
  return *made;
}

void Runtime::Impl::add_builtin(const std::string& name, tools::CallBuiltin fn) {
  std::lock_guard lock(mu);
  builtins.add_call(name, std::move(fn));
  ++generation;
}

EventSubscription Runtime::Impl::subscribe(const std::string& run_id, EventCallback callback) {
  auto impl = std::make_unique<EventSubscription::Impl>();
  impl->core = core;
  impl->subscription =
      core->feed->subscribe([run_id, callback = std::move(callback)](const runtime::Event& e) {
        if (run_id.empty() || e.run_id == run_id) callback(to_api(e));
      });
  return internal::Access::subscription(std::move(impl));
}

bool Runtime::Impl::enter(const std::string& run_id) {
  std::lock_guard lock(mu);
  return in_flight.insert(run_id).second;
}

void Runtime::Impl::leave(const std::string& run_id) {
  std::lock_guard lock(mu);
  in_flight.erase(run_id);
}

// ---- Runtime ----

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runtime::~Runtime() {
  if (impl_) impl_->stop_worker(/*abandon=*/true);
}

Result<std::unique_ptr<Runtime>> Runtime::open(RuntimeOptions options) {
  if (options.threads < 0) {
    return Status(StatusCode::kInvalidArgument, "RuntimeOptions::threads must be >= 0");
  }
  for (const auto& tier : options.models) {
    if (tier.name.empty()) {
      return Status(StatusCode::kInvalidArgument, "every RuntimeOptions::models tier needs a name");
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->core = std::make_shared<JournalCore>();
  impl->models = to_internal(options.models);
  // The startup sequence every front end shares (runtime/engine/startup.h). A journal in memory
  // (no path) has nothing to rebuild from.
  auto started = runtime::start_up(
      impl->clock, {.journal_path = options.journal_path,
                    .journal = {.sync = options.sync_full ? runtime::JournalSync::kFull
                                                          : runtime::JournalSync::kNormal},
                    .memory = {.keep_finished_runs = options.memory_keep_runs},
                    .rebuild_health = options.rebuild_health,
                    // Learned escalation remembers how each tier did, across processes.
                    .rebuild_history = impl->models.tiers.size() > 1});
  if (!started.ok()) return to_api(started.status());
  if (!started->report.skipped.empty()) {
    runtime::logger().warn("{}", started->report.summary(options.journal_path));
  }
  impl->core->journal = std::move(started->journal);
  impl->core->feed = std::make_unique<runtime::EventFeed>(*impl->core->journal);
  if (!options.otlp_endpoint.empty()) {
    auto exporter = runtime::OtlpExporter::start({.endpoint = options.otlp_endpoint,
                                                  .max_queue = options.otlp_max_queue,
                                                  .max_batch = options.otlp_max_batch,
                                                  .flush_interval = options.otlp_flush_interval,
                                                  .service_name = options.otlp_service_name});
    if (!exporter.ok()) return to_api(exporter.status());
    impl->otlp = std::move(*exporter);
    impl->otlp_subscription = impl->core->feed->subscribe(
        [otlp = impl->otlp.get()](const runtime::Event& e) { otlp->observe(e); });
    tools::set_traceparent_enabled(true);
  }
  impl->startup = std::move(started).value();
  impl->health = impl->startup.health.get();
  impl->history = impl->startup.history.get();
  impl->engine =
      runtime::build_engine(impl->startup, impl->journal(), impl->clock,
                            runtime::EngineOptions{.threads = options.threads,
                                                   .probe_interval = options.probe_interval,
                                                   .models = &impl->models});
  if (impl->core->journal->health_feed() != nullptr && options.health_poll.count() > 0) {
    auto share = runtime::HealthShare::create(*impl->core->journal, *impl->health,
                                              {.poll = options.health_poll});
    if (!share.ok()) return to_api(share.status());
    impl->health_share = std::move(*share);
    impl->health_share->start();
  }
  impl->options = std::move(options);
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

Status Runtime::add_tool(const std::string& name, SyncTool tool) {
  if (!tool) return add_tool(name, CallTool());
  return add_tool(name,
                  [tool = std::move(tool)](const ToolCall& call) { return tool(call.context()); });
}

Status Runtime::add_async_tool(const std::string& name, AsyncTool tool) {
  if (!tool) return add_async_tool(name, AsyncCallTool());
  return add_async_tool(name, [tool = std::move(tool)](const ToolCall& call, ToolReply reply) {
    tool(call.context(), std::move(reply));
  });
}

Status Runtime::add_tool(const std::string& name, CallTool tool) {
  if (name.empty() || !tool) {
    return Status(StatusCode::kInvalidArgument, "add_tool needs a name and a function");
  }
  impl_->add_builtin(name, [name, tool = std::move(tool)](const tools::BuiltinCall& call,
                                                          tools::BuiltinDone done) {
    const ToolCall::Impl impl{call};
    const ToolCall view = internal::Access::tool_call(&impl);
    done(guarded(name, [&] { return internal_answer(tool(view)); }));
  });
  return Status();
}

Status Runtime::add_async_tool(const std::string& name, AsyncCallTool tool) {
  if (name.empty() || !tool) {
    return Status(StatusCode::kInvalidArgument, "add_async_tool needs a name and a function");
  }
  impl_->add_builtin(name, [name, tool = std::move(tool)](const tools::BuiltinCall& call,
                                                          tools::BuiltinDone done) {
    auto reply = std::make_shared<ToolReply::Impl>();
    reply->cancel = call.cancel;
    reply->done = std::move(done);
    ToolReply answer = internal::Access::reply(reply);
    const ToolCall::Impl impl{call};
    const ToolCall view = internal::Access::tool_call(&impl);
    auto started = guarded(name, [&]() -> switchyard::Result<nlohmann::json> {
      tool(view, answer);
      return nlohmann::json();
    });
    if (!started.ok()) answer(to_api(started.status()));  // ignored when it answered already
  });
  return Status();
}

// What starting a run needs, checked: its tools, its request, its subscription (if any).
struct Runtime::Impl::Prepared {
  std::shared_ptr<tools::ToolSet> tools;
  runtime::RunRequest request;
  std::shared_ptr<EventSubscription> events;
};

Result<Runtime::Impl::Prepared> Runtime::Impl::prepare(const Workflow& workflow,
                                                       RunOptions& options) {
  if (!options.input.is_object()) {
    return Status(StatusCode::kInvalidArgument, "a run's input must be a JSON object");
  }
  if (!options.tenant.empty()) {
    if (auto s = runtime::check_tenant_key(options.tenant); !s.ok()) {
      return Status(StatusCode::kInvalidArgument, "RunOptions::tenant: " + s.message());
    }
  }
  auto tools = tools_for(workflow);
  if (!tools.ok()) return to_api(tools.status());
  std::string run_id =
      options.run_id.empty() ? runtime::new_run_id(clock) : std::move(options.run_id);
  if (journal().get_run(run_id).ok() || !enter(run_id)) {
    return Status(StatusCode::kInvalidArgument, "run " + run_id + " is already in the journal");
  }
  // Subscribed before the run starts, so that its first event is seen; dropped once it ends
  // (its last event is delivered before the engine reports the end).
  auto events = std::make_shared<EventSubscription>();
  if (options.on_event) *events = subscribe(run_id, std::move(options.on_event));
  return Prepared{.tools = *std::move(tools),
                  .request = {.input = std::move(options.input),
                              .budget = to_internal(options.budget),
                              .run_id = std::move(run_id),
                              .seed = options.seed,
                              .deadline = options.deadline,
                              .tenant = std::move(options.tenant)},
                  .events = std::move(events)};
}

Result<std::string> Runtime::enqueue(const Workflow& workflow, const RunOptions& options) {
  runtime::RunQueue* queue = impl_->core->journal->run_queue();
  if (queue == nullptr) {
    return Status(StatusCode::kInvalidArgument,
                  "enqueue needs a PostgreSQL journal (RuntimeOptions::journal_path "
                  "postgresql://...): the queue is in the database workers share");
  }
  const Budget& b = options.budget;
  if (b.usd || b.tokens || b.llm_calls || options.seed || options.deadline.count() != 0 ||
      options.on_event) {
    return Status(StatusCode::kInvalidArgument,
                  "a queued run carries only its input, id and tenant to its worker: budget, "
                  "seed, deadline and on_event cannot be given to enqueue");
  }
  if (!options.run_id.empty() && impl_->journal().get_run(options.run_id).ok()) {
    return Status(StatusCode::kInvalidArgument,
                  "run " + options.run_id + " is already in the journal");
  }
  auto id = runtime::enqueue_run(*queue, *internal::Access::impl(workflow).model, options.input,
                                 impl_->clock, options.run_id, options.tenant);
  if (!id.ok()) return to_api(id.status());
  return *id;
}

Status Runtime::start_worker(const std::vector<Workflow>& workflows, const WorkerOptions& options) {
  std::lock_guard lock(impl_->worker_mu);
  if (impl_->worker) {
    return Status(StatusCode::kInvalidArgument, "this Runtime already has a worker");
  }
  std::vector<runtime::WorkerWorkflow> list;
  for (const Workflow& w : workflows) {
    auto tools = impl_->tools_for(w);
    if (!tools.ok()) return to_api(tools.status());
    list.push_back({internal::Access::impl(w).model, *std::move(tools)});
  }
  // Claims and renewals on a connection of their own, not behind the journal's commits.
  std::unique_ptr<runtime::Journal> claims;
  if (impl_->core->journal->run_queue() != nullptr) {
    auto opened = runtime::open_journal(impl_->options.journal_path, {.create_if_missing = false});
    if (!opened.ok()) return to_api(opened.status());
    claims = std::move(*opened);
  }
  auto worker =
      runtime::Worker::create(impl_->journal(), *impl_->engine, impl_->clock, std::move(list),
                              {.name = options.name,
                               .lease = options.lease,
                               .heartbeat = options.heartbeat,
                               .poll = options.poll,
                               .max_runs = options.max_runs},
                              claims ? claims->run_queue() : nullptr);
  if (!worker.ok()) return to_api(worker.status());
  impl_->worker_claims = std::move(claims);
  impl_->worker = std::move(*worker);
  impl_->worker_thread = std::thread([w = impl_->worker.get()] { w->run(); });
  return Status();
}

void Runtime::Impl::stop_worker(bool abandon) {
  std::lock_guard lock(worker_mu);
  if (!worker) return;
  if (abandon) {
    worker->abandon();
  } else {
    worker->stop();
  }
  worker_thread.join();
  stopped_worker_stats = worker->stats();
  worker.reset();
  worker_claims.reset();
}

void Runtime::stop_worker() { impl_->stop_worker(/*abandon=*/false); }

WorkerStats Runtime::worker_stats() const {
  std::lock_guard lock(impl_->worker_mu);
  const runtime::WorkerStats s =
      impl_->worker ? impl_->worker->stats() : impl_->stopped_worker_stats;
  return {.claimed = s.claimed,
          .taken_over = s.taken_over,
          .finished = s.finished,
          .lost = s.lost,
          .failed = s.failed};
}

Result<std::string> Runtime::start(const Workflow& workflow, RunOptions options, RunDone done) {
  auto prepared = impl_->prepare(workflow, options);
  if (!prepared.ok()) return prepared.status();
  std::string run_id = prepared->request.run_id;
  impl_->engine->start(internal::Access::impl(workflow).model, std::move(prepared->tools),
                       std::move(prepared->request),
                       [impl = impl_.get(), events = std::move(prepared->events), run_id,
                        done = std::move(done)](switchyard::Result<runtime::RunReport> r) {
                         events->reset();
                         impl->leave(run_id);
                         if (done) done(summary_of(std::move(r)));
                       });
  return run_id;
}

std::future<Result<RunSummary>> Runtime::submit(const Workflow& workflow, RunOptions options) {
  auto promise = std::make_shared<std::promise<Result<RunSummary>>>();
  auto future = promise->get_future();
  auto started = start(workflow, std::move(options),
                       [promise](Result<RunSummary> r) { promise->set_value(std::move(r)); });
  if (!started.ok()) promise->set_value(started.status());
  return future;
}

// On the calling thread (Engine::run): no hand-off to an engine thread and back.
Result<RunSummary> Runtime::run(const Workflow& workflow, RunOptions options) {
  auto prepared = impl_->prepare(workflow, options);
  if (!prepared.ok()) return prepared.status();
  const std::string run_id = prepared->request.run_id;
  auto report = impl_->engine->run(internal::Access::impl(workflow).model,
                                   std::move(prepared->tools), std::move(prepared->request));
  prepared->events->reset();
  impl_->leave(run_id);
  return summary_of(std::move(report));
}

Status Runtime::cancel(const std::string& run_id, const std::string& reason) {
  if (impl_->engine->cancel(run_id, reason)) return Status();
  // Not in flight here: unfinished in the journal (a worker runs it, it is queued, or no process
  // holds it), the cancellation is queued for whoever holds or resumes it.
  auto run = impl_->journal().get_run(run_id);
  if (run.ok() && (run->status == "running" || run->status == "queued") &&
      !impl_->engine->holds(run_id)) {
    auto queued = runtime::queue_cancel(impl_->journal(), run_id, "api", reason,
                                        runtime::unix_ms(impl_->clock));
    return to_api(queued.status());
  }
  return Status(StatusCode::kNotFound, "run " + run_id + " is not in flight");
}

std::vector<Wait> Runtime::waits() const {
  std::vector<Wait> out;
  for (auto& w : impl_->engine->waits()) {
    out.push_back(Wait{.run_id = std::move(w.run_id),
                       .wait_id = std::move(w.wait_id),
                       .kind = std::move(w.kind),
                       .name = std::move(w.name),
                       .tool = std::move(w.tool),
                       .branch = w.branch,
                       .started_ms = w.started_ms,
                       .due_ms = w.due_ms});
  }
  return out;
}

namespace {

runtime::WaitAnswer answer_of(runtime::WaitAnswer::Decision decision, WaitResolution&& r) {
  return {.decision = decision,
          .data = std::move(r.data),
          .reason = std::move(r.reason),
          .by = std::move(r.by),
          .key = std::move(r.key)};
}

}  // namespace

namespace {

// Resolves a wait of a run in flight here; a run that no process holds gets the resolution
// queued in the journal's wait inbox, applied when it is resumed (runtime/replay/wait_inbox.h).
Status resolve_here_or_queue(Runtime::Impl& impl, const std::string& run_id,
                             const std::string& target, runtime::WaitAnswer answer) {
  const bool signal = answer.decision == runtime::WaitAnswer::Decision::kSignal;
  runtime::WaitAnswer copy = answer;
  const switchyard::Status s = signal
                                   ? impl.engine->signal(run_id, target, std::move(answer))
                                   : impl.engine->resolve_wait(run_id, target, std::move(answer));
  if (s.code() != switchyard::StatusCode::kNotFound || impl.engine->holds(run_id)) {
    return to_api(s);
  }
  // Unknown or finished: the engine's answer stands.
  auto run = impl.journal().get_run(run_id);
  if (!run.ok() || run->status != "running") return to_api(s);
  auto queued = runtime::queue_wait_answer(impl.journal(), run_id, target, std::move(copy),
                                           runtime::unix_ms(impl.clock));
  return to_api(queued.status());
}

}  // namespace

Status Runtime::approve(const std::string& run_id, const std::string& wait_id,
                        WaitResolution resolution) {
  return resolve_here_or_queue(
      *impl_, run_id, wait_id,
      answer_of(runtime::WaitAnswer::Decision::kApprove, std::move(resolution)));
}

Status Runtime::reject(const std::string& run_id, const std::string& wait_id,
                       WaitResolution resolution) {
  return resolve_here_or_queue(
      *impl_, run_id, wait_id,
      answer_of(runtime::WaitAnswer::Decision::kReject, std::move(resolution)));
}

Status Runtime::signal(const std::string& run_id, const std::string& name,
                       WaitResolution resolution) {
  return resolve_here_or_queue(
      *impl_, run_id, name,
      answer_of(runtime::WaitAnswer::Decision::kSignal, std::move(resolution)));
}

std::size_t Runtime::in_flight() const { return impl_->engine->in_flight(); }

TraceStats Runtime::trace_stats() const {
  if (!impl_->otlp) return {};
  const runtime::OtlpStats s = impl_->otlp->stats();
  return {.exported = s.exported, .dropped = s.dropped, .failed = s.failed};
}
void Runtime::wait_idle() { impl_->engine->wait_idle(); }

EventSubscription Runtime::subscribe(EventCallback callback) {
  return impl_->subscribe("", std::move(callback));
}

std::string Runtime::journal_path() const { return impl_->options.journal_path; }

// ---- RunAwaiter ----

struct SWITCHYARD_HIDDEN RunAwaiter::State {
  enum Phase { kStarting, kSuspended, kDone };
  Runtime* runtime = nullptr;
  std::optional<Workflow> workflow;  // set by run_async
  RunOptions options;
  std::coroutine_handle<> waiting;
  std::optional<Result<RunSummary>> result;
  std::atomic<int> phase{kStarting};
};

RunAwaiter Runtime::run_async(const Workflow& workflow, RunOptions options) {
  auto state = std::make_shared<RunAwaiter::State>();
  state->runtime = this;
  state->workflow = workflow;
  state->options = std::move(options);
  return RunAwaiter(std::move(state));
}

RunAwaiter::RunAwaiter(std::shared_ptr<State> state) : state_(std::move(state)) {}
RunAwaiter::RunAwaiter(RunAwaiter&&) noexcept = default;
RunAwaiter& RunAwaiter::operator=(RunAwaiter&&) noexcept = default;
RunAwaiter::~RunAwaiter() = default;

bool RunAwaiter::await_suspend(std::coroutine_handle<> waiting) {
  auto state = state_;
  state->waiting = waiting;
  auto started = state->runtime->start(
      *state->workflow, std::move(state->options), [state](Result<RunSummary> r) {
        state->result.emplace(std::move(r));
        // Whoever comes second resumes: here when the coroutine has suspended already.
        if (state->phase.exchange(State::kDone, std::memory_order_acq_rel) == State::kSuspended) {
          state->waiting.resume();
        }
      });
  if (!started.ok()) {
    state->result.emplace(started.status());
    return false;
  }
  // False (do not suspend) when the run ended already: its callback did not resume us.
  return state->phase.exchange(State::kSuspended, std::memory_order_acq_rel) != State::kDone;
}

Result<RunSummary> RunAwaiter::await_resume() {
  assert(state_->result.has_value());
  return std::move(*state_->result);
}

}  // namespace switchyard::api
