// The fault-injecting MCP server: a real Model Context Protocol server (revision 2025-11-25)
// whose tools misbehave on purpose, so tests meet every failure an MCP server can produce.
//
//   switchyard_mcp_server                      stdio: JSON-RPC lines on stdin/stdout
//   switchyard_mcp_server --http [--port N] [--sse] [--expire-after N] [--exit-on-stdin-eof]
//       Streamable HTTP on 127.0.0.1 (port 0, the default: a free one); prints
//       "listening on 127.0.0.1:PORT". --sse: answers to tools/call come as a text/event-stream;
//       --expire-after N: a session answers 404 to its Mcp-Session-Id after N tools/call requests
//       (the client must initialize a new one).
//   Common: --page-size N (tools/list pages; default 4), --version V (the protocolVersion
//   answered; default the client's), --stderr TEXT (a line written to stderr at start).
//   Revisions: by default the server speaks 2025-11-25 only (initialize; server/discover is an
//   unknown method: JSON-RPC error -32601 over stdio, HTTP 400 without a session).
//   --stateless: it speaks the stateless 2026-07-28 revision only: server/discover answers
//       {"supportedVersions": ["2026-07-28"], ...}; every request must carry params._meta with
//       io.modelcontextprotocol/protocolVersion "2026-07-28" and an object
//       io.modelcontextprotocol/clientCapabilities (else JSON-RPC error -32602), and over HTTP
//       the MCP-Protocol-Version header 2026-07-28 (else HTTP 400); initialize is an unknown
//       method (-32601); no sessions; results carry "resultType": "complete".
//   --result-type T: (with --stateless) tools/call results carry "resultType": T instead.
//   --discover-lies: a 2025-11-25 server whose server/discover claims 2026-07-28: requests
//       before initialize are refused (JSON-RPC error -32600 over stdio, HTTP 400 without a
//       session).
//
// Tools (their name is their behaviour; `arguments` as listed):
//   echo {text}      structuredContent {"echo": text}; inputSchema requires a string `text`;
//                    annotations readOnlyHint
//   json_text        content: one text item holding JSON ({"from": "text"})
//   plain_text       content: one text item "hello, not JSON"
//   two_items        content: two text items, "1" and "two"
//   fail             isError: true, content "the tool failed on purpose"; destructiveHint
//   crash            the server exits (code 3) without answering (stdio) / closes (HTTP: exits)
//   hang             never answers
//   slow {ms}        answers {"slept_ms": ms} after ms milliseconds
//   malformed        writes a line that is not JSON-RPC
//   wrong_id         answers with another request's id (id + 1000)
//   no_result        answers with neither result nor error
//   huge {bytes}     structuredContent {"data": "xxx..."} of that many bytes
//   count            structuredContent {"calls": n, "pid": p}: tools/call requests so far
//   cancelled        structuredContent {"cancelled": [request ids]}: the notifications/cancelled
//                    received so far
//   rpc_error        a JSON-RPC error (-32602, "invalid params on purpose")
//   meta             structuredContent {"meta": the request's params._meta (null when absent),
//                    "traceparent_header": the traceparent header of the HTTP request ("" over
//                    stdio, or when absent), "protocol_header": its MCP-Protocol-Version header
//                    (likewise)}
//   close_stdin      structuredContent {"closed": true}; then (stdio) the server closes its stdin
//                    and stays up, reading nothing more, until it is killed
//   progress {steps} sends `steps` notifications/progress for the request's progressToken
//                    (params._meta.progressToken; none sent without one): progress i of total
//                    steps, message "step i"; then structuredContent {"steps": n, "token": the
//                    token or null}. Over HTTP they come only with --sse (in the event stream)
//   t0 ... t5        structuredContent {"tool": name}: filler for tools/list pages

#include <signal.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using json = nlohmann::json;

struct Options {
  bool http = false;
  int port = 0;
  bool sse = false;
  long expire_after = 0;
  bool exit_on_stdin_eof = false;
  std::size_t page_size = 4;
  std::string version = "2025-11-25";
  bool stateless = false;
  std::string result_type = "complete";
  bool discover_lies = false;
};

Options options;
std::mutex mu;  // guards the state below and stdout
long calls = 0;
std::vector<json> cancelled_ids;

json tool_list() {
  json echo_schema = {
      {"type", "object"}, {"properties", {{"text", {{"type", "string"}}}}}, {"required", {"text"}}};
  json any = {{"type", "object"}};
  json tools = json::array();
  tools.push_back({{"name", "echo"},
                   {"description", "Echoes its text"},
                   {"inputSchema", echo_schema},
                   {"annotations", {{"readOnlyHint", true}}}});
  for (const char* name : {"json_text", "plain_text",  "two_items", "crash", "hang",  "slow",
                           "malformed", "wrong_id",    "no_result", "huge",  "count", "cancelled",
                           "rpc_error", "close_stdin", "progress",  "meta",  "t0",    "t1",
                           "t2",        "t3",          "t4",        "t5"}) {
    tools.push_back({{"name", name}, {"inputSchema", any}});
  }
  tools.push_back({{"name", "fail"},
                   {"inputSchema", any},
                   {"annotations", {{"destructiveHint", true}, {"readOnlyHint", false}}}});
  return tools;
}

thread_local bool in_tools_call = false;  // the message being handled is a tools/call

json result_of(const json& id, json result) {
  // The stateless revision says how each request was answered.
  if (options.stateless && result.is_object() && !result.contains("resultType")) {
    result["resultType"] = in_tools_call ? options.result_type : "complete";
  }
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json structured(json value) {
  return {{"structuredContent", value},
          {"content", json::array({{{"type", "text"}, {"text", value.dump()}}})}};
}

json text_content(std::initializer_list<std::string> texts) {
  json content = json::array();
  for (const auto& t : texts) content.push_back({{"type", "text"}, {"text", t}});
  return {{"content", content}};
}

// What to do with one message: the answer (a JSON text), or nothing; `delay_ms` before it;
// `exit_code` >= 0: exit instead of answering.
struct Action {
  std::optional<std::string> answer;
  int delay_ms = 0;
  int exit_code = -1;
  bool close_stdin = false;
  std::vector<std::string> before;  // messages sent before the answer (notifications)
};

// The traceparent header of the HTTP request being handled (the `meta` tool answers it).
thread_local std::string request_traceparent;
thread_local std::string request_protocol_header;
bool stdio_initialized = false;  // stdio, --discover-lies: initialize was received

json error_of(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

// --stateless: what is wrong with a request's _meta ("" when it is right).
std::string stateless_meta_error(const json& params) {
  if (!params.is_object() || !params.contains("_meta") || !params["_meta"].is_object()) {
    return "a request without params._meta (the stateless revision needs it)";
  }
  const json& meta = params["_meta"];
  const auto version = meta.find("io.modelcontextprotocol/protocolVersion");
  if (version == meta.end() || *version != "2026-07-28") {
    return "params._meta lacks io.modelcontextprotocol/protocolVersion 2026-07-28";
  }
  const auto caps = meta.find("io.modelcontextprotocol/clientCapabilities");
  if (caps == meta.end() || !caps->is_object()) {
    return "params._meta lacks io.modelcontextprotocol/clientCapabilities (an object)";
  }
  return "";
}

Action handle(const json& m) {
  Action a;
  in_tools_call = false;
  if (!m.is_object() || !m.contains("method") || !m["method"].is_string()) return a;
  const std::string method = m["method"];
  const json id = m.contains("id") ? m["id"] : json();
  const json params = m.contains("params") ? m["params"] : json::object();
  if (method == "notifications/cancelled") {
    std::lock_guard lock(mu);
    if (params.is_object() && params.contains("requestId"))
      cancelled_ids.push_back(params["requestId"]);
    return a;
  }
  if (id.is_null()) return a;  // other notifications
  if (method == "server/discover" && (options.stateless || options.discover_lies)) {
    a.answer =
        result_of(id, {{"resultType", "complete"},
                       {"supportedVersions", {"2026-07-28"}},
                       {"capabilities", {{"tools", json::object()}}},
                       {"serverInfo", {{"name", "switchyard-mcp-fault-server"}, {"version", "1"}}}})
            .dump();
    return a;
  }
  if (options.stateless) {
    if (method == "initialize") {
      a.answer = error_of(id, -32601, "no method initialize (a stateless server)").dump();
      return a;
    }
    if (auto why = stateless_meta_error(params); !why.empty()) {
      a.answer = error_of(id, -32602, why).dump();
      return a;
    }
  }
  if (options.discover_lies && !options.http && method != "initialize") {
    std::lock_guard lock(mu);
    if (!stdio_initialized) {
      a.answer = error_of(id, -32600, "not initialized: send initialize first").dump();
      return a;
    }
  }
  if (method == "initialize") {
    {
      std::lock_guard lock(mu);
      stdio_initialized = true;
    }
    a.answer =
        result_of(id, {{"protocolVersion", options.version},
                       {"capabilities", {{"tools", json::object()}}},
                       {"serverInfo", {{"name", "switchyard-mcp-fault-server"}, {"version", "1"}}}})
            .dump();
    return a;
  }
  if (method == "ping") {
    a.answer = result_of(id, json::object()).dump();
    return a;
  }
  if (method == "tools/list") {
    const json all = tool_list();
    std::size_t start = 0;
    if (params.is_object() && params.contains("cursor") && params["cursor"].is_string()) {
      start = std::stoul(params["cursor"].get<std::string>());
    }
    json page = json::array();
    for (std::size_t i = start; i < all.size() && i < start + options.page_size; ++i)
      page.push_back(all[i]);
    json result = {{"tools", page}};
    if (start + options.page_size < all.size())
      result["nextCursor"] = std::to_string(start + options.page_size);
    a.answer = result_of(id, result).dump();
    return a;
  }
  if (method != "tools/call") {
    a.answer = json{{"jsonrpc", "2.0"},
                    {"id", id},
                    {"error", {{"code", -32601}, {"message", "no method " + method}}}}
                   .dump();
    return a;
  }
  in_tools_call = true;
  const std::string name = params.value("name", "");
  const json args = params.contains("arguments") ? params["arguments"] : json::object();
  long n;
  {
    std::lock_guard lock(mu);
    n = ++calls;
  }
  if (name == "echo") {
    a.answer = result_of(id, structured({{"echo", args.value("text", "")}})).dump();
  } else if (name == "json_text") {
    a.answer = result_of(id, text_content({R"({"from": "text"})"})).dump();
  } else if (name == "plain_text") {
    a.answer = result_of(id, text_content({"hello, not JSON"})).dump();
  } else if (name == "two_items") {
    a.answer = result_of(id, text_content({"1", "two"})).dump();
  } else if (name == "fail") {
    json r = text_content({"the tool failed on purpose"});
    r["isError"] = true;
    a.answer = result_of(id, r).dump();
  } else if (name == "crash") {
    a.exit_code = 3;
  } else if (name == "hang") {
  } else if (name == "close_stdin") {
    a.answer = result_of(id, structured({{"closed", true}})).dump();
    a.close_stdin = true;
  } else if (name == "slow") {
    a.delay_ms = args.value("ms", 0);
    a.answer = result_of(id, structured({{"slept_ms", a.delay_ms}})).dump();
  } else if (name == "malformed") {
    a.answer = "this is not JSON-RPC {";
  } else if (name == "wrong_id") {
    a.answer = result_of(id.is_number() ? json(id.get<long>() + 1000) : json("x"),
                         structured({{"wrong", true}}))
                   .dump();
  } else if (name == "no_result") {
    a.answer = json{{"jsonrpc", "2.0"}, {"id", id}}.dump();
  } else if (name == "huge") {
    a.answer =
        result_of(id, structured({{"data", std::string(args.value("bytes", 1000), 'x')}})).dump();
  } else if (name == "meta") {
    const json meta = params.is_object() && params.contains("_meta") ? params["_meta"] : json();
    a.answer = result_of(id, structured({{"meta", meta},
                                         {"traceparent_header", request_traceparent},
                                         {"protocol_header", request_protocol_header}}))
                   .dump();
  } else if (name == "count") {
    a.answer = result_of(id, structured({{"calls", n}, {"pid", ::getpid()}})).dump();
  } else if (name == "cancelled") {
    std::lock_guard lock(mu);
    a.answer = result_of(id, structured({{"cancelled", cancelled_ids}})).dump();
  } else if (name == "rpc_error") {
    a.answer = json{{"jsonrpc", "2.0"},
                    {"id", id},
                    {"error", {{"code", -32602}, {"message", "invalid params on purpose"}}}}
                   .dump();
  } else if (name == "progress") {
    const int steps = args.value("steps", 3);
    json token;
    if (params.contains("_meta") && params["_meta"].is_object() &&
        params["_meta"].contains("progressToken")) {
      token = params["_meta"]["progressToken"];
    }
    for (int i = 1; token != nullptr && i <= steps; ++i) {
      a.before.push_back(json{{"jsonrpc", "2.0"},
                              {"method", "notifications/progress"},
                              {"params",
                               {{"progressToken", token},
                                {"progress", i},
                                {"total", steps},
                                {"message", "step " + std::to_string(i)}}}}
                             .dump());
    }
    a.answer = result_of(id, structured({{"steps", steps}, {"token", token}})).dump();
  } else if (name.size() == 2 && name[0] == 't') {
    a.answer = result_of(id, structured({{"tool", name}})).dump();
  } else {
    a.answer = json{{"jsonrpc", "2.0"},
                    {"id", id},
                    {"error", {{"code", -32602}, {"message", "unknown tool " + name}}}}
                   .dump();
  }
  return a;
}

// --- stdio ---------------------------------------------------------------------------------

void write_line(const std::string& line) {
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int run_stdio() {
  std::string line;
  while (std::getline(std::cin, line)) {
    json m = json::parse(line, nullptr, false);
    if (m.is_discarded()) continue;
    Action a = handle(m);
    if (a.exit_code >= 0) {
      std::fflush(stdout);
      ::_exit(a.exit_code);
    }
    if (!a.answer) continue;
    for (const auto& line : a.before) write_line(line);
    if (a.close_stdin) {  // closed before the answer: the client's next write surely fails
      ::close(0);
      write_line(*a.answer);
      for (;;) ::pause();
    }
    if (a.delay_ms > 0) {
      std::thread([a] {
        std::this_thread::sleep_for(std::chrono::milliseconds(a.delay_ms));
        write_line(*a.answer);
      }).detach();
    } else {
      write_line(*a.answer);
    }
  }
  return 0;
}

// --- Streamable HTTP -----------------------------------------------------------------------

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::map<std::string, long> sessions;  // session id -> tools/call requests in it (under mu)
long next_session = 1;

void serve(tcp::socket socket) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  while (true) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    json m = json::parse(req.body(), nullptr, false);
    const std::string session(req["Mcp-Session-Id"]);
    const std::string method =
        m.is_object() && m.contains("method") && m["method"].is_string() ? m["method"] : "";
    bool ok_session = true;
    {
      std::lock_guard lock(mu);
      if (options.stateless) {
        ok_session = std::string(req["MCP-Protocol-Version"]) == "2026-07-28";
      } else if (method != "initialize" &&
                 !(method == "server/discover" && options.discover_lies)) {
        auto it = sessions.find(session);
        if (it == sessions.end()) {
          ok_session = false;
        } else if (method == "tools/call" && options.expire_after > 0 &&
                   ++it->second > options.expire_after) {
          sessions.erase(it);
          ok_session = false;
        }
      }
    }
    if (req.method() != http::verb::post) {
      res.result(http::status::method_not_allowed);
    } else if (!ok_session) {
      res.result(session.empty() || options.stateless ? http::status::bad_request
                                                      : http::status::not_found);
      res.body() = options.stateless ? "no MCP-Protocol-Version: 2026-07-28 header"
                                     : "Bad Request: no valid session ID";
    } else if (m.is_discarded()) {
      res.result(http::status::bad_request);
    } else {
      request_traceparent = std::string(req["traceparent"]);
      request_protocol_header = std::string(req["MCP-Protocol-Version"]);
      Action a = handle(m);
      if (a.exit_code >= 0) ::_exit(a.exit_code);
      if (!m.contains("id")) {
        res.result(http::status::accepted);
      } else if (!a.answer) {
        while (true) std::this_thread::sleep_for(std::chrono::hours(1));  // hang
      } else {
        if (a.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(a.delay_ms));
        res.result(http::status::ok);
        if (method == "initialize" && !options.stateless) {
          std::lock_guard lock(mu);
          const std::string id = "session-" + std::to_string(next_session++);
          sessions[id] = 0;
          res.set("Mcp-Session-Id", id);
        }
        if (options.sse && method == "tools/call") {
          res.set(http::field::content_type, "text/event-stream");
          res.body() = "event: message\ndata: " +
                       json{{"jsonrpc", "2.0"},
                            {"method", "notifications/progress"},
                            {"params", {{"progress", 1}}}}
                           .dump() +
                       "\n\n";
          for (const auto& line : a.before) res.body() += "data: " + line + "\n\n";
          res.body() += "id: 1\ndata: " + *a.answer + "\n\n";
        } else {
          res.set(http::field::content_type, "application/json");
          res.body() = *a.answer;
        }
      }
    }
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !req.keep_alive()) return;
  }
}

int run_http() {
  asio::io_context ctx;
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                            static_cast<unsigned short>(options.port)));
  std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
  if (options.exit_on_stdin_eof) {
    std::thread([] {
      char c;
      while (::read(0, &c, 1) > 0) {
      }
      ::_exit(0);
    }).detach();
  }
  while (true) {
    tcp::socket socket(ctx);
    beast::error_code ec;
    acceptor.accept(socket, ec);
    if (ec) continue;
    std::thread(serve, std::move(socket)).detach();
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--http") {
      options.http = true;
    } else if (a == "--port") {
      options.port = std::stoi(next());
    } else if (a == "--sse") {
      options.sse = true;
    } else if (a == "--expire-after") {
      options.expire_after = std::stol(next());
    } else if (a == "--exit-on-stdin-eof") {
      options.exit_on_stdin_eof = true;
    } else if (a == "--page-size") {
      options.page_size = std::stoul(next());
    } else if (a == "--version") {
      options.version = next();
    } else if (a == "--stateless") {
      options.stateless = true;
    } else if (a == "--result-type") {
      options.result_type = next();
    } else if (a == "--discover-lies") {
      options.discover_lies = true;
    } else if (a == "--stderr") {
      std::cerr << next() << std::endl;
    } else {
      std::cerr << "unknown flag " << a << "\n";
      return 2;
    }
  }
  return options.http ? run_http() : run_stdio();
}
