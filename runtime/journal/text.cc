#include "runtime/journal/text.h"

#include <cstdio>
#include <ctime>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string_view>

#include "graph/json_read.h"
#include "runtime/base/money.h"

namespace switchyard::runtime {
namespace {

// Payloads are read through JsonView (graph/json_read.h): a field of an unexpected type is shown
// as it is, never trusted.

// A value as compact JSON, invalid UTF-8 replaced.
std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// `text` on one line: newlines and tabs (an error page's) flattened to spaces, nothing cut.
std::string one_line(std::string text) {
  if (text.find_first_of("\n\r\t") == std::string::npos) return text;
  return excerpt(text, text.size() + 3);
}

// payload[key] as text: a string as it is (on one line), another value as JSON, "-" when absent
// or null.
std::string str(const nlohmann::json& payload, const char* key) {
  auto field = JsonView(payload).optional_field(key);
  if (!field.ok() || !*field) return "-";
  auto text = (*field)->string();
  return text.ok() ? one_line(*text) : json_text((*field)->json());
}

// A reason or message (which may quote an error body): one line, cut at 200 bytes. Whole in
// `replay --format json`.
std::string why(const nlohmann::json& payload, const char* key) {
  return excerpt(str(payload, key), 200);
}

// An amount of money in `payload` (runtime/base/money.h), or "-".
std::string usd(const nlohmann::json& payload, const char* key) {
  auto field = JsonView(payload).optional_field(key);
  if (!field.ok() || !*field) return "-";
  auto n = (*field)->number();
  return n.ok() ? usd_text(*n) : "-";
}

// The elements of a JSON array joined by `sep`, or `empty` for none (or not an array).
std::string joined(const nlohmann::json& names, const char* sep, const char* empty) {
  const JsonView list(names);
  if (!list.is_array() || list.size() == 0) return empty;
  std::string out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto element = list.element(i);
    if (!element.ok()) continue;
    auto text = element->string();
    out += (i ? sep : "") + (text.ok() ? *text : json_text(element->json()));
  }
  return out;
}

std::string list_text(const nlohmann::json& names) { return joined(names, ", ", "-"); }

// "; conditions: Fraud -> Review true, Fraud -> Auto false, X -> Y undecided", or "" when the
// payload holds none (a workflow without conditions).
std::string conditions_text(const nlohmann::json& payload) {
  const JsonView list(lenient_member(payload, "conditions"));
  if (!list.is_array() || list.size() == 0) return "";
  std::string out = "; conditions: ";
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto element = list.element(i);
    if (!element.ok()) continue;
    const nlohmann::json& c = element->json();
    const nlohmann::json& value = lenient_member(c, "value");
    out += (i ? ", " : "") + lenient_string(c, "from", "?") + " -> " +
           lenient_string(c, "to", "?") + " " +
           (value.is_boolean() ? (value == true ? "true" : "false") : "undecided");
  }
  return out;
}

std::string cost_text(const nlohmann::json& payload) {
  auto field = JsonView(payload).optional_field("cost");
  if (!field.ok() || !*field) return "";
  auto cost = (*field)->number();
  if (!cost.ok()) return "";
  std::ostringstream out;
  out << " (cost " << *cost << ")";
  return out.str();
}

}  // namespace

std::string iso8601(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

std::optional<std::int64_t> parse_iso8601(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  int consumed = 0;
  const int fields =
      std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed);
  if (fields != 3) return std::nullopt;
  std::string rest = text.substr(static_cast<std::size_t>(consumed));
  if (!rest.empty()) {
    int used = 0;
    if (std::sscanf(rest.c_str(), "T%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) !=
        3) {
      return std::nullopt;
    }
    rest = rest.substr(static_cast<std::size_t>(used));
    if (!rest.empty() && rest[0] == '.') {
      if (std::sscanf(rest.c_str(), ".%3d%n", &ms, &used) != 1) return std::nullopt;
      rest = rest.substr(static_cast<std::size_t>(used));
    }
    if (rest == "Z") rest.clear();
    if (!rest.empty()) return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t seconds = timegm(&tm);
  if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(seconds) * 1000 + ms;
}

std::string duration(std::int64_t ms) {
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  } else if (ms < 60000) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60000),
                  static_cast<long long>((ms / 1000) % 60));
  }
  return buf;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 18) return std::nullopt;  // 18 digits fit in int64
  std::int64_t n = 0;
  for (std::size_t i = 0; i < digits; ++i) n = n * 10 + (text[i] - '0');
  const std::string_view unit = text.substr(digits);
  std::int64_t ms_per_unit = 0;
  if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "m") {
    ms_per_unit = 60 * 1000;
  } else if (unit == "h") {
    ms_per_unit = 60 * 60 * 1000;
  } else if (unit == "d") {
    ms_per_unit = 24 * 60 * 60 * 1000;
  } else {
    return std::nullopt;
  }
  if (n > std::numeric_limits<std::int64_t>::max() / ms_per_unit) return std::nullopt;
  return std::chrono::milliseconds(n * ms_per_unit);
}

std::vector<std::string> payload_strings(const nlohmann::json& payload, const char* key) {
  std::vector<std::string> out;
  const JsonView list(lenient_member(payload, key));
  if (!list.is_array()) return out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto element = list.element(i);
    if (!element.ok()) continue;
    if (auto text = element->string(); text.ok()) out.push_back(std::move(text).value());
  }
  return out;
}

std::string route_text(const nlohmann::json& names) { return joined(names, " -> ", "(none)"); }

nlohmann::json run_json(const RunRecord& r) {
  nlohmann::json out = {
      {"run_id", r.run_id},
      {"workflow", r.workflow},
      {"workflow_hash", r.workflow_hash},
      {"status", r.status},
      {"started", iso8601(r.started_ms)},
      {"started_ms", r.started_ms},
      {"finished_ms", r.finished_ms == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.finished_ms)},
      {"input", r.input},
      {"result", r.result},
      {"head_hash", r.head_hash},
      {"head_seq", r.head_seq},
      {"owner_pid", r.owner_pid}};
  if (!r.defect.empty()) out["defect"] = r.defect;
  return out;
}

nlohmann::json event_json(const Event& e) {
  return {{"seq", e.seq}, {"time_ms", e.time_ms}, {"type", e.type}, {"payload", e.payload}};
}

std::string timeline_text(const RunRecord& run, const std::vector<Event>& events) {
  std::ostringstream out;
  out << "run " << run.run_id << "  workflow " << run.workflow << " (sha256 "
      << run.workflow_hash.substr(0, 12) << ")  " << run.status << "  started "
      << iso8601(run.started_ms) << "\n";
  for (const auto& e : events) {
    out << "  #" << std::left << std::setw(4) << e.seq << std::setw(9)
        << ("+" + duration(e.time_ms - run.started_ms)) << std::setw(16) << e.type << summarize(e)
        << "\n";
  }
  return out.str();
}

namespace {

std::string summarize_line(const Event& e);

}  // namespace

std::string summarize(const Event& e) {
  // A fan-out branch's events say which branch they belong to.
  if (!lenient_member(e.payload, "fanout").is_null() &&
      !lenient_member(e.payload, "branch").is_null()) {
    return "[" + str(e.payload, "fanout") + "/" + str(e.payload, "branch") + "] " +
           summarize_line(e);
  }
  return summarize_line(e);
}

namespace {

std::string summarize_line(const Event& e) {
  const nlohmann::json& p = e.payload;
  const std::string& t = e.type;
  if (t == "run_started") {
    return "workflow " + str(p, "workflow") + ", input " + str(p, "input") +
           ", known down: " + list_text(lenient_member(p, "known_down"));
  }
  if (t == "plan") {
    std::string s = route_text(lenient_member(p, "route")) + cost_text(p);
    if (JsonView(lenient_member(p, "avoided")).size() > 0)
      s += "; avoided " + list_text(lenient_member(p, "avoided"));
    return s + conditions_text(p);
  }
  if (t == "step_started") {
    return str(p, "tool") + " (" + str(p, "kind") + ", attempt " + str(p, "attempt") + ")";
  }
  if (t == "step_succeeded") return str(p, "tool") + " -> " + str(p, "output");
  if (t == "step_retry" || t == "step_failed") {
    return str(p, "tool") + ": " + str(p, "failure") + ": " + why(p, "reason");
  }
  if (t == "breaker") {
    return str(p, "tool") + ": " + str(p, "from") + " -> " + str(p, "to") + " (" +
           why(p, "reason") + ")";
  }
  if (t == "reweighted") {
    return route_text(lenient_member(p, "old_route")) + " => " +
           route_text(lenient_member(p, "new_route")) + " (" + why(p, "reason") + ")";
  }
  if (t == "wait_started") {
    const std::string kind = str(p, "kind");
    return str(p, "wait") + ": " +
           (kind == "timer" ? "timer of " + str(p, "timer_ms") + " ms"
                            : kind + " '" + str(p, "name") + "'" +
                                  (lenient_member(p, "timeout_ms").is_number()
                                       ? ", timeout " + str(p, "timeout_ms") + " ms"
                                       : std::string()));
  }
  if (t == "wait_resolved") {
    std::string s = str(p, "wait") + ": " + str(p, "decision");
    if (lenient_member(p, "by").is_string()) s += " by " + str(p, "by");
    if (lenient_member(p, "reason").is_string()) s += " (" + why(p, "reason") + ")";
    return s;
  }
  if (t == "tenant_reserved") {
    const double cap = lenient_number(p, "cap_usd", -1);
    return "tenant " + str(p, "tenant") + ": " + str(p, "tool") + " " +
           usd_text(lenient_number(p, "usd")) +
           (lenient_boolean(p, "granted", false) ? " reserved" : " REFUSED") + " (spent " +
           usd_text(lenient_number(p, "spent_usd")) + ", reserved " +
           usd_text(lenient_number(p, "reserved_usd")) + ", cap " +
           (cap >= 0 ? usd_text(cap) : std::string("none")) + ")";
  }
  if (t == "tenant_settled") {
    return "tenant " + str(p, "tenant") + ": call " + str(p, "call") + " charged " +
           usd_text(lenient_number(p, "charged_usd")) +
           (lenient_boolean(p, "left_open", false) ? " (left open: its worst case)"
            : lenient_boolean(p, "aborted", false) ? " (aborted: its worst case)"
                                                   : std::string());
  }
  if (t == "tool_hint") {
    return str(p, "tool") + ": " +
           (lenient_boolean(p, "idempotent", false) ? "idempotent" : "not idempotent") + " (" +
           str(p, "from") + ")";
  }
  if (t == "tool_progress") {
    std::string s = str(p, "tool") + " call " + str(p, "call") + ": " + str(p, "progress");
    if (lenient_member(p, "total").is_number()) s += "/" + str(p, "total");
    if (lenient_member(p, "message").is_string()) s += " " + why(p, "message");
    return s;
  }
  if (t == "fanout_started") {
    return str(p, "node") + ": " + str(p, "branches") + " branch(es), join " + str(p, "join") +
           " (needs " + str(p, "need") + ")";
  }
  if (t == "fanout_joined") {
    return str(p, "node") + (lenient_boolean(p, "ok", false) ? ": joined" : ": join FAILED") +
           "; succeeded " + list_text(lenient_member(p, "succeeded")) + ", failed " +
           list_text(lenient_member(p, "failed")) + ", cancelled " +
           list_text(lenient_member(p, "cancelled"));
  }
  if (t == "cancelled") {
    return why(p, "reason") + (lenient_member(p, "in_flight").is_string()
                                   ? "; aborted " + str(p, "in_flight")
                                   : std::string());
  }
  if (t == "run_interrupted") {
    std::string calls;
    const JsonView in_flight(lenient_member(p, "in_flight"));
    for (std::size_t i = 0; in_flight.is_array() && i < in_flight.size(); ++i) {
      auto c = in_flight.element(i);
      if (!c.ok() || !c->is_object()) continue;
      calls += (calls.empty() ? "" : ", ") + str(c->json(), "tool");
      if (!lenient_member(c->json(), "fanout").is_null()) {
        calls += " [" + str(c->json(), "fanout") + "/" + str(c->json(), "branch") + "]";
      }
    }
    return why(p, "reason") + ": " + why(p, "message") +
           (calls.empty() ? std::string() : "; in flight: " + calls);
  }
  if (t == "reroute") {
    const std::string failed =
        !lenient_member(p, "failed_node").is_null() ? str(p, "failed_node") : str(p, "failed_tool");
    return "at " + str(p, "at") + " after " + failed +
           " failed: " + route_text(lenient_member(p, "new_route")) + cost_text(p);
  }
  if (t == "backtrack") {
    return str(p, "from") + " back to " + str(p, "to") + ", abandoned " +
           list_text(lenient_member(p, "abandoned")) + ": " +
           route_text(lenient_member(p, "new_route"));
  }
  if (t == "compensation") {
    return str(p, "tool") + " for " + str(p, "for_tool") +
           (lenient_boolean(p, "ok", false) ? ": ok" : ": FAILED: " + why(p, "reason"));
  }
  if (t == "llm_call") {
    return str(p, "tool") + " (" + str(p, "purpose") + "), " + str(p, "tokens") + " tokens, " +
           usd(p, "cost_usd");
  }
  if (t == "goal_demoted") {
    return str(p, "from_goal") + " -> " + str(p, "to_goal") + " (by " + str(p, "decided_by") +
           "; blocked " + list_text(lenient_member(p, "blocked")) + ")";
  }
  if (t == "escalated") {
    return why(p, "reason") + ": " + why(p, "message");
  }
  if (t == "health_reset") {
    return str(p, "tool") + ": breaker " + str(p, "from") + " -> closed, health forgotten (" +
           why(p, "reason") + ")";
  }
  if (t == "advisor_skipped") return str(p, "tool") + ": " + why(p, "reason");
  if (t == "failed") return why(p, "message");
  if (t == "run_finished") {
    return str(p, "status") + " at " + str(p, "goal") + ": " +
           route_text(lenient_member(p, "path")) + "; " + str(p, "reroutes") + " reroute(s), " +
           str(p, "llm_calls") + " LLM call(s)";
  }
  return json_text(p);
}

}  // namespace

}  // namespace switchyard::runtime
