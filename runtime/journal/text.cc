#include "runtime/journal/text.h"

#include <cstdio>
#include <ctime>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string_view>

#include "runtime/base/money.h"

namespace switchyard::runtime {
namespace {

std::string str(const nlohmann::json& payload, const char* key) {
  auto it = payload.find(key);
  if (it == payload.end() || it->is_null()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// An amount of money in `payload` (runtime/base/money.h), or "-".
std::string usd(const nlohmann::json& payload, const char* key) {
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_number()) return "-";
  return usd_text(it->get<double>());
}

// The elements of a JSON array joined by `sep`, or `empty` for none.
std::string joined(const nlohmann::json& names, const char* sep, const char* empty) {
  if (!names.is_array() || names.empty()) return empty;
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += (i ? sep : "") + (names[i].is_string() ? names[i].get<std::string>() : names[i].dump());
  }
  return out;
}

std::string list_text(const nlohmann::json& names) { return joined(names, ", ", "-"); }

std::string cost_text(const nlohmann::json& payload) {
  auto it = payload.find("cost");
  if (it == payload.end() || !it->is_number()) return "";
  std::ostringstream out;
  out << " (cost " << it->get<double>() << ")";
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
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string route_text(const nlohmann::json& names) { return joined(names, " -> ", "(none)"); }

nlohmann::json run_json(const RunRecord& r) {
  return {
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
  if (e.payload.contains("fanout") && e.payload.contains("branch")) {
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
           ", known down: " + list_text(p.value("known_down", nlohmann::json::array()));
  }
  if (t == "plan") {
    std::string s = route_text(p.value("route", nlohmann::json::array())) + cost_text(p);
    if (p.contains("avoided") && !p["avoided"].empty()) s += "; avoided " + list_text(p["avoided"]);
    return s;
  }
  if (t == "step_started") {
    return str(p, "tool") + " (" + str(p, "kind") + ", attempt " + str(p, "attempt") + ")";
  }
  if (t == "step_succeeded") return str(p, "tool") + " -> " + str(p, "output");
  if (t == "step_retry" || t == "step_failed") {
    return str(p, "tool") + ": " + str(p, "failure") + ": " + str(p, "reason");
  }
  if (t == "breaker") {
    return str(p, "tool") + ": " + str(p, "from") + " -> " + str(p, "to") + " (" +
           str(p, "reason") + ")";
  }
  if (t == "reweighted") {
    return route_text(p.value("old_route", nlohmann::json::array())) + " => " +
           route_text(p.value("new_route", nlohmann::json::array())) + " (" + str(p, "reason") +
           ")";
  }
  if (t == "fanout_started") {
    return str(p, "node") + ": " + str(p, "branches") + " branch(es), join " + str(p, "join") +
           " (needs " + str(p, "need") + ")";
  }
  if (t == "fanout_joined") {
    return str(p, "node") + (p.value("ok", false) ? ": joined" : ": join FAILED") + "; succeeded " +
           list_text(p.value("succeeded", nlohmann::json::array())) + ", failed " +
           list_text(p.value("failed", nlohmann::json::array())) + ", cancelled " +
           list_text(p.value("cancelled", nlohmann::json::array()));
  }
  if (t == "cancelled") {
    return str(p, "reason") + (p.value("in_flight", nlohmann::json()).is_string()
                                   ? "; aborted " + str(p, "in_flight")
                                   : std::string());
  }
  if (t == "run_interrupted") {
    std::string calls;
    for (const auto& c : p.value("in_flight", nlohmann::json::array())) {
      if (!c.is_object()) continue;
      calls += (calls.empty() ? "" : ", ") + str(c, "tool");
      if (c.contains("fanout")) calls += " [" + str(c, "fanout") + "/" + str(c, "branch") + "]";
    }
    return str(p, "reason") + ": " + str(p, "message") +
           (calls.empty() ? std::string() : "; in flight: " + calls);
  }
  if (t == "reroute") {
    const std::string failed =
        p.contains("failed_node") ? str(p, "failed_node") : str(p, "failed_tool");
    return "at " + str(p, "at") + " after " + failed +
           " failed: " + route_text(p.value("new_route", nlohmann::json::array())) + cost_text(p);
  }
  if (t == "backtrack") {
    return str(p, "from") + " back to " + str(p, "to") + ", abandoned " +
           list_text(p.value("abandoned", nlohmann::json::array())) + ": " +
           route_text(p.value("new_route", nlohmann::json::array()));
  }
  if (t == "compensation") {
    return str(p, "tool") + " for " + str(p, "for_tool") +
           (p.value("ok", false) ? ": ok" : ": FAILED: " + str(p, "reason"));
  }
  if (t == "llm_call") {
    return str(p, "tool") + " (" + str(p, "purpose") + "), " + str(p, "tokens") + " tokens, " +
           usd(p, "cost_usd");
  }
  if (t == "goal_demoted") {
    return str(p, "from_goal") + " -> " + str(p, "to_goal") + " (by " + str(p, "decided_by") +
           "; blocked " + list_text(p.value("blocked", nlohmann::json::array())) + ")";
  }
  if (t == "escalated") {
    return str(p, "reason") + ": " + str(p, "message");
  }
  if (t == "advisor_skipped") return str(p, "tool") + ": " + str(p, "reason");
  if (t == "failed") return str(p, "message");
  if (t == "run_finished") {
    return str(p, "status") + " at " + str(p, "goal") + ": " +
           route_text(p.value("path", nlohmann::json::array())) + "; " + str(p, "reroutes") +
           " reroute(s), " + str(p, "llm_calls") + " LLM call(s)";
  }
  return p.dump();
}

}  // namespace

}  // namespace switchyard::runtime
