#pragma once
// Shared state of one graph::load call, split across graph/load*.cc. Private to the loader.

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "graph/json_check.h"
#include "graph/workflow.h"

namespace switchyard::graph {

// A step a condition reads, and the pointer of the string that names it (for errors).
struct StepRead {
  std::string step;
  std::string pointer;
};

struct EdgeSpec {
  std::string from;
  std::string to;
  double cost = 0;
  std::string pointer;                    // of the edge in the document
  std::shared_ptr<const Condition> when;  // null: none
  std::vector<StepRead> reads;            // the steps `when` reads
};

struct BranchSpec {
  std::string start;
  std::string goal;
  std::vector<EdgeSpec> edges;
};

struct FanoutSpec {
  std::string node;
  JoinKind join = JoinKind::kAll;
  int quorum = 0;
  std::vector<BranchSpec> branches;
};

// A `limits` object as written (top level or a tool's): each field absent or set.
struct LimitsSpec {
  std::optional<std::size_t> max_output_bytes;
  std::optional<std::size_t> max_json_depth;
};

// A tool's own `approval` (on a tool that is not a wait): a gate before each of its steps, or
// `false` (exempt from policy.approval).
struct GateSpec {
  bool on = true;
  std::string name;                      // empty: the tool's id
  std::chrono::milliseconds timeout{0};  // 0: none
  WaitTool::OnTimeout on_timeout = WaitTool::OnTimeout::kFail;
  std::string pointer;  // of the tool's `approval`
};

struct LoadState {
  LoadState(Checker& c, const nlohmann::json& d) : check(c), doc(d) {}
  Checker& check;
  const nlohmann::json& doc;

  std::set<std::string> mcp_server_names;         // every key of `mcp_servers`, valid or not
  std::map<std::string, McpServer> mcp_servers;   // the servers that parsed
  std::set<std::string> tool_ids;                 // every key of `tools`, valid or not
  std::map<std::string, Tool> tools;              // the tools that parsed (id order)
  std::map<std::string, std::string> compensate;  // tool id -> compensating tool id
  std::map<std::string, std::string> probes;      // tool id -> probing tool id
  std::vector<EdgeSpec> edges;
  std::set<std::string> node_ids;  // every id named by an outer edge
  std::vector<FanoutSpec> fanouts;
  std::string start;
  std::string goal;
  std::vector<std::string> demote_to;
  std::string advisor;
  Budget budget;
  Policy policy;
  OutputLimits limits;                            // the top-level `limits`
  std::map<std::string, LimitsSpec> tool_limits;  // tool id -> its own `limits`
  std::optional<Scenario> scenario;               // tool lists resolved when built
  std::vector<std::string> scenario_down;
  std::map<std::string, std::vector<int>> scenario_fail_calls;
  std::map<std::string, std::vector<Scenario::WaitScript>> scenario_waits;
  std::map<std::string, GateSpec> tool_gates;  // tool id -> its own `approval`
  std::vector<StepRead> gate_reads;            // templates reading "<tool>:approval" steps
  bool graph_loaded = false;                   // load_graph got through to its end
};

// load_tools.cc: every tool of `tools`, including template checks.
void load_tools(LoadState& s);
// Checks every template string inside `value` (strings, arrays and objects, recursively).
// `allow_run`: the template may use the `run` root (idempotency_key only).
void check_templates(LoadState& s, const nlohmann::json& value, const std::string& pointer,
                     bool allow_run = false);

// load_graph.cc: edges, fan-out nodes, start/goal/demote_to, reachability.
std::vector<EdgeSpec> load_edges(LoadState& s, const nlohmann::json& edges,
                                 const std::string& pointer, std::set<std::string>& node_ids);
void load_graph(LoadState& s);
// Builds a Graph from checked specs. REQUIRES: no errors.
Graph build_graph(const std::vector<EdgeSpec>& edges, const std::string& start,
                  const std::string& goal, const std::map<std::string, ToolIndex>& tool_index,
                  const std::map<std::string, std::uint32_t>& fanout_index);

// load_condition.cc: an edge's `when` at `pointer` (errors for its syntax, pointers and operands);
// the steps it reads are appended to `reads`.
std::optional<Condition> load_condition(LoadState& s, const nlohmann::json& when,
                                        const std::string& pointer, std::vector<StepRead>& reads);
// The nodes reachable from `from` over `edges` (every tool healthy, conditions ignored), `from`
// included.
std::set<std::string> reach_from(const std::vector<EdgeSpec>& edges, const std::string& from);
// Whether `id` is a step a template or condition may name: a tool id or a fan-out node id.
bool is_step_id(const LoadState& s, const std::string& id);
// Every step a condition reads can have run before the run leaves the edge's source (errors at
// the pointer naming the step otherwise). REQUIRES: the graph loaded without errors.
void check_condition_reads(LoadState& s);

// load_approvals.cc (docs/waits.md#approval-before-a-tool).
// `on_timeout` of `object` at `pointer` ("fail" or "escalate"; absent: fail); an error when it is
// given without `timeout_ms`.
WaitTool::OnTimeout load_on_timeout(LoadState& s, const nlohmann::json& object,
                                    const std::string& pointer);
// The `approval` of tool `id` (not a wait) at `pointer`: true, false or {name, timeout_ms,
// on_timeout}; recorded in s.tool_gates.
void load_tool_approval(LoadState& s, const std::string& id, const nlohmann::json& approval,
                        const std::string& pointer);
// `policy.approval` at /policy/approval into s.policy.approval.
void load_approval_policy(LoadState& s, const nlohmann::json& approval);
// Adds an approval gate (a wait tool "<tool>:approval") before every node of each tool that needs
// approval, by its own `approval` or by policy: edges into the tool lead to its gate, and the gate
// leads to the tool (cost 0); a graph that starts at the tool starts at its gate. Checks the
// templates that read gates. Works on what loaded (tools and edges that had errors are left out).
void add_approval_gates(LoadState& s);

// load_sections.cc: escalation, budget, policy, limits (applied to the tools); the scenario
// (after the approval gates, whose ids it may name).
void load_sections(LoadState& s);
void load_scenario(LoadState& s, bool allow);
// load_approvals.cc: a scenario's `waits` at /scenario/waits into s.scenario_waits.
void load_scenario_waits(LoadState& s, const nlohmann::json& waits);
// A `limits` object at `pointer` (errors for wrong types and ranges).
LimitsSpec load_limits_object(LoadState& s, const nlohmann::json& limits,
                              const std::string& pointer);

}  // namespace switchyard::graph
