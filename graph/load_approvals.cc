// Approval before a tool (docs/waits.md#approval-before-a-tool): a tool's own `approval`,
// `policy.approval`, and the gates (wait tools "<tool>:approval") the loader puts before the
// nodes of the tools that need one.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "graph/json_read.h"
#include "graph/load_internal.h"

namespace switchyard::graph {
namespace {

constexpr std::int64_t kMaxGateWaitMs = 366LL * 24 * 3600 * 1000;  // a year, as wait tools

// `timeout_ms` and `on_timeout` of a gate's settings at `pointer`.
void load_gate_timeout(LoadState& s, const nlohmann::json& object, const std::string& pointer,
                       std::chrono::milliseconds& timeout, WaitTool::OnTimeout& on_timeout) {
  if (auto ms = s.check.integer(object, pointer, "timeout_ms", false, 1, kMaxGateWaitMs)) {
    timeout = std::chrono::milliseconds(*ms);
  }
  on_timeout = load_on_timeout(s, object, pointer);
}

// Whether some edge of `edges` leads to or starts at node `id` (`start`).
bool names_node(const std::vector<EdgeSpec>& edges, const std::string& start,
                const std::string& id) {
  if (start == id) return true;
  return std::any_of(edges.begin(), edges.end(),
                     [&](const EdgeSpec& e) { return e.to == id || e.from == id; });
}

// Puts gate `gate` before every node `tool` of one graph (its edges and start).
void insert_gate(std::vector<EdgeSpec>& edges, std::string& start, const std::string& tool,
                 const std::string& gate, const std::string& pointer) {
  if (!names_node(edges, start, tool)) return;
  for (EdgeSpec& e : edges) {
    if (e.to == tool) e.to = gate;
  }
  EdgeSpec into;
  into.from = gate;
  into.to = tool;
  into.cost = 0;
  into.pointer = pointer;
  edges.push_back(std::move(into));
  if (start == tool) start = gate;
}

}  // namespace

WaitTool::OnTimeout load_on_timeout(LoadState& s, const nlohmann::json& object,
                                    const std::string& pointer) {
  auto value = s.check.string(object, pointer, "on_timeout", false);
  if (!value) return WaitTool::OnTimeout::kFail;
  if (*value != "fail" && *value != "escalate") {
    s.check.error(pointer_join(pointer, "on_timeout"),
                  "expected \"fail\" or \"escalate\", got \"" + *value + "\"");
    return WaitTool::OnTimeout::kFail;
  }
  if (!object.contains("timeout_ms")) {
    s.check.error(pointer_join(pointer, "on_timeout"),
                  "on_timeout says what happens when timeout_ms passes: it needs timeout_ms");
  }
  return *value == "escalate" ? WaitTool::OnTimeout::kEscalate : WaitTool::OnTimeout::kFail;
}

void load_tool_approval(LoadState& s, const std::string& id, const nlohmann::json& approval,
                        const std::string& pointer) {
  GateSpec gate;
  gate.pointer = pointer;
  if (approval.is_boolean()) {
    gate.on = approval.get<bool>();
    s.tool_gates[id] = gate;
    return;
  }
  if (!approval.is_object()) {
    s.check.error(pointer,
                  "expected true, false or an object {\"name\", \"timeout_ms\", \"on_timeout\"}, "
                  "got " +
                      describe(approval));
    return;
  }
  s.check.warn_unknown(approval, pointer, {"name", "timeout_ms", "on_timeout"});
  if (auto name = s.check.string(approval, pointer, "name", false)) {
    if (name->empty() || name->size() > 200) {
      s.check.error(pointer_join(pointer, "name"), "expected a name of 1 to 200 characters");
    } else {
      gate.name = *name;
    }
  }
  load_gate_timeout(s, approval, pointer, gate.timeout, gate.on_timeout);
  s.tool_gates[id] = gate;
}

void load_approval_policy(LoadState& s, const nlohmann::json& approval) {
  const std::string p = "/policy/approval";
  if (!s.check.expect_object(approval, p)) return;
  s.check.warn_unknown(approval, p, {"non_idempotent", "above_usd", "timeout_ms", "on_timeout"});
  ApprovalPolicy& policy = s.policy.approval;
  if (auto b = s.check.boolean(approval, p, "non_idempotent")) policy.non_idempotent = *b;
  if (auto usd = s.check.number(approval, p, "above_usd", false, 0.0)) policy.above_usd = *usd;
  load_gate_timeout(s, approval, p, policy.timeout, policy.on_timeout);
}

void add_approval_gates(LoadState& s) {
  const ApprovalPolicy& policy = s.policy.approval;
  std::set<std::string> gated;
  // Collected first: the loop below adds tools to s.tools.
  std::vector<std::pair<std::string, WaitTool>> gates;
  for (const auto& [id, tool] : s.tools) {
    if (tool.kind == ToolKind::kWait) continue;
    WaitTool w;
    w.kind = WaitTool::Kind::kApproval;
    w.gates = id;
    w.name = id;
    auto own = s.tool_gates.find(id);
    if (own != s.tool_gates.end()) {
      if (!own->second.on) continue;
      if (!own->second.name.empty()) w.name = own->second.name;
      w.timeout = own->second.timeout;
      w.on_timeout = own->second.on_timeout;
    } else {
      const bool by_policy = (policy.non_idempotent && !tool.idempotent) ||
                             (policy.above_usd && tool.price_usd > *policy.above_usd);
      if (!by_policy) continue;
      w.timeout = policy.timeout;
      w.on_timeout = policy.on_timeout;
    }
    gates.emplace_back(id, std::move(w));
  }
  for (auto& [id, wait] : gates) {
    const std::string gate = approval_gate_id(id);
    auto own = s.tool_gates.find(id);
    const std::string pointer =
        own != s.tool_gates.end() ? own->second.pointer : std::string("/policy/approval");
    bool on_a_graph = names_node(s.edges, s.start, id);
    for (const auto& f : s.fanouts) {
      for (const auto& b : f.branches) on_a_graph = on_a_graph || names_node(b.edges, b.start, id);
    }
    if (!on_a_graph) {
      // A tool called only as a compensation, a probe or the advisor: approvals gate steps.
      if (own != s.tool_gates.end()) {
        s.check.warn(pointer, "tool '" + id +
                                  "' is no step of any graph: its approval is never asked "
                                  "(compensations, probes and the advisor are not gated)");
      }
      continue;
    }
    if (s.tool_ids.count(gate) != 0 || s.node_ids.count(gate) != 0) {
      s.check.error(pointer, "the approval step of tool '" + id + "' is named '" + gate +
                                 "', which the workflow already uses as a tool or node id");
      continue;
    }
    insert_gate(s.edges, s.start, id, gate, pointer);
    if (s.node_ids.count(id) != 0) s.node_ids.insert(gate);
    for (auto& f : s.fanouts) {
      for (auto& b : f.branches) insert_gate(b.edges, b.start, id, gate, pointer);
    }
    Tool tool;
    tool.id = gate;
    tool.kind = ToolKind::kWait;
    tool.idempotent = true;
    tool.limits = s.limits;
    tool.spec = std::move(wait);
    s.tools.emplace(gate, std::move(tool));
    s.tool_ids.insert(gate);
    gated.insert(id);
  }
  for (const StepRead& read : s.gate_reads) {
    if (gated.count(read.step) == 0 && s.tools.count(read.step) != 0) {
      s.check.error(read.pointer, "this reads step '" + approval_gate_id(read.step) +
                                      "', but tool '" + read.step +
                                      "' needs no approval (its own `approval` or "
                                      "policy.approval would add that step)");
    }
  }
}

void load_scenario_waits(LoadState& s, const nlohmann::json& waits) {
  using Decision = Scenario::WaitScript::Decision;
  const std::string wp = "/scenario/waits";
  if (!s.check.expect_object(waits, wp)) return;
  for (const auto& [id, list] : waits.items()) {
    const std::string tp = pointer_join(wp, id);
    auto tool = s.tools.find(id);
    if (tool == s.tools.end() || tool->second.kind != ToolKind::kWait) {
      s.check.error(tp, s.tool_ids.count(id) != 0 && tool != s.tools.end()
                            ? "tool '" + id + "' is not a wait (nor an approval gate)"
                            : "unknown wait '" + id +
                                  "': expected a wait tool or an approval gate "
                                  "(\"<tool>:approval\")");
      continue;
    }
    const auto& spec = std::get<WaitTool>(tool->second.spec);
    if (!s.check.expect_array(list, tp)) continue;
    std::vector<Scenario::WaitScript> script;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string ip = pointer_join(tp, i);
      nlohmann::json entry = list[i];
      if (entry.is_string()) entry = {{"decision", entry}};
      if (!entry.is_object()) {
        s.check.error(ip,
                      "expected a decision (\"approve\", \"reject\", \"signal\", "
                      "\"fire\", \"timeout\") or an object {\"decision\", ...}, got " +
                          describe(list[i]));
        continue;
      }
      s.check.warn_unknown(entry, ip, {"decision", "data", "reason", "after_ms"});
      auto decision = s.check.string(entry, ip, "decision", true);
      if (!decision) continue;
      // What each kind of wait can be resolved with.
      static const std::map<std::string, std::pair<Decision, std::vector<WaitTool::Kind>>> kFits = {
          {"approve", {Decision::kApprove, {WaitTool::Kind::kApproval}}},
          {"reject", {Decision::kReject, {WaitTool::Kind::kApproval}}},
          {"signal", {Decision::kSignal, {WaitTool::Kind::kSignal}}},
          {"fire", {Decision::kFire, {WaitTool::Kind::kTimer}}},
          {"timeout", {Decision::kTimeout, {WaitTool::Kind::kApproval, WaitTool::Kind::kSignal}}}};
      const std::string dp = pointer_join(ip, "decision");
      auto fit = kFits.find(*decision);
      if (fit == kFits.end()) {
        s.check.error(
            dp, "expected approve, reject, signal, fire or timeout, got \"" + *decision + "\"");
        continue;
      }
      const auto& kinds = fit->second.second;
      if (std::find(kinds.begin(), kinds.end(), spec.kind) == kinds.end()) {
        s.check.error(dp, "wait '" + id + "' (" + std::string(to_string(spec.kind)) +
                              ") cannot be resolved with \"" + *decision + "\"");
        continue;
      }
      Scenario::WaitScript step;
      step.decision = fit->second.first;
      if (step.decision == Decision::kTimeout && spec.timeout.count() == 0) {
        s.check.error(dp, "'" + id + "' has no timeout_ms: it cannot time out");
        continue;
      }
      if (auto it = entry.find("data"); it != entry.end()) {
        if (step.decision != Decision::kApprove && step.decision != Decision::kSignal) {
          s.check.error(pointer_join(ip, "data"), "only approve and signal carry data");
        }
        step.data = *it;
      }
      if (auto reason = s.check.string(entry, ip, "reason", false, true)) {
        if (step.decision != Decision::kReject) {
          s.check.error(pointer_join(ip, "reason"), "only reject carries a reason");
        }
        step.reason = *reason;
      }
      if (auto after = s.check.integer(entry, ip, "after_ms", false, 0, kMaxGateWaitMs)) {
        if (step.decision == Decision::kFire || step.decision == Decision::kTimeout) {
          s.check.error(pointer_join(ip, "after_ms"),
                        "a timer fires after its timer_ms and a timeout after its timeout_ms: "
                        "no after_ms");
        } else if (spec.timeout.count() > 0 && *after >= spec.timeout.count()) {
          s.check.error(pointer_join(ip, "after_ms"),
                        "the wait times out after " + std::to_string(spec.timeout.count()) +
                            " ms: resolve it before that, or script \"timeout\"");
        }
        step.after = std::chrono::milliseconds(*after);
      }
      if (step.decision == Decision::kFire) step.after = spec.delay;
      if (step.decision == Decision::kTimeout) step.after = spec.timeout;
      script.push_back(std::move(step));
    }
    s.scenario_waits[id] = std::move(script);
  }
}

}  // namespace switchyard::graph
