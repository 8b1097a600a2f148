#pragma once
// Tool adapters: the one interface through which the run loop invokes every kind of tool.
//
// A Tool is made once per workflow tool (tools/tool_set.h) and may be invoked by many runs;
// implementations are thread-safe. An invocation reports exactly one Outcome through its
// callback, possibly before invoke() returns (synchronous tools) or later from an engine thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graph/workflow.h"

namespace switchyard::tools {

// Why a call failed. Monitors, the router and the journal branch on it.
enum class FailureKind {
  kNone,
  kInjected,  // a mock's scripted failure (scenarios, chaos)
  kTimeout,
  kConnect,      // connection refused, DNS: a hard outage signal
  kTransport,    // the connection broke: reset, closed without an answer, bad HTTP
  kHttpStatus,   // an unexpected HTTP status
  kRateLimited,  // 429
  kBadOutput,    // output that is not JSON, or fails its schema
  kExitCode,     // a command exited non-zero
  kCancelled,
  kBudgetExhausted,  // the budget could not cover the call; it was not made
  kTemplate,         // a template referred to a missing value
  kUnavailable,      // the tool is known down and was not called
  kRefusal,          // a language model declined to answer
  kSchemaInvalid,    // an answer that is JSON but does not satisfy the tool's output_schema
  kToolError,        // an MCP tool's result said isError, or its server refused the request
  kRejected,         // a person rejected the step at an approval wait (docs/waits.md)
  kThrottled,        // the tool's throttle gave no turn in time, or could not be asked; not sent
  kInternal,         // keep last: failure_kind() walks the kinds up to it
};

std::string_view to_string(FailureKind kind);
// The kind named `name` (as to_string() spells it), or nullopt.
std::optional<FailureKind> failure_kind(std::string_view name);

struct Outcome {
  bool ok = false;
  nlohmann::json output;  // when ok: the tool's JSON output
  FailureKind failure = FailureKind::kNone;
  std::string reason;                    // when failed: for people and the journal
  std::chrono::microseconds latency{0};  // measured (or, for mocks, simulated) duration
  // The latency was not spent but is to be simulated (mocks): drivers wait it out on their clock.
  bool simulated = false;
  std::int64_t tokens = 0;  // LLM tokens used (input + output)
  double cost_usd = 0;      // money spent by this call
  // llm calls: the provider's reply gave no readable usage, so `tokens` and `cost_usd` are the
  // call's worst case (its prompt bound plus max_tokens at the tier's prices), never less.
  bool usage_unknown = false;
  bool llm_call = false;  // the call went to a language model
  int tier = -1;          // llm calls: the models file's tier that was called (-1: none)
  // HTTP tools: the response status (0: none) and headers (secret-looking values redacted), and
  // Retry-After when the service sent one: a delay (delta-seconds) in retry_after, or an HTTP date
  // in retry_at (the monitor compares it with its own clock; tools read none). What the monitors
  // read for rate limits.
  int http_status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::chrono::milliseconds> retry_after;
  std::optional<std::chrono::system_clock::time_point> retry_at;

  static Outcome success(nlohmann::json output);
  static Outcome failed(FailureKind kind, std::string reason);
};

// How a driver aborts a call in flight (a cancelled run, a fan-out loser). Thread-safe. A tool
// that can abort its work registers how with on_cancel(); the call still reports an outcome
// (kCancelled), which the driver, having moved on, ignores.
class CallCancel {
 public:
  // Registers the abort; runs it at once (on this thread) when the call is already cancelled.
  void on_cancel(std::function<void()> abort);
  // Cancels: runs the registered abort, if any, once.
  void cancel();
  bool cancelled() const;

 private:
  mutable std::mutex mu_;
  bool cancelled_ = false;
  std::function<void()> abort_;
};

// One call of one tool.
struct Invocation {
  const graph::Workflow* workflow = nullptr;
  graph::ToolIndex tool = graph::kNoIndex;
  // {"input": ..., "steps": {id: {"output": ...}}, ...}: what templates and tools read.
  const nlohmann::json* context = nullptr;
  int call_number = 1;                 // 1-based count of this tool's calls within the run
  int attempt = 1;                     // 1-based attempt of this step (retries)
  std::shared_ptr<CallCancel> cancel;  // may be null: the call cannot be cancelled
  int tier = -1;  // llm tools: the models file's tier to use (-1: the tool's own or the cheapest)
  std::string_view run_id;  // the run making the call (idempotency keys); valid during invoke()
  // Reports the call's progress while it runs (an MCP server's notifications/progress:
  // {"progress": number, "total"?: number, "message"?: string}). May be null: nobody listens.
  // Callable from any thread, any number of times, until the call's outcome is reported.
  std::function<void(nlohmann::json)> progress;
};

class Tool {
 public:
  using Done = std::function<void(Outcome)>;
  virtual ~Tool() = default;
  // Invokes the tool; `done` is called exactly once.
  virtual void invoke(const Invocation& call, Done done) = 0;
  // What the service behind the tool says of its idempotence, once it is known: true (repeating
  // a call is safe), false (it has side effects), or nullopt (unknown, or nothing said). An MCP
  // tool knows it from its server's annotations after its first tools/list. Untrusted: drivers
  // use it only for tools whose workflow does not give `idempotent`. Thread-safe.
  virtual std::optional<bool> idempotent_hint() const { return std::nullopt; }
};

}  // namespace switchyard::tools
