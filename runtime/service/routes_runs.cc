// POST /v1/runs, GET /v1/runs, GET /v1/runs/{id}, POST /v1/runs/{id}/cancel,
// GET /v1/runs/{id}/replay, GET /v1/runs/{id}/events.

#include <regex>

#include "runtime/journal/text.h"
#include "runtime/replay/render.h"
#include "runtime/service/event_stream.h"
#include "runtime/service/log.h"
#include "runtime/service/service_impl.h"
#include "runtime/replay/verify.h"

namespace switchyard::service {
namespace {

// A run id a client may choose: what new_run_id makes, and other plain names.
bool valid_run_id(const std::string& id) {
  static const std::regex kPattern("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  return std::regex_match(id, kPattern);
}

Result<std::int64_t> time_param(const HttpRequest& req, const char* name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return std::int64_t{-1};
  auto ms = runtime::parse_iso8601(it->second);
  if (!ms) {
    return invalid_argument(std::string(name) + "=" + it->second +
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
  auto body = parse_json_body(req);
  if (!body.ok()) return error_response(body.status());
  const nlohmann::json& b = *body;
  if (!b.contains("workflow") || !b["workflow"].is_string()) {
    return error_response(
        invalid_argument("/workflow: expected the name of a registered workflow"));
  }
  runtime::RunRequest request;
  if (b.contains("input")) {
    if (!b["input"].is_object())
      return error_response(invalid_argument("/input: expected an object"));
    request.input = b["input"];
  }
  auto budget = runtime::budget_from_json(b.value("budget", nlohmann::json()), "/budget");
  if (!budget.ok()) return error_response(budget.status());
  request.budget = *budget;
  if (b.contains("run_id")) {
    if (!b["run_id"].is_string() || !valid_run_id(b["run_id"].get<std::string>())) {
      return error_response(invalid_argument(
          "/run_id: expected 1 to 128 letters, digits, '.', '_' or '-', starting with a letter "
          "or digit"));
    }
    request.run_id = b["run_id"].get<std::string>();
    if (is_active(request.run_id) || feed->get_run(request.run_id).ok()) {
      return error_response(409, "already_exists", "run " + request.run_id + " exists");
    }
  }
  const std::string name = b["workflow"].get<std::string>();
  Registered w;
  {
    std::shared_lock lock(registry_mu);
    auto it = registry.find(name);
    if (it == registry.end()) {
      return error_response(not_found("no workflow named " + name + ": register it first"));
    }
    w = it->second;
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

HttpResponse Service::Impl::list_runs(const HttpRequest& req) {
  runtime::RunFilter filter;
  filter.limit = 50;
  if (auto it = req.query.find("status"); it != req.query.end()) {
    static const std::set<std::string> kStatuses = {"running", "completed", "demoted", "escalated",
                                                    "failed"};
    if (!kStatuses.count(it->second)) {
      return error_response(invalid_argument(
          "status=" + it->second + ": expected running, completed, demoted, escalated or failed"));
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
      return error_response(invalid_argument("limit=" + it->second + ": expected 1 to 1000000"));
    }
    filter.limit = static_cast<int>(n);
  }
  auto list = feed->list_runs(filter);
  if (!list.ok()) return journal_error_response(list.status());
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : *list) runs.push_back(runtime::run_json(r));
  return json_response(200, {{"journal", options.journal_path}, {"runs", runs}});
}

HttpResponse Service::Impl::get_run(const std::string& id) {
  auto run = feed->get_run(id);
  if (!run.ok() && run.status().code() == StatusCode::kNotFound && is_active(id)) {
    // Accepted, its row not yet committed.
    return json_response(200, {{"run_id", id}, {"status", "running"}, {"result", nullptr}});
  }
  if (!run.ok()) return journal_error_response(run.status());
  // The row; `result` is the `run --json` document once the run has finished.
  return json_response(200, runtime::run_json(*run));
}

HttpResponse Service::Impl::cancel_run(const std::string& id) {
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
  if (format != "json" && format != "text" && format != "dot" && format != "html") {
    return error_response(
        invalid_argument("format=" + format + ": expected json, text, dot or html"));
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
  auto html = runtime::render_html(**workflow, *run, *events);
  if (!html.ok()) return error_response(html.status());
  return text_response("text/html; charset=utf-8", *html);
}

HttpResponse Service::Impl::events(const HttpRequest& req, const std::string& id) {
  std::int64_t after = 0;
  const std::string& last = req.header("last-event-id");
  if (!last.empty()) {
    char* end = nullptr;
    after = std::strtoll(last.c_str(), &end, 10);
    if (*end != '\0' || after < 0) {
      return error_response(
          invalid_argument("Last-Event-ID: " + last + ": expected a journal sequence number"));
    }
  }
  auto stream = EventStream::open(*feed, id, after, is_active(id));
  if (!stream.ok()) return journal_error_response(stream.status());
  HttpResponse r;
  r.content_type = "text/event-stream";
  r.stream = *stream;
  return r;
}

}  // namespace switchyard::service
