#pragma once
// Service::Impl: the service's state and its request handlers, shared by service.cc (wiring,
// lifecycle, auth, health, metrics), routes.cc (the router), routes_workflows.cc and
// routes_runs.cc. Internal.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>

#include "graph/json_read.h"
#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/health_share.h"
#include "runtime/engine/llm_history.h"
#include "runtime/engine/startup.h"
#include "runtime/journal/event_feed.h"
#include "runtime/journal/otlp_exporter.h"
#include "runtime/service/access.h"
#include "runtime/service/event_stream.h"
#include "runtime/service/http_message.h"
#include "runtime/service/http_server.h"
#include "runtime/service/interrupt_gate.h"
#include "runtime/service/metrics.h"
#include "runtime/service/service.h"
#include "tools/models.h"
#include "tools/tool_set.h"

namespace switchyard::service {

// A registered workflow: what runs of it need.
struct Registered {
  std::shared_ptr<const graph::Workflow> workflow;
  std::shared_ptr<tools::ToolSet> tools;
  std::string hash;
  std::shared_ptr<const std::string> source;  // canonical JSON, secrets redacted
  std::int64_t registered_ms = 0;
};

// One authenticated caller: the index of its token (0 for the anonymous caller without auth).
struct Caller {
  std::size_t token = 0;
};

// Responses.
HttpResponse json_response(int status, const nlohmann::json& body);
// {"error": {"code", "message"}} with the HTTP status for the Status code.
HttpResponse error_response(const Status& status);
HttpResponse error_response(int http_status, const std::string& code, const std::string& message);
// The error of a journal read (Journal::get_run, events): a row that cannot be decoded
// (kInvalidArgument naming the row, docs/journal.md#a-poisoned-journal) is the journal's fault,
// not the client's: 500 "journal_row". Other errors as error_response(status).
HttpResponse journal_error_response(const Status& status);
// The body as a JSON object, parsed within `limits` (graph/json_read.h), or the error to answer
// 400: not JSON, too deep (naming max_depth), not an object.
Result<nlohmann::json> parse_json_body(const HttpRequest& req, const JsonLimits& limits);
// 400 `invalid_argument` for a bad field of a request body: {"error": {"code", "message",
// "pointer"}}, `pointer` the RFC 6901 pointer of the field ("" for the body itself).
HttpResponse field_error(const std::string& pointer, const Status& status);
// The web console's file `req` asks for (GET / is index.html; GET /console/NAME is NAME, decoded),
// or nullopt: answered without a token, as the page itself asks for one (routes_console.cc).
std::optional<std::string> console_file_name(const HttpRequest& req);

class Service::Impl {
 public:
  explicit Impl(const ServiceOptions& o);
  Status open();
  HttpResponse handle(const HttpRequest& req);
  DrainReport drain();

  // routes_workflows.cc. `over_http`: posted by a client, so command tools are refused unless
  // options.allow_command_tools (the refusal is errors[0] with "code": "command_tools_refused").
  Result<Registered> register_workflow(const std::string& text, const std::string& file,
                                       nlohmann::json* errors, nlohmann::json* warnings,
                                       bool over_http = false);
  HttpResponse post_workflow(const HttpRequest& req);
  HttpResponse list_workflows();
  HttpResponse get_workflow(const std::string& name);

  // routes_runs.cc
  HttpResponse post_run(const HttpRequest& req, const Caller& caller);
  HttpResponse list_runs(const HttpRequest& req);
  HttpResponse get_run(const std::string& id);
  HttpResponse cancel_run(const Caller& caller, const std::string& id);
  HttpResponse replay(const HttpRequest& req, const std::string& id);
  HttpResponse events(const HttpRequest& req, const std::string& id);

  // routes_waits.cc: GET /v1/waits[?run=ID]; POST /v1/runs/{id}/waits/{wait} (`signal` false:
  // approve or reject wait `target`) and POST /v1/runs/{id}/signals/{name} (`signal` true:
  // `target` is the signal's name). `by` defaults to caller_name(caller).
  HttpResponse list_waits(const HttpRequest& req);
  HttpResponse resolve_wait(const HttpRequest& req, const Caller& caller, const std::string& run_id,
                            const std::string& target, bool signal);
  // The open waits of run `run_id` ("" for every run in flight here), as runtime::wait_json, oldest
  // first.
  nlohmann::json waits_of(const std::string& run_id) const;
  // Who a caller is, for the journal: "token #N", or "anonymous" without authentication.
  std::string caller_name(const Caller& caller) const;

  // routes_console.cc: the console's static files (GET / and /console/{file}, public), a
  // registered workflow's graph with its cheapest route now, and spend by workflow, tier and day.
  HttpResponse console_file(const std::string& name);
  HttpResponse workflow_graph(const std::string& name);
  HttpResponse budget(const HttpRequest& req);

  // routes.cc: dispatches an authenticated request by the table of routes.h.
  HttpResponse route(const HttpRequest& req, const Caller& caller);

  // service.cc
  HttpResponse health_json();
  // The limits of a JSON request body: options.max_json_depth, http.max_body_bytes.
  JsonLimits body_limits() const;
  HttpResponse metrics_text();

  ServiceOptions options;
  runtime::SystemClock clock;
  // The SQLite journal, the health monitor and learned escalation's history, as the startup
  // sequence made them (runtime/engine/startup.h), and what it skipped in the journal (logged
  // once, and the /readyz detail).
  runtime::Startup core;
  std::unique_ptr<runtime::EventFeed> feed;  // over core.journal
  std::unique_ptr<InterruptGate> gate;       // over feed: what runs write through
  tools::Models models;
  Metrics metrics;
  std::unique_ptr<runtime::OtlpExporter> otlp;  // with options.otlp_endpoint: the traces' exporter
  runtime::EventFeed::Subscription feed_subscription;  // metrics, end_run, otlp
  std::unique_ptr<TokenSet> tokens;
  std::unique_ptr<RateLimiter> rate;
  std::unique_ptr<RunSlots> slots;
  std::unique_ptr<runtime::Engine> engine;
  // On a PostgreSQL journal: what the other processes' outcomes teach core.health.
  std::unique_ptr<runtime::HealthShare> health_share;
  // options.queue: the journal's run queue, the poller of the event streams of the runs workers
  // run (on any PostgreSQL journal: of the runs other processes write), and how many runs this
  // process admitted into the queue.
  runtime::RunQueue* queue = nullptr;
  std::unique_ptr<StreamPoller> poller;
  std::atomic<std::uint64_t> admitted{0};
  // options.queue: POST /v1/runs admits the run into the queue (routes_runs.cc).
  HttpResponse enqueue(const Registered& w, const std::string& name, runtime::RunRequest request);

  mutable std::shared_mutex registry_mu;
  std::map<std::string, Registered> registry;  // by name, under registry_mu

  std::atomic<bool> draining{false};
  // Admission of runs against the drain: post_run holds it shared from its check of `draining`
  // until the run is started on the engine (and cancel_run while it looks a run up); drain()
  // takes it exclusively to set `draining`.
  std::shared_mutex admission_mu;
  std::mutex runs_mu;
  std::condition_variable runs_cv;
  // Runs started here and not yet ended, with the token that started them (kNoSlot: resumed at
  // start, no token's slot); under runs_mu.
  static constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);
  std::map<std::string, std::size_t> active;
  // open(): continues the runs a dead process left unfinished (ServiceOptions::resume_orphans).
  void resume_orphans();
  // Ends run `id` for the limits and the drain: gives its token's slot back. Called when its
  // run_finished is committed (before any client can have seen it) and when the engine is done
  // with it (a run that ends without run_finished); the second call does nothing.
  void end_run(const std::string& id);
  // Whether run `id` was started here and has not ended (it may have no journal row yet).
  bool is_active(const std::string& id);

  // The wait each signal sent here with an idempotency key resolved, by (run, key): a signal
  // delivered again is answered with the same wait id. Under signals_mu; a run's entries are
  // dropped by end_run.
  std::mutex signals_mu;
  std::map<std::pair<std::string, std::string>, std::string> applied_signals;

  std::mutex drain_mu;
  std::optional<DrainReport> drained;  // under drain_mu

  std::unique_ptr<HttpServer> server;  // last: stopped first
};

}  // namespace switchyard::service
