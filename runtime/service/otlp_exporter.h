#pragma once
// OtlpExporter: a run's journal events as OpenTelemetry spans, exported over OTLP/HTTP with the
// JSON encoding (POST <endpoint>/v1/traces) by libcurl (docs/tracing.md).
//
// observe() is given each committed event (an EventFeed subscriber: the journal's writer
// thread). It builds the spans an event ends (a step attempt: step_succeeded, step_retry,
// step_failed; an LLM call: llm_settled; a compensation; the run: run_finished or
// run_interrupted) and queues them; it never does I/O and never waits. One thread of the
// exporter's own sends the queue in batches. The queue is bounded: a span that finds it full is
// dropped and counted, so a slow or absent collector never slows a run.
//
// Ids come from tools/trace_context.h (the run id, the tool, the call number), the same the http
// tool sends in `traceparent`.
//
// Thread-safety: observe() and stats() may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "graph/status.h"
#include "runtime/journal/journal.h"

namespace switchyard::service {

struct OtlpOptions {
  // The collector's base URL ("http://127.0.0.1:4318"); spans go to <endpoint>/v1/traces. A URL
  // that already ends in /v1/traces is used as it is.
  std::string endpoint;
  std::size_t max_queue = 4096;  // spans waiting; more are dropped
  std::size_t max_batch = 512;   // spans per request
  // How long a span may wait for companions before its batch is sent.
  std::chrono::milliseconds flush_interval{500};
  std::chrono::milliseconds timeout{5000};  // per request
  std::string service_name = "switchyard";
};

struct OtlpStats {
  std::uint64_t exported = 0;  // spans the collector accepted (2xx)
  std::uint64_t dropped = 0;   // spans dropped: the queue was full
  std::uint64_t failed = 0;    // spans of requests that failed (no answer, or not 2xx)
};

class OtlpExporter {
 public:
  // Starts the sending thread. Errors: kInvalidArgument (an endpoint that is not http(s)://).
  static Result<std::unique_ptr<OtlpExporter>> start(const OtlpOptions& options);
  // Sends what is queued (within the request timeout), then stops the thread.
  ~OtlpExporter();

  // Takes one committed event.
  void observe(const runtime::Event& event);
  OtlpStats stats() const;

 private:
  explicit OtlpExporter(const OtlpOptions& options);
  void push(nlohmann::json span);
  void loop();
  bool send(const nlohmann::json& spans);

  // What the spans of a run still to come need (under state_mu_): its start, the start of each
  // call in flight, the reroutes and backtracks that become events of the run span.
  struct RunState {
    std::int64_t started_ms = 0;
    std::string workflow;
    std::map<std::string, std::pair<int, std::int64_t>> calls;  // tool -> (call, started_ms)
    nlohmann::json events = nlohmann::json::array();
  };

  OtlpOptions options_;
  std::string url_;
  std::mutex state_mu_;
  std::map<std::string, RunState> runs_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<nlohmann::json> queue_;
  bool stopping_ = false;
  OtlpStats stats_;
  std::thread thread_;
};

}  // namespace switchyard::service
