// POST /v1/runs, GET /v1/runs, GET /v1/runs/{id}, POST /v1/runs/{id}/cancel,
// GET /v1/runs/{id}/replay, GET /v1/runs/{id}/events.

#include <optional>
#include <regex>

#include "runtime/engine/run_setup.h"
#include "runtime/journal/text.h"
#include "runtime/journal/waiting.h"
#include "runtime/replay/graphviz_svg.h"
#include "runtime/replay/render.h"
#include "runtime/replay/verify.h"
#include "runtime/replay/wait_inbox.h"
#include "runtime/service/event_stream.h"
#include "runtime/service/log.h"
#include "runtime/service/service_impl.h"
#include "runtime/worker/worker.h"

namespace switchyard::service {
namespace {

// A run id a client may choose: what new_run_id makes, and other plain names.
bool valid_run_id(const std::string& id) {
  static const std::regex kPattern("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  return !id.empty() && id.size() <= 128 && std::regex_match(id, kPattern);
}

// The pointer of the member of `budget` that budget_from_json's error `status` names: the
// longest "/budget/<key>" its message starts with ("/budget" for the object itself).
std::string budget_pointer(const nlohmann::json& budget, const Status& status) {
  std::string pointer = "/budget";
  if (!budget.is_object()) return pointer;
  for (const auto& item : budget.items()) {
    const std::string at = pointer_join("/budget", item.key());
    if (status.message().rfind(at + ": ", 0) == 0 && at.size() > pointer.size()) pointer = at;
  }
  return pointer;
}

// The body of POST /v1/runs: {"workflow": name, "input"?: object, "budget"?: object,
// "tenant"?: string, "run_id"?: string}. Other members are ignored (forward compatibility).
struct RunBody {
  std::string workflow;
  runtime::RunRequest request;
};

Result<RunBody> parse_run_body(const nlohmann::json& doc, std::string* pointer) {
  const JsonView body(doc);
  RunBody out;
  *pointer = "/workflow";
  auto workflow = body.field("workflow");
  auto name = workflow.ok() ? workflow->string() : Result<std::string>(workflow.status());
  if (!name.ok()) {
    return invalid_argument(
        "/workflow: expected the name of a registered workflow (a string), got " +
        (workflow.ok() ? describe(workflow->json()) : std::string("nothing")));
  }
  out.workflow = *name;
  *pointer = "/input";
  auto input = body.optional_field("input");
  if (!input.ok()) return input.status();
  if (input->has_value()) {
    if (Status s = (*input)->expect_object(); !s.ok()) return s;
    out.request.input = (*input)->json();
  }
  *pointer = "/budget";
  auto budget = body.optional_field("budget");
  if (!budget.ok()) return budget.status();
  if (budget->has_value()) {
    auto b = runtime::budget_from_json((*budget)->json(), "/budget");
    if (!b.ok()) {
      *pointer = budget_pointer((*budget)->json(), b.status());
      return b.status();
    }
    out.request.budget = *b;
  }
  *pointer = "/tenant";
  auto tenant = body.optional_field("tenant");
  if (!tenant.ok()) return tenant.status();
  if (tenant->has_value()) {
    auto key = (*tenant)->string();
    if (!key.ok()) return key.status();
    if (Status s = runtime::check_tenant_key(*key); !s.ok()) {
      return invalid_argument("/tenant: " + s.message());
    }
    out.request.tenant = *key;
  }
  *pointer = "/run_id";
  auto run_id = body.optional_field("run_id");
  if (!run_id.ok()) return run_id.status();
  if (run_id->has_value()) {
    auto id = (*run_id)->string();
    if (!id.ok() || !valid_run_id(*id)) {
      return invalid_argument(
          "/run_id: expected 1 to 128 letters, digits, '.', '_' or '-', starting with a letter "
          "or digit, got " +
          describe((*run_id)->json()));
    }
    out.request.run_id = *id;
  }
  return out;
}

// The largest Last-Event-ID: 18 digits (no int64 overflow).
constexpr std::int64_t kMaxSequence = 999999999999999999;

// A journal sequence number sent by a client: decimal digits only, at most 18 of them.
std::optional<std::int64_t> parse_sequence(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t n = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

Result<std::int64_t> time_param(const HttpRequest& req, const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return std::int64_t{-1};
  auto ms = runtime::parse_iso8601(it->second);
  if (!ms) {
    return invalid_argument(std::string(name) + "=" + excerpt(it->second, 100) +
                            ": expected a UTC time like 2026-11-24 or 2026-11-24T14:00:00Z");
  }
  return *ms;
}

HttpResponse text_response(const std::string& content_type, std::string body) {
  HttpResponse r;
  r.content_type = content_type;
  r.body = std::move(body);
  return r;
}

HttpResponse shutting_down() {
  HttpResponse r = error_response(503, "unavailable", "the service is shutting down");
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

}  // namespace

HttpResponse Service::Impl::post_run(const HttpRequest& req, const Caller& caller) {
  if (draining.load()) return shutting_down();
  auto body = parse_json_body(req, body_limits());
  if (!body.ok()) return field_error("", body.status());
  std::string pointer;
  auto parsed = parse_run_body(*body, &pointer);
  if (!parsed.ok()) return field_error(pointer, parsed.status());
  runtime::RunRequest request = std::move(parsed->request);
  if (!request.run_id.empty() &&
      (is_active(request.run_id) || feed->get_run(request.run_id).ok())) {
    return error_response(409, "already_exists", "run " + request.run_id + " exists");
  }
  const std::string name = parsed->workflow;
  Registered w;
  {
    std::shared_lock lock(registry_mu);
    auto it = registry.find(name);
    if (it == registry.end()) {
      return error_response(not_found("no workflow named " + name + ": register it first"));
    }
    w = it->second;
  }
  if (queue != nullptr) {
    if (body->contains("budget")) {
      return field_error("/budget",
                         invalid_argument("/budget: a run admitted into the queue runs with its "
                                          "workflow's budget; a budget in the request is not "
                                          "carried to the worker (docs/scale-out.md)"));
    }
    return enqueue(w, name, std::move(request));
  }
  // From the check of `draining` until the run is started on the engine: a drain that begins
  // meanwhile waits for this (drain() sets `draining`, then takes the lock exclusively), so a run
  // answered 202 is always one the drain sees in `active` and lets finish or interrupts for
  // resume; never one the engine's shutdown fails. Checked again here: the check above may be
  // stale.
  std::shared_lock admit(admission_mu);
  if (draining.load()) return shutting_down();
  if (!slots->acquire(caller.token)) {
    HttpResponse r =
        error_response(429, "too_many_runs",
                       "this token has " + std::to_string(options.max_concurrent_runs) +
                           " runs in flight, the most it may have: retry when one ends");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  if (request.run_id.empty()) request.run_id = runtime::new_run_id(clock);
  {
    // The check above is not atomic with this: two requests with the same client-chosen id
    // may both have passed it. Only the first is started.
    std::lock_guard lock(runs_mu);
    if (!active.try_emplace(request.run_id, caller.token).second) {
      slots->release(caller.token);
      return error_response(409, "already_exists", "run " + request.run_id + " exists");
    }
  }
  const std::string id = request.run_id;
  engine->start(w.workflow, w.tools, std::move(request),
                [this, id](Result<runtime::RunReport> report) {
                  if (!report.ok()) logger().error("run {}: {}", id, report.status().message());
                  end_run(id);
                });
  admit.unlock();
  HttpResponse r = json_response(202, {{"run_id", id},
                                       {"status", "running"},
                                       {"workflow", name},
                                       {"links",
                                        {{"run", "/v1/runs/" + id},
                                         {"events", "/v1/runs/" + id + "/events"},
                                         {"cancel", "/v1/runs/" + id + "/cancel"}}}});
  r.headers.emplace_back("Location", "/v1/runs/" + id);
  return r;
}

HttpResponse Service::Impl::enqueue(const Registered& w, const std::string& name,
                                    runtime::RunRequest request) {
  // Admitted runs take no token's slot: they run in workers, and this process does not see
  // them end. The rate limit still applies to the requests.
  auto id = runtime::enqueue_run(*queue, *w.workflow, request.input, clock, request.run_id,
                                 request.tenant);
  if (!id.ok()) {
    // The one refusal of a valid request: its run id is already in the journal.
    if (id.status().code() == StatusCode::kInvalidArgument) {
      return error_response(409, "already_exists", id.status().message());
    }
    return journal_error_response(id.status());
  }
  admitted.fetch_add(1);
  logger().info("run {} of {} admitted into the queue", *id, name);
  HttpResponse r = json_response(202, {{"run_id", *id},
                                       {"status", "queued"},
                                       {"workflow", name},
                                       {"links",
                                        {{"run", "/v1/runs/" + *id},
                                         {"events", "/v1/runs/" + *id + "/events"},
                                         {"cancel", "/v1/runs/" + *id + "/cancel"}}}});
  r.headers.emplace_back("Location", "/v1/runs/" + *id);
  return r;
}

HttpResponse Service::Impl::list_runs(const HttpRequest& req) {
  runtime::RunFilter filter;
  filter.limit = 50;
  if (auto it = req.query.find("status"); it != req.query.end()) {
    static const std::set<std::string> kStatuses = {"queued",  "running",   "waiting", "completed",
                                                    "demoted", "escalated", "failed"};
    if (!kStatuses.count(it->second)) {
      return error_response(invalid_argument(
          "status=" + excerpt(it->second, 100) +
          ": expected queued, running, waiting, completed, demoted, escalated or failed"));
    }
    filter.status = it->second;
  }
  if (auto it = req.query.find("workflow"); it != req.query.end()) filter.workflow = it->second;
  for (auto [name, out] :
       {std::pair{"since", &filter.since_ms}, std::pair{"until", &filter.until_ms}}) {
    auto ms = time_param(req, name);
    if (!ms.ok()) return error_response(ms.status());
    if (*ms >= 0) *out = *ms;
  }
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    char* end = nullptr;
    const long n = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || n < 1 || n > 1000000) {
      return error_response(
          invalid_argument("limit=" + excerpt(it->second, 100) + ": expected 1 to 1000000"));
    }
    filter.limit = static_cast<int>(n);
  }
  // A running run held at a wait is listed `waiting` (docs/waits.md#waiting-runs).
  auto list = runtime::list_runs_showing_waits(*feed, filter);
  if (!list.ok()) return journal_error_response(list.status());
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : *list) runs.push_back(runtime::run_json(r));
  return json_response(
      200, {{"journal", runtime::printable_location(options.journal_path)}, {"runs", runs}});
}

HttpResponse Service::Impl::get_run(const std::string& id) {
  auto run = feed->get_run(id);
  if (!run.ok() && run.status().code() == StatusCode::kNotFound && is_active(id)) {
    // Accepted, its row not yet committed.
    return json_response(
        200, {{"run_id", id}, {"status", "running"}, {"result", nullptr}, {"waits", waits_of(id)}});
  }
  if (!run.ok()) return journal_error_response(run.status());
  // The row; `result` is the `run --json` document once the run has finished. A run in flight
  // held at one wait or more (docs/waits.md) is "waiting" (the journal's row says "running"),
  // and `waits` lists its open waits (empty otherwise).
  // A running run that no engine here holds (a worker's, or one left unfinished) is "waiting"
  // when its journal holds it at a wait, as GET /v1/runs lists it.
  nlohmann::json out = runtime::run_json(*run);
  nlohmann::json open = run->status == "running" ? waits_of(id) : nlohmann::json::array();
  if (!open.empty()) {
    out["status"] = "waiting";
  } else if (run->status == "running" && !engine->holds(id)) {
    auto waiting = runtime::run_is_waiting(*feed, id);
    if (!waiting.ok()) return journal_error_response(waiting.status());
    if (*waiting) out["status"] = "waiting";
  }
  out["waits"] = std::move(open);
  return json_response(200, out);
}

HttpResponse Service::Impl::cancel_run(const Caller& caller, const std::string& id) {
  // Exclusive admission: post_run holds it shared from putting a run in `active` until the run
  // is started on the engine, so a run found in `active` here has been started. (Cancels are
  // rare; excluding admissions for one is cheap.)
  std::unique_lock admit(admission_mu);
  // The journal decides first: a run whose row is final is finished, even if the engine has not
  // yet let go of it.
  auto run = feed->get_run(id);
  const bool starting = !run.ok() && run.status().code() == StatusCode::kNotFound && is_active(id);
  if (!run.ok() && !starting) return journal_error_response(run.status());
  if ((starting || run->status == "running") && engine->cancel(id, "cancelled through the API")) {
    return json_response(202, {{"run_id", id}, {"cancelling", true}});
  }
  if (starting) {
    // It had no row and the engine has let go of it since: it ended between the two looks. Its
    // row, if it has one now, says how.
    run = feed->get_run(id);
    if (!run.ok()) {
      return error_response(409, "failed_precondition",
                            "run " + id + " is not in flight here (it ended without a row)");
    }
  }
  if ((run->status == "running" || run->status == "queued") && !engine->holds(id) &&
      !is_active(id)) {
    // Not in flight here: a worker runs it, it waits for one, or no process holds it. The
    // cancellation goes to the journal's inbox, for whoever holds or resumes the run.
    auto queued = runtime::queue_cancel(*gate, id, caller_name(caller), "cancelled through the API",
                                        runtime::unix_ms(clock));
    if (queued.ok()) {
      return json_response(202, {{"run_id", id}, {"cancelling", true}, {"queued", true}});
    }
    if (queued.status().code() != StatusCode::kFailedPrecondition) {
      return journal_error_response(queued.status());
    }
    return error_response(409, "failed_precondition", queued.status().message());
  }
  return error_response(409, "failed_precondition",
                        "run " + id + " is not in flight here (" + run->status + ")");
}

HttpResponse Service::Impl::replay(const HttpRequest& req, const std::string& id) {
  auto param = [&req](const char* name, const char* fallback) {
    auto it = req.query.find(name);
    return it == req.query.end() ? std::string(fallback) : it->second;
  };
  const std::string format = param("format", "json");
  const std::string verify = param("verify", "false");
  if (verify == "true" || verify == "1") {
    auto report = runtime::verify_run(*feed, id);
    if (!report.ok()) return error_response(report.status());
    return json_response(200, {{"verify", report->to_json()}});
  }
  if (format != "json" && format != "text" && format != "dot" && format != "html" &&
      format != "svg") {
    return error_response(invalid_argument("format=" + excerpt(format, 100) +
                                           ": expected json, text, dot, svg or html"));
  }
  auto run = feed->get_run(id);
  if (!run.ok()) return journal_error_response(run.status());
  auto events = feed->events(id);
  if (!events.ok()) return journal_error_response(events.status());
  if (format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : *events) list.push_back(runtime::event_json(e));
    return json_response(200, {{"run", runtime::run_json(*run)}, {"events", list}});
  }
  if (format == "text") {
    return text_response("text/plain; charset=utf-8", runtime::timeline_text(*run, *events));
  }
  auto workflow = runtime::journaled_workflow(*feed, *run);
  if (!workflow.ok()) return journal_error_response(workflow.status());
  if (format == "dot") {
    return text_response("text/vnd.graphviz; charset=utf-8",
                         runtime::render_dot(**workflow, *run, *events));
  }
  if (format == "svg") {
    // The graph of html, alone (the console draws it, and redraws it as events come).
    auto svg = runtime::render_svg(runtime::render_dot(**workflow, *run, *events));
    if (!svg.ok()) return error_response(internal_error(svg.status().message()));
    return text_response("image/svg+xml", *svg);
  }
  auto html = runtime::render_html(**workflow, *run, *events);
  if (!html.ok()) return error_response(html.status());
  return text_response("text/html; charset=utf-8", *html);
}

HttpResponse Service::Impl::events(const HttpRequest& req, const std::string& id) {
  std::int64_t after = 0;
  if (const std::string& last = req.header("last-event-id"); !last.empty()) {
    auto seq = parse_sequence(last);
    if (!seq) {
      return error_response(invalid_argument("Last-Event-ID: " + excerpt(last, 100) +
                                             ": expected a journal sequence number (0 to " +
                                             std::to_string(kMaxSequence) + ")"));
    }
    after = *seq;
  }
  const bool here = is_active(id);
  auto stream = EventStream::open(*feed, id, after, here);
  if (!stream.ok()) return journal_error_response(stream.status());
  // On a queue the run is a worker's, and on a PostgreSQL journal a run not in flight here may be
  // another process's: their events come through the journal only.
  if (poller && (queue != nullptr || !here)) poller->watch(*stream);
  HttpResponse r;
  r.content_type = "text/event-stream";
  r.stream = *stream;
  return r;
}

}  // namespace switchyard::service
