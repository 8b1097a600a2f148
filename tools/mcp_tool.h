#pragma once
// The `mcp` tool: one `tools/call` of a Model Context Protocol server's tool per call, through
// the process-wide session of its server (tools/mcp_client.h; docs/mcp.md).
//
// `arguments` is an object whose strings are templates, rendered like an http body (a string
// that is exactly one reference becomes the referenced value). Before the first call the adapter
// reads the server's `tools/list` once: a tool the server does not have is a failed step
// (`unavailable`), and the rendered arguments are checked against the tool's `inputSchema`
// (valijson) before every call: a mismatch is a failed step (`schema_invalid`) naming the
// pointer, and the server is not called. The output is the result's `structuredContent`, else
// its `content` (mcp_call_outcome). A result with `isError: true` is a failed step
// (`tool_error`) with the server's message. Transport failures keep their kind (timeout,
// transport for a server that died, unavailable while it restarts, http_status, ...), so health,
// breakers and reroutes treat an MCP server like any other service.

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "graph/workflow.h"
#include "tools/tool.h"

namespace switchyard::tools {

std::unique_ptr<Tool> make_mcp_tool(std::string id, graph::McpTool spec,
                                    std::chrono::milliseconds timeout,
                                    graph::OutputLimits limits = {});

// The outcome of a `tools/call` result: a pure function (no I/O, never throws). With
// `isError: true`: failed (tool_error) with the text of its content. Else the output is
// `structuredContent` when present; else, for a content of one text item, that text parsed as
// JSON when it is JSON within `limits` (else the text itself, a string); else the content array
// with each text item so converted. A result that is not an object, or whose content is not an
// array, is bad_output naming the pointer.
Outcome mcp_call_outcome(std::string_view id, const nlohmann::json& result,
                         const graph::OutputLimits& limits);

// What an MCP tool's annotations say about idempotence: true (readOnlyHint or idempotentHint,
// and not destructiveHint), false (destructiveHint), or nullopt (no hint). `tool` is an entry of
// `tools/list`; untrusted, read leniently (a hint of another type is no hint).
std::optional<bool> mcp_idempotent_hint(const nlohmann::json& tool);

}  // namespace switchyard::tools
