#pragma once
// The `http` tool: one HTTP request per call, through libcurl's multi interface on the tool I/O
// thread (tools/http_client.h): no engine thread waits, connections are reused.
//
// url, header values and body are templates. The body is the tool's `body` (a string template is
// sent as is; any other JSON value is sent as JSON with its strings rendered, and a string that
// is exactly one reference, "{{steps.CRM.output}}", becomes the referenced value itself), or,
// without `body`, the step's context {"input", "steps"} for POST/PUT/DELETE. The answer must have
// an expected status (`expect_status`, default any 2xx) and a JSON body (204 or an empty body:
// null). Failures carry their kind: timeout, connect, transport, rate_limited (429),
// http_status, bad_output, template, cancelled. The response headers the monitors read
// (Retry-After, X-RateLimit-*, RateLimit*) are kept on the outcome, secret-looking values
// redacted all the same; Retry-After is parsed.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/workflow.h"
#include "tools/http_client.h"
#include "tools/tool.h"

namespace switchyard::tools {

// `limits` bound the response body: past max_output_bytes the transfer is aborted while it
// downloads; past max_json_depth the body is refused before it is parsed. Both are bad_output.
std::unique_ptr<Tool> make_http_tool(std::string id, graph::HttpTool spec,
                                     std::chrono::milliseconds timeout,
                                     graph::OutputLimits limits = {});

// What an http call's answer is judged by.
struct HttpAnswerSpec {
  std::string id;                  // the tool's id, first in every reason
  std::string method;              // for reasons
  std::string shown_url;           // for reasons: the URL with secrets redacted (redact_url)
  std::vector<int> expect_status;  // empty: any 2xx
  graph::OutputLimits limits;
};

// The outcome of one http call, from what the client got: a pure function of its arguments (no
// I/O, never throws, never crashes on any bytes), so tests and fuzzers can feed it anything. A
// body that is over a limit, not JSON or not UTF-8 is bad_output; an unexpected status is
// http_status (rate_limited for 429) with the start of the body quoted on one line (excerpt());
// reasons are valid UTF-8, one line.
Outcome parse_http_response(const HttpAnswerSpec& spec, HttpResponse response);

// Whether a header's value must never be logged or journaled: Authorization, Cookie, and any
// name containing "token", "key", "secret", "password" or "auth" (case-insensitive).
bool is_secret_header(std::string_view name);
// `headers` with secret values replaced by "[redacted]".
std::vector<std::pair<std::string, std::string>> redact_headers(
    std::vector<std::pair<std::string, std::string>> headers);
// `url` with the values of secret-looking query parameters (by the same rule) replaced by
// "[redacted]": what failure reasons show.
std::string redact_url(std::string_view url);
// A Retry-After value (delta-seconds or an HTTP date, relative to `now_unix_s`), or nullopt.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t now_unix_s);
// Sets `outcome.retry_after` (delta-seconds) or `outcome.retry_at` (an HTTP date) from a
// Retry-After value; leaves both unset for a value that is neither. Reads no clock.
void set_retry_after(Outcome& outcome, std::string_view value);
// What an outcome keeps of the HTTP answer it came from (http and llm tools alike): status,
// latency, Retry-After (set_retry_after), and the headers as valid UTF-8 with secrets redacted
// (they are journaled).
void keep_response_meta(Outcome& outcome, HttpResponse& response);

}  // namespace switchyard::tools

namespace switchyard::tools {

// A health probe: GET `url`; `done(ok, reason)` is called once, on the tool I/O thread; ok when
// the answer is any 2xx within `timeout`.
void probe_url(const std::string& url, std::chrono::milliseconds timeout,
               std::function<void(bool ok, std::string reason)> done);

}  // namespace switchyard::tools
