#pragma once
// Service: `switchyard serve`, the runtime behind an HTTP API (docs/service.md, docs/openapi.yaml).
//
// Workflows are registered over HTTP (or preloaded from files) and kept in memory; runs execute on
// an Engine, journaled in one SQLite journal wrapped in an EventFeed that streams their events to
// clients (SSE) and to the metrics. Bearer tokens guard every endpoint but /healthz and /readyz;
// each token has a request rate and a cap on its runs in flight.
//
// Lifecycle: start() listens and serves on its own threads; drain() (on SIGTERM/SIGINT) refuses
// new runs, turns /readyz to 503, waits up to the grace period for the runs in flight, interrupts
// the others so that `switchyard resume` continues them (runtime/service/interrupt_gate.h),
// flushes the journal and stops the server.
//
// Thread-safety: drain() and url() may be called from any thread.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "graph/status.h"
#include "runtime/journal/journal.h"
#include "runtime/service/access.h"
#include "runtime/service/http_server.h"

namespace switchyard::service {

struct ServiceOptions {
  std::string journal_path;  // the SQLite journal (created when missing); REQUIRES: not empty
  runtime::JournalSync sync = runtime::JournalSync::kNormal;
  HttpServerOptions http;  // host (127.0.0.1), port (0: free), body limit, timeouts
  // Accepted bearer tokens. REQUIRES: not empty unless allow_no_auth.
  std::vector<std::string> tokens;
  // No authentication (every request is the anonymous caller). REQUIRES: a loopback host.
  bool allow_no_auth = false;
  RateOptions rate;              // per token
  int max_concurrent_runs = 64;  // per token; <= 0: no limit
  // How long drain() waits for runs in flight before interrupting them.
  std::chrono::milliseconds grace{10000};
  std::string models_path;                  // models file for llm tools ("": none)
  std::vector<std::string> workflow_files;  // registered at start (trusted: any tool kind)
  // Whether POST /v1/workflows accepts workflows with `command` tools (which run programs on
  // this host as the server's user). Default false: such a workflow is refused with 403.
  bool allow_command_tools = false;
  // An OpenTelemetry collector's OTLP/HTTP URL: runs are exported to it as traces, and http tools
  // send `traceparent` (runtime/service/otlp_exporter.h, docs/tracing.md). "": no tracing.
  std::string otlp_endpoint;
  int engine_threads = 2;  // the Engine's event loops
  // At start, continue here the runs of the journal that did not finish because their process
  // died (owner no longer alive) and whose workflow is registered at start under the same name
  // and hash (workflow_files): runs held at waits are held again, timers re-armed
  // (docs/service.md#restarts). Others are left for `switchyard resume` (and logged). SQLite
  // journals only: on PostgreSQL a run's owner may live on another host.
  bool resume_orphans = true;
  // The service as the front door of a shared queue (docs/scale-out.md#the-service-on-a-queue):
  // POST /v1/runs admits each run into the journal's queue (`queued`, 202) for workers
  // (`switchyard worker`) to claim and run, instead of running it here; the event streams of those
  // runs read the journal every `queue_poll`; /metrics shows the queue. REQUIRES a journal with a
  // run queue (PostgreSQL): start() fails with kInvalidArgument otherwise.
  bool queue = false;
  // How often the event streams of runs other processes write read the journal: with `queue`,
  // every run's; on a PostgreSQL journal without it, those of the runs not in flight here.
  std::chrono::milliseconds queue_poll{200};  // > 0
  // On a journal shared by several processes (PostgreSQL): how often the health monitor learns
  // the tool outcomes the other processes (workers, other services) journal
  // (docs/scale-out.md#shared-health); /metrics then shows switchyard_health_share_*. 0: never.
  std::chrono::milliseconds health_poll{200};
  // On a PostgreSQL journal: how long a throttled call's slot is held without being renewed
  // (runtime::JournalOptions::throttle_lease, docs/scale-out.md#limits-across-workers). > 0.
  std::chrono::milliseconds throttle_lease{10000};
  // The deepest nesting of arrays and objects a JSON request body may have (POST /v1/runs,
  // POST /v1/workflows); deeper bodies are answered 400 naming max_depth before they are parsed.
  // Their size is bounded by http.max_body_bytes (413).
  std::size_t max_json_depth = 128;
  // false: no HTTP server; requests reach the service through Service::handle() only (the
  // fuzzer, tests). url() is then "".
  bool listen = true;
};

struct DrainReport {
  std::size_t finished = 0;              // runs that ended within the grace period
  std::vector<std::string> interrupted;  // runs left `running` for resume
};

class Service {
 public:
  // Opens the journal, rebuilds tool health from it, registers `workflow_files`, starts the
  // engine and the server. Errors: kInvalidArgument (options: no token without allow_no_auth,
  // no-auth on a non-loopback host, a workflow or models file that does not load), kIo (the
  // journal), kUnavailable (cannot listen).
  static Result<std::unique_ptr<Service>> start(const ServiceOptions& options);
  // Drains if drain() was not called.
  ~Service();

  // "http://HOST:PORT", the address it listens on ("" without `listen`).
  std::string url() const;

  // Answers one request in-process as the server answers it (probes, authentication, rate,
  // routes), without a socket: for the fuzzer and tests. An event stream (GET .../events) is
  // returned unsent in HttpResponse::stream. Thread-safe, as the server's handler is.
  // REQUIRES: drain() has not been called.
  HttpResponse handle(const HttpRequest& req);

  // The graceful shutdown described above; returns what became of the runs in flight.
  // Idempotent: a second call returns the first one's report.
  DrainReport drain();

  class Impl;

 private:
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::service
