// switchyard worker --journal postgresql://... --workflow WF.json... [--models M] [--name N]
//                   [--max-runs N] [--lease D] [--heartbeat D] [--poll D] [--engine-threads N]
//                   [--otlp-endpoint URL] [--health-poll D]
// switchyard enqueue WF.json --journal postgresql://... [--input JSON] [--run-id ID] [--tenant K]
//                    [--json]
// A worker runs the runs of a PostgreSQL journal's queue; enqueue admits one
// (docs/scale-out.md#workers).

#include "runtime/worker/worker.h"

#include <pthread.h>
#include <signal.h>

#include <thread>

#include "graph/json_read.h"
#include "runtime/base/system_clock.h"
#include "runtime/base/workflow_file.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/session.h"
#include "runtime/engine/health_share.h"
#include "runtime/engine/startup.h"
#include "runtime/journal/event_feed.h"
#include "runtime/journal/otlp_exporter.h"
#include "tools/models.h"
#include "tools/trace_context.h"

namespace switchyard::cli {
namespace {

struct WorkerArgs {
  std::string journal = default_journal_path();
  std::vector<std::string> workflows;
  std::string models;
  std::string name;
  int max_runs = 64;
  std::string lease = "15s";
  std::string heartbeat = "5s";
  std::string poll = "100ms";
  std::string health_poll = "200ms";
  std::string throttle_lease = "10s";
  int engine_threads = 2;
  std::string otlp_endpoint;
};

struct EnqueueArgs {
  std::string journal = default_journal_path();
  std::string workflow;
  std::string input = "{}";
  std::string run_id;
  std::optional<std::string> tenant;
  bool json = false;
};

int worker(Context& ctx, const WorkerArgs& args) {
  if (!runtime::is_postgres_location(args.journal)) {
    return report_error(ctx,
                        invalid_argument("worker needs a PostgreSQL journal "
                                         "(--journal postgresql://...): a SQLite file has no "
                                         "queue shared between processes"),
                        false);
  }
  // SIGTERM and SIGINT are taken by this thread only (sigwait below): the worker then claims
  // nothing more and returns once its runs in flight ended. Blocked before any thread exists
  // (the tools' I/O, the journal's, the exporter's, the engine's), so that they inherit the mask
  // and none of them can take a SIGTERM (its default action would end the process without the
  // graceful stop).
  const sigset_t signals = block_stop_signals();
  runtime::WorkerOptions options;
  options.name = args.name;
  options.max_runs = args.max_runs;
  auto lease = duration_arg("--lease", args.lease);
  auto heartbeat = duration_arg("--heartbeat", args.heartbeat);
  auto poll = duration_arg("--poll", args.poll);
  auto health_poll = args.health_poll == "0"
                         ? Result<std::chrono::milliseconds>(std::chrono::milliseconds(0))
                         : duration_arg("--health-poll", args.health_poll);
  auto throttle_lease = throttle_lease_arg(args.throttle_lease);
  for (const auto* d : {&lease, &heartbeat, &poll, &health_poll, &throttle_lease}) {
    if (!d->ok()) return report_error(ctx, d->status(), false);
  }
  options.lease = *lease;
  options.heartbeat = *heartbeat;
  options.poll = *poll;
  if (args.engine_threads < 1) {
    return report_error(ctx, invalid_argument("--engine-threads must be at least 1"), false);
  }
  tools::Models models;
  if (!args.models.empty()) {
    auto loaded = tools::load_models_file(args.models);
    if (!loaded.ok()) {
      for (const auto& d : loaded.errors) *ctx.err << "error: " << d.to_string() << "\n";
      return kExitInvalid;
    }
    models = std::move(loaded.models);
  }
  std::vector<runtime::WorkerWorkflow> workflows;
  for (const auto& path : args.workflows) {
    auto loaded = runtime::load_workflow_file(path);
    if (!loaded.ok()) {
      report_diagnostics(ctx, loaded, false);
      return kExitInvalid;
    }
    auto tools = tools::make_tool_set(*loaded.workflow, {.models = &models});
    if (!tools.ok()) return report_error(ctx, tools.status(), false);
    workflows.push_back({loaded.workflow, *tools});
  }
  runtime::SystemClock clock;
  auto started = runtime::start_up(clock, {.journal_path = args.journal,
                                           .journal = {.throttle_lease = *throttle_lease},
                                           .rebuild_history = models.tiers.size() > 1});
  if (!started.ok()) return report_error(ctx, started.status(), false);
  if (!started->report.skipped.empty()) {
    *ctx.err << "warning: " << started->report.summary(args.journal) << "\n";
  }
  // With --otlp-endpoint: the engine writes through a feed whose events the exporter reads
  // (docs/tracing.md), as `run` and `serve` do; the queue is the journal's own.
  std::unique_ptr<runtime::OtlpExporter> otlp;
  std::unique_ptr<runtime::EventFeed> feed;
  runtime::EventFeed::Subscription traced;
  runtime::Journal* engine_journal = started->journal.get();
  if (!args.otlp_endpoint.empty()) {
    auto exporter = runtime::OtlpExporter::start({.endpoint = args.otlp_endpoint});
    if (!exporter.ok()) return report_error(ctx, exporter.status(), false);
    otlp = std::move(*exporter);
    feed = std::make_unique<runtime::EventFeed>(*started->journal);
    traced = feed->subscribe([o = otlp.get()](const runtime::Event& e) { o->observe(e); });
    engine_journal = feed.get();
    tools::set_traceparent_enabled(true);
  }
  runtime::EngineOptions engine_options;
  engine_options.threads = args.engine_threads;
  engine_options.models = &models;
  auto engine = runtime::build_engine(*started, *engine_journal, clock, engine_options);
  // Claims and lease renewals on a connection of their own: on the journal's, they would wait
  // behind its commits, and the commits behind them (docs/benchmarks.md, "The run queue").
  std::unique_ptr<runtime::Journal> claims;
  if (runtime::is_postgres_location(args.journal)) {
    auto opened = runtime::open_journal(args.journal, {.create_if_missing = false});
    if (!opened.ok()) return report_error(ctx, opened.status(), false);
    claims = std::move(*opened);
  }
  auto w = runtime::Worker::create(*started->journal, *engine, clock, std::move(workflows), options,
                                   claims ? claims->run_queue() : nullptr);
  if (!w.ok()) return report_error(ctx, w.status(), false);
  // Shared health (docs/scale-out.md#shared-health): the outcomes the other workers (and any
  // `serve`) journal reach this worker's health monitor every --health-poll; 0 turns it off.
  std::unique_ptr<runtime::HealthShare> share;
  if (health_poll->count() > 0) {
    auto made =
        runtime::HealthShare::create(*started->journal, *started->health, {.poll = *health_poll});
    if (!made.ok()) return report_error(ctx, made.status(), false);
    share = std::move(*made);
    share->start();
  }
  runtime::Worker& worker = **w;
  *ctx.out << "worker " << worker.name() << " on " << runtime::printable_location(args.journal)
           << std::endl;
  std::thread loop([&worker] { worker.run(); });
  int signal = 0;
  sigwait(&signals, &signal);
  *ctx.err << "switchyard worker: " << (signal == SIGINT ? "SIGINT" : "SIGTERM")
           << ": claiming no more runs, finishing " << worker.held().size() << " in flight"
           << std::endl;
  worker.stop();
  loop.join();
  const runtime::WorkerStats s = worker.stats();
  *ctx.out << "stopped: " << s.claimed << " claimed, " << s.taken_over << " taken over, "
           << s.finished << " finished, " << s.lost << " lost to another worker, " << s.failed
           << " failed" << std::endl;
  share.reset();
  w->reset();
  engine.reset();  // every write committed: the exporter has seen every event
  traced.reset();
  otlp.reset();  // sends what is queued
  return kExitOk;
}

int enqueue(Context& ctx, const EnqueueArgs& args) {
  auto input =
      parse_untrusted(args.input, {.max_depth = 128, .max_bytes = 16 << 20, .what = "--input"});
  if (!input.ok()) return report_error(ctx, input.status(), args.json);
  if (Status s = JsonView(*input).expect_object(); !s.ok()) {
    return report_error(ctx, invalid_argument("--input: " + s.message()), args.json);
  }
  auto loaded = runtime::load_workflow_file(args.workflow);
  if (!loaded.ok()) {
    report_diagnostics(ctx, loaded, args.json);
    return kExitInvalid;
  }
  auto journal = runtime::open_journal(args.journal);
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);
  runtime::RunQueue* queue = (*journal)->run_queue();
  if (queue == nullptr) {
    return report_error(ctx,
                        invalid_argument("enqueue needs a PostgreSQL journal "
                                         "(--journal postgresql://...)"),
                        args.json);
  }
  runtime::SystemClock clock;
  if (args.tenant) {
    if (Status s = runtime::check_tenant_key(*args.tenant); !s.ok()) {
      return report_error(ctx, invalid_argument("--tenant: " + s.message()), args.json);
    }
  }
  auto id = runtime::enqueue_run(*queue, *loaded.workflow, *input, clock, args.run_id,
                                 args.tenant.value_or(""));
  if (!id.ok()) return report_error(ctx, id.status(), args.json);
  if (args.json) {
    *ctx.out << json_text(nlohmann::json{{"run_id", *id}, {"status", "queued"}}) << "\n";
  } else {
    *ctx.out << *id << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_worker(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "worker", "Run the queued runs of a PostgreSQL journal, with any number of other workers");
  auto args = std::make_shared<WorkerArgs>();
  add_journal_option(cmd, args->journal);
  cmd->add_option("--workflow", args->workflows, "A workflow file whose runs it takes (repeatable)")
      ->required();
  cmd->add_option("--models", args->models, "Models file (docs/models.md)");
  cmd->add_option("--name", args->name,
                  "Its name in the journal (default: host:pid:random); unique among workers");
  cmd->add_option("--max-runs", args->max_runs, "Runs in flight at most")->capture_default_str();
  cmd->add_option("--lease", args->lease, "How long a claimed run stays its without a heartbeat")
      ->capture_default_str();
  cmd->add_option("--heartbeat", args->heartbeat, "How often it renews its leases (< --lease)")
      ->capture_default_str();
  cmd->add_option("--poll", args->poll, "How often an idle worker looks at the queue")
      ->capture_default_str();
  cmd->add_option("--engine-threads", args->engine_threads, "Engine threads (event loops)")
      ->capture_default_str();
  cmd->add_option("--health-poll", args->health_poll,
                  "How often it learns the tool outcomes other processes journal (0: never)")
      ->capture_default_str();
  add_throttle_lease_option(cmd, args->throttle_lease);
  add_otlp_option(cmd, args->otlp_endpoint);
  cmd->callback([&ctx, args] { ctx.exit_code = worker(ctx, *args); });

  auto* enq = app.add_subcommand("enqueue", "Admit a run into a PostgreSQL journal's queue");
  auto eargs = std::make_shared<EnqueueArgs>();
  enq->add_option("workflow", eargs->workflow, "Workflow file (JSON)")->required();
  add_journal_option(enq, eargs->journal);
  enq->add_option("--input", eargs->input, "Run input: a JSON object")->capture_default_str();
  enq->add_option("--run-id", eargs->run_id, "The run's id (default: a new one)");
  enq->add_option("--tenant", eargs->tenant,
                  "Budget key: the run's calls reserve against this tenant's shared USD budget");
  enq->add_flag("--json", eargs->json, "Print one JSON document");
  enq->callback([&ctx, eargs] { ctx.exit_code = enqueue(ctx, *eargs); });
}

}  // namespace switchyard::cli
