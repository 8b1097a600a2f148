#include "runtime/eval/audit.h"

#include <algorithm>
#include <map>
#include <set>

#include "graph/json_read.h"
#include "graph/router.h"
#include "runtime/journal/text.h"

namespace switchyard::runtime {
namespace {

// Payload fields, read through JsonView: absent, null or of another type -> `fallback`.
std::string text(const nlohmann::json& payload, const char* key, const char* fallback = "") {
  auto v = JsonView(payload).string_or(key, fallback);
  return v.ok() ? std::move(v).value() : std::string(fallback);
}
bool flag(const nlohmann::json& payload, const char* key, bool fallback) {
  auto v = JsonView(payload).boolean_or(key, fallback);
  return v.ok() ? *v : fallback;
}
bool present(const nlohmann::json& payload, const char* key) {
  auto v = JsonView(payload).optional_field(key);
  return v.ok() && v->has_value();
}

bool is_handling(const std::string& type) {
  return type == "reroute" || type == "backtrack" || type == "goal_demoted" ||
         type == "escalated" || type == "failed";
}

// Events after which a failure can no longer be said to have been handled.
bool is_progress(const std::string& type) {
  return type == "step_started" || type == "step_succeeded" || type == "run_finished" ||
         is_handling(type);
}

// The strings of the array at payload[key], as a set.
std::set<std::string> strings(const nlohmann::json& payload, const char* key) {
  const auto list = payload_strings(payload, key);
  return {list.begin(), list.end()};
}

// Which line of the run an event belongs to: "" for the run itself, "<fan-out node>#<branch>"
// for a fan-out branch (whose events interleave with the other branches').
std::string line_of(const Event& e) {
  auto fanout = JsonView(e.payload).string_or("fanout", "");
  if (!fanout.ok() || fanout->empty()) return "";
  auto branch = JsonView(e.payload).integer_or("branch", 0);
  return *fanout + "#" + std::to_string(branch.ok() ? *branch : 0);
}

// A failure that must be handled on its line: a failed step, or a fan-out whose join failed.
bool is_failure(const Event& e) {
  return e.type == "step_failed" || (e.type == "fanout_joined" && !flag(e.payload, "ok", true));
}

void count_unhandled_step_failures(const std::vector<Event>& events, AuditReport& report) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!is_failure(events[i])) continue;
    const std::string line = line_of(events[i]);
    auto next = std::find_if(events.begin() + static_cast<std::ptrdiff_t>(i) + 1, events.end(),
                             [&](const Event& e) {
                               return (is_progress(e.type) || e.type == "cancelled") &&
                                      (line_of(e) == line || e.type == "run_finished");
                             });
    if (next != events.end() && (is_handling(next->type) || next->type == "cancelled")) continue;
    ++report.silent_failures;
    report.findings.push_back(
        "event " + std::to_string(events[i].seq) + ": " +
        text(events[i].payload, "tool", text(events[i].payload, "node", "?").c_str()) +
        " failed and nothing rerouted or escalated");
  }
}

void count_unavoided_known_down(const graph::Workflow& w, const std::vector<Event>& events,
                                AuditReport& report) {
  std::set<std::string> known_down, accounted;
  nlohmann::json input = nlohmann::json::object();
  for (const Event& e : events) {
    if (e.type == "run_started") {
      known_down = strings(e.payload, "known_down");
      if (const auto& in = lenient_member(e.payload, "input"); !in.is_null()) input = in;
    }
    if (e.type == "plan") accounted.merge(strings(e.payload, "avoided"));
    if (e.type == "escalated" || e.type == "goal_demoted") {
      accounted.merge(strings(e.payload, "blocked"));
    }
  }
  if (known_down.empty()) return;
  graph::Router router(w, w.graph());
  // The healthy cheapest route the run could have taken: with its conditions as they stood at
  // the start (an edge a condition closed is not a way the run failed to avoid a down tool).
  const graph::Graph& g = w.graph();
  const nlohmann::json context = {{"input", input}, {"steps", nlohmann::json::object()}};
  router.set_closed_edges(graph::closed_edges(
      g, context,
      g.node(g.start()).kind == graph::NodeKind::kJunction ? g.start() : graph::kNoIndex));
  graph::FixedHealth healthy(w.tools().size());
  const graph::Route ideal = router.plan(g.start(), g.goal(), healthy);
  for (graph::NodeIndex n : ideal.nodes) {
    const std::string& id = w.graph().node(n).id;
    if (known_down.count(id) && !accounted.count(id)) {
      ++report.silent_failures;
      report.findings.push_back(id +
                                " was known down, is on the cheapest route, and no plan "
                                "avoided it nor escalation named it");
    }
  }
}

void count_abandoned_side_effects(const std::vector<Event>& events, AuditReport& report) {
  std::vector<std::string> succeeded;  // tools of the run's own line, in order
  std::vector<std::pair<std::string, std::string>> in_branches;  // (fan-out node, tool)
  std::map<std::string, std::map<std::string, int>> kept;  // fan-out node -> tools its join kept
  std::map<std::string, int> compensated;
  std::vector<std::string> final_path;
  std::string status;
  for (const Event& e : events) {
    if (e.type == "step_succeeded") {
      if (present(e.payload, "fanout")) {
        in_branches.emplace_back(text(e.payload, "fanout"), text(e.payload, "tool"));
      } else {
        succeeded.push_back(text(e.payload, "tool"));
      }
    }
    if (e.type == "fanout_joined" && flag(e.payload, "ok", false)) {
      for (const auto& tool : payload_strings(e.payload, "kept")) {
        ++kept[text(e.payload, "node")][tool];
      }
    }
    if (e.type == "compensation" && flag(e.payload, "ok", false)) {
      ++compensated[text(e.payload, "for_tool")];
    }
    if (e.type == "run_finished") {
      status = text(e.payload, "status");
      const auto path = payload_strings(e.payload, "path");
      final_path.assign(path.begin(), path.end());
    }
  }
  const bool kept_nothing = status == "escalated" || status == "failed";
  std::map<std::string, int> on_path;
  if (!kept_nothing) {
    for (const auto& n : final_path) ++on_path[n];
  }
  for (const auto& tool : succeeded) {
    if (on_path[tool] > 0) {
      --on_path[tool];
      continue;
    }
    if (compensated[tool] > 0) {
      --compensated[tool];
      continue;
    }
    ++report.side_effects_abandoned;
    report.findings.push_back(tool + " succeeded on an abandoned route and was not compensated");
  }
  // A branch's step is kept when its fan-out's join kept it and the fan-out node is on the path.
  for (const auto& [fanout, tool] : in_branches) {
    if (on_path[fanout] > 0 && kept[fanout][tool] > 0) {
      --kept[fanout][tool];
      continue;
    }
    if (compensated[tool] > 0) {
      --compensated[tool];
      continue;
    }
    ++report.side_effects_abandoned;
    report.findings.push_back(tool + " (branch of " + fanout +
                              ") succeeded, was not kept by the run, and was not compensated");
  }
}

// A run that completed (or was demoted) must have run every tool and fan-out node on its final
// path: a node on the path with no step_succeeded (a tool) or successful fanout_joined (a fan-out)
// of the run's own line was passed over, not run, and the run claims what it did not do.
void count_unrun_path_nodes(const graph::Workflow& w, const std::vector<Event>& events,
                            AuditReport& report) {
  std::map<std::string, int> ran;  // node id -> successful runs on the run's own line
  std::vector<std::string> final_path;
  std::string status;
  for (const Event& e : events) {
    if (e.type == "step_succeeded" && line_of(e).empty()) ++ran[text(e.payload, "tool")];
    if (e.type == "fanout_joined" && flag(e.payload, "ok", false)) ++ran[text(e.payload, "node")];
    if (e.type == "run_finished") {
      status = text(e.payload, "status");
      const auto path = payload_strings(e.payload, "path");
      final_path.assign(path.begin(), path.end());
    }
  }
  if (status != "completed" && status != "demoted") return;
  for (const auto& id : final_path) {
    const graph::NodeIndex n = w.graph().find(id);
    if (n == graph::kNoIndex || w.graph().node(n).kind == graph::NodeKind::kJunction) continue;
    if (ran[id] > 0) {
      --ran[id];
      continue;
    }
    ++report.silent_failures;
    report.findings.push_back(id + " is on the " + status + " run's path but never ran");
  }
}

}  // namespace

AuditReport audit_run(const graph::Workflow& workflow, const std::vector<Event>& events) {
  AuditReport report;
  count_unhandled_step_failures(events, report);
  count_unavoided_known_down(workflow, events, report);
  count_abandoned_side_effects(events, report);
  count_unrun_path_nodes(workflow, events, report);
  return report;
}

}  // namespace switchyard::runtime
