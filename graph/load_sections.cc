// Loading the optional sections: escalation, budget, policy, limits, scenario.

#include <algorithm>

#include "graph/load_internal.h"

namespace switchyard::graph {
namespace {

void load_escalation(LoadState& s) {
  const nlohmann::json* e = s.check.field(s.doc, "", "escalation", false);
  if (e == nullptr || !s.check.expect_object(*e, "/escalation")) return;
  s.check.warn_unknown(*e, "/escalation", {"advisor"});
  auto advisor = s.check.string(*e, "/escalation", "advisor", false);
  if (!advisor) return;
  if (!s.tool_ids.count(*advisor)) {
    s.check.error("/escalation/advisor",
                  "unknown tool '" + *advisor + "': expected the id of an llm tool in /tools");
    return;
  }
  auto tool = s.tools.find(*advisor);
  if (tool != s.tools.end() && tool->second.kind != ToolKind::kLlm) {
    s.check.error("/escalation/advisor", "expected the id of an llm tool; '" + *advisor +
                                             "' is a " + std::string(to_string(tool->second.kind)) +
                                             " tool");
    return;
  }
  s.advisor = *advisor;
}

void load_budget(LoadState& s) {
  const nlohmann::json* b = s.check.field(s.doc, "", "budget", false);
  if (b == nullptr || !s.check.expect_object(*b, "/budget")) return;
  s.check.warn_unknown(*b, "/budget", {"usd", "tokens", "llm_calls"});
  s.budget.usd = s.check.number(*b, "/budget", "usd", false, 0.0);
  s.budget.tokens = s.check.integer(*b, "/budget", "tokens", false, 0, INT64_MAX);
  s.budget.llm_calls = s.check.integer(*b, "/budget", "llm_calls", false, 0, INT64_MAX);
}

void load_policy(LoadState& s) {
  const nlohmann::json* p = s.check.field(s.doc, "", "policy", false);
  if (p == nullptr || !s.check.expect_object(*p, "/policy")) return;
  s.check.warn_unknown(*p, "/policy",
                       {"breaker", "max_reroutes", "compensate_on_escalation", "approval"});
  if (const auto* approval = s.check.field(*p, "/policy", "approval", false)) {
    load_approval_policy(s, *approval);
  }
  if (const auto* breaker = s.check.field(*p, "/policy", "breaker", false)) {
    const std::string bp = "/policy/breaker";
    if (s.check.expect_object(*breaker, bp)) {
      s.check.warn_unknown(*breaker, bp, {"failures", "cooldown_ms"});
      if (auto f = s.check.integer(*breaker, bp, "failures", false, 1, 1000000)) {
        s.policy.breaker.failures = static_cast<int>(*f);
      }
      if (auto c = s.check.integer(*breaker, bp, "cooldown_ms", false, 0, 7LL * 24 * 3600 * 1000)) {
        s.policy.breaker.cooldown = std::chrono::milliseconds(*c);
      }
    }
  }
  if (auto m = s.check.integer(*p, "/policy", "max_reroutes", false, 0, 1000000)) {
    s.policy.max_reroutes = static_cast<int>(*m);
  }
  if (auto c = s.check.boolean(*p, "/policy", "compensate_on_escalation")) {
    s.policy.compensate_on_escalation = *c;
  }
}

// The top-level `limits`, then each tool's limits: the top level's with its own fields over them.
void load_limits(LoadState& s) {
  if (const nlohmann::json* l = s.check.field(s.doc, "", "limits", false)) {
    const LimitsSpec spec = load_limits_object(s, *l, "/limits");
    if (spec.max_output_bytes) s.limits.max_output_bytes = *spec.max_output_bytes;
    if (spec.max_json_depth) s.limits.max_json_depth = *spec.max_json_depth;
  }
  for (auto& [id, tool] : s.tools) {
    tool.limits = s.limits;
    auto own = s.tool_limits.find(id);
    if (own == s.tool_limits.end()) continue;
    if (own->second.max_output_bytes) tool.limits.max_output_bytes = *own->second.max_output_bytes;
    if (own->second.max_json_depth) tool.limits.max_json_depth = *own->second.max_json_depth;
  }
}

// A list of tool ids; unknown ids are errors.
std::vector<std::string> tool_list(LoadState& s, const nlohmann::json& list, const std::string& p) {
  std::vector<std::string> out;
  if (!s.check.expect_array(list, p)) return out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string ip = pointer_join(p, i);
    if (!list[i].is_string()) {
      s.check.error(ip, "expected a tool id (a string), got " + describe(list[i]));
    } else if (!s.tool_ids.count(list[i].get<std::string>())) {
      s.check.error(ip, "unknown tool '" + list[i].get<std::string>() + "'");
    } else {
      out.push_back(list[i].get<std::string>());
    }
  }
  return out;
}

void load_expect(LoadState& s, const nlohmann::json& scenario, Scenario& out) {
  const std::string sp = "/scenario";
  const nlohmann::json* e = s.check.field(scenario, sp, "expect", true);
  if (e == nullptr || !s.check.expect_object(*e, sp + "/expect")) return;
  const std::string ep = sp + "/expect";
  s.check.warn_unknown(*e, ep, {"status", "path", "llm_calls_max", "reroutes"});
  if (auto status = s.check.string(*e, ep, "status", true)) {
    static const std::vector<std::string> kStatuses = {"completed", "demoted", "escalated",
                                                       "failed"};
    if (std::find(kStatuses.begin(), kStatuses.end(), *status) == kStatuses.end()) {
      s.check.error(ep + "/status",
                    "expected completed, demoted, escalated or failed, got \"" + *status + "\"");
    }
    out.expect.status = *status;
  }
  if (const auto* path = s.check.field(*e, ep, "path", false)) {
    const std::string pp = ep + "/path";
    if (s.check.expect_array(*path, pp)) {
      std::vector<std::string> nodes;
      for (std::size_t i = 0; i < path->size(); ++i) {
        const auto& n = (*path)[i];
        if (!n.is_string() || !s.node_ids.count(n.get<std::string>())) {
          s.check.error(pointer_join(pp, i),
                        "expected a node id of the workflow, got " + describe(n));
        } else {
          nodes.push_back(n.get<std::string>());
        }
      }
      out.expect.path = nodes;
    }
  }
  if (auto m = s.check.integer(*e, ep, "llm_calls_max", false, 0, INT32_MAX)) {
    out.expect.llm_calls_max = static_cast<int>(*m);
  }
  if (auto r = s.check.integer(*e, ep, "reroutes", false, 0, INT32_MAX)) {
    out.expect.reroutes = static_cast<int>(*r);
  }
}

}  // namespace

void load_scenario(LoadState& s, bool allow) {
  const nlohmann::json* sc = s.doc.contains("scenario") ? &s.doc["scenario"] : nullptr;
  if (sc == nullptr) return;
  if (!allow) {
    s.check.warn("/scenario", "unknown field 'scenario' (ignored)");
    return;
  }
  const std::string sp = "/scenario";
  if (!s.check.expect_object(*sc, sp)) return;
  s.check.warn_unknown(*sc, sp,
                       {"id", "name", "domain", "topology", "description", "down", "known",
                        "fail_calls", "expect", "waits"});
  Scenario out;
  if (auto id = s.check.string(*sc, sp, "id", true)) out.id = *id;
  for (auto [key, field] : {std::pair{"name", &out.name}, std::pair{"domain", &out.domain},
                            std::pair{"topology", &out.topology}}) {
    if (auto v = s.check.string(*sc, sp, key, false, true)) *field = *v;
  }
  std::vector<std::string> down;
  if (const auto* d = s.check.field(*sc, sp, "down", false)) down = tool_list(s, *d, sp + "/down");
  if (auto known = s.check.boolean(*sc, sp, "known")) out.known = *known;
  std::map<std::string, std::vector<int>> fail_calls;
  if (const auto* f = s.check.field(*sc, sp, "fail_calls", false)) {
    const std::string fp = sp + "/fail_calls";
    if (s.check.expect_object(*f, fp)) {
      for (const auto& [tool, calls] : f->items()) {
        const std::string tp = pointer_join(fp, tool);
        if (!s.tool_ids.count(tool)) {
          s.check.error(tp, "unknown tool '" + tool + "'");
          continue;
        }
        if (!s.check.expect_array(calls, tp)) continue;
        for (std::size_t i = 0; i < calls.size(); ++i) {
          if (auto n = s.check.integer_value(calls[i], pointer_join(tp, i), 1, 1000000000)) {
            fail_calls[tool].push_back(static_cast<int>(*n));
          }
        }
      }
    }
  }
  load_expect(s, *sc, out);
  // Tool ids become indices when the workflow is built (see load.cc): keep the names for now.
  s.scenario = std::move(out);
  s.scenario_down = std::move(down);
  s.scenario_fail_calls = std::move(fail_calls);
  if (const auto* w = s.check.field(*sc, sp, "waits", false)) load_scenario_waits(s, *w);
}

void load_sections(LoadState& s) {
  load_escalation(s);
  load_budget(s);
  load_policy(s);
  load_limits(s);
}

LimitsSpec load_limits_object(LoadState& s, const nlohmann::json& limits,
                              const std::string& pointer) {
  LimitsSpec spec;
  if (!s.check.expect_object(limits, pointer)) return spec;
  s.check.warn_unknown(limits, pointer, {"max_output_bytes", "max_json_depth"});
  if (auto b = s.check.integer(limits, pointer, "max_output_bytes", false, 1,
                               static_cast<std::int64_t>(kMaxOutputBytesLimit))) {
    spec.max_output_bytes = static_cast<std::size_t>(*b);
  }
  if (auto d = s.check.integer(limits, pointer, "max_json_depth", false, 1,
                               static_cast<std::int64_t>(kMaxJsonDepthLimit))) {
    spec.max_json_depth = static_cast<std::size_t>(*d);
  }
  return spec;
}

}  // namespace switchyard::graph
