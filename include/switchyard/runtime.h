#pragma once
// Runtime: the Switchyard runtime inside an embedding program. One Runtime owns a journal (a
// SQLite file, or memory), the health monitor shared by its runs, the model tiers, the builtin
// tools the program registers, and an engine that runs many runs at once on a few threads.
//
// Usage:
//   namespace api = switchyard::api;
//   auto rt = api::Runtime::open({.journal_path = "runs.db", .threads = 2});
//   if (!rt.ok()) return fail(rt.status());
//   (void)(*rt)->add_tool("lookup", [](const nlohmann::json& ctx) -> api::Result<nlohmann::json> {
//     return nlohmann::json{{"customer", ctx["input"]["customer"]}};
//   });
//   auto w = api::Workflow::from_file("support.json");
//   api::Result<api::RunSummary> run = (*rt)->run(*w, {.input = {{"customer", "ada"}}});
//   // or (*rt)->start(*w, options, callback), submit (a future), co_await (*rt)->run_async(...)
//
// Runs are journaled as the `switchyard` program journals them: `switchyard runs`, `replay`,
// `replay --verify` and `resume` work on the same file, and so do list_runs, events, verify and
// resume here. Every failure is a value (Status, Result); nothing throws across this API.
//
// Thread-safety: every method of Runtime may be called from any thread, concurrently. Callbacks
// (RunDone, events, async tool replies) are called on the Runtime's own threads: they must be
// quick and must not block on a run of the same Runtime (post heavy work elsewhere). ToolReply is
// thread-safe; EventSubscription and RunAwaiter are thread-compatible (one owner at a time); the
// option structs are plain values.
//
// Ownership: open() gives the Runtime to the caller (unique_ptr). Workflows, ToolReplies and
// EventSubscriptions may outlive it; a RunAwaiter may not until it has been awaited (see
// RunAwaiter). Its destructor ends every run still in flight first.
// Part of the public embedding API (switchyard.h).

#include <switchyard/export.h>
#include <switchyard/status.h>
#include <switchyard/types.h>
#include <switchyard/workflow.h>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::api {

// How an asynchronous builtin tool answers its call.
//
//   rt.add_async_tool("fetch", [&pool](const nlohmann::json& ctx, api::ToolReply reply) {
//     auto job = pool.start(ctx["input"]);
//     reply.on_cancel([job] { job->abort(); });              // optional
//     job->then([reply](nlohmann::json out) { reply(std::move(out)); });
//   });
//
// Copyable; copies are the same reply. Thread-safe: may be called from any thread, concurrently.
// Ownership: the tool may keep it (and copies) as long as it likes, past the call and past the
// Runtime; an answer that comes after the run stopped waiting for it (cancelled, the Runtime
// destroyed) is ignored. Only the library makes one.
class SWITCHYARD_API ToolReply {
 public:
  // Delivers the tool's answer: its JSON output, or a failure whose code becomes the step's
  // failure kind (kDeadlineExceeded: timeout, kUnavailable: unavailable, kCancelled: cancelled,
  // kInvalidArgument: bad_output, kNotFound: template, else internal;
  // docs/engine.md#builtin-tools). Call it exactly once; later calls are ignored. An answer to a
  // call that was cancelled is ignored.
  void operator()(Result<nlohmann::json> answer) const;
  // Registers how to abort the tool's work: `abort` runs once, on the cancelling thread, when
  // the run is cancelled (request, deadline, shutdown) or the call loses a fan-out's join; at
  // once when it already was. The tool must still answer (say kCancelled). REQUIRES: called at
  // most once per call.
  void on_cancel(std::function<void()> abort) const;
  // Whether the call has been cancelled.
  bool cancelled() const;

  struct Impl;  // internal, incomplete outside the library

 private:
  friend struct internal::Access;
  SWITCHYARD_HIDDEN explicit ToolReply(std::shared_ptr<Impl> impl);  // not exported
  std::shared_ptr<Impl> impl_{};
};

// One call of a builtin tool, as a CallTool or an AsyncCallTool receives it: which tool, its
// rendered `args`, the step's context, and typed reads of them
// (docs/embedding.md#builtins-with-arguments). Valid during the call only: copy what the work
// needs past it. Only the library makes one.
//
//   rt.add_tool("lookup", [](const api::ToolCall& call) -> api::Result<nlohmann::json> {
//     auto id = call.string_at("/input/order/id");      // from the run's input
//     auto table = call.string_at("/args/table");       // from the tool's "args"
//     if (!id.ok()) return id.status();                 // the step fails, naming the pointer
//     if (!table.ok()) return table.status();
//     return nlohmann::json{{"tool", call.tool()}, {"row", *table + "/" + *id}};
//   });
class SWITCHYARD_API ToolCall {
 public:
  // The tool's id in the workflow (also its node's id): which of the tools that share this
  // builtin is being called.
  const std::string& tool() const;
  // The tool's `args`, rendered for this call; an empty object when it has none.
  const nlohmann::json& args() const;
  // The step's context: {"input": <run input>, "steps": {<id>: {"output": ...}}}.
  const nlohmann::json& context() const;
  // Typed reads by JSON pointer (RFC 6901): "/args/..." reads args(), any other pointer the
  // context ("/input/order/id", "/steps/CRM/output/tier"). Errors, each naming the pointer:
  // kNotFound when nothing is there (returned as the tool's answer, the step fails as
  // `template`), kInvalidArgument for a value of another type or a malformed pointer
  // (`bad_output`). Never throws.
  Result<std::string> string_at(std::string_view pointer) const;
  Result<double> number_at(std::string_view pointer) const;
  Result<std::int64_t> integer_at(std::string_view pointer) const;
  Result<bool> boolean_at(std::string_view pointer) const;
  Result<nlohmann::json> value_at(std::string_view pointer) const;  // of any type, copied

  struct Impl;  // internal, incomplete outside the library

 private:
  friend struct internal::Access;
  SWITCHYARD_HIDDEN explicit ToolCall(const Impl* impl) : impl_(impl) {}  // not exported
  const Impl* impl_;
};

// A synchronous builtin: runs on an engine thread and returns the step's output or failure. It
// receives the step's context {"input": <run input>, "steps": {<id>: {"output": ...}}, ...}.
// Must not block for long: it holds up every run on its thread (use an AsyncTool for I/O).
using SyncTool = std::function<Result<nlohmann::json>(const nlohmann::json& context)>;
// An asynchronous builtin: starts the work and returns; answers later through `reply`, from any
// thread. `context` is valid only during the call: copy what the work needs.
using AsyncTool = std::function<void(const nlohmann::json& context, ToolReply reply)>;
// The same, receiving the whole call (ToolCall): the tool's id and its `args` besides the context,
// so that one function serves many tools.
using CallTool = std::function<Result<nlohmann::json>(const ToolCall& call)>;
using AsyncCallTool = std::function<void(const ToolCall& call, ToolReply reply)>;

// Told a run's end: its summary, or an error (kIo: the journal could not be written, nothing more
// was invoked). Called exactly once, on an engine thread.
using RunDone = std::function<void(Result<RunSummary>)>;
// Told each journaled event once it is durable, in journal order within a run. Called on the
// thread that committed it (the engine's journal writer, or the run's own thread with a journal
// in memory); must be quick, must not block, and must not call back into the Runtime.
using EventCallback = std::function<void(const Event&)>;

struct RuntimeOptions {
  // The SQLite journal file, created when missing (docs/journal.md); or a PostgreSQL database,
  // postgresql://[user@][host][:port]/dbname (docs/journal.md#postgresql; the password from
  // PGPASSWORD or ~/.pgpass). "" : a journal in memory, lost when the Runtime is destroyed: no
  // resume after a crash.
  std::string journal_path{};
  // A journal in memory only: how many finished runs it keeps for get_run, list_runs, replay and
  // verify; past it the oldest finished run is forgotten as another finishes (and its id may be
  // used again). Runs in flight are always kept. 0: a run is forgotten as it finishes (its
  // summary and events are still delivered). Memory per kept run:
  // docs/embedding.md#a-journal-in-memory.
  std::size_t memory_keep_runs = 10000;
  // false: a commit survives a crash of the process (kill -9); true: also a power loss (fsync
  // per commit; slower).
  bool sync_full = false;
  // Engine threads (event loops); 0: the machine's hardware concurrency.
  int threads = 0;
  // The model tiers llm tools may use, cheapest first (docs/models.md, load_models_file). Empty:
  // workflows with llm tools cannot run.
  std::vector<ModelTier> models{};
  // Start the health monitor from the journal's recent outcomes, so that a restarted program
  // routes as the stopped one would have (docs/monitors.md#after-a-restart). Default true.
  bool rebuild_health = true;
  // How often tools with a `probe` and an open breaker are probed; 0: never.
  std::chrono::milliseconds probe_interval{1000};
  // A PostgreSQL journal that other processes (workers, services, other Runtimes) share: how
  // often the health monitor learns the tool outcomes they journal, so that a breaker their
  // failures opened is open here too within about this long (docs/scale-out.md#shared-health).
  // 0: never. Ignored for a SQLite file or a journal in memory (one process).
  std::chrono::milliseconds health_poll{200};
  // OpenTelemetry traces (docs/tracing.md): the collector's OTLP/HTTP base URL, such as
  // "http://127.0.0.1:4318" (spans are POSTed to <url>/v1/traces, JSON encoding); every run of
  // this Runtime is exported as a trace, off the runs' threads, and http tools send a W3C
  // `traceparent`. "": no export.
  std::string otlp_endpoint{};
  // The resource's `service.name`.
  std::string otlp_service_name = "switchyard";
  // Spans waiting to be sent; a span that finds the queue full is dropped and counted
  // (trace_stats()), so a slow or absent collector never slows a run. >= 1.
  std::size_t otlp_max_queue = 16384;
  // Spans per request. >= 1.
  std::size_t otlp_max_batch = 512;
  // How long a span may wait for companions before its batch is sent.
  std::chrono::milliseconds otlp_flush_interval{500};
};

// What the trace exporter did since the Runtime opened (Runtime::trace_stats): spans the
// collector accepted (2xx), spans dropped because the queue was full, spans of requests that
// failed (no answer, or not 2xx; not retried).
struct TraceStats {
  std::uint64_t exported = 0;
  std::uint64_t dropped = 0;
  std::uint64_t failed = 0;
};

struct RunOptions {
  // The run's input (`{{input.*}}` in templates); an object.
  nlohmann::json input = nlohmann::json::object();
  // Caps on what this run may spend (Budget: USD on tool prices and LLM calls, tokens, LLM
  // calls), field by field over the workflow's own `budget`. Default: the workflow's.
  Budget budget{};
  // The run's id; "" : a new unique one. REQUIRES: not already in the journal.
  std::string run_id{};
  // Seed of the retry jitter (journaled, so replay draws the same); absent: random.
  std::optional<std::uint64_t> seed{};
  // Cancel the run (reason "deadline") when it is still going after this long; 0: none.
  std::chrono::milliseconds deadline{0};
  // Told each of this run's events as it becomes durable, in order, from run_started to
  // run_finished (see EventCallback); the last call happens before the run's end is delivered.
  // Null: none.
  EventCallback on_event{};
  // The run's tenant: the budget key whose shared USD budget its calls reserve against, with the
  // same rule as the run's own budget (set_tenant_budget; docs/budgets.md#tenant-budgets). "":
  // none.
  std::string tenant{};
};

struct ResumeOptions {
  // The workflow the run ran; needed only when the journal's copy has its secrets redacted
  // (headers, env and URL parameters that look secret). Its hash must be the run's.
  std::optional<Workflow> workflow{};
};

// A worker of a PostgreSQL journal's run queue (Runtime::start_worker; docs/scale-out.md#workers).
struct WorkerOptions {
  // The worker's name in the journal (runs.owner): unique among the workers sharing the journal.
  // "": the host name, the process id and a random suffix.
  std::string name{};
  // How long a claimed run stays this worker's without a heartbeat; another worker takes it over
  // once it expired. Above `heartbeat`.
  std::chrono::milliseconds lease{15000};
  // How often the leases of the runs in flight here are renewed. > 0, < lease.
  std::chrono::milliseconds heartbeat{5000};
  // How long an idle worker waits before it looks at the queue again.
  std::chrono::milliseconds poll{100};
  // Runs of the queue in flight here at most. >= 1.
  int max_runs = 64;
};

// What a Runtime's worker did since start_worker (Runtime::worker_stats).
struct WorkerStats {
  std::int64_t claimed = 0;     // runs claimed from the queue
  std::int64_t taken_over = 0;  // runs whose worker's lease had expired, continued here
  std::int64_t finished = 0;    // ended here with a final status
  std::int64_t lost = 0;        // stopped here because another worker took them over
  std::int64_t failed = 0;      // could not start, or stopped by a journal error (released)
};

// A tenant's USD budget shared by its runs (Runtime::tenant_budgets;
// docs/budgets.md#tenant-budgets), as the journal holds it.
struct TenantBudget {
  std::string key;
  std::optional<double> cap_usd{};  // nullopt: no cap (its spend is still counted)
  double spent_usd = 0;
  double reserved_usd = 0;  // by its calls in flight
};

// A subscription to the events of every run (Runtime::subscribe).
//
//   api::EventSubscription sub = rt.subscribe([&queue](const api::Event& e) { queue.push(e); });
//   ...
//   sub.reset();  // no callback runs after this returns
//
// Move-only; may outlive its Runtime. Destroying it (or reset()) unsubscribes and waits for a
// callback in progress to return: REQUIRES it is not destroyed from inside its own callback.
// Thread-compatible (one owner); its callback runs on the Runtime's threads.
class SWITCHYARD_API EventSubscription {
 public:
  EventSubscription();  // subscribed to nothing
  EventSubscription(EventSubscription&&) noexcept;
  EventSubscription& operator=(EventSubscription&&) noexcept;  // unsubscribes the old one first
  ~EventSubscription();
  // Unsubscribes (waiting for a callback in progress); no effect when not subscribed.
  void reset();
  // Whether it is subscribed.
  explicit operator bool() const;

  struct Impl;  // internal, incomplete outside the library

 private:
  friend struct internal::Access;
  SWITCHYARD_HIDDEN explicit EventSubscription(std::unique_ptr<Impl> impl);  // not exported
  std::unique_ptr<Impl> impl_{};
};

class Runtime;

// What Runtime::run_async returns: `co_await` it in a coroutine to start the run and get its
// Result<RunSummary>.
//
//   my::task<void> handle(api::Runtime& rt, api::Workflow w) {
//     api::RunOptions options;  // (GCC 12: build options before co_await, not inside it)
//     api::Result<api::RunSummary> run = co_await rt.run_async(w, options);
//     ...                       // now on the engine thread that finished the run
//   }
// The run starts when the awaiter is awaited (not before); the coroutine is
// resumed on the engine thread that finished the run (or at once, without suspending, when the
// run could not start). Any coroutine type may await it: it needs nothing from the promise.
//
// Ownership and lifetime: it holds a pointer to the Runtime that made it, not the Runtime
// itself. REQUIRES: that Runtime outlives the awaiter until it has been awaited (await_suspend
// starts the run on it). Destroying the Runtime while the awaited run is in flight ends the run
// failed ("cancelled: engine shutdown") and resumes the coroutine with that on an engine thread
// while the destructor waits: from then on the coroutine must not use that Runtime. An awaiter
// destroyed without being awaited starts nothing.
// Move-only; await it once, from one coroutine. Thread-compatible (one owner); the coroutine
// then continues on the Runtime's threads.
class SWITCHYARD_API RunAwaiter {
 public:
  RunAwaiter(RunAwaiter&&) noexcept;
  RunAwaiter& operator=(RunAwaiter&&) noexcept;
  ~RunAwaiter();

  bool await_ready() const noexcept { return false; }
  // Starts the run; false (continue at once) when it ended, or failed to start, already.
  bool await_suspend(std::coroutine_handle<> waiting);
  Result<RunSummary> await_resume();

 private:
  friend class Runtime;
  struct State;
  SWITCHYARD_HIDDEN explicit RunAwaiter(std::shared_ptr<State> state);  // not exported
  std::shared_ptr<State> state_{};
};

class SWITCHYARD_API Runtime {
 public:
  // Opens the journal (creating the file when missing, upgrading an older schema) and starts the
  // engine. Errors: kIo (the journal cannot be created or opened, is not a Switchyard journal, has
  // a newer schema, or is locked beyond 5 s), kInvalidArgument (bad options: threads < 0, a model
  // tier without a name).
  static Result<std::unique_ptr<Runtime>> open(RuntimeOptions options = {});
  // Cancels the runs still in flight (reason "engine shutdown": they end failed), waits for them
  // to end, then closes the journal. REQUIRES: not called from one of the Runtime's callbacks.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Registers builtin `name` (a workflow's {"kind": "builtin", "name": ...} tools), replacing an
  // earlier one of that name for runs started afterwards. Errors: kInvalidArgument (empty name or
  // null function). The function is kept (shared by its calls) until replaced and no call of it
  // is in flight.
  Status add_tool(const std::string& name, SyncTool tool);
  Status add_async_tool(const std::string& name, AsyncTool tool);
  // The same for builtins that take the whole call (the tool's id and `args`).
  Status add_tool(const std::string& name, CallTool tool);
  Status add_async_tool(const std::string& name, AsyncCallTool tool);

  // Starts a run of `workflow` and returns its id at once; `done` is called exactly once with its
  // end. Errors (done is then never called): kInvalidArgument (a builtin the workflow calls is
  // not registered, an llm tool without model tiers, a run input that is not an object, a run id
  // already journaled).
  Result<std::string> start(const Workflow& workflow, RunOptions options, RunDone done);
  // The same, as a future; an error to start is the future's value.
  std::future<Result<RunSummary>> submit(const Workflow& workflow, RunOptions options);
  // The same, as a C++20 awaitable: `Result<RunSummary> r = co_await rt.run_async(w, options);`
  [[nodiscard]] RunAwaiter run_async(const Workflow& workflow, RunOptions options);
  // Runs to the end on the calling thread and returns the summary (errors as start's). The
  // thread drives the run while it waits: sync builtins and mocks are called on it, and with the
  // journal in memory its events are journaled and delivered there too, so such a run involves
  // no other thread; async builtins, HTTP and command tools answer from their own threads as
  // ever, and the run is in flight, cancellable and bounded by its deadline like any other. May
  // be called from a builtin (a run in a run), which holds that builtin's thread meanwhile.
  Result<RunSummary> run(const Workflow& workflow, RunOptions options);

  // Cancels run `run_id` in flight: its tool calls are aborted, a `cancelled` event is journaled
  // and the run ends failed ("cancelled: <reason>"). A run of the journal that is not in flight
  // here but unfinished (a worker runs it, it is queued for one, or no process holds it) has the
  // cancellation queued in the journal: the worker that holds it applies it at its next poll, the
  // one that claims it cancels it before its first step, `resume` cancels it
  // (docs/scale-out.md#cancelling-and-resolving-runs-that-workers-run). Errors: kNotFound when it
  // is neither (unknown, or finished); kFailedPrecondition when a live process that is no worker
  // holds it (cancel it there).
  Status cancel(const std::string& run_id, const std::string& reason = "request");

  // The run queue of a PostgreSQL journal (docs/scale-out.md#workers): admits a run of `workflow`
  // with options.input under options.run_id (or a new id) and returns its id; it stays `queued`
  // until a worker (start_worker here or elsewhere, or `switchyard worker`) that has the same
  // workflow claims and runs it. Nothing runs here. Errors: kInvalidArgument (the journal has no
  // queue: it is not PostgreSQL; an input that is not an object; a run id already in the
  // journal; a budget, a seed, a deadline or on_event in `options`, which a queued run cannot
  // carry to its worker), the journal's.
  Result<std::string> enqueue(const Workflow& workflow, const RunOptions& options = {});
  // Makes this Runtime a worker of its journal's queue: on a thread of its own it claims queued
  // runs of `workflows` (a run is matched to its workflow by content hash) and runs them on this
  // Runtime's engine with its tools (the builtins added so far), holding each by a lease, until
  // stop_worker() or the Runtime is destroyed. Runs another worker held whose lease expired are
  // taken over by the resume rules. Errors: kInvalidArgument (the journal is not PostgreSQL, no
  // workflow, options out of range, a worker already started), a workflow's tools cannot be made.
  Status start_worker(const std::vector<Workflow>& workflows, const WorkerOptions& options = {});
  // Stops the worker claiming, and returns once the runs it has in flight ended (their leases
  // renewed meanwhile). Does nothing without a worker. The Runtime's destructor stops it without
  // waiting for them: it releases their leases at once for another worker to take them over and
  // cancels them here without writing to them (a run held at a wait may never end).
  void stop_worker();
  // What the worker did since start_worker (after stop_worker, what the last one did; zeros if
  // none was started).
  WorkerStats worker_stats() const;
  // The waits runs in flight here are held at (docs/waits.md), oldest first.
  std::vector<Wait> waits() const;
  // Approves wait `wait_id` of run `run_id`: the step succeeds with {"approved": true, "data",
  // "by"} and the run goes on. Errors: kNotFound (no such open wait), kInvalidArgument (not an
  // approval), kFailedPrecondition (already resolved, under another key).
  Status approve(const std::string& run_id, const std::string& wait_id,
                 WaitResolution resolution = {});
  // Rejects it: the step fails (`rejected`, with `resolution.reason`) and the run heals around it
  // like after any failure. Errors as approve's.
  Status reject(const std::string& run_id, const std::string& wait_id,
                WaitResolution resolution = {});
  // Sends signal `name` to run `run_id`: its oldest open wait for that signal ends with
  // `resolution.data` as the step's output. Errors as approve's; kNotFound when the run does not
  // wait for that signal.
  Status signal(const std::string& run_id, const std::string& name, WaitResolution resolution = {});
  // Runs in flight now.
  std::size_t in_flight() const;
  // Blocks until no run is in flight. REQUIRES: not called from a callback.
  void wait_idle();

  // Tells `callback` every event of every run of this Runtime (started or resumed) as it becomes
  // durable (see EventCallback), until the subscription is destroyed. To follow run X from event
  // N on without a gap: subscribe, then read events(X), then drop live events with seq <= the
  // last one read.
  [[nodiscard]] EventSubscription subscribe(EventCallback callback);

  // The journal, newest run first. Errors: kIo (journal).
  Result<std::vector<RunInfo>> list_runs(const RunQuery& query = {}) const;
  // One run's row. Errors: kNotFound (unknown run), kIo.
  Result<RunInfo> get_run(const std::string& run_id) const;
  // One run's events in order. Errors: kNotFound (unknown run), kIo.
  Result<std::vector<Event>> events(const std::string& run_id) const;

  // Sets tenant `key`'s USD cap (creating the tenant), in the journal: shared by every run that
  // names it (RunOptions::tenant), on every process of the journal (docs/budgets.md#tenant-
  // budgets). Errors: kInvalidArgument (an empty or unprintable key, a cap that is negative, not
  // finite or >= 10^12), kIo.
  Status set_tenant_budget(const std::string& key, double usd);
  // Every tenant's budget, by key. Errors: kIo.
  Result<std::vector<TenantBudget>> tenant_budgets() const;

  // Replay with verification (`switchyard replay --verify`): checks the run's hash chain and
  // re-drives its decisions from the recorded outcomes, calling no tool and spending nothing. A
  // run that fails verification is an OK result whose report says why; so does a run with a
  // journal row that cannot be decoded (`decisions` names the row: "run r-... seq 7
  // (step_failed): /payload/tool: ...", `chain` says it was not checked). Errors: kNotFound, kIo.
  Result<VerifyReport> verify(const std::string& run_id) const;
  // A picture of a journaled run (`switchyard replay --format dot|html`). Errors: kNotFound
  // (unknown run, or a journal without its workflow), kIo, kInternal (Graphviz failed).
  Result<std::string> render(const std::string& run_id, Picture picture) const;

  // Continues run `run_id`, which did not finish because its process died (docs/journal.md#resume),
  // on this Runtime's engine, and returns once it is in flight here; `done` is called exactly once
  // with its end. The run's state is rebuilt from its journal, so completed steps are not run
  // again; a call that was in flight is repeated only when its tool is idempotent (or sends an
  // idempotency key), otherwise the run ends escalated (`in_doubt`). The waits it was held at are
  // held again (docs/waits.md#surviving-a-restart): listed by waits() when this returns, resolved
  // by approve/reject/signal; a timer or timeout counts from the wait's original start, so one
  // whose time passed while no process ran the run is due at once. Builtins the workflow calls
  // must be registered. Errors (done is then never called): kNotFound (unknown run),
  // kFailedPrecondition (finished, in flight in this Runtime, owned by a live process, or a
  // journal that does not re-drive), kInvalidArgument (the journal's copy of the workflow is
  // redacted and options.workflow is not given or not the run's), kIo.
  Status start_resume(const std::string& run_id, const ResumeOptions& options, RunDone done);
  // The same, on the calling thread: returns the run's end (a run held at a wait returns once
  // another thread resolved it). REQUIRES: not called from a callback.
  Result<RunSummary> resume(const std::string& run_id, const ResumeOptions& options = {});

  // The journal's file ("" in memory).
  std::string journal_path() const;

  // The trace exporter's counts (all 0 without RuntimeOptions::otlp_endpoint).
  TraceStats trace_stats() const;

  // Every tool's health as this Runtime's monitor sees it now (the one its runs route by): a JSON
  // array with one object per tool it has outcomes of, the fields of `switchyard health --json`'s
  // "tools" (docs/cli.md): "tool", "breaker", "factor", "reliability", "latency_ms", ...
  nlohmann::json health() const;

  struct Impl;  // internal, incomplete outside the library

 private:
  SWITCHYARD_HIDDEN explicit Runtime(std::unique_ptr<Impl> impl);  // by open() only; not exported
  std::unique_ptr<Impl> impl_{};
};

// This library's version, "major.minor.patch".
SWITCHYARD_API const char* version();

}  // namespace switchyard::api
