#include "runtime/journal/rows.h"

#include <initializer_list>
#include <limits>

namespace switchyard::runtime {
namespace {

// What a field holds, for check_payload.
enum class Kind {
  kString,
  kInteger,
  kNumber,
  kBoolean,
  kObject,
  kArray,
  kStrings,   // an array of strings (routes, tool lists)
  kIntegers,  // an array of integers (branch indices)
  kBranch,    // a fan-out branch index: an integer from 0 to 2^31 - 1
  kUnsigned,  // an integer from 0 to 2^64 - 1 (a seed)
  kTime,      // milliseconds or microseconds: an integer within +-2^43 (nanoseconds fit int64)
  kCount,     // tokens: an integer from 0 to 2^53
};

constexpr std::int64_t kTimeBound = std::int64_t{1} << 43;
constexpr std::int64_t kCountBound = std::int64_t{1} << 53;

// `text` parsed under journal_row_limits(); errors without the limits' "journal row: " prefix
// (each caller names the row): "not JSON: ...", "nested deeper than 1024 ... (max_depth)".
Result<nlohmann::json> parse_row(std::string_view text) {
  const JsonLimits limits = journal_row_limits();
  auto doc = parse_untrusted(text, limits);
  if (doc.ok()) return doc;
  std::string message = doc.status().message();
  const std::string prefix = std::string(limits.what) + ": ";
  if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
  return invalid_argument(std::move(message));
}

Status check_range(const JsonView& v, std::int64_t low, std::int64_t high, const char* what) {
  auto n = v.integer();
  if (!n.ok()) return n.status();
  if (*n < low || *n > high) {
    return invalid_argument(v.pointer() + ": expected " + what + ", got " + describe(v.json()));
  }
  return Status();
}

struct Field {
  const char* key;
  Kind kind;
};

Status check_kind(const JsonView& v, Kind kind) {
  switch (kind) {
    case Kind::kString:
      return v.string().status();
    case Kind::kInteger:
      return v.integer().status();
    case Kind::kNumber:
      return v.number().status();
    case Kind::kBoolean:
      return v.boolean().status();
    case Kind::kObject:
      return v.expect_object();
    case Kind::kArray:
      return v.expect_array();
    case Kind::kBranch:
      return check_range(v, 0, std::numeric_limits<std::int32_t>::max(),
                         "a branch index (0 or more)");
    case Kind::kTime:
      return check_range(v, -kTimeBound, kTimeBound, "a time within +-2^43");
    case Kind::kCount:
      return check_range(v, 0, kCountBound, "a count from 0 to 2^53");
    case Kind::kUnsigned:
      if (v.json().is_number_unsigned()) return Status();
      if (auto n = v.integer(); n.ok() && *n >= 0) return Status();
      return invalid_argument(v.pointer() + ": expected an integer from 0 to 2^64 - 1, got " +
                              describe(v.json()));
    case Kind::kStrings:
    case Kind::kIntegers: {
      SWITCHYARD_RETURN_IF_ERROR(v.expect_array());
      for (std::size_t i = 0; i < v.size(); ++i) {
        auto element = v.element(i);
        if (!element.ok()) return element.status();
        SWITCHYARD_RETURN_IF_ERROR(kind == Kind::kStrings ? element->string().status()
                                                          : element->integer().status());
      }
      return Status();
    }
  }
  return Status();
}

// Each of `fields` of object `v` that is present and not null has its kind.
Status check_fields(const JsonView& v, std::initializer_list<Field> fields) {
  for (const Field& f : fields) {
    auto field = v.optional_field(f.key);
    if (!field.ok()) return field.status();
    if (*field) SWITCHYARD_RETURN_IF_ERROR(check_kind(**field, f.kind));
  }
  return Status();
}

// Member `key` of `v`, when present and not null, is an object (or array) each of whose values
// passes `check`.
template <typename Check>
Status check_each(const JsonView& v, const char* key, Kind container, Check check) {
  auto field = v.optional_field(key);
  if (!field.ok()) return field.status();
  if (!*field) return Status();
  const JsonView& all = **field;
  SWITCHYARD_RETURN_IF_ERROR(container == Kind::kObject ? all.expect_object() : all.expect_array());
  if (container == Kind::kArray) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      auto element = all.element(i);
      if (!element.ok()) return element.status();
      SWITCHYARD_RETURN_IF_ERROR(check(*element));
    }
    return Status();
  }
  for (const auto& [name, value] : all.json().items()) {
    SWITCHYARD_RETURN_IF_ERROR(check(JsonView(value, pointer_join(all.pointer(), name))));
  }
  return Status();
}

// The fields of a run's result (run_finished's payload) that its readers read.
Status check_result(const JsonView& p) {
  return check_fields(p, {{"status", Kind::kString},
                          {"goal", Kind::kString},
                          {"path", Kind::kStrings},
                          {"reroutes", Kind::kInteger},
                          {"backtracks", Kind::kInteger},
                          {"llm_calls", Kind::kInteger},
                          {"spent_usd", Kind::kNumber},
                          {"tokens", Kind::kInteger},
                          {"escalation", Kind::kObject},
                          // Absent from runs journaled before results carried outputs.
                          {"output_truncated", Kind::kBoolean},
                          {"outputs", Kind::kObject},
                          {"outputs_dropped", Kind::kStrings},
                          {"outputs_truncated", Kind::kBoolean}});
}

// The advisor's answer as re-enactment feeds it to the run machine, which reads its `action`
// (from the object, or from the object a string holds): absent or a string (not even null).
Status check_advice(const JsonView& p) {
  auto output = p.optional_field("output");
  if (!output.ok() || !*output) return output.status();
  const JsonView& answer = **output;
  nlohmann::json held;  // the object a string holds
  const nlohmann::json* advice = &answer.json();
  if (answer.is_string()) {
    auto text = answer.string();
    if (!text.ok()) return text.status();
    const std::size_t deepest = journal_row_limits().max_depth;
    if (json_text_depth(*text, deepest) > deepest) {
      return invalid_argument(answer.pointer() + ": holds JSON nested deeper than " +
                              std::to_string(deepest) + " (max_depth)");
    }
    auto inner = parse_row(*text);
    if (!inner.ok()) return Status();  // not advice: the run escalates
    held = std::move(inner).value();
    advice = &held;
  }
  if (!advice->is_object()) return Status();
  auto action = JsonView(*advice, answer.pointer()).field("action");
  return action.ok() ? action->string().status() : Status();
}

Status check_run_started(const JsonView& p) {
  SWITCHYARD_RETURN_IF_ERROR(check_fields(p, {{"workflow", Kind::kString},
                                              {"workflow_hash", Kind::kString},
                                              {"start", Kind::kString},
                                              {"goal", Kind::kString},
                                              {"known_down", Kind::kStrings},
                                              {"seed", Kind::kUnsigned},
                                              {"budget", Kind::kObject},
                                              {"factors", Kind::kObject},
                                              {"tiers", Kind::kArray},
                                              {"tenant", Kind::kString}}));
  if (auto budget = p.optional_field("budget"); budget.ok() && *budget) {
    SWITCHYARD_RETURN_IF_ERROR(check_fields(
        **budget,
        {{"usd", Kind::kNumber}, {"tokens", Kind::kInteger}, {"llm_calls", Kind::kInteger}}));
  }
  // The health monitor's factors (Eq. 1): weights of the router's edges, never negative.
  SWITCHYARD_RETURN_IF_ERROR(check_each(p, "factors", Kind::kObject, [](const JsonView& f) {
    auto factor = f.number();
    if (!factor.ok()) return factor.status();
    if (*factor < 0) {
      return invalid_argument(f.pointer() + ": expected a factor (0 or more), got " +
                              describe(f.json()));
    }
    return Status();
  }));
  return check_each(p, "tiers", Kind::kArray, [](const JsonView& t) {
    SWITCHYARD_RETURN_IF_ERROR(t.expect_object());
    return check_fields(t, {{"name", Kind::kString},
                            {"input_usd_per_mtok", Kind::kNumber},
                            {"output_usd_per_mtok", Kind::kNumber}});
  });
}

// The values of a workflow's edge conditions in a routing decision (plan, reroute, backtrack,
// goal_demoted): [{"from", "to", "value": true, false or null (undecided)}].
Status check_conditions(const JsonView& p) {
  return check_each(p, "conditions", Kind::kArray, [](const JsonView& c) {
    SWITCHYARD_RETURN_IF_ERROR(c.expect_object());
    return check_fields(
        c, {{"from", Kind::kString}, {"to", Kind::kString}, {"value", Kind::kBoolean}});
  });
}

Status check_by_type(std::string_view t, const JsonView& p) {
  if (t == "run_started") return check_run_started(p);
  if (t == "llm_learned") {
    return check_each(p, "start_tiers", Kind::kObject, [](const JsonView& s) {
      SWITCHYARD_RETURN_IF_ERROR(s.expect_object());
      return check_fields(s, {{"tier", Kind::kString}, {"reason", Kind::kString}});
    });
  }
  if (t == "plan" || t == "reroute" || t == "backtrack" || t == "goal_demoted") {
    SWITCHYARD_RETURN_IF_ERROR(check_conditions(p));
  }
  if (t == "plan") {
    return check_fields(p, {{"at", Kind::kString},
                            {"goal", Kind::kString},
                            {"route", Kind::kStrings},
                            {"avoided", Kind::kStrings},
                            {"excluded", Kind::kStrings},
                            {"cost", Kind::kNumber}});
  }
  if (t == "step_started") {
    return check_fields(p, {{"node", Kind::kString},
                            {"tool", Kind::kString},
                            {"kind", Kind::kString},
                            {"attempt", Kind::kInteger}});
  }
  if (t == "step_succeeded") {
    return check_fields(p, {{"node", Kind::kString},
                            {"tool", Kind::kString},
                            {"attempt", Kind::kInteger},
                            {"latency_us", Kind::kTime}});
  }
  if (t == "step_failed" || t == "step_retry") {
    return check_fields(p, {{"node", Kind::kString},
                            {"tool", Kind::kString},
                            {"attempt", Kind::kInteger},
                            {"failure", Kind::kString},
                            {"reason", Kind::kString},
                            {"latency_us", Kind::kTime},
                            {"delay_ms", Kind::kTime},
                            {"retry_after_ms", Kind::kTime},
                            {"retry_at_ms", Kind::kTime}});
  }
  if (t == "breaker") {
    return check_fields(p, {{"tool", Kind::kString},
                            {"from", Kind::kString},
                            {"to", Kind::kString},
                            {"reason", Kind::kString}});
  }
  if (t == "reweighted") {
    return check_fields(
        p,
        {{"reason", Kind::kString}, {"old_route", Kind::kStrings}, {"new_route", Kind::kStrings}});
  }
  if (t == "reroute" || t == "backtrack") {
    return check_fields(p, {{"at", Kind::kString},
                            {"from", Kind::kString},
                            {"to", Kind::kString},
                            {"failed_tool", Kind::kString},
                            {"failed_node", Kind::kString},
                            {"reason", Kind::kString},
                            {"abandoned", Kind::kStrings},
                            {"old_route", Kind::kStrings},
                            {"new_route", Kind::kStrings},
                            {"cost", Kind::kNumber}});
  }
  if (t == "wait_started") {
    return check_fields(p, {{"wait", Kind::kString},
                            {"kind", Kind::kString},
                            {"node", Kind::kString},
                            {"tool", Kind::kString},
                            {"name", Kind::kString},
                            {"timer_ms", Kind::kTime},
                            {"timeout_ms", Kind::kTime}});
  }
  if (t == "wait_resolved") {
    return check_fields(p, {{"wait", Kind::kString},
                            {"decision", Kind::kString},
                            {"by", Kind::kString},
                            {"key", Kind::kString},
                            {"reason", Kind::kString}});
  }
  if (t == "fanout_started") return check_fields(p, {{"node", Kind::kString}});
  if (t == "fanout_joined") {
    return check_fields(p, {{"node", Kind::kString},
                            {"ok", Kind::kBoolean},
                            {"succeeded", Kind::kIntegers},
                            {"failed", Kind::kIntegers},
                            {"cancelled", Kind::kIntegers},
                            {"kept", Kind::kStrings}});
  }
  if (t == "cancelled") {
    return check_fields(p, {{"reason", Kind::kString}, {"in_flight", Kind::kString}});
  }
  if (t == "run_interrupted") {
    SWITCHYARD_RETURN_IF_ERROR(
        check_fields(p, {{"reason", Kind::kString}, {"message", Kind::kString}}));
    return check_each(p, "in_flight", Kind::kArray, [](const JsonView& c) {
      SWITCHYARD_RETURN_IF_ERROR(c.expect_object());
      return check_fields(
          c, {{"tool", Kind::kString}, {"fanout", Kind::kString}, {"branch", Kind::kBranch}});
    });
  }
  if (t == "resumed") {
    return check_fields(p, {{"after_seq", Kind::kInteger}, {"owner_pid", Kind::kInteger}});
  }
  if (t == "tool_progress") {
    return check_fields(p, {{"tool", Kind::kString},
                            {"call", Kind::kInteger},
                            {"progress", Kind::kNumber},
                            {"total", Kind::kNumber},
                            {"message", Kind::kString}});
  }
  if (t == "tool_hint") {
    return check_fields(
        p, {{"tool", Kind::kString}, {"idempotent", Kind::kBoolean}, {"from", Kind::kString}});
  }
  if (t == "compensation_started") {
    return check_fields(p, {{"for_tool", Kind::kString}, {"tool", Kind::kString}});
  }
  if (t == "compensation") {
    return check_fields(p, {{"for_tool", Kind::kString},
                            {"tool", Kind::kString},
                            {"ok", Kind::kBoolean},
                            {"reason", Kind::kString}});
  }
  if (t == "tenant_reserved") {
    return check_fields(p, {{"tenant", Kind::kString},
                            {"call", Kind::kCount},
                            {"tool", Kind::kString},
                            {"usd", Kind::kNumber},
                            {"granted", Kind::kBoolean},
                            {"cap_usd", Kind::kNumber},
                            {"spent_usd", Kind::kNumber},
                            {"reserved_usd", Kind::kNumber}});
  }
  if (t == "tenant_settled") {
    return check_fields(p, {{"tenant", Kind::kString},
                            {"call", Kind::kCount},
                            {"tool", Kind::kString},
                            {"reserved_usd", Kind::kNumber},
                            {"charged_usd", Kind::kNumber},
                            {"aborted", Kind::kBoolean},
                            {"left_open", Kind::kBoolean}});
  }
  if (t == "llm_settled" || t == "llm_call") {
    return check_fields(p, {{"node", Kind::kString},
                            {"purpose", Kind::kString},
                            {"tool", Kind::kString},
                            {"tier", Kind::kString},
                            {"tokens", Kind::kCount},
                            {"cost_usd", Kind::kNumber},
                            {"ok", Kind::kBoolean},
                            {"aborted", Kind::kBoolean},
                            {"failure", Kind::kString},
                            {"reason", Kind::kString}});
  }
  if (t == "advisor_skipped") {
    return check_fields(p, {{"tool", Kind::kString}, {"reason", Kind::kString}});
  }
  if (t == "advisor_answered") {
    SWITCHYARD_RETURN_IF_ERROR(check_fields(p, {{"tool", Kind::kString},
                                                {"ok", Kind::kBoolean},
                                                {"failure", Kind::kString},
                                                {"reason", Kind::kString}}));
    return check_advice(p);
  }
  if (t == "goal_demoted") {
    return check_fields(p, {{"from_goal", Kind::kString},
                            {"to_goal", Kind::kString},
                            {"decided_by", Kind::kString},
                            {"blocked", Kind::kStrings},
                            {"abandoned", Kind::kStrings},
                            {"route", Kind::kStrings}});
  }
  if (t == "escalated") {
    return check_fields(p, {{"reason", Kind::kString},
                            {"message", Kind::kString},
                            {"at", Kind::kString},
                            {"blocked", Kind::kStrings}});
  }
  if (t == "failed") return check_fields(p, {{"message", Kind::kString}});
  if (t == "run_finished") return check_result(p);
  return Status();
}

}  // namespace

JsonLimits journal_row_limits() {
  return JsonLimits{.max_depth = 1024, .max_bytes = std::size_t{1} << 30, .what = "journal row"};
}

std::string row_name(std::string_view run_id, std::int64_t seq, std::string_view type) {
  return "run " + valid_utf8(run_id) + " seq " + std::to_string(seq) + " (" + valid_utf8(type) +
         ")";
}

Status row_error(const Event& event, const Status& status) {
  return invalid_argument(row_name(event.run_id, event.seq, event.type) + ": " + status.message());
}

Status check_payload(std::string_view type, const nlohmann::json& payload) {
  const JsonView p(payload, "/payload");
  SWITCHYARD_RETURN_IF_ERROR(p.expect_object());
  // Any event of a fan-out branch says which.
  SWITCHYARD_RETURN_IF_ERROR(
      check_fields(p, {{"fanout", Kind::kString}, {"branch", Kind::kBranch}}));
  return check_by_type(type, p);
}

Status check_event(const Event& event) {
  if (event.time_ms < 0 || event.time_ms > kTimeBound) {
    return invalid_argument(row_name(event.run_id, event.seq, event.type) + ": time_ms " +
                            std::to_string(event.time_ms) +
                            ": expected Unix milliseconds from 0 to 2^43");
  }
  Status s = check_payload(event.type, event.payload);
  return s.ok() ? s : row_error(event, s);
}

Result<Event> decode_event_row(std::string run_id, std::int64_t seq, std::int64_t time_ms,
                               std::string type, std::string_view payload_text, std::string hash) {
  Event e;
  e.run_id = std::move(run_id);
  e.seq = seq;
  e.time_ms = time_ms;
  e.type = std::move(type);
  e.hash = std::move(hash);
  auto payload = parse_row(payload_text);
  if (!payload.ok()) {
    return invalid_argument(row_name(e.run_id, e.seq, e.type) +
                            ": /payload: " + payload.status().message());
  }
  e.payload = std::move(payload).value();
  if (Status s = check_event(e); !s.ok()) return s;
  return e;
}

Result<nlohmann::json> decode_run_column(std::string_view run_id, std::string_view column,
                                         std::string_view text) {
  const std::string where = "run " + valid_utf8(run_id) + ": /" + std::string(column);
  auto doc = parse_row(text);
  if (!doc.ok()) return invalid_argument(where + ": " + doc.status().message());
  if (column == "result" && doc->is_object()) {
    Status s = check_result(JsonView(*doc, "/result"));
    if (!s.ok()) return invalid_argument("run " + valid_utf8(run_id) + ": " + s.message());
  }
  return std::move(doc).value();
}

Result<nlohmann::json> decode_finished_result(const std::string& run_id, std::int64_t seq,
                                              nlohmann::json run_finished_payload) {
  if (!run_finished_payload.is_object()) {
    return invalid_argument(row_name(run_id, seq, "run_finished") +
                            ": /payload: expected an object, got " +
                            describe(run_finished_payload));
  }
  run_finished_payload["run_id"] = run_id;
  return run_finished_payload;
}

Result<nlohmann::json> decode_workflow_copy(std::string_view hash, std::string_view text) {
  const std::string where = "workflow " + valid_utf8(hash.substr(0, 12)) + " (stored copy)";
  auto doc = parse_row(text);
  if (!doc.ok()) return invalid_argument(where + ": " + doc.status().message());
  if (!doc->is_object()) {
    return invalid_argument(where + ": expected an object, got " + describe(*doc));
  }
  return std::move(doc).value();
}

}  // namespace switchyard::runtime

namespace switchyard::runtime {

std::string encode_resolution_body(const QueuedResolution& resolution) {
  return nlohmann::json{{"decision", resolution.decision},
                        {"data", resolution.data},
                        {"reason", resolution.reason},
                        {"by", resolution.by},
                        {"key", resolution.key}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<QueuedResolution> decode_resolution_row(std::string run_id, std::int64_t id,
                                               std::string wait_id, std::int64_t time_ms,
                                               std::string_view body) {
  const std::string where =
      "run " + valid_utf8(run_id) + " queued resolution " + std::to_string(id) + ": ";
  auto doc = parse_row(body);
  if (!doc.ok()) return invalid_argument(where + doc.status().message());
  const JsonView v(*doc);
  if (!v.is_object()) return invalid_argument(where + "expected an object, got " + describe(*doc));
  QueuedResolution out;
  out.run_id = std::move(run_id);
  out.id = id;
  out.wait_id = std::move(wait_id);
  out.time_ms = time_ms;
  auto decision = v.string_or("decision", "");
  if (!decision.ok()) return invalid_argument(where + decision.status().message());
  if (*decision != "approve" && *decision != "reject" && *decision != "signal" &&
      *decision != "cancel") {
    return invalid_argument(
        where + "/decision: expected \"approve\", \"reject\", \"signal\" or \"cancel\", got \"" +
        valid_utf8(*decision) + "\"");
  }
  if ((*decision == "cancel") != out.wait_id.empty()) {
    return invalid_argument(
        where + (out.wait_id.empty() ? "a " + *decision + " names no wait"
                                     : "a cancel names wait '" + valid_utf8(out.wait_id) + "'"));
  }
  out.decision = std::move(*decision);
  auto data = v.optional_field("data");
  if (!data.ok()) return invalid_argument(where + data.status().message());
  if (data->has_value()) out.data = (*data)->json();
  for (auto [key, field] : {std::pair<const char*, std::string*>{"reason", &out.reason},
                            {"by", &out.by},
                            {"key", &out.key}}) {
    auto text = v.string_or(key, "");
    if (!text.ok()) return invalid_argument(where + text.status().message());
    *field = std::move(*text);
  }
  return out;
}

}  // namespace switchyard::runtime
