// Clients of a running `switchyard serve` (docs/waits.md, docs/service.md), or of a journal:
//   switchyard waits   [--run ID] [--server URL] [--token T] [--json]
//   switchyard waits   [--run ID] --journal DB [--json]
//   switchyard approve RUN WAIT [--data JSON] [--by WHO] [--key K] [--server URL] [--token T]
//   switchyard reject  RUN WAIT [--reason TEXT] [--by WHO] [--key K] [...]
//   switchyard signal  RUN NAME --data JSON [--by WHO] [--key K] [...]
//   switchyard cancel  RUN [--server URL] [--token T] | --journal DB [--reason TEXT] [--by WHO]
// The open waits of a service's runs (or of a journal's unfinished runs: waits --journal), their
// resolution, and cancelling runs. The token comes from --token or SWITCHYARD_TOKEN.
// approve/reject/signal/cancel --journal DB queue the resolution or the cancellation in a
// journal's inbox instead, for a run that no process holds or that a worker holds
// (docs/scale-out.md#cancelling-and-resolving-runs-that-workers-run).

#include <algorithm>
#include <cstdlib>
#include <future>
#include <iomanip>
#include <limits>
#include <ostream>

#include "runtime/cli/cli.h"
#include "runtime/cli/format.h"
#include "runtime/engine/engine.h"
#include "runtime/replay/wait_inbox.h"
#include "runtime/service/http_message.h"
#include "tools/http_client.h"

namespace switchyard::cli {
namespace {

// Where `switchyard serve` listens by default (its --host and --port).
constexpr const char* kDefaultServer = "http://127.0.0.1:8080";

struct ClientArgs {
  std::string server = kDefaultServer;
  std::string token;
  bool json = false;
};

void add_client_options(CLI::App* cmd, ClientArgs& args) {
  cmd->add_option("--server", args.server, "URL of the running `switchyard serve`")
      ->capture_default_str();
  cmd->add_option(
      "--token", args.token,
      "Bearer token of the service (default: the SWITCHYARD_TOKEN environment variable)");
  cmd->add_flag("--json", args.json, "Print one JSON document");
}

// A reply of the service: its status and body parsed (graph/json_read.h).
struct Reply {
  int status = 0;
  nlohmann::json body;
};

// Sends one request to the service; an error when no HTTP answer came (kUnavailable: exit 3) or
// the answer is not JSON (kInternal).
Result<Reply> call(const ClientArgs& args, const std::string& method, const std::string& path,
                   const std::string& body) {
  tools::HttpRequest request;
  request.method = method;
  std::string base = args.server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  request.url = base + path;
  request.timeout = std::chrono::milliseconds(30000);
  std::string token = args.token;
  if (token.empty()) {
    if (const char* env = std::getenv("SWITCHYARD_TOKEN")) token = env;
  }
  if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
  if (method == "POST") {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
  }
  std::promise<tools::HttpResponse> promise;
  auto future = promise.get_future();
  tools::http_perform(std::move(request), nullptr,
                      [&promise](tools::HttpResponse r) { promise.set_value(std::move(r)); });
  tools::HttpResponse response = future.get();
  if (response.failure != tools::FailureKind::kNone) {
    return Status(StatusCode::kUnavailable,
                  "cannot reach the service at " + base + ": " + valid_utf8(response.error));
  }
  auto doc = parse_untrusted(response.body, {.what = "the service's reply"});
  if (!doc.ok()) {
    return internal_error("the service at " + base + " answered HTTP " +
                          std::to_string(response.status) +
                          " with a body that is not JSON: " + excerpt(response.body, 200));
  }
  return Reply{response.status, std::move(*doc)};
}

// The error a service's non-2xx reply carries, said as `report_error` says errors: its message
// (and pointer), the HTTP status and code. 4xx -> exit 2 (the request was refused: a bad token,
// an unknown run or wait, one already resolved, bad data); others -> exit 3.
int report_reply_error(Context& ctx, const ClientArgs& args, const Reply& reply) {
  const JsonView body(reply.body);
  auto error = body.is_object() ? body.optional_field("error")
                                : Result<std::optional<JsonView>>(std::optional<JsonView>());
  std::string code = "unknown";
  std::string message = "HTTP " + std::to_string(reply.status);
  std::string pointer;
  bool has_pointer = false;
  if (error.ok() && error->has_value() && (*error)->is_object()) {
    if (auto c = (*error)->string_or("code", code); c.ok()) code = *c;
    if (auto m = (*error)->string_or("message", message); m.ok()) message = *m;
    if (auto p = (*error)->optional_field("pointer"); p.ok() && p->has_value()) {
      auto text = (*p)->string();
      has_pointer = text.ok();
      if (text.ok()) pointer = *text;
    }
  }
  const int exit_code = reply.status >= 400 && reply.status < 500 ? kExitInvalid : kExitInternal;
  if (args.json) {
    nlohmann::json out = {
        {"error", {{"code", code}, {"message", message}, {"http_status", reply.status}}}};
    if (has_pointer) out["error"]["pointer"] = pointer;
    *ctx.out << json_text(out) << "\n";
    return exit_code;
  }
  *ctx.err << "error: " << message;
  if (has_pointer && !pointer.empty()) *ctx.err << " (at " << pointer << ")";
  *ctx.err << " [HTTP " << reply.status << " " << code << "]\n";
  if (reply.status == 401) {
    *ctx.err << "Give the service's token with --token or the SWITCHYARD_TOKEN environment "
                "variable.\n";
  }
  return exit_code;
}

// --data JSON as the commands take it: any JSON value, parsed within the limits of outside JSON.
Result<nlohmann::json> data_arg(const std::string& text) {
  auto doc = parse_untrusted(text, {.what = "--data"});
  if (!doc.ok()) return invalid_argument("--data: expected JSON, " + doc.status().message());
  return doc;
}

std::string text_or_dash(const JsonView& w, const char* key) {
  auto v = w.string_or(key, "-");
  return v.ok() ? *v : "-";
}

std::string time_or_dash(const JsonView& w, const char* key) {
  auto v = w.integer_or(key, -1);
  return v.ok() && *v >= 0 ? iso8601(*v) : "-";
}

struct WaitsArgs {
  ClientArgs client;
  std::string run;
  std::string journal;  // --journal: the held waits of the unfinished runs of this journal
};

// The table of waits both forms print: the service's `waits` documents, each with `queued` when
// `queued` (the --journal form's column).
void print_waits(std::ostream& out, const JsonView& waits, bool queued) {
  out << std::left << std::setw(36) << "run" << std::setw(18) << "wait" << std::setw(10) << "kind"
      << std::setw(28) << "waits for" << std::setw(8) << "branch" << std::setw(26) << "started"
      << (queued ? std::setw(26) : std::setw(0)) << "due" << (queued ? "queued" : "") << "\n";
  for (std::size_t i = 0; i < waits.size(); ++i) {
    auto w = waits.element(i);
    if (!w.ok() || !w->is_object()) continue;
    const std::string kind = text_or_dash(*w, "kind");
    const std::string name = text_or_dash(*w, "name");
    std::string what = kind == "timer"      ? "time"
                       : kind == "approval" ? "approval '" + name + "'"
                                            : "signal '" + name + "'";
    auto branch = w->integer_or("branch", -1);
    out << std::left << std::setw(36) << text_or_dash(*w, "run_id") << std::setw(18)
        << text_or_dash(*w, "wait_id") << std::setw(10) << kind << std::setw(28) << what
        << std::setw(8) << (branch.ok() && *branch >= 0 ? std::to_string(*branch) : "-")
        << std::setw(26) << time_or_dash(*w, "started_ms");
    if (queued) {
      auto q = w->boolean_or("queued", false);
      out << std::setw(26) << time_or_dash(*w, "due_ms") << (q.ok() && *q ? "yes" : "-");
    } else {
      out << time_or_dash(*w, "due_ms");
    }
    out << "\n";
  }
}

// --journal: the waits the unfinished runs of a journal are held at, re-driven from their
// events as a resume would (runtime/replay/wait_inbox.h), in the service's `waits` shape plus
// `queued` (a resolution waits in the inbox). A run that cannot be re-driven is said on stderr
// and skipped; the others are listed.
int list_journal(Context& ctx, const WaitsArgs& args) {
  const bool json = args.client.json;
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), json);
  std::vector<std::string> runs;
  if (!args.run.empty()) {
    auto id = resolve_run_id(**journal, args.run);
    if (!id.ok()) return report_error(ctx, id.status(), json);
    runs.push_back(*id);
  } else {
    runtime::RunFilter filter;
    filter.status = "running";
    filter.limit = std::numeric_limits<int>::max();
    auto list = (*journal)->list_runs(filter);
    if (!list.ok()) return report_error(ctx, list.status(), json);
    for (const auto& r : *list) runs.push_back(r.run_id);
  }
  std::vector<runtime::JournaledWait> all;
  std::vector<std::string> skipped;
  for (const std::string& id : runs) {
    auto waits = runtime::journaled_waits(**journal, id);
    if (!waits.ok()) {
      // --run names one run: its error is the answer. In the list, one run hides no other.
      if (!args.run.empty()) return report_error(ctx, waits.status(), json);
      if (waits.status().code() == StatusCode::kIo) return report_error(ctx, waits.status(), json);
      skipped.push_back(waits.status().message());
      continue;
    }
    for (auto& w : *waits) all.push_back(std::move(w));
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.wait.started_ms < b.wait.started_ms;
  });
  for (const std::string& why : skipped) *ctx.err << "warning: skipped: " << why << "\n";
  nlohmann::json list = nlohmann::json::array();
  for (const auto& j : all) {
    // The shape of GET /v1/waits (docs/service.md), plus `queued`.
    nlohmann::json w = runtime::wait_json(j.wait);
    w["queued"] = j.queued;
    list.push_back(std::move(w));
  }
  if (json) {
    *ctx.out << json_text(nlohmann::json{{"waits", list},
                                         {"journal", runtime::printable_location(args.journal)}})
             << "\n";
    return kExitOk;
  }
  print_waits(*ctx.out, JsonView(list), true);
  *ctx.out << list.size() << " open wait(s) in " << runtime::printable_location(args.journal)
           << "\n";
  return kExitOk;
}

int list(Context& ctx, const WaitsArgs& args) {
  if (!args.journal.empty()) return list_journal(ctx, args);
  const std::string path =
      "/v1/waits" + (args.run.empty() ? "" : "?run=" + service::url_encode(args.run));
  auto reply = call(args.client, "GET", path, "");
  if (!reply.ok()) return report_error(ctx, reply.status(), args.client.json);
  if (reply->status != 200) return report_reply_error(ctx, args.client, *reply);
  const JsonView body(reply->body);
  auto waits = body.is_object() ? body.array("waits") : Result<JsonView>(body.expect_object());
  if (!waits.ok()) {
    return report_error(ctx, internal_error("the service's reply: " + waits.status().message()),
                        args.client.json);
  }
  if (args.client.json) {
    *ctx.out << json_text(nlohmann::json{{"waits", waits->json()}}) << "\n";
    return kExitOk;
  }
  print_waits(*ctx.out, *waits, false);
  *ctx.out << waits->size() << " open wait(s) at " << args.client.server << "\n";
  return kExitOk;
}

struct ResolveArgs {
  ClientArgs client;
  std::string run;
  std::string target;  // the wait id, or the signal's name
  std::string data;    // JSON text, "" when not given
  std::string reason;
  std::string by;
  std::string key;
  std::string journal;  // --journal: queue in this journal instead of asking a service
};

// --journal: the resolution is queued in the journal's wait inbox, for a run that no process
// holds (docs/waits.md#while-no-process-holds-the-run); `switchyard resume` (or a service or
// program that resumes the run) applies it.
int queue_in_journal(Context& ctx, const ResolveArgs& args, const std::string& decision) {
  runtime::WaitAnswer answer;
  answer.decision = decision == "approve"  ? runtime::WaitAnswer::Decision::kApprove
                    : decision == "reject" ? runtime::WaitAnswer::Decision::kReject
                                           : runtime::WaitAnswer::Decision::kSignal;
  if (!args.data.empty()) {
    auto data = data_arg(args.data);
    if (!data.ok()) return report_error(ctx, data.status(), args.client.json);
    answer.data = std::move(*data);
  }
  answer.reason = args.reason;
  answer.by = args.by.empty() ? "cli" : args.by;
  answer.key = args.key;
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.client.json);
  auto run_id = resolve_run_id(**journal, args.run);
  if (!run_id.ok()) return report_error(ctx, run_id.status(), args.client.json);
  auto queued =
      runtime::queue_wait_answer(**journal, *run_id, args.target, std::move(answer), now_unix_ms());
  if (!queued.ok()) {
    const int code = report_error(ctx, queued.status(), args.client.json);
    // A refusal (already resolved, already queued, due, held by a live process) is the
    // request's fault, as the service's 409: exit 2.
    return queued.status().code() == StatusCode::kFailedPrecondition ? kExitInvalid : code;
  }
  const char* decided = decision == "approve"  ? "approved"
                        : decision == "reject" ? "rejected"
                                               : "signalled";
  if (args.client.json) {
    *ctx.out << json_text(nlohmann::json{{"run_id", *run_id},
                                         {"wait_id", queued->wait_id},
                                         {"decision", decided},
                                         {"queued", true},
                                         {"duplicate", queued->duplicate}})
             << "\n";
    return kExitOk;
  }
  *ctx.out << "run " << *run_id << ": wait " << queued->wait_id << " " << decided;
  if (decision == "signal") *ctx.out << " (signal '" << args.target << "')";
  *ctx.out << (queued->duplicate ? ", queued already" : ", queued") << " in "
           << runtime::printable_location(args.journal)
           << ": applied by the worker that holds the run, or when it is resumed (switchyard "
              "resume "
           << *run_id << ")\n";
  return kExitOk;
}

// `decision`: "approve", "reject" or "signal".
int resolve(Context& ctx, const ResolveArgs& args, const std::string& decision) {
  if (!args.journal.empty()) return queue_in_journal(ctx, args, decision);
  nlohmann::json body = nlohmann::json::object();
  if (decision != "signal") body["decision"] = decision;
  if (!args.data.empty()) {
    auto data = data_arg(args.data);
    if (!data.ok()) return report_error(ctx, data.status(), args.client.json);
    body["data"] = std::move(*data);
  }
  if (!args.reason.empty()) body["reason"] = valid_utf8(args.reason);
  if (!args.by.empty()) body["by"] = valid_utf8(args.by);
  if (!args.key.empty()) body["key"] = valid_utf8(args.key);
  const std::string path = "/v1/runs/" + service::url_encode(args.run) +
                           (decision == "signal" ? "/signals/" : "/waits/") +
                           service::url_encode(args.target);
  auto reply = call(args.client, "POST", path, body.dump());
  if (!reply.ok()) return report_error(ctx, reply.status(), args.client.json);
  // 202: the service does not hold the run and queued the decision (docs/waits.md).
  if (reply->status != 200 && reply->status != 202) {
    return report_reply_error(ctx, args.client, *reply);
  }
  if (args.client.json) {
    *ctx.out << json_text(reply->body) << "\n";
    return kExitOk;
  }
  const JsonView r(reply->body);
  const std::string wait = r.is_object() ? text_or_dash(r, "wait_id") : "-";
  const std::string decided = r.is_object() ? text_or_dash(r, "decision") : "-";
  *ctx.out << "run " << args.run << ": wait " << wait << " " << decided;
  if (decision == "signal") *ctx.out << " (signal '" << args.target << "')";
  if (reply->status == 202) {
    *ctx.out << ", queued: applied by the worker that holds the run, or when it is resumed";
  }
  *ctx.out << "\n";
  return kExitOk;
}

void add_resolve(CLI::App& app, Context& ctx, const std::string& decision) {
  const bool signal = decision == "signal";
  auto* cmd = app.add_subcommand(
      decision,
      signal ? "Send a signal to a run waiting for it, on a running service (or queue it in a "
               "journal: --journal)"
      : decision == "approve"
          ? "Approve a run's open approval, on a running service (or queue it in a journal: "
            "--journal)"
          : "Reject a run's open approval, on a running service (or queue it in a journal: "
            "--journal)");
  auto args = std::make_shared<ResolveArgs>();
  cmd->add_option("RUN", args->run, "The run's id (switchyard waits lists them)")->required();
  cmd->add_option(signal ? "NAME" : "WAIT", args->target,
                  signal ? "The signal's name" : "The wait's id, e.g. Approve#1 (switchyard waits)")
      ->required();
  if (signal) {
    cmd->add_option("--data", args->data, "The signal's payload (JSON): the waiting step's output")
        ->required();
  } else if (decision == "approve") {
    cmd->add_option("--data", args->data,
                    "JSON handed to the step (its output's \"data\"), e.g. '{\"note\": \"VIP\"}'");
  } else {
    cmd->add_option("--reason", args->reason, "Why (the step's failure reason, journaled)");
  }
  cmd->add_option("--by", args->by,
                  "Who decides, journaled (default: the service names the caller's token)");
  cmd->add_option("--key", args->key,
                  "Idempotency key: the same decision sent again with it is applied once");
  add_client_options(cmd, args->client);
  auto* journal = cmd->add_option(
      "--journal", args->journal,
      "Queue the decision in this journal, for a run no process holds (its process died): "
      "applied when the run is resumed (instead of --server)");
  journal->excludes(cmd->get_option("--server"));
  journal->excludes(cmd->get_option("--token"));
  follow_global_journal(journal, args->journal);
  cmd->callback([&ctx, args, decision] { ctx.exit_code = resolve(ctx, *args, decision); });
}

struct CancelArgs {
  ClientArgs client;
  std::string run;
  std::string reason;
  std::string by;
  std::string journal;  // --journal: queue in this journal instead of asking a service
};

// switchyard cancel: through a service (POST /v1/runs/{id}/cancel), which cancels a run in flight
// in it at once and queues the cancellation of one a worker runs; or --journal, queued in the
// journal's inbox for whoever holds the run (a worker, at its next poll) or resumes it.
int cancel_run(Context& ctx, const CancelArgs& args) {
  if (args.journal.empty()) {
    const std::string path = "/v1/runs/" + service::url_encode(args.run) + "/cancel";
    auto reply = call(args.client, "POST", path, "{}");
    if (!reply.ok()) return report_error(ctx, reply.status(), args.client.json);
    if (reply->status != 202) return report_reply_error(ctx, args.client, *reply);
    if (args.client.json) {
      *ctx.out << json_text(reply->body) << "\n";
      return kExitOk;
    }
    const JsonView r(reply->body);
    auto queued = r.is_object() ? r.boolean_or("queued", false) : Result<bool>(false);
    *ctx.out << "run " << args.run << ": cancelling"
             << (queued.ok() && *queued ? " (queued for the worker that holds it, or its resume)"
                                        : "")
             << "\n";
    return kExitOk;
  }
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.client.json);
  auto run_id = resolve_run_id(**journal, args.run);
  if (!run_id.ok()) return report_error(ctx, run_id.status(), args.client.json);
  auto queued = runtime::queue_cancel(**journal, *run_id, args.by.empty() ? "cli" : args.by,
                                      args.reason.empty() ? "request" : args.reason, now_unix_ms());
  if (!queued.ok()) {
    const int code = report_error(ctx, queued.status(), args.client.json);
    return queued.status().code() == StatusCode::kFailedPrecondition ? kExitInvalid : code;
  }
  if (args.client.json) {
    *ctx.out << json_text(nlohmann::json{{"run_id", *run_id},
                                         {"cancelling", true},
                                         {"queued", true},
                                         {"duplicate", queued->duplicate}})
             << "\n";
    return kExitOk;
  }
  *ctx.out << "run " << *run_id << ": cancellation"
           << (queued->duplicate ? " queued already" : " queued") << " in "
           << runtime::printable_location(args.journal)
           << ": the worker that holds the run applies it at its next poll; a run no process "
              "holds is cancelled when it is resumed\n";
  return kExitOk;
}

void add_cancel(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "cancel",
      "Cancel a run, on a running service (or queue the cancellation in a journal: --journal)");
  auto args = std::make_shared<CancelArgs>();
  cmd->add_option("RUN", args->run, "The run's id")->required();
  cmd->add_option("--reason", args->reason,
                  "Why (journaled; the run's message is \"cancelled: <reason>\"; with --journal)");
  cmd->add_option("--by", args->by, "Who cancels, journaled (with --journal; default: cli)");
  add_client_options(cmd, args->client);
  auto* journal = cmd->add_option(
      "--journal", args->journal,
      "Queue the cancellation in this journal (instead of --server): the worker that holds the "
      "run applies it, or whoever resumes the run");
  journal->excludes(cmd->get_option("--server"));
  journal->excludes(cmd->get_option("--token"));
  follow_global_journal(journal, args->journal);
  cmd->callback([&ctx, args] { ctx.exit_code = cancel_run(ctx, *args); });
}

}  // namespace

void add_waits(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "waits",
      "List the open waits (approvals, signals, timers) of a running service's runs, or of the "
      "unfinished runs of a journal (--journal)");
  auto args = std::make_shared<WaitsArgs>();
  cmd->add_option("--run", args->run, "Only the waits of this run");
  add_client_options(cmd, args->client);
  auto* journal = cmd->add_option(
      "--journal", args->journal,
      "List the waits the unfinished runs of this journal are held at, with whether a "
      "resolution is queued for them (instead of --server)");
  journal->excludes(cmd->get_option("--server"));
  journal->excludes(cmd->get_option("--token"));
  follow_global_journal(journal, args->journal);
  cmd->callback([&ctx, args] { ctx.exit_code = list(ctx, *args); });
  add_resolve(app, ctx, "approve");
  add_resolve(app, ctx, "reject");
  add_resolve(app, ctx, "signal");
  add_cancel(app, ctx);
}

}  // namespace switchyard::cli
