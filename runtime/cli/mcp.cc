// switchyard mcp list [--json] [--timeout-ms N] [--header 'Name: value'] [--protocol P] SERVER...
// Connects to an MCP server and prints its tools (`tools/list`, every page) with their input
// schemas, annotations and what the annotations mean for Switchyard's policy (docs/mcp.md), and
// the protocol revision the client negotiated with it (--protocol: auto, 2025-11-25, 2026-07-28).
// SERVER is a Streamable HTTP URL (http:// or https://) or a program and its arguments (stdio;
// put `--` before them when they have flags of their own).
//
// switchyard mcp add WORKFLOW --server NAME (--tool TOOL[=ID]... | --all) [--env K=V] [--cwd DIR]
//     [--header 'Name: value'] [--json] SERVER...
// Lists the server's tools the same way and writes an `mcp` tool entry for each chosen tool (and
// the server under `mcp_servers`) into WORKFLOW, creating a runnable workflow when the file does
// not exist (docs/mcp.md#from-a-server-to-a-workflow). Names already in the file are never
// overwritten; the file is written only when the result loads.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <ostream>
#include <regex>
#include <set>

#include "runtime/base/workflow_file.h"
#include "runtime/cli/cli.h"
#include "tools/mcp_client.h"
#include "tools/mcp_tool.h"

namespace switchyard::cli {
namespace {

struct McpListArgs {
  std::vector<std::string> server;
  std::vector<std::string> headers;  // "Name: value"
  int timeout_ms = 30000;
  bool json = false;
  std::string protocol = "auto";
};

std::string hint_text(const nlohmann::json& tool) {
  const auto hint = tools::mcp_idempotent_hint(tool);
  if (!hint) return "no hint: not idempotent unless the workflow says `idempotent: true`";
  return *hint ? "idempotent (readOnlyHint or idempotentHint), unless the workflow says otherwise"
               : "not idempotent (destructiveHint), unless the workflow says otherwise";
}

// The server SERVER... names (a URL and --header values, or a program and its arguments).
Result<graph::McpServer> server_from(const std::vector<std::string>& spec,
                                     const std::vector<std::string>& headers,
                                     const std::vector<std::string>& env, const std::string& cwd) {
  graph::McpServer server;
  server.name = "cli";
  const std::string& first = spec.front();
  if (first.rfind("http://", 0) == 0 || first.rfind("https://", 0) == 0) {
    if (spec.size() > 1) return invalid_argument("a URL takes no arguments after it");
    if (!env.empty() || !cwd.empty()) {
      return invalid_argument("--env and --cwd are for programs (stdio), not URLs");
    }
    server.url = first;
    for (const auto& h : headers) {
      const auto colon = h.find(':');
      if (colon == std::string::npos) {
        return invalid_argument("--header: expected 'Name: value', got '" + h + "'");
      }
      std::string value = h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      server.headers.emplace_back(h.substr(0, colon), value);
    }
    return server;
  }
  if (!headers.empty()) return invalid_argument("--header is for Streamable HTTP servers (a URL)");
  for (const auto& e : env) {
    const auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalid_argument("--env: expected NAME=VALUE, got '" + e + "'");
    }
    server.env.emplace_back(e.substr(0, eq), e.substr(eq + 1));
  }
  server.cwd = cwd;
  server.argv = spec;
  return server;
}

// The server's tools (tools/list, every page); the server is stopped after. kUnavailable when it
// cannot be reached or answers an error. `protocol`: the revision negotiated, when not null.
Result<nlohmann::json> fetch_tools(const graph::McpServer& server, int timeout_ms,
                                   std::string* protocol = nullptr) {
  std::promise<tools::McpReply> promise;
  tools::McpRequestOptions options;
  options.timeout = std::chrono::milliseconds(timeout_ms);
  tools::mcp_list_tools(server, options,
                        [&promise](tools::McpReply r) { promise.set_value(std::move(r)); });
  tools::McpReply reply = promise.get_future().get();
  if (protocol != nullptr) *protocol = tools::mcp_session_protocol(server);
  tools::stop_mcp_sessions();
  if (reply.failure != tools::FailureKind::kNone || reply.rpc_error) {
    return Status(StatusCode::kUnavailable, reply.error);
  }
  return std::move(reply.result);
}

int list(Context& ctx, const McpListArgs& args) {
  auto server = server_from(args.server, args.headers, {}, "");
  if (!server.ok()) return report_error(ctx, server.status(), args.json);
  server->protocol = args.protocol;
  std::string protocol;
  auto listed = fetch_tools(*server, args.timeout_ms, &protocol);
  if (!listed.ok()) return report_error(ctx, listed.status(), args.json);
  tools::McpReply reply;
  reply.result = std::move(*listed);
  if (args.json) {
    nlohmann::json tools = nlohmann::json::array();
    for (const auto& t : reply.result) {
      if (!t.is_object()) continue;  // (not a tool)
      nlohmann::json entry = t;
      const auto hint = tools::mcp_idempotent_hint(t);
      entry["switchyard"] = {{"idempotent", hint ? nlohmann::json(*hint) : nlohmann::json()}};
      tools.push_back(std::move(entry));
    }
    *ctx.out << nlohmann::json{{"tools", tools}, {"protocol", protocol}}.dump(
                    2, ' ', false, nlohmann::json::error_handler_t::replace)
             << "\n";
    return kExitOk;
  }
  *ctx.out << reply.result.size() << " tool(s), protocol " << valid_utf8(protocol)
           << (protocol == tools::kMcpStatelessVersion ? " (stateless)" : "") << "\n";
  for (const auto& t : reply.result) {
    *ctx.out << "\n" << valid_utf8(lenient_string(t, "name", "(no name)")) << "\n";
    const std::string description = lenient_string(t, "description");
    if (!description.empty()) *ctx.out << "  " << excerpt(description, 300) << "\n";
    *ctx.out << "  policy: " << hint_text(t) << "\n";
    const auto& annotations = lenient_member(t, "annotations");
    if (!annotations.is_null()) {
      *ctx.out << "  annotations: "
               << annotations.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
               << "\n";
    }
    *ctx.out << "  inputSchema: "
             << lenient_member(t, "inputSchema")
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
             << "\n";
  }
  return kExitOk;
}

struct McpAddArgs {
  std::string workflow;
  std::string server_name;
  std::vector<std::string> tools;  // "NAME" or "NAME=ID"
  bool all = false;
  std::vector<std::string> server;
  std::vector<std::string> headers;
  std::vector<std::string> env;
  std::string cwd;
  int timeout_ms = 30000;
  bool json = false;
  std::string protocol = "auto";
};

using ordered = nlohmann::ordered_json;

// The `mcp_servers` entry of `server`.
ordered server_entry(const graph::McpServer& server) {
  ordered e = ordered::object();
  if (server.stdio()) {
    e["argv"] = server.argv;
    if (!server.env.empty()) {
      e["env"] = ordered::object();
      for (const auto& [k, v] : server.env) e["env"][k] = v;
    }
    if (!server.cwd.empty()) e["cwd"] = server.cwd;
  } else {
    e["url"] = server.url;
    if (!server.headers.empty()) {
      e["headers"] = ordered::object();
      for (const auto& [k, v] : server.headers) e["headers"][k] = v;
    }
  }
  if (server.protocol != "auto") e["protocol"] = server.protocol;
  return e;
}

// `arguments` for an MCP tool: each property its inputSchema requires, as "{{input.<name>}}"
// (names a template can reference; others are left for the user to fill in).
ordered arguments_for(const nlohmann::json& tool) {
  static const std::regex kName("[A-Za-z_][A-Za-z0-9_]*");
  ordered args = ordered::object();
  const nlohmann::json& required = lenient_member(lenient_member(tool, "inputSchema"), "required");
  if (!required.is_array()) return args;
  for (const auto& r : required) {
    if (!r.is_string()) continue;
    const std::string name = r.get_ref<const std::string&>();
    if (std::regex_match(name, kName)) args[name] = "{{input." + name + "}}";
  }
  return args;
}

// Writes `text` to `path` through a temporary file renamed over it.
Status write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Status(StatusCode::kIo, "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status(StatusCode::kIo, "cannot replace " + path + ": " + ec.message());
  return Status();
}

int add(Context& ctx, const McpAddArgs& args) {
  auto fail = [&](const Status& s) { return report_error(ctx, s, args.json); };
  if (args.all == !args.tools.empty()) {
    return fail(invalid_argument("name the tools to add with --tool NAME[=ID], or give --all"));
  }
  // The file as it is (ordered: the user's key order is kept), or a new workflow.
  ordered doc;
  bool created = false;
  auto text = runtime::read_file(args.workflow);
  if (text.ok()) {
    // Checked for size and depth before it is parsed; parsed without exceptions.
    auto checked = parse_untrusted(
        *text,
        JsonLimits{.max_depth = 128, .max_bytes = std::size_t{64} << 20, .what = "workflow file"});
    if (!checked.ok())
      return fail(invalid_argument(args.workflow + ": " + checked.status().message()));
    doc = ordered::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object()) return fail(invalid_argument(args.workflow + ": not a JSON object"));
    for (const char* key : {"tools", "mcp_servers"}) {
      if (doc.contains(key) && !doc[key].is_object()) {
        return fail(invalid_argument(args.workflow + ": /" + key + ": expected an object"));
      }
    }
  } else if (text.status().code() == StatusCode::kNotFound) {
    created = true;
    std::string name = std::filesystem::path(args.workflow).stem().string();
    doc = ordered{{"format", "switchyard.workflow/v1"},
                  {"name", valid_utf8(name.empty() ? "mcp" : name)},
                  {"start", "Start"},
                  {"goal", "Done"}};
  } else {
    return fail(text.status());
  }
  if (!doc.contains("mcp_servers")) doc["mcp_servers"] = ordered::object();
  if (!doc.contains("tools")) doc["tools"] = ordered::object();

  auto server = server_from(args.server, args.headers, args.env, args.cwd);
  if (!server.ok()) return fail(server.status());
  server->protocol = args.protocol;
  const ordered entry = server_entry(*server);
  ordered& servers = doc["mcp_servers"];
  if (servers.contains(args.server_name) && servers[args.server_name] != entry) {
    return fail(invalid_argument("mcp_servers/" + args.server_name + " already exists in " +
                                 args.workflow +
                                 " and declares another server: choose another --server name"));
  }
  auto listed = fetch_tools(*server, args.timeout_ms);
  if (!listed.ok()) return fail(listed.status());

  // The chosen tools: (the server's name, the id in the workflow).
  std::vector<std::pair<std::string, std::string>> chosen;
  std::vector<std::string> names;
  for (const auto& t : *listed) {
    const std::string name = lenient_string(t, "name");
    if (!name.empty()) names.push_back(name);
  }
  if (args.all) {
    for (const auto& n : names) chosen.emplace_back(n, n);
  } else {
    for (const auto& spec : args.tools) {
      const auto eq = spec.find('=');
      std::string name = spec.substr(0, eq);
      std::string id = eq == std::string::npos ? name : spec.substr(eq + 1);
      if (name.empty() || id.empty()) {
        return fail(invalid_argument("--tool: expected NAME or NAME=ID, got '" + spec + "'"));
      }
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        return fail(
            invalid_argument("the server has no tool '" + name + "'" + did_you_mean(name, names)));
      }
      chosen.emplace_back(std::move(name), std::move(id));
    }
  }
  ordered& tools_map = doc["tools"];
  std::set<std::string> ids;
  for (const auto& [name, id] : chosen) {
    if (tools_map.contains(id) || (created && id == "Done") || !ids.insert(id).second) {
      return fail(invalid_argument("tool '" + id + "' already exists in " + args.workflow +
                                   ": give the tool another id with --tool " + name + "=ID"));
    }
  }
  servers[args.server_name] = entry;
  ordered added = ordered::array();
  for (const auto& [name, id] : chosen) {
    const nlohmann::json* tool = nullptr;
    for (const auto& t : *listed) {
      if (lenient_string(t, "name") == name) tool = &t;
    }
    ordered t = {{"kind", "mcp"}, {"server", args.server_name}, {"tool", name}};
    ordered arguments = arguments_for(*tool);
    if (!arguments.empty()) t["arguments"] = arguments;
    const std::string description = lenient_string(*tool, "description");
    if (!description.empty()) t["description"] = excerpt(valid_utf8(description), 200);
    tools_map[id] = t;
    const auto hint = tools::mcp_idempotent_hint(*tool);
    added.push_back({{"id", id},
                     {"tool", name},
                     {"arguments", arguments},
                     {"idempotent_hint", hint ? ordered(*hint) : ordered()}});
  }
  if (created) {
    // Start -> the tools in the order given -> Done: a workflow that runs as it is.
    tools_map["Done"] = {{"kind", "mock"}, {"idempotent", true}};
    ordered edges = ordered::array();
    std::string prev = "Start";
    for (const auto& [name, id] : chosen) {
      edges.push_back({prev, id, 1});
      prev = id;
    }
    edges.push_back({prev, "Done", 1});
    doc["edges"] = edges;
  }
  const std::string out_text =
      doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  const graph::LoadResult loaded = graph::load(out_text, args.workflow);
  if (!loaded.ok()) {
    *ctx.err << "error: " << args.workflow
             << " would not load with the tools added; it was not changed\n";
    report_diagnostics(ctx, loaded, args.json);
    return kExitInvalid;
  }
  if (Status s = write_atomically(args.workflow, out_text); !s.ok()) return fail(s);
  if (args.json) {
    *ctx.out << ordered{{"file", args.workflow},
                        {"created", created},
                        {"server", args.server_name},
                        {"added", added}}
                    .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
             << "\n";
    return kExitOk;
  }
  *ctx.out << (created ? "created " : "updated ") << args.workflow << ": server "
           << args.server_name << ", " << chosen.size() << " tool(s)\n";
  for (const auto& a : added) {
    const std::string id = a["id"].get<std::string>();
    const std::string tool = a["tool"].get<std::string>();
    *ctx.out << "  " << id << " (" << tool << ")";
    if (!a["arguments"].empty()) *ctx.out << " arguments " << a["arguments"].dump();
    *ctx.out << "\n";
  }
  if (created) {
    *ctx.out << "run it: switchyard run " << args.workflow << " --input '{...}'\n";
  } else {
    *ctx.out << "wire the new tools into `edges` to use them\n";
  }
  return kExitOk;
}

}  // namespace

void add_mcp(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("mcp", "Discover the tools of Model Context Protocol servers");
  cmd->require_subcommand(1);
  auto* list_cmd = cmd->add_subcommand(
      "list",
      "Print an MCP server's tools with their input schemas and annotations. SERVER: a Streamable "
      "HTTP URL, or a program and its arguments (stdio; put -- before them)");
  auto args = std::make_shared<McpListArgs>();
  list_cmd->add_option("server", args->server, "URL, or PROGRAM [ARGS...]")->required();
  list_cmd
      ->add_option("--header", args->headers,
                   "A request header for a URL, 'Name: value' (repeatable)")
      ->allow_extra_args(false);
  list_cmd->add_option("--timeout-ms", args->timeout_ms, "Limit on each request (default 30000)")
      ->check(CLI::Range(1, 24 * 3600 * 1000));
  list_cmd->add_flag("--json", args->json, "Print one JSON document");
  list_cmd
      ->add_option("--protocol", args->protocol,
                   "The protocol revision: auto (default: server/discover, else initialize), "
                   "2025-11-25 or 2026-07-28")
      ->check(CLI::IsMember({"auto", "2025-11-25", "2026-07-28"}));
  list_cmd->callback([&ctx, args] { ctx.exit_code = list(ctx, *args); });

  // (Repeatable options take one value each: a list would also swallow the `--` before SERVER.)
  auto* add_cmd = cmd->add_subcommand(
      "add",
      "Write mcp tool entries for tools of an MCP server (and the server under mcp_servers) into "
      "a workflow file, creating a runnable workflow when the file does not exist. Names already "
      "in the file are never overwritten; the file is written only when it still loads");
  auto add_args = std::make_shared<McpAddArgs>();
  add_cmd->add_option("workflow", add_args->workflow, "The workflow file (created when missing)")
      ->required();
  add_cmd->add_option("command", add_args->server, "URL, or PROGRAM [ARGS...] (put -- before them)")
      ->required();
  add_cmd->add_option("--server", add_args->server_name, "The server's name under mcp_servers")
      ->required();
  add_cmd
      ->add_option("--tool", add_args->tools,
                   "A tool to add: its name on the server, or NAME=ID to give it another id "
                   "in the workflow (repeatable)")
      ->allow_extra_args(false);
  add_cmd->add_flag("--all", add_args->all, "Add every tool of the server");
  add_cmd
      ->add_option("--header", add_args->headers,
                   "A request header for a URL, 'Name: value' (repeatable; write secrets as "
                   "'${NAME}' in single quotes: the environment variable is read when the "
                   "server is connected, and the file keeps the reference)")
      ->allow_extra_args(false);
  add_cmd
      ->add_option("--env", add_args->env,
                   "An environment variable for a program, NAME=VALUE (repeatable)")
      ->allow_extra_args(false);
  add_cmd->add_option("--cwd", add_args->cwd, "The program's working directory");
  add_cmd
      ->add_option("--protocol", add_args->protocol,
                   "The server's protocol revision, written when not auto: auto, 2025-11-25 or "
                   "2026-07-28")
      ->check(CLI::IsMember({"auto", "2025-11-25", "2026-07-28"}));
  add_cmd->add_option("--timeout-ms", add_args->timeout_ms, "Limit on each request (default 30000)")
      ->check(CLI::Range(1, 24 * 3600 * 1000));
  add_cmd->add_flag("--json", add_args->json, "Print one JSON document");
  add_cmd->callback([&ctx, add_args] { ctx.exit_code = add(ctx, *add_args); });
}

}  // namespace switchyard::cli
