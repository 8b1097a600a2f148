#include "runtime/service/service.h"

#include <boost/asio/ip/address.hpp>
#include <limits>

#include "runtime/base/workflow_file.h"
#include "runtime/engine/health_json.h"
#include "runtime/engine/health_rebuild.h"
#include "runtime/replay/resumable.h"
#include "runtime/service/log.h"
#include "runtime/service/service_impl.h"
#include "tools/trace_context.h"

namespace switchyard::service {
namespace {

bool is_loopback(const std::string& host) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

int http_status_for(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

}  // namespace

HttpResponse json_response(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  // Strings from the client (a path, a query value, a header) may be any bytes: invalid UTF-8 is
  // sent as U+FFFD rather than thrown about by dump().
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse error_response(int http_status, const std::string& code, const std::string& message) {
  return json_response(http_status, {{"error", {{"code", code}, {"message", message}}}});
}

HttpResponse error_response(const Status& status) {
  return error_response(http_status_for(status.code()), std::string(to_string(status.code())),
                        status.message());
}

HttpResponse journal_error_response(const Status& status) {
  if (status.code() == StatusCode::kInvalidArgument) {
    return error_response(500, "journal_row", status.message());
  }
  return error_response(status);
}

Result<nlohmann::json> parse_json_body(const HttpRequest& req, const JsonLimits& limits) {
  if (req.body.empty())
    return invalid_argument("the request body is empty: expected a JSON object");
  auto doc = parse_untrusted(req.body, limits);
  if (!doc.ok()) return doc.status();
  if (Status s = JsonView(*doc).expect_object(); !s.ok()) return s;
  return doc;
}

HttpResponse field_error(const std::string& pointer, const Status& status) {
  return json_response(400, {{"error",
                              {{"code", std::string(to_string(StatusCode::kInvalidArgument))},
                               {"message", status.message()},
                               {"pointer", pointer}}}});
}

JsonLimits Service::Impl::body_limits() const {
  return {.max_depth = options.max_json_depth,
          .max_bytes = static_cast<std::size_t>(options.http.max_body_bytes),
          .what = "request body"};
}

Service::Impl::Impl(const ServiceOptions& o) : options(o) {}

Status Service::Impl::open() {
  if (options.journal_path.empty()) return invalid_argument("--journal is required");
  if (options.tokens.empty() && !options.allow_no_auth) {
    return invalid_argument(
        "no token configured: give --tokens-file or SWITCHYARD_TOKENS (or --no-auth on a "
        "loopback address, for development)");
  }
  if (options.allow_no_auth && !is_loopback(options.http.host)) {
    return invalid_argument("--no-auth is only allowed on a loopback address, not " +
                            options.http.host);
  }
  if (options.throttle_lease.count() <= 0) {
    return invalid_argument("the throttle lease (--throttle-lease) must be above 0 ms, not " +
                            std::to_string(options.throttle_lease.count()) + " ms");
  }
  if (options.allow_no_auth) options.tokens.clear();
  tokens = std::make_unique<TokenSet>(options.tokens);
  const std::size_t callers = std::max<std::size_t>(1, tokens->size());
  rate = std::make_unique<RateLimiter>(options.rate, callers);
  slots = std::make_unique<RunSlots>(options.max_concurrent_runs, callers);

  if (!options.models_path.empty()) {
    auto loaded = tools::load_models_file(options.models_path);
    if (!loaded.ok()) return invalid_argument(loaded.errors.front().to_string());
    models = std::move(loaded.models);
  }
  // The startup sequence every front end shares (runtime/engine/startup.h).
  auto started = runtime::start_up(
      clock, {.journal_path = options.journal_path,
              .journal = {.sync = options.sync, .throttle_lease = options.throttle_lease},
              .rebuild_history = models.tiers.size() > 1});
  if (!started.ok()) return started.status();
  core = std::move(started).value();
  if (!core.report.skipped.empty()) {
    logger().warn("{}", core.report.summary(options.journal_path));
  }
  if (options.queue) {
    queue = core.journal->run_queue();
    if (queue == nullptr) {
      return invalid_argument(
          "--queue needs a journal with a run queue, a PostgreSQL database "
          "(postgresql://...): " +
          runtime::printable_location(options.journal_path) + " is a SQLite file");
    }
    if (options.queue_poll.count() <= 0) {
      return invalid_argument("the queue's event poll interval must be above 0 ms");
    }
  }
  feed = std::make_unique<runtime::EventFeed>(*core.journal);
  // On a journal other processes write too (PostgreSQL: workers, other services), the streams of
  // their runs are read from the journal: this process's feed never sees their events.
  if ((queue != nullptr || core.journal->run_queue() != nullptr) &&
      options.queue_poll.count() > 0) {
    poller = std::make_unique<StreamPoller>(*feed, options.queue_poll);
  }
  gate = std::make_unique<InterruptGate>(*feed, options.grace);
  for (const auto& file : options.workflow_files) {
    auto text = runtime::read_file(file);
    if (!text.ok()) return text.status();
    nlohmann::json errors, warnings;
    auto registered = register_workflow(*text, file, &errors, &warnings);
    if (!registered.ok()) return registered.status();
  }
  if (!options.otlp_endpoint.empty()) {
    auto exporter = runtime::OtlpExporter::start({.endpoint = options.otlp_endpoint});
    if (!exporter.ok()) return exporter.status();
    otlp = std::move(*exporter);
    tools::set_traceparent_enabled(true);
    logger().info("exporting traces to {} (OTLP/HTTP JSON)", options.otlp_endpoint);
  }
  feed_subscription = feed->subscribe([this](const runtime::Event& e) {
    metrics.observe(e);
    if (otlp) otlp->observe(e);
    if (e.type == "run_finished") end_run(e.run_id);
  });
  engine = runtime::build_engine(
      core, *gate, clock,
      runtime::EngineOptions{.threads = options.engine_threads, .models = &models});
  if (core.journal->health_feed() != nullptr && options.health_poll.count() > 0) {
    auto share =
        runtime::HealthShare::create(*core.journal, *core.health, {.poll = options.health_poll});
    if (!share.ok()) return share.status();
    health_share = std::move(*share);
    health_share->start();
  }
  resume_orphans();
  if (!options.listen) return Status();
  auto listening = HttpServer::start(options.http, [this](const HttpRequest& req) {
    HttpResponse r = handle(req);
    metrics.observe_request(r.status);
    return r;
  });
  if (!listening.ok()) return listening.status();
  server = std::move(*listening);
  logger().info("listening on {}:{} (journal {}, {} token(s))", server->host(), server->port(),
                runtime::printable_location(options.journal_path), tokens->size());
  return Status();
}

HttpResponse Service::Impl::handle(const HttpRequest& req) {
  // Probes are public: an orchestrator calls them without credentials.
  if (req.path == "/healthz") return json_response(200, {{"status", "alive"}});
  if (req.path == "/readyz") {
    if (draining.load()) return json_response(503, {{"status", "draining"}});
    nlohmann::json ready = {{"status", "ready"},
                            {"journal", runtime::printable_location(options.journal_path)}};
    // What the start skipped in the journal: rows that cannot be decoded (docs/service.md).
    if (!core.report.skipped.empty()) ready["journal_skipped"] = core.report.to_json();
    return json_response(200, ready);
  }
  // The console's pages hold no data (they fetch it with the token the user gives them).
  if (auto name = console_file_name(req)) return console_file(*name);
  Caller caller;
  if (!tokens->empty()) {
    auto token = tokens->match(req.header("authorization"));
    if (!token) {
      logger().info("{} {} from {}: 401", req.method, req.path, req.peer);
      HttpResponse r = error_response(
          401, "unauthenticated",
          req.header("authorization").empty() ? "missing bearer token" : "invalid bearer token");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"switchyard\"");
      return r;
    }
    caller.token = static_cast<std::size_t>(*token);
  }
  if (auto wait = rate->take(caller.token, std::chrono::steady_clock::now())) {
    HttpResponse r = error_response(
        429, "rate_limited",
        "too many requests for this token: retry after " + std::to_string(wait->count()) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(wait->count()));
    return r;
  }
  HttpResponse r = route(req, caller);
  logger().debug("{} {} (token #{}): {}", req.method, req.path, caller.token, r.status);
  return r;
}

HttpResponse Service::Impl::health_json() {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& h : core.health->snapshot()) list.push_back(runtime::tool_health_json(h));
  return json_response(200, {{"journal", runtime::printable_location(options.journal_path)},
                             {"now_ms", runtime::unix_ms_of(clock.now())},
                             {"tools", list}});
}

HttpResponse Service::Impl::metrics_text() {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics.render(engine->in_flight(), core.health->snapshot(), engine->waits().size());

  // With --otlp-endpoint: the trace exporter's counts.
  if (otlp) r.body += render_otlp_metrics(otlp->stats());
  // On a shared journal: what the health monitor learned from the other processes.
  if (health_share) r.body += render_health_share_metrics(health_share->stats());
  // With --queue: the queue's depth and leases, read from the journal now.
  if (queue != nullptr) {
    auto stats = queue->stats(runtime::unix_ms_of(clock.now()));
    if (!stats.ok()) logger().warn("/metrics: {}", stats.status().message());
    r.body +=
        render_queue_metrics(stats.ok() ? &*stats : nullptr, admitted.load(), poller->watched());
  }
  return r;
}

DrainReport Service::Impl::drain() {
  std::lock_guard drain_lock(drain_mu);
  if (drained) return *drained;
  {
    // New runs get 503, /readyz 503. Taken exclusively: a POST /v1/runs that saw `draining`
    // false holds the admission lock shared until its run is in `active` and started on the
    // engine, so once this returns every run answered 202 is one the wait below sees.
    // `draining` is set before the lock is taken, so that POSTs arriving meanwhile see it and
    // answer 503 instead of queueing for the shared lock ahead of this one (glibc's rwlock
    // prefers readers: a steady stream of them would starve the drain).
    draining = true;
    std::unique_lock admit(admission_mu);
  }
  DrainReport report;
  std::vector<std::string> left;
  {
    std::unique_lock lock(runs_mu);
    const std::size_t before = active.size();
    runs_cv.wait_for(lock, options.grace, [this] { return active.empty(); });
    report.finished = before - active.size();
    for (const auto& [id, token] : active) left.push_back(id);
  }
  if (!left.empty()) {
    // Past the grace period: the runs still going are interrupted for `switchyard resume`: left
    // `running`, every event so far committed, then `run_interrupted` (interrupt_gate.h).
    for (const auto& id : left) engine->cancel(id, kInterruptReason);
    engine->wait_idle();
    const auto interrupted = gate->interrupted();
    report.interrupted.assign(interrupted.begin(), interrupted.end());
    logger().warn(
        "shutdown: {} run(s) interrupted after the grace period; `switchyard resume "
        "--all --journal {}` continues them",
        report.interrupted.size(), runtime::printable_location(options.journal_path));
  }
  if (server) server->stop();  // closes the event streams; no handler runs after this
  poller.reset();
  health_share.reset();
  engine.reset();  // joins its threads: every journal write is committed
  feed_subscription.reset();
  otlp.reset();  // sends what is queued, says what it exported and dropped
  drained = report;
  return report;
}

void Service::Impl::resume_orphans() {
  if (!options.resume_orphans || runtime::is_postgres_location(options.journal_path)) return;
  runtime::RunFilter unfinished;
  unfinished.status = "running";
  unfinished.limit = std::numeric_limits<int>::max();
  auto runs = feed->list_runs(unfinished);
  if (!runs.ok()) {
    logger().warn("resume at start: cannot list the unfinished runs: {}", runs.status().message());
    return;
  }
  std::size_t resumed = 0;
  std::vector<std::string> left;
  for (const runtime::RunRecord& run : *runs) {
    if (runtime::owner_alive(run)) continue;  // another live process runs it
    Registered w;
    {
      std::shared_lock lock(registry_mu);
      auto it = registry.find(run.workflow);
      if (it != registry.end() && it->second.hash == run.workflow_hash) w = it->second;
    }
    if (!w.workflow) {
      left.push_back(run.run_id + " (workflow " + run.workflow +
                     " is not registered at start with the same content)");
      continue;
    }
    {
      std::lock_guard lock(runs_mu);
      if (!active.try_emplace(run.run_id, kNoSlot).second) continue;
    }
    const std::string id = run.run_id;
    Status started =
        engine->resume(w.workflow, w.tools, id, [this, id](Result<runtime::RunReport> report) {
          if (!report.ok()) {
            logger().error("resumed run {}: {}", id, report.status().message());
          }
          end_run(id);
        });
    if (!started.ok()) {
      end_run(id);
      left.push_back(id + " (" + started.message() + ")");
      continue;
    }
    ++resumed;
  }
  if (resumed > 0) logger().info("resumed {} run(s) whose process had died", resumed);
  for (const auto& why : left) {
    logger().warn("not resumed at start: run {}; `switchyard resume` continues it", why);
  }
}

bool Service::Impl::is_active(const std::string& id) {
  std::lock_guard lock(runs_mu);
  return active.count(id) > 0;
}

void Service::Impl::end_run(const std::string& id) {
  {
    std::lock_guard lock(signals_mu);
    auto it = applied_signals.lower_bound({id, std::string()});
    while (it != applied_signals.end() && it->first.first == id) it = applied_signals.erase(it);
  }
  std::lock_guard lock(runs_mu);
  auto it = active.find(id);
  if (it == active.end()) return;
  if (it->second != kNoSlot) slots->release(it->second);
  active.erase(it);
  runs_cv.notify_all();
}

Result<std::unique_ptr<Service>> Service::start(const ServiceOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (Status s = impl->open(); !s.ok()) return s;
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Service::~Service() { drain(); }

std::string Service::url() const {
  if (!impl_->server) return "";
  return "http://" + impl_->server->host() + ":" + std::to_string(impl_->server->port());
}

HttpResponse Service::handle(const HttpRequest& req) { return impl_->handle(req); }

DrainReport Service::drain() { return impl_->drain(); }

}  // namespace switchyard::service
