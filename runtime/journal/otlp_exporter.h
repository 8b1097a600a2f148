#pragma once
// OtlpExporter: a run's journal events as OpenTelemetry spans, exported over OTLP/HTTP with the
// JSON encoding (POST <endpoint>/v1/traces) by libcurl (docs/tracing.md).
//
// observe() is given each committed event (an EventFeed subscriber: the journal's writer
// thread, or a run's own thread for a journal that writes inline). It takes what the spans an
// event ends need (a step attempt: step_succeeded, step_retry, step_failed; an LLM call:
// llm_settled; a wait: wait_resolved; the run: run_finished or run_interrupted) and queues it; it
// never does I/O and never waits. A step attempt, the most frequent span, is queued as a small
// record (its run's ids and names are made once per run and shared) and written as OTLP/JSON
// text by the sending thread, straight into the request body; the rarer spans are queued as
// text. One thread of the exporter's own sends the queue in batches, over one kept-alive
// connection. The queue is bounded: a span that finds it full is dropped and counted, so a slow
// or absent collector never slows a run.
//
// Ids come from tools/trace_context.h (the run id, the tool, the call number), the same the http
// tool sends in `traceparent`.
//
// Thread-safety: observe() and stats() may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "graph/status.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

struct OtlpOptions {
  // The collector's base URL ("http://127.0.0.1:4318"); spans go to <endpoint>/v1/traces. A URL
  // that already ends in /v1/traces is used as it is.
  std::string endpoint;
  std::size_t max_queue = 16384;  // spans waiting; more are dropped
  std::size_t max_batch = 512;    // spans per request
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
  // Starts the sending thread. Errors: kInvalidArgument (an endpoint that is not http(s)://, a
  // max_queue or max_batch of 0).
  static Result<std::unique_ptr<OtlpExporter>> start(const OtlpOptions& options);
  // Sends what is queued (within the request timeout), then stops the thread.
  ~OtlpExporter();

  // Takes one committed event.
  void observe(const Event& event);
  OtlpStats stats() const;

 private:
  // A run's ids and names, made once when it starts and shared by the records of its spans.
  struct RunIds {
    std::string run_id, workflow;
    std::string trace_id;       // 32 hex digits
    std::uint64_t span_id = 0;  // the run span's
  };
  // A span waiting in the queue. kStep: a step attempt, written by the sending thread from these
  // fields; kText: any other span, already written (`text`).
  struct PendingSpan {
    enum class Kind : std::uint8_t { kText, kStep };
    Kind kind = Kind::kText;
    std::uint8_t outcome = 0;  // kStep: 0 succeeded, 1 retry, 2 failed
    int call = 1;
    std::int64_t attempt = 0, latency_us = 0, end_us = 0;
    std::shared_ptr<const RunIds> run;
    std::string tool, node;
    std::string failure, message;  // a failed attempt's kind and ERROR status message
    std::string attributes;        // more attribute members, each led by a comma (a tool's hint)
    std::string events;            // span events: JSON objects joined by commas
    std::string text;              // kText
  };

  explicit OtlpExporter(const OtlpOptions& options);
  void push(PendingSpan span);
  void push_text(std::string span);
  struct Connection;  // a libcurl handle, kept from one request to the next (keep-alive)
  void loop();
  bool send(Connection& connection, std::size_t count);  // sends body_ (`count` spans)

  // What the spans of a run still to come need (under state_mu_): its start, the start of each
  // call in flight, the reroutes and backtracks that become events of the run span, the tools'
  // hints and progress reports that go on their step's span.
  struct RunState {
    std::int64_t started_ms = 0;
    std::shared_ptr<const RunIds> ids;
    // tool -> (call, started_ms)
    std::map<std::string, std::pair<int, std::int64_t>, std::less<>> calls;
    struct Wait {
      std::string kind, name, node, tool;
      int call = 1;
      std::int64_t started_ms = 0;
    };
    std::map<std::string, Wait> waits;  // open waits, by wait id
    std::string events;                 // the run span's events: JSON objects joined by commas
    std::map<std::string, std::string> hints;  // tool -> its hint's attribute members
    // tool -> (call, its tool_progress reports as span events), until its attempt's span
    std::map<std::string, std::pair<int, std::string>> progress;
  };

  OtlpOptions options_;
  std::string url_;
  std::mutex state_mu_;
  std::unordered_map<std::string, RunState> runs_;  // runs in flight, by id

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // The spans waiting, oldest first, from queue_[head_] (the ones before were taken). The sending
  // thread swaps it with its (empty) batch_ when it takes all of it, so the two vectors' memory
  // serves again and again.
  std::vector<PendingSpan> queue_;
  std::size_t head_ = 0;
  bool stopping_ = false;
  OtlpStats stats_;
  // The sending thread's own: the batch taken off the queue and the request body, their memory
  // kept from one batch to the next.
  std::vector<PendingSpan> batch_;
  std::string body_;
  std::thread thread_;
};

}  // namespace switchyard::runtime
