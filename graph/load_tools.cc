// Loading the `tools` section: common fields, each kind's fields, templates.

#include <algorithm>

#include "graph/load_internal.h"
#include "graph/template.h"

namespace switchyard::graph {
namespace {

constexpr std::int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;
constexpr std::int64_t kMaxWaitMs = 366LL * 24 * 3600 * 1000;  // a year

std::optional<ToolKind> parse_kind(const std::string& kind) {
  if (kind == "http") return ToolKind::kHttp;
  if (kind == "command") return ToolKind::kCommand;
  if (kind == "llm") return ToolKind::kLlm;
  if (kind == "builtin") return ToolKind::kBuiltin;
  if (kind == "mock") return ToolKind::kMock;
  if (kind == "mcp") return ToolKind::kMcp;
  if (kind == "wait") return ToolKind::kWait;
  return std::nullopt;
}

// An object of string values (headers, env), in key order.
std::vector<std::pair<std::string, std::string>> string_map(LoadState& s,
                                                            const nlohmann::json& tool,
                                                            const std::string& p,
                                                            std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  const nlohmann::json* v = s.check.field(tool, p, key, false);
  if (v == nullptr) return out;
  const std::string fp = pointer_join(p, key);
  if (!s.check.expect_object(*v, fp)) return out;
  for (const auto& [k, value] : v->items()) {
    if (!value.is_string()) {
      s.check.error(pointer_join(fp, k), "expected a string, got " + describe(value));
      continue;
    }
    out.emplace_back(k, value.get<std::string>());
  }
  return out;
}

HttpTool load_http(LoadState& s, const nlohmann::json& t, const std::string& p) {
  HttpTool h;
  if (auto url = s.check.string(t, p, "url", true)) h.url = *url;
  if (auto method = s.check.string(t, p, "method", false)) {
    static const std::vector<std::string> kMethods = {"GET", "POST", "PUT", "DELETE"};
    if (std::find(kMethods.begin(), kMethods.end(), *method) == kMethods.end()) {
      s.check.error(pointer_join(p, "method"),
                    "expected one of GET, POST, PUT, DELETE, got \"" + *method + "\"");
    } else {
      h.method = *method;
    }
  }
  h.headers = string_map(s, t, p, "headers");
  if (auto key = s.check.string(t, p, "idempotency_key", false)) {
    if (key->empty()) {
      s.check.error(pointer_join(p, "idempotency_key"), "expected a non-empty template");
    } else {
      h.idempotency_key = *key;
      check_templates(s, t["idempotency_key"], pointer_join(p, "idempotency_key"),
                      /*allow_run=*/true);
    }
  }
  if (auto it = t.find("body"); it != t.end()) {
    if (h.method == "GET") {  // curl would drop it: refused rather than silently not sent
      s.check.error(pointer_join(p, "body"),
                    "a GET request sends no body; use POST, PUT or DELETE");
    } else {
      h.body = *it;
    }
  }
  if (const auto* statuses = s.check.field(t, p, "expect_status", false)) {
    const std::string sp = pointer_join(p, "expect_status");
    if (statuses->is_number()) {
      if (auto code = s.check.integer_value(*statuses, sp, 100, 599))
        h.expect_status.push_back(*code);
    } else if (s.check.expect_array(*statuses, sp)) {
      for (std::size_t i = 0; i < statuses->size(); ++i) {
        if (auto code = s.check.integer_value((*statuses)[i], pointer_join(sp, i), 100, 599)) {
          h.expect_status.push_back(static_cast<int>(*code));
        }
      }
    }
  }
  return h;
}

CommandTool load_command(LoadState& s, const nlohmann::json& t, const std::string& p) {
  CommandTool c;
  if (const auto* argv = s.check.field(t, p, "argv", true)) {
    const std::string ap = pointer_join(p, "argv");
    if (s.check.expect_array(*argv, ap)) {
      if (argv->empty())
        s.check.error(ap, "expected a non-empty array of strings (argv[0] is the program)");
      for (std::size_t i = 0; i < argv->size(); ++i) {
        const auto& a = (*argv)[i];
        if (!a.is_string()) {
          s.check.error(pointer_join(ap, i), "expected a string, got " + describe(a));
        } else {
          c.argv.push_back(a.get<std::string>());
        }
      }
    }
  }
  c.env = string_map(s, t, p, "env");
  if (auto cwd = s.check.string(t, p, "cwd", false)) c.cwd = *cwd;
  return c;
}

LlmTool load_llm(LoadState& s, const nlohmann::json& t, const std::string& p) {
  LlmTool l;
  if (auto prompt = s.check.string(t, p, "prompt", true)) l.prompt = *prompt;
  if (auto system = s.check.string(t, p, "system", false, true)) l.system = *system;
  if (auto max = s.check.integer(t, p, "max_tokens", false, 1, 1000000)) {
    l.max_tokens = static_cast<int>(*max);
  }
  if (const auto* schema = s.check.field(t, p, "output_schema", false)) {
    const std::string at = pointer_join(p, "output_schema");
    if (s.check.expect_object(*schema, at)) {
      auto compiled = JsonSchema::compile(*schema);
      if (compiled.ok())
        l.output_schema = std::move(*compiled);
      else
        s.check.error(at, compiled.status().message());
    }
  }
  if (auto d = s.check.string(t, p, "difficulty", false)) {
    if (*d == "easy")
      l.difficulty = Difficulty::kEasy;
    else if (*d == "hard")
      l.difficulty = Difficulty::kHard;
    else
      s.check.error(pointer_join(p, "difficulty"),
                    "expected \"easy\" or \"hard\", got \"" + *d + "\"");
  }
  if (auto tier = s.check.string(t, p, "tier", false)) l.tier = *tier;
  return l;
}

// Checks the "${NAME}" references of each value of a string map (env, headers) at `pointer`.
void check_env_refs(LoadState& s, const std::vector<std::pair<std::string, std::string>>& values,
                    const std::string& pointer) {
  for (const auto& [key, value] : values) {
    auto r = expand_env_refs(value, [](const std::string&) { return std::string(); });
    if (!r.ok()) s.check.error(pointer_join(pointer, key), r.status().message());
  }
}

McpServer load_mcp_server(LoadState& s, const std::string& name, const nlohmann::json& v,
                          const std::string& p) {
  McpServer m;
  m.name = name;
  s.check.warn_unknown(v, p, {"argv", "env", "cwd", "url", "headers", "protocol", "description"});
  if (auto protocol = s.check.string(v, p, "protocol", false)) {
    if (*protocol == "auto" || *protocol == "2025-11-25" || *protocol == "2026-07-28") {
      m.protocol = *protocol;
    } else {
      s.check.error(
          pointer_join(p, "protocol"),
          "expected \"auto\", \"2025-11-25\" or \"2026-07-28\", got \"" + *protocol + "\"");
    }
  }
  const bool has_argv = v.contains("argv"), has_url = v.contains("url");
  if (has_argv == has_url) {
    s.check.error(p, has_argv
                         ? "a server has either argv (stdio) or url (Streamable HTTP), not both"
                         : "expected argv (a stdio server) or url (a Streamable HTTP server)");
    return m;
  }
  if (has_argv) {
    CommandTool c = load_command(s, v, p);  // argv, env, cwd: as a command tool's
    m.argv = std::move(c.argv);
    m.env = std::move(c.env);
    m.cwd = std::move(c.cwd);
    check_env_refs(s, m.env, pointer_join(p, "env"));
    if (v.contains("headers")) {
      s.check.error(pointer_join(p, "headers"), "a stdio server has no headers");
    }
  } else {
    if (auto url = s.check.string(v, p, "url", true)) {
      if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
        s.check.error(pointer_join(p, "url"), "expected an http(s) URL, got \"" + *url + "\"");
      } else {
        m.url = *url;
      }
    }
    m.headers = string_map(s, v, p, "headers");
    check_env_refs(s, m.headers, pointer_join(p, "headers"));
    for (const char* key : {"env", "cwd"}) {
      if (v.contains(key)) {
        s.check.error(pointer_join(p, key), std::string("a Streamable HTTP server has no ") + key);
      }
    }
  }
  return m;
}

McpTool load_mcp(LoadState& s, const nlohmann::json& t, const std::string& p) {
  McpTool m;
  if (auto server = s.check.string(t, p, "server", true)) {
    auto it = s.mcp_servers.find(*server);
    if (it != s.mcp_servers.end()) {
      m.server = it->second;
    } else if (!s.mcp_server_names.count(*server)) {
      s.check.error(pointer_join(p, "server"),
                    "unknown MCP server '" + *server + "': expected a key of /mcp_servers");
    } else {  // declared, with errors of its own (reported there): this tool fails with it
      s.check.error(pointer_join(p, "server"), "MCP server '" + *server + "' has errors");
    }
  }
  if (auto name = s.check.string(t, p, "tool", true)) m.tool = *name;
  if (auto it = t.find("arguments"); it != t.end()) {
    if (s.check.expect_object(*it, pointer_join(p, "arguments"))) m.arguments = *it;
  }
  return m;
}

MockFail load_mock_fail(LoadState& s, const nlohmann::json& fail, const std::string& p) {
  MockFail f;
  const char* expected =
      "expected \"never\", \"always\", {\"calls\": [n, ...]} or {\"rate\": r, \"seed\": s}";
  if (fail.is_string()) {
    const auto mode = fail.get<std::string>();
    if (mode == "never")
      f.mode = MockFail::Mode::kNever;
    else if (mode == "always")
      f.mode = MockFail::Mode::kAlways;
    else
      s.check.error(p, std::string(expected) + ", got " + describe(fail));
    return f;
  }
  if (!fail.is_object() || (!fail.contains("calls") && !fail.contains("rate"))) {
    s.check.error(p, std::string(expected) + ", got " + describe(fail));
    return f;
  }
  if (fail.contains("calls")) {
    f.mode = MockFail::Mode::kCalls;
    s.check.warn_unknown(fail, p, {"calls"});
    const std::string cp = pointer_join(p, "calls");
    if (s.check.expect_array(fail["calls"], cp)) {
      for (std::size_t i = 0; i < fail["calls"].size(); ++i) {
        if (auto n = s.check.integer_value(fail["calls"][i], pointer_join(cp, i), 1, 1000000000)) {
          f.calls.push_back(static_cast<int>(*n));
        }
      }
    }
    return f;
  }
  f.mode = MockFail::Mode::kRate;
  s.check.warn_unknown(fail, p, {"rate", "seed"});
  if (auto rate = s.check.number(fail, p, "rate", true, 0.0, 1.0)) f.rate = *rate;
  if (auto seed = s.check.integer(fail, p, "seed", false, 0, INT64_MAX)) {
    f.seed = static_cast<std::uint64_t>(*seed);
  }
  return f;
}

MockTool load_mock(LoadState& s, const nlohmann::json& t, const std::string& p,
                   const std::string& id) {
  MockTool m;
  if (const auto* fail = s.check.field(t, p, "fail", false)) {
    m.fail = load_mock_fail(s, *fail, pointer_join(p, "fail"));
  }
  if (auto latency = s.check.integer(t, p, "latency_ms", false, 0, kMaxTimeoutMs)) {
    m.latency = std::chrono::milliseconds(*latency);
  }
  auto it = t.find("output");
  m.output = it != t.end() ? *it : nlohmann::json{{"tool", id}};
  return m;
}

// A wait: exactly one of `approval` (a name), `signal` (a name) or `timer_ms`; `timeout_ms` for
// the first two.
WaitTool load_wait(LoadState& s, const nlohmann::json& t, const std::string& p) {
  WaitTool w;
  int given = 0;
  for (const char* key : {"approval", "signal", "timer_ms"}) given += t.contains(key) ? 1 : 0;
  if (given != 1) {
    s.check.error(p, given == 0 ? "a wait tool needs one of approval, signal or timer_ms"
                                : "a wait tool takes only one of approval, signal and timer_ms");
    return w;
  }
  if (t.contains("timer_ms")) {
    w.kind = WaitTool::Kind::kTimer;
    if (auto ms = s.check.integer(t, p, "timer_ms", true, 0, kMaxWaitMs)) {
      w.delay = std::chrono::milliseconds(*ms);
    }
    for (const char* no : {"timeout_ms", "on_timeout"}) {
      if (t.contains(no)) {
        s.check.error(pointer_join(p, no), "a timer has no timeout: it fires after timer_ms");
      }
    }
    return w;
  }
  const char* key = t.contains("approval") ? "approval" : "signal";
  w.kind = t.contains("approval") ? WaitTool::Kind::kApproval : WaitTool::Kind::kSignal;
  if (auto name = s.check.string(t, p, key, true)) {
    if (name->empty() || name->size() > 200) {
      s.check.error(pointer_join(p, key), "expected a name of 1 to 200 characters");
    } else {
      w.name = *name;
    }
  }
  if (auto ms = s.check.integer(t, p, "timeout_ms", false, 1, kMaxWaitMs)) {
    w.timeout = std::chrono::milliseconds(*ms);
  }
  w.on_timeout = load_on_timeout(s, t, p);
  return w;
}

// Fields each kind accepts, besides the common ones.
const std::vector<std::string_view>& kind_fields(ToolKind kind) {
  static const std::vector<std::string_view> kHttp = {
      "url",        "method",        "headers",         "body",
      "timeout_ms", "expect_status", "idempotency_key", "limits"};
  static const std::vector<std::string_view> kCommand = {"argv", "timeout_ms", "env", "cwd",
                                                         "limits"};
  static const std::vector<std::string_view> kLlm = {"prompt",        "system",     "max_tokens",
                                                     "output_schema", "difficulty", "tier",
                                                     "timeout_ms",    "limits"};
  static const std::vector<std::string_view> kBuiltin = {"name", "args"};
  static const std::vector<std::string_view> kMock = {"fail", "latency_ms", "output"};
  static const std::vector<std::string_view> kMcp = {"server", "tool", "arguments", "timeout_ms",
                                                     "limits"};
  static const std::vector<std::string_view> kWait = {"approval", "signal", "timer_ms",
                                                      "timeout_ms", "on_timeout"};
  switch (kind) {
    case ToolKind::kHttp:
      return kHttp;
    case ToolKind::kCommand:
      return kCommand;
    case ToolKind::kLlm:
      return kLlm;
    case ToolKind::kBuiltin:
      return kBuiltin;
    case ToolKind::kMock:
      return kMock;
    case ToolKind::kMcp:
      return kMcp;
    case ToolKind::kWait:
      return kWait;
  }
  return kMock;
}

void warn_unknown_tool_fields(LoadState& s, const nlohmann::json& t, const std::string& p,
                              ToolKind kind) {
  static constexpr std::string_view kCommon[] = {
      "kind", "idempotent",  "compensate", "retries",  "price_usd",
      "cost", "description", "probe",      "approval", "throttle"};
  const auto& specific = kind_fields(kind);
  for (const auto& [key, value] : t.items()) {
    const bool known =
        std::find(std::begin(kCommon), std::end(kCommon), key) != std::end(kCommon) ||
        std::find(specific.begin(), specific.end(), key) != specific.end();
    if (!known) {
      s.check.warn(pointer_join(p, key), "unknown field '" + key + "' for a " +
                                             std::string(to_string(kind)) + " tool (ignored)");
    }
  }
}

// A tool's `throttle` at `p` (docs/workflow-format.md#throttle); nullopt after an error.
std::optional<Throttle> load_throttle(LoadState& s, const std::string& id, const nlohmann::json& t,
                                      const std::string& p, const Tool& tool) {
  if (!s.check.expect_object(t, p)) return std::nullopt;
  const std::size_t errors_before = s.check.error_count();
  s.check.warn_unknown(t, p, {"max_in_flight", "per_second", "key", "max_wait_ms"});
  Throttle th;
  th.key = id;
  if (auto key = s.check.string(t, p, "key", false)) {
    if (key->empty() || key->size() > 200) {
      s.check.error(pointer_join(p, "key"), "expected a key of 1 to 200 characters");
    } else {
      th.key = *key;
    }
  }
  if (auto n = s.check.integer(t, p, "max_in_flight", false, 1, 1000000)) {
    th.max_in_flight = static_cast<int>(*n);
  }
  if (auto r = s.check.number(t, p, "per_second", false, 0.001, 1000000)) th.per_second = *r;
  const std::int64_t default_wait =
      tool.timeout.count() > 0 ? tool.timeout.count() : kDefaultThrottleWaitMs;
  th.max_wait = std::chrono::milliseconds(default_wait);
  if (auto ms = s.check.integer(t, p, "max_wait_ms", false, 0, kMaxTimeoutMs)) {
    th.max_wait = std::chrono::milliseconds(*ms);
  }
  if (s.check.error_count() != errors_before) return std::nullopt;
  if (th.max_in_flight == 0 && th.per_second == 0) {
    s.check.error(p,
                  "expected max_in_flight or per_second (or both): a throttle without either "
                  "limits nothing");
    return std::nullopt;
  }
  return th;
}

void load_tool(LoadState& s, const std::string& id, const nlohmann::json& t, const std::string& p) {
  if (!s.check.expect_object(t, p)) return;
  const std::size_t errors_before = s.check.error_count();
  Tool tool;
  tool.id = id;
  auto kind_name = s.check.string(t, p, "kind", true);
  if (!kind_name) return;
  auto kind = parse_kind(*kind_name);
  if (!kind) {
    s.check.error(
        pointer_join(p, "kind"),
        "expected one of http, command, llm, builtin, mock, mcp, wait, got \"" + *kind_name + "\"");
    return;
  }
  tool.kind = *kind;
  warn_unknown_tool_fields(s, t, p, tool.kind);
  switch (tool.kind) {
    case ToolKind::kHttp:
      tool.spec = load_http(s, t, p);
      break;
    case ToolKind::kCommand:
      tool.spec = load_command(s, t, p);
      break;
    case ToolKind::kLlm:
      tool.spec = load_llm(s, t, p);
      break;
    case ToolKind::kBuiltin: {
      BuiltinTool b;
      if (auto name = s.check.string(t, p, "name", true)) b.name = *name;
      if (auto it = t.find("args"); it != t.end()) {
        if (s.check.expect_object(*it, pointer_join(p, "args"))) b.args = *it;
      }
      tool.spec = b;
      break;
    }
    case ToolKind::kMock:
      tool.spec = load_mock(s, t, p, id);
      break;
    case ToolKind::kMcp:
      tool.spec = load_mcp(s, t, p);
      break;
    case ToolKind::kWait:
      tool.spec = load_wait(s, t, p);
      break;
  }
  if (tool.kind == ToolKind::kHttp || tool.kind == ToolKind::kCommand ||
      tool.kind == ToolKind::kLlm || tool.kind == ToolKind::kMcp) {
    if (auto ms = s.check.integer(t, p, "timeout_ms", false, 1, kMaxTimeoutMs)) {
      tool.timeout = std::chrono::milliseconds(*ms);
    }
    if (const auto* limits = s.check.field(t, p, "limits", false)) {
      s.tool_limits[id] = load_limits_object(s, *limits, pointer_join(p, "limits"));
    }
  }
  if (auto b = s.check.boolean(t, p, "idempotent")) {
    tool.idempotent = *b;
    tool.idempotent_declared = true;
  }
  if (auto it = t.find("approval"); it != t.end() && tool.kind != ToolKind::kWait) {
    load_tool_approval(s, id, *it, pointer_join(p, "approval"));
  }
  if (tool.kind == ToolKind::kWait) {
    // Waiting has no side effect: a wait in flight when the process died is waited for again.
    if (t.contains("idempotent") && !tool.idempotent) {
      s.check.error(pointer_join(p, "idempotent"), "a wait tool is always idempotent");
    }
    tool.idempotent = true;
    tool.idempotent_declared = true;
  }
  if (auto r = s.check.integer(t, p, "retries", false, 0, 100)) tool.retries = static_cast<int>(*r);
  if (auto it = t.find("throttle"); it != t.end()) {
    if (tool.kind == ToolKind::kWait) {
      s.check.error(pointer_join(p, "throttle"), "a wait tool makes no call to throttle");
    } else {
      tool.throttle = load_throttle(s, id, *it, pointer_join(p, "throttle"), tool);
    }
  }
  if (auto price = s.check.number(t, p, "price_usd", false, 0.0)) tool.price_usd = *price;
  if (auto cost = s.check.number(t, p, "cost", false, 0.0)) tool.cost = *cost;
  if (auto probe = s.check.string(t, p, "probe", false)) {
    if (probe->rfind("http://", 0) == 0 || probe->rfind("https://", 0) == 0) {
      tool.probe_url = *probe;
    } else if (!s.tool_ids.count(*probe)) {
      s.check.error(pointer_join(p, "probe"),
                    "expected an http(s) URL or the id of a tool in "
                    "/tools, got \"" +
                        *probe + "\"");
    } else if (*probe == id) {
      s.check.error(pointer_join(p, "probe"), "a tool cannot probe itself");
    } else {
      s.probes[id] = *probe;
    }
  }
  if (auto comp = s.check.string(t, p, "compensate", false)) {
    if (!s.tool_ids.count(*comp)) {
      s.check.error(pointer_join(p, "compensate"),
                    "unknown tool '" + *comp + "': expected the id of a tool in /tools");
    } else if (*comp == id) {
      s.check.error(pointer_join(p, "compensate"), "a tool cannot compensate itself");
    } else {
      s.compensate[id] = *comp;
    }
  }
  for (const char* key :
       {"url", "headers", "body", "argv", "env", "prompt", "system", "args", "arguments"}) {
    if (auto it = t.find(key); it != t.end()) check_templates(s, *it, pointer_join(p, key));
  }
  if (s.check.error_count() == errors_before) s.tools.emplace(id, std::move(tool));
}

}  // namespace

namespace {

// Whether `id` names a fan-out node (whose output later steps may use).
bool is_fanout_node(const LoadState& s, const std::string& id) {
  auto nodes = s.doc.find("nodes");
  if (nodes == s.doc.end() || !nodes->is_object()) return false;
  auto node = nodes->find(id);
  return node != nodes->end() && node->is_object() && node->contains("fanout");
}

}  // namespace

void check_templates(LoadState& s, const nlohmann::json& value, const std::string& pointer,
                     bool allow_run) {
  if (value.is_string()) {
    auto t = parse_template(value.get<std::string>());
    if (!t.ok()) {
      s.check.error(pointer, "bad template: " + t.status().message());
      return;
    }
    for (const auto& part : t->parts) {
      if (part.is_ref && part.path[0] == "run" && !allow_run) {
        s.check.error(pointer, "template '{{" + part.text +
                                   "}}': the root 'run' is only for "
                                   "idempotency_key");
        continue;
      }
      static constexpr std::string_view kGate = ":approval";
      const std::string step = part.is_ref && part.path[0] == "steps" ? part.path[1] : "";
      if (step.size() > kGate.size() && step.ends_with(kGate) &&
          s.tool_ids.count(step.substr(0, step.size() - kGate.size())) != 0) {
        // An approval gate's step: checked once the gates are known (add_approval_gates).
        s.gate_reads.push_back({step.substr(0, step.size() - kGate.size()), pointer});
        continue;
      }
      if (part.is_ref && part.path[0] == "steps" && !s.tool_ids.count(part.path[1]) &&
          !is_fanout_node(s, part.path[1])) {
        s.check.error(pointer, "template '{{" + part.text + "}}' refers to unknown step '" +
                                   part.path[1] + "': expected a tool id or a fan-out node id");
      }
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      check_templates(s, value[i], pointer_join(pointer, i), allow_run);
    }
  } else if (value.is_object()) {
    for (const auto& [k, v] : value.items())
      check_templates(s, v, pointer_join(pointer, k), allow_run);
  }
}

void load_mcp_servers(LoadState& s) {
  const nlohmann::json* servers = s.check.field(s.doc, "", "mcp_servers", false);
  if (servers == nullptr || !s.check.expect_object(*servers, "/mcp_servers")) return;
  for (const auto& [name, v] : servers->items()) {
    s.mcp_server_names.insert(name);
    const std::string p = pointer_join("/mcp_servers", name);
    if (name.empty()) s.check.error(p, "a server name must not be empty");
    if (!s.check.expect_object(v, p)) continue;
    const std::size_t errors_before = s.check.error_count();
    McpServer server = load_mcp_server(s, name, v, p);
    if (s.check.error_count() == errors_before) s.mcp_servers.emplace(name, std::move(server));
  }
}

void load_tools(LoadState& s) {
  load_mcp_servers(s);
  const nlohmann::json* tools = s.check.field(s.doc, "", "tools", true);
  if (tools == nullptr || !s.check.expect_object(*tools, "/tools")) return;
  for (const auto& [id, t] : tools->items()) {
    if (id.empty()) s.check.error("/tools/", "a tool id must not be empty");
    s.tool_ids.insert(id);
  }
  for (const auto& [id, t] : tools->items()) load_tool(s, id, t, pointer_join("/tools", id));
}

}  // namespace switchyard::graph
