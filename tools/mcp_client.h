#pragma once
// The Model Context Protocol client under `mcp` tools (docs/mcp.md), written on libcurl +
// nlohmann: JSON-RPC 2.0 over a server's stdin/stdout (newline-delimited messages; its stderr goes
// to our log, line by line) or over Streamable HTTP (each message POSTed; the answer is JSON or a
// text/event-stream; Mcp-Session-Id and MCP-Protocol-Version headers). Revisions, negotiated per
// server (graph::McpServer::protocol): the stateless 2026-07-28 (`server/discover`, then every
// request carries the revision in params._meta, no session) and 2025-11-25 (`initialize`,
// `notifications/initialized`, then requests). "auto" asks server/discover first and falls back
// to initialize when the server does not list 2026-07-28 (a JSON-RPC error, an HTTP 4xx, or a
// list without it).
//
// One session per server (graph::McpServer::key()) per process, shared by every run and every
// workflow. A stdio server is started on the first request; when it dies (or breaks the protocol:
// a line that is not JSON-RPC), every request in flight fails, and it is started again by the
// first request after a backoff (100 ms, doubling up to 30 s, back to 100 ms once a handshake
// succeeds); a request during the backoff fails at once (`unavailable`). An HTTP session that
// answers 404 to its Mcp-Session-Id has expired: the client initializes a new one and sends the
// request again, once. Every request has a timeout; at the timeout, or when its CallCancel fires,
// the server is sent `notifications/cancelled` for it and the request fails (`timeout`,
// `cancelled`). All protocol state lives on the tool I/O thread (tools/io_loop.h); the functions
// here are thread-safe and never block.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "graph/status.h"
#include "graph/workflow.h"
#include "tools/tool.h"

namespace switchyard::tools {

// The protocol revision this client speaks and asks for in `initialize`.
inline constexpr std::string_view kMcpProtocolVersion = "2025-11-25";
// The revisions it accepts in a server's answer (older servers answer their own).
bool mcp_supported_version(std::string_view version);
// The stateless revision (no handshake, no session; the revision and the client's capabilities
// in every request's params._meta; `server/discover` says what a server speaks).
inline constexpr std::string_view kMcpStatelessVersion = "2026-07-28";
// A server's `protocol` is one of "auto", "2025-11-25", "2026-07-28".
bool mcp_protocol_name(std::string_view protocol);
// The _meta keys every request of a stateless session carries: protocolVersion,
// clientCapabilities ({}) and clientInfo, under io.modelcontextprotocol/.
nlohmann::json mcp_stateless_meta();

// The answer to one request.
struct McpReply {
  // kNone when a JSON-RPC answer came (a result or an error); else kTimeout, kCancelled,
  // kConnect, kTransport (the server died, the connection broke), kUnavailable (restarting),
  // kHttpStatus / kRateLimited (HTTP), kBadOutput (a malformed message, over the limits), with
  // `error` (one line, valid UTF-8).
  FailureKind failure = FailureKind::kNone;
  std::string error;
  bool rpc_error = false;  // the server answered a JSON-RPC error: `error` has its code and message
  nlohmann::json result;   // the `result` member, when failure == kNone and !rpc_error
  std::size_t bytes = 0;   // size of the message that carried it
  int http_status = 0;     // Streamable HTTP: the status of a refused request (kHttpStatus)
};
using McpDone = std::function<void(McpReply)>;

struct McpRequestOptions {
  std::chrono::milliseconds timeout{30000};  // from the request's start, handshake included
  graph::OutputLimits limits;                // on the answer's message
  std::shared_ptr<CallCancel> cancel;        // may be null
  // Not null: the request carries a progressToken (params._meta.progressToken) and each
  // notifications/progress the server sends for it before its answer is passed here, on the tool
  // I/O thread, as {"progress", "total"?, "message"?} (a notification whose progress is not a
  // number is ignored).
  std::function<void(nlohmann::json)> on_progress;
  // Not empty: a W3C trace context ("00-<trace>-<span>-01"), sent as params._meta.traceparent
  // (both transports) and, over Streamable HTTP, as the `traceparent` header too, so that the
  // server's own spans join the run's trace (docs/tracing.md).
  std::string traceparent = {};
};

// Sends request `method` with `params` to `server` (starting its session when needed); `done` is
// called exactly once, on the tool I/O thread.
void mcp_request(const graph::McpServer& server, std::string method, nlohmann::json params,
                 McpRequestOptions options, McpDone done);

// Every tool of `server` (`tools/list`, all pages, at most 1000): `result` is the concatenated
// `tools` arrays; a page that is not {"tools": [...], "nextCursor"?: string} is bad_output.
void mcp_list_tools(const graph::McpServer& server, McpRequestOptions options, McpDone done);

// The revision the session of `server` speaks ("2026-07-28", "2025-11-25", or an older one the
// server answered initialize with); empty when it has no session ready. Blocks briefly, on the
// tool I/O thread's answer: never call it from that thread (an McpDone callback).
std::string mcp_session_protocol(const graph::McpServer& server);

// Stops every session: requests in flight fail (`cancelled`), stdio servers get their stdin
// closed, then SIGTERM, then SIGKILL after 1 s, and are reaped. Blocks until done. Sessions are
// made again by later requests. Also runs at process exit.
void stop_mcp_sessions();

// The first restart delay after a server dies (default 100 ms; each further death doubles it up
// to 30 s, or to this value when larger). For tests: 0 restarts at once, an hour never.
void set_mcp_first_backoff(std::chrono::milliseconds backoff);

// Process ids of the running stdio servers (tests kill them to play a crash).
std::vector<int> mcp_server_pids();

// The JSON-RPC messages of a text/event-stream body: the `data` of each event, parsed within
// `limits`; events without data, or with empty data (a resumable stream's priming event), are
// skipped. Pure; never throws.
Result<std::vector<nlohmann::json>> parse_sse_messages(std::string_view body,
                                                       const graph::OutputLimits& limits);

// The reading of what servers send, pure and never throwing (tests/fuzz/mcp_reply_fuzz.cc):

// The JSON-RPC messages of a Streamable HTTP answer: a text/event-stream (parse_sse_messages)
// when `content_type` says so, else one JSON message or a batch (an array); each must be an
// object with "jsonrpc": "2.0" (else an error quoting it).
Result<std::vector<nlohmann::json>> parse_http_answer(std::string_view content_type,
                                                      std::string_view body,
                                                      const graph::OutputLimits& limits);

// The reply an answer `message` (a JSON-RPC object, matched to its request) makes: its `error`
// (rpc_error, with code and message), its `result`, or bad_output (neither). `what` prefixes
// errors ("MCP server 'x': tools/call"). `stateless`: a result whose `resultType` is not
// "complete" is bad_output (this client answers no server requests for input).
McpReply read_mcp_answer(const nlohmann::json& message, const std::string& what, bool stateless);

// A `tools/list` result: its `tools` appended to `tools` (made an array), its `nextCursor`
// (empty: the last page) in `next_cursor`; an error naming the pointer when malformed.
Status read_tools_page(const nlohmann::json& result, nlohmann::json& tools,
                       std::string& next_cursor);

// A `server/discover` result: {"supportedVersions": [strings], "serverInfo"?: {...}, ...}.
struct McpDiscovery {
  std::vector<std::string> versions;
  bool stateless = false;  // the versions include 2026-07-28
  nlohmann::json server_info;
};
Result<McpDiscovery> read_discover_result(const nlohmann::json& result);

}  // namespace switchyard::tools
