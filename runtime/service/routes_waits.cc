// GET /v1/waits, POST /v1/runs/{id}/waits/{wait}, POST /v1/runs/{id}/signals/{name}: the waits
// of the runs in flight here, and their resolution by people and webhooks (docs/waits.md).

#include <optional>

#include "runtime/engine/run_setup.h"
#include "runtime/replay/wait_inbox.h"
#include "runtime/service/service_impl.h"

namespace switchyard::service {
namespace {

using runtime::WaitAnswer;

// What a client may say about a wait: {"decision"?, "data"?, "reason"?, "by"?, "key"?}. Other
// members are ignored (forward compatibility).
struct WaitBody {
  std::string decision;  // approve, reject ("" for a signal)
  WaitAnswer answer;
};

// Reads member `key` of `body` as an optional string into `out`; on error sets `pointer`.
Status optional_string(const JsonView& body, const char* key, std::string* out,
                       std::string* pointer) {
  *pointer = pointer_join("", key);
  auto value = body.string_or(key, "");
  if (!value.ok()) return value.status();
  *out = *value;
  return Status();
}

// `signal`: the body of a signal ({"data", "by", "key"}); otherwise of a decision on a wait.
Result<WaitBody> parse_wait_body(const nlohmann::json& doc, bool signal, std::string* pointer) {
  const JsonView body(doc);
  WaitBody out;
  if (!signal) {
    *pointer = "/decision";
    auto field = body.optional_field("decision");
    if (!field.ok()) return field.status();
    auto decision = field->has_value() ? (*field)->string() : Result<std::string>(std::string());
    if (!decision.ok() || (*decision != "approve" && *decision != "reject")) {
      return invalid_argument("/decision: expected \"approve\" or \"reject\", got " +
                              (field->has_value() ? describe((*field)->json()) : "nothing"));
    }
    out.decision = *decision;
    out.answer.decision =
        *decision == "approve" ? WaitAnswer::Decision::kApprove : WaitAnswer::Decision::kReject;
  } else {
    out.answer.decision = WaitAnswer::Decision::kSignal;
  }
  *pointer = "/data";
  auto data = body.optional_field("data");
  if (!data.ok()) return data.status();
  if (data->has_value()) {
    if (out.decision == "reject") {
      return invalid_argument("/data: a rejection carries no data (say why in \"reason\")");
    }
    out.answer.data = (*data)->json();
  }
  SWITCHYARD_RETURN_IF_ERROR(optional_string(body, "reason", &out.answer.reason, pointer));
  if (!out.answer.reason.empty() && out.decision != "reject") {
    return invalid_argument("/reason: only a rejection has a reason");
  }
  SWITCHYARD_RETURN_IF_ERROR(optional_string(body, "by", &out.answer.by, pointer));
  SWITCHYARD_RETURN_IF_ERROR(optional_string(body, "key", &out.answer.key, pointer));
  return out;
}

// The error of a resolution: 404 not_found, 409 conflict (already resolved), 400
// invalid_argument with the pointer of the decision that does not fit the wait.
HttpResponse resolve_error(const Status& status, bool signal) {
  switch (status.code()) {
    case StatusCode::kFailedPrecondition:
      return error_response(409, "conflict", status.message());
    case StatusCode::kInvalidArgument:
      // A decision that does not fit the wait (approve a timer, ...).
      return field_error(signal ? "" : "/decision", status);
    default:
      return error_response(status);
  }
}

const char* decided(const WaitAnswer& answer) {
  switch (answer.decision) {
    case WaitAnswer::Decision::kApprove:
      return "approved";
    case WaitAnswer::Decision::kReject:
      return "rejected";
    case WaitAnswer::Decision::kSignal:
      break;
  }
  return "signalled";
}

}  // namespace

nlohmann::json Service::Impl::waits_of(const std::string& run_id) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& w : engine->waits()) {
    if (run_id.empty() || w.run_id == run_id) out.push_back(runtime::wait_json(w));
  }
  return out;
}

HttpResponse Service::Impl::list_waits(const HttpRequest& req) {
  auto it = req.query.find("run");
  return json_response(200, {{"waits", waits_of(it == req.query.end() ? "" : it->second)}});
}

std::string Service::Impl::caller_name(const Caller& caller) const {
  return tokens->empty() ? "anonymous" : "token #" + std::to_string(caller.token);
}

HttpResponse Service::Impl::resolve_wait(const HttpRequest& req, const Caller& caller,
                                         const std::string& run_id, const std::string& target,
                                         bool signal) {
  auto body = parse_json_body(req, body_limits());
  if (!body.ok()) return field_error("", body.status());
  std::string pointer;
  auto parsed = parse_wait_body(*body, signal, &pointer);
  if (!parsed.ok()) return field_error(pointer, parsed.status());
  WaitAnswer answer = std::move(parsed->answer);
  if (answer.by.empty()) answer.by = caller_name(caller);
  const char* decision = decided(answer);
  // A run that no process holds (its process died, a drain interrupted it): the resolution is
  // queued in the journal's wait inbox, applied when the run is resumed (202).
  auto queue = [&](const WaitAnswer& a) -> std::optional<HttpResponse> {
    if (engine->holds(run_id) || is_active(run_id)) return std::nullopt;
    // Unknown or finished: the engine's answer (404) stands.
    auto run = gate->get_run(run_id);
    if (!run.ok() || run->status != "running") return std::nullopt;
    auto queued = runtime::queue_wait_answer(*gate, run_id, target, a, runtime::unix_ms(clock));
    if (!queued.ok()) return resolve_error(queued.status(), signal);
    return json_response(202, {{"run_id", run_id},
                               {"wait_id", queued->wait_id},
                               {"decision", decision},
                               {"queued", true}});
  };
  if (!signal) {
    const WaitAnswer copy = answer;
    const Status s = engine->resolve_wait(run_id, target, std::move(answer));
    if (s.code() == StatusCode::kNotFound) {
      if (auto queued = queue(copy)) return std::move(*queued);
    }
    if (!s.ok()) return resolve_error(s, false);
    return json_response(200, {{"run_id", run_id}, {"wait_id", target}, {"decision", decision}});
  }
  // A signal resolves the run's oldest open wait for that name (Engine::signal); it is picked
  // here so that the answer can name it. Another resolution may take it between the look and
  // the resolve: then the next oldest is tried.
  const std::string key = answer.key;
  Status last;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::optional<runtime::OpenWait> oldest;
    for (const auto& w : engine->waits()) {  // oldest first
      if (w.run_id == run_id && w.kind == "signal" && w.name == target) {
        oldest = w;
        break;
      }
    }
    if (!oldest) {
      // None open: Engine::signal accepts a signal already applied under the same key, and
      // says what is wrong otherwise.
      const Status s = engine->signal(run_id, target, answer);
      if (s.code() == StatusCode::kNotFound) {
        if (auto queued = queue(answer)) return std::move(*queued);
      }
      if (!s.ok()) return resolve_error(s, true);
      std::lock_guard lock(signals_mu);
      auto done = applied_signals.find({run_id, key});
      return json_response(
          200, {{"run_id", run_id},
                {"wait_id", done == applied_signals.end() ? nlohmann::json(nullptr)
                                                          : nlohmann::json(done->second)},
                {"decision", decision}});
    }
    const Status s = engine->resolve_wait(run_id, oldest->wait_id, answer);
    if (s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kNotFound) {
      last = s;
      continue;  // taken meanwhile
    }
    if (!s.ok()) return resolve_error(s, true);
    if (!key.empty()) {
      std::lock_guard lock(signals_mu);
      applied_signals[{run_id, key}] = oldest->wait_id;
    }
    return json_response(
        200, {{"run_id", run_id}, {"wait_id", oldest->wait_id}, {"decision", decision}});
  }
  return resolve_error(last, true);  // every wait of that name was taken by others meanwhile
}

}  // namespace switchyard::service
