#pragma once
// The workflow model: an immutable, validated tool graph built once by graph::load and shared
// read-only by every run of it (std::shared_ptr<const Workflow>). Thread-safe for concurrent reads.
//
// Names in the JSON file become dense indices here: tools are numbered in id order (ToolIndex),
// nodes of each routed graph in id order (NodeIndex). Indices are what the router and the run loop
// use on the hot path; names are what users and the journal see.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "graph/condition.h"
#include "graph/json_schema.h"
#include "graph/status.h"

namespace switchyard::graph {

using NodeIndex = std::uint32_t;
using ToolIndex = std::uint32_t;
inline constexpr std::uint32_t kNoIndex = 0xFFFFFFFFu;

inline constexpr std::string_view kFormatV1 = "switchyard.workflow/v1";

enum class ToolKind { kHttp, kCommand, kLlm, kBuiltin, kMock, kMcp, kWait };
std::string_view to_string(ToolKind kind);

struct HttpTool {
  std::string method = "POST";                               // GET, POST, PUT or DELETE
  std::string url;                                           // template
  std::vector<std::pair<std::string, std::string>> headers;  // values are templates
  // Request body: a template string or any JSON value whose strings are templates. Absent: the
  // JSON object {"input": ..., "steps": {...}} is sent.
  std::optional<nlohmann::json> body;
  std::vector<int> expect_status;  // empty: any 2xx
  // Template of the Idempotency-Key header sent with every request ("" : none), e.g.
  // "{{run.id}}-refund". The same call repeated after a crash sends the same key, so a service
  // that honours it applies it once: resume may repeat such a call (docs/journal.md#resume).
  std::string idempotency_key;
};

struct CommandTool {
  std::vector<std::string> argv;  // argv[0] is the program; elements are templates; no shell
  std::vector<std::pair<std::string, std::string>> env;
  std::string cwd;  // empty: the run's working directory
};

enum class Difficulty { kEasy, kHard };

struct LlmTool {
  std::string prompt;  // template
  std::string system;  // template; may be empty
  int max_tokens = 512;
  std::optional<JsonSchema> output_schema;  // the JSON Schema the answer must satisfy, compiled
  Difficulty difficulty = Difficulty::kEasy;
  std::string tier;  // empty: chosen by the budget controller
};

struct BuiltinTool {
  std::string name;  // registered by the embedding program
  // The tool's `args`: an object whose strings are templates, rendered for each call and handed
  // to the builtin (so that one registered function serves many tools). Absent: none.
  std::optional<nlohmann::json> args;
};

struct MockFail {
  enum class Mode { kNever, kAlways, kCalls, kRate };
  Mode mode = Mode::kNever;
  std::vector<int> calls;  // kCalls: 1-based call numbers that fail
  double rate = 0;         // kRate: probability of failure per call, in [0, 1]
  std::uint64_t seed = 0;  // kRate: seed of the tool's own generator
};

struct MockTool {
  MockFail fail;
  std::chrono::milliseconds latency{0};
  nlohmann::json output;  // what a successful call returns; default {"tool": <id>}
};

// An MCP server of the workflow's top-level `mcp_servers` map (docs/mcp.md): a program spoken to
// over its stdin/stdout (`argv`, `env`, `cwd`) or a Streamable HTTP endpoint (`url`, `headers`).
// Values of `env` and `headers` may hold "${NAME}": the environment variable NAME, read when the
// server is connected (never written in the workflow, so never journaled).
struct McpServer {
  std::string name;               // its key in mcp_servers
  std::vector<std::string> argv;  // stdio: the program and its arguments (non-empty)
  std::vector<std::pair<std::string, std::string>> env;      // stdio: added to the inherited one
  std::string cwd;                                           // stdio: empty: ours
  std::string url;                                           // Streamable HTTP: the MCP endpoint
  std::vector<std::pair<std::string, std::string>> headers;  // Streamable HTTP
  // The protocol revision (docs/mcp.md#protocol-negotiation): "auto" (server/discover first, the
  // stateless 2026-07-28 revision when the server lists it, else the initialize handshake of
  // 2025-11-25), "2025-11-25" or "2026-07-28" (that one only, no probe).
  std::string protocol = "auto";
  bool stdio() const { return !argv.empty(); }
  // What identifies the server process-wide: tools (of any workflow) with the same key share one
  // session.
  std::string key() const;
};

// `text` with each "${NAME}" replaced by lookup(NAME) (an environment variable). A '$' not
// followed by '{' is itself. Errors (kInvalidArgument): an unclosed "${", a NAME that is not
// [A-Za-z_][A-Za-z0-9_]*, or a variable lookup() does not know (named; its value never is).
Result<std::string> expand_env_refs(
    std::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>& lookup);

struct McpTool {
  McpServer server;  // a copy of the server it calls
  std::string tool;  // the server's name of the tool
  // `arguments`: an object whose strings are templates (like an http body). Absent: {}.
  std::optional<nlohmann::json> arguments;
};

// A step that waits for something outside the run (docs/waits.md): a person's approval, a named
// signal with a JSON payload, or a time. The engine holds the run (no thread) until the wait is
// resolved; the step's output is the approval's or the signal's data, or the timer's firing.
struct WaitTool {
  enum class Kind { kApproval, kSignal, kTimer };
  Kind kind = Kind::kSignal;
  std::string name;  // kApproval, kSignal: what is waited for (signals are sent by this name)
  std::chrono::milliseconds delay{0};  // kTimer: how long after the step starts it fires
  // kApproval, kSignal: unresolved after this long, the step fails (failure `timeout`) and the
  // run heals like after any failure, or the run escalates (on_timeout). 0: no timeout.
  std::chrono::milliseconds timeout{0};
  enum class OnTimeout { kFail, kEscalate };
  OnTimeout on_timeout = OnTimeout::kFail;
  // An approval gate (docs/waits.md#approval-before-a-tool): the id of the tool whose steps this
  // wait guards. The loader made it a node before every node of that tool. Empty: a wait of the
  // workflow's own.
  std::string gates;
};
// The id of the approval gate of tool `tool`: "<tool>:approval".
std::string approval_gate_id(std::string_view tool);
std::string_view to_string(WaitTool::Kind kind);

using ToolSpec =
    std::variant<HttpTool, CommandTool, LlmTool, BuiltinTool, MockTool, McpTool, WaitTool>;

// Limits on what a tool sends back: every output of an http, command or llm tool (a response
// body, stdout, a provider's reply and the answer in it) is checked against them before it is
// parsed, and an output past one is a failed step (bad_output) whose reason names the limit.
// The workflow's top-level `limits` sets them for all its tools; a tool's own `limits` overrides
// them field by field (docs/workflow-format.md#limits).
inline constexpr std::size_t kDefaultMaxOutputBytes = std::size_t{16} << 20;  // 16 MiB
inline constexpr std::size_t kDefaultMaxJsonDepth = 128;
inline constexpr std::size_t kMaxOutputBytesLimit = std::size_t{1} << 30;  // what a file may set
inline constexpr std::size_t kMaxJsonDepthLimit = 1024;
struct OutputLimits {
  std::size_t max_output_bytes = kDefaultMaxOutputBytes;  // bytes of one output
  std::size_t max_json_depth = kDefaultMaxJsonDepth;      // nesting of arrays and objects
  bool operator==(const OutputLimits&) const = default;
};

// A limit on a tool's calls shared by every run of every workflow whose tools name the same key,
// across all workers of a PostgreSQL journal (docs/workflow-format.md#throttle): at most
// `max_in_flight` calls in flight and call starts at least 1/`per_second` s apart. A call waits
// for its turn at most `max_wait`; past it the step fails `rate_limited`.
struct Throttle {
  std::string key;                        // the tool's id unless given
  int max_in_flight = 0;                  // 0: no concurrency limit
  double per_second = 0;                  // 0: no rate limit
  std::chrono::milliseconds max_wait{0};  // how long a call may wait for its turn
  bool operator==(const Throttle&) const = default;
};
inline constexpr std::int64_t kDefaultThrottleWaitMs = 30000;

struct Tool {
  std::string id;
  ToolKind kind = ToolKind::kMock;
  ToolSpec spec;
  bool idempotent = false;
  // The workflow gave `idempotent` (a wait tool always counts as given): then it decides, and an
  // MCP server's annotations never change it (docs/mcp.md#annotations-and-idempotent).
  bool idempotent_declared = false;
  ToolIndex compensate = kNoIndex;       // the tool that undoes this one, or kNoIndex
  int retries = 0;                       // extra attempts on the same tool before a failure counts
  double price_usd = 0;                  // charged to the budget per call
  std::optional<double> cost;            // default base cost of edges into this tool that give none
  std::chrono::milliseconds timeout{0};  // 0: the kind's default
  // Called by the health monitor while the tool's breaker is open: an http(s) URL (GET, any 2xx
  // means healthy) or another tool. Empty / kNoIndex: none.
  std::string probe_url;
  ToolIndex probe_tool = kNoIndex;
  // The workflow's limits with this tool's own overrides applied.
  OutputLimits limits;
  // The tool's `throttle`, if any.
  std::optional<Throttle> throttle;
};

enum class NodeKind { kJunction, kTool, kFanout };

struct Node {
  std::string id;
  NodeKind kind = NodeKind::kJunction;
  ToolIndex tool = kNoIndex;        // kTool: the tool this node runs
  std::uint32_t fanout = kNoIndex;  // kFanout: index into Workflow::fanouts()
};

struct Edge {
  NodeIndex from = 0;
  NodeIndex to = 0;
  double cost = 0;  // base cost, finite, >= 0
};

class ToolGraph;  // Boost.Graph adjacency, built once (graph/tool_graph.h)

// A routed graph: the workflow's outer graph, or one fan-out branch. Nodes are numbered in id
// order; edges keep file order. Immutable after load.
class Graph {
 public:
  Graph();
  ~Graph();
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Edge>& edges() const { return edges_; }
  NodeIndex start() const { return start_; }
  NodeIndex goal() const { return goal_; }
  const Node& node(NodeIndex n) const { return nodes_[n]; }
  // The node with this id, or kNoIndex.
  NodeIndex find(std::string_view id) const;
  // Forward adjacency: indices into edges() of the edges leaving `n`, in file order.
  const std::vector<std::uint32_t>& out_edges(NodeIndex n) const { return out_[n]; }
  const std::vector<std::uint32_t>& in_edges(NodeIndex n) const { return in_[n]; }
  // Indices into edges() of the edges with a condition (`when`), in file order.
  const std::vector<std::uint32_t>& guarded() const { return guarded_; }
  // The condition of edge `e` (index into edges()): the run takes the edge only while it holds
  // (graph/condition.h). Null: always.
  const Condition* when(std::uint32_t e) const {
    return e < when_.size() ? when_[e].get() : nullptr;
  }
  // The Boost.Graph form, for the router.
  const ToolGraph& tool_graph() const { return *tool_graph_; }

  // Builder: used by the loader. REQUIRES: nodes sorted by id, edges reference valid nodes;
  // `when` empty or one entry (null: no condition) per edge.
  static Graph build(std::vector<Node> nodes, std::vector<Edge> edges, NodeIndex start,
                     NodeIndex goal, std::vector<std::shared_ptr<const Condition>> when = {});

 private:
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::vector<std::vector<std::uint32_t>> out_;
  std::vector<std::vector<std::uint32_t>> in_;
  std::vector<std::shared_ptr<const Condition>> when_;
  std::vector<std::uint32_t> guarded_;
  NodeIndex start_ = 0;
  NodeIndex goal_ = 0;
  std::unordered_map<std::string, NodeIndex> index_;
  std::unique_ptr<ToolGraph> tool_graph_;
};

enum class JoinKind { kAll, kAny, kQuorum };

struct Fanout {
  JoinKind join = JoinKind::kAll;
  int quorum = 0;  // branches that must succeed: all -> size, any -> 1, quorum -> k
  std::vector<Graph> branches;
};

struct Budget {
  std::optional<double> usd;
  std::optional<std::int64_t> tokens;
  std::optional<std::int64_t> llm_calls;
};

struct BreakerPolicy {
  int failures = 3;                           // consecutive failures that open the breaker
  std::chrono::milliseconds cooldown{30000};  // open -> half-open
};

// `policy.approval`: which tools need a person's approval before each of their steps, besides
// those whose own `approval` asks for it (docs/waits.md#approval-before-a-tool).
struct ApprovalPolicy {
  bool non_idempotent = false;           // every tool that is not idempotent
  std::optional<double> above_usd;       // every tool whose price_usd is above this
  std::chrono::milliseconds timeout{0};  // of the gates this policy adds; 0: none
  WaitTool::OnTimeout on_timeout = WaitTool::OnTimeout::kFail;
};

struct Policy {
  BreakerPolicy breaker;
  ApprovalPolicy approval;
  int max_reroutes = 16;  // healing actions (reroutes + backtracks) before the run escalates
  // On escalation, also compensate the completed steps (default: leave them for a human).
  bool compensate_on_escalation = false;
};

// The `scenario` block of a scenario file (evaluation and chaos only).
struct Scenario {
  std::string id;
  std::string name;
  std::string domain;
  std::string topology;
  std::vector<ToolIndex> down;  // fail on every call
  bool known = true;            // the monitor knows `down` before the run starts
  std::map<ToolIndex, std::vector<int>> fail_calls;  // fail on these 1-based calls only
  // How the calls of wait tools are resolved (docs/eval.md#scripting-waits): per wait tool, the
  // resolution of its 1st, 2nd, ... call. A call past the list resolves at once as approved,
  // signalled with null data, or fired after timer_ms.
  struct WaitScript {
    enum class Decision { kApprove, kReject, kSignal, kFire, kTimeout };
    Decision decision = Decision::kApprove;
    nlohmann::json data;                 // kApprove, kSignal
    std::string reason;                  // kReject
    std::chrono::milliseconds after{0};  // simulated time until the resolution
  };
  std::map<ToolIndex, std::vector<WaitScript>> waits;
  struct Expect {
    std::string status;  // completed, demoted, escalated, failed
    std::optional<std::vector<std::string>> path;
    std::optional<int> llm_calls_max;
    std::optional<int> reroutes;
  } expect;
};

class Workflow {
 public:
  const std::string& name() const { return name_; }
  const std::string& description() const { return description_; }
  const std::vector<Tool>& tools() const { return tools_; }
  const Tool& tool(ToolIndex t) const { return tools_[t]; }
  // The tool with this id, or kNoIndex.
  ToolIndex find_tool(std::string_view id) const;
  const Graph& graph() const { return graph_; }
  const std::vector<Fanout>& fanouts() const { return fanouts_; }
  // Fallback goals in order of preference (nodes of graph()).
  const std::vector<NodeIndex>& demote_to() const { return demote_to_; }
  ToolIndex advisor() const { return advisor_; }  // kNoIndex: none
  const Budget& budget() const { return budget_; }
  const Policy& policy() const { return policy_; }
  const std::optional<Scenario>& scenario() const { return scenario_; }
  // The top-level `limits` (defaults when absent); each tool's are in Tool::limits.
  const OutputLimits& limits() const { return limits_; }
  // The document as loaded (for hashing and journaling).
  const nlohmann::json& source() const { return source_; }

 private:
  friend class WorkflowBuilder;
  std::string name_;
  std::string description_;
  std::vector<Tool> tools_;
  std::unordered_map<std::string, ToolIndex> tool_index_;
  Graph graph_;
  std::vector<Fanout> fanouts_;
  std::vector<NodeIndex> demote_to_;
  ToolIndex advisor_ = kNoIndex;
  Budget budget_;
  Policy policy_;
  std::optional<Scenario> scenario_;
  OutputLimits limits_;
  nlohmann::json source_;
};

// Whether a call of `tool` may be repeated without repeating its effect because it sends an
// idempotency key (http tools with `idempotency_key`).
bool has_idempotency_key(const Tool& tool);

// Assembles a Workflow. Used by the loader and by tests that build graphs in code.
class WorkflowBuilder {
 public:
  Workflow& get() { return w_; }
  void set_tools(std::vector<Tool> tools);  // REQUIRES: sorted by id
  void set_name(std::string name) { w_.name_ = std::move(name); }
  void set_description(std::string d) { w_.description_ = std::move(d); }
  void set_graph(Graph g) { w_.graph_ = std::move(g); }
  void set_fanouts(std::vector<Fanout> f) { w_.fanouts_ = std::move(f); }
  void set_demote_to(std::vector<NodeIndex> d) { w_.demote_to_ = std::move(d); }
  void set_advisor(ToolIndex a) { w_.advisor_ = a; }
  void set_budget(Budget b) { w_.budget_ = b; }
  void set_policy(Policy p) { w_.policy_ = p; }
  void set_scenario(std::optional<Scenario> s) { w_.scenario_ = std::move(s); }
  void set_limits(OutputLimits l) { w_.limits_ = l; }
  void set_source(nlohmann::json s) { w_.source_ = std::move(s); }
  std::shared_ptr<const Workflow> finish() { return std::make_shared<Workflow>(std::move(w_)); }

 private:
  Workflow w_;
};

}  // namespace switchyard::graph
