#pragma once
// The HTTP client under the `http` tool (private to tools/): libcurl's multi interface driven by
// the tool I/O thread's Boost.Asio loop (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION), so
// thousands of requests are in flight on one thread and connections are reused between them.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/workflow.h"
#include "tools/tool.h"

namespace switchyard::tools {

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent when not empty (not with GET)
  std::chrono::milliseconds timeout{30000};
  // The most of a response body that is read: past it the transfer is stopped (in curl's write
  // callback, or at once when Content-Length says so) and the response is `truncated`, so a huge
  // body never sits in memory.
  std::size_t max_body_bytes = graph::kDefaultMaxOutputBytes;
  // Response headers to keep besides the monitors' (lower-case names), e.g. "content-type".
  std::vector<std::string> keep_headers;
};

struct HttpResponse {
  // kNone when an HTTP answer arrived (any status); else kTimeout, kConnect, kTransport,
  // kCancelled or kInternal, with `error` (one line).
  FailureKind failure = FailureKind::kNone;
  std::string error;
  int status = 0;
  // The headers the monitors read (Retry-After, X-RateLimit-*, RateLimit*), as received.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The body passed the request's max_body_bytes: the transfer was stopped there and `body` is
  // what came before (the status and headers are the answer's). Callers refuse it (bad_output)
  // or, for an unexpected status, quote its start.
  bool truncated = false;
  std::chrono::microseconds latency{0};
};

// Sends `request`; `done` is called exactly once, on the tool I/O thread. When `cancel` fires
// first, the transfer is aborted and `done` gets kCancelled.
void http_perform(HttpRequest request, std::shared_ptr<CallCancel> cancel,
                  std::function<void(HttpResponse)> done);

}  // namespace switchyard::tools
