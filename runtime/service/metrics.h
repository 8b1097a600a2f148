#pragma once
// Metrics: what GET /metrics exposes, in the Prometheus text format (version 0.0.4), counted from
// the journal's events as the EventFeed delivers them (so they count what is durable) plus gauges
// read at scrape time (runs in flight, breaker states from the health table). Counters start at 0
// when the process starts.
//
// Thread-safe: observe() is called on the journal's writer thread, render() on a server thread.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "monitors/health_table.h"
#include "runtime/engine/health_share.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/otlp_exporter.h"

namespace switchyard::service {

class Metrics {
 public:
  // Upper bounds of the step latency histogram, in seconds (+Inf is implied).
  static constexpr std::array<double, 12> kLatencyBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                             0.25,  0.5,   1,    2.5,   5,    10};

  // Counts one committed event. Quick; never blocks on I/O.
  void observe(const runtime::Event& event);
  // Counts one answered HTTP request.
  void observe_request(int status);

  // The exposition text. `in_flight`: runs the engine has in flight; `tools`: the health table's
  // snapshot (breaker state per tool); `open_waits`: the waits the runs in flight are held at.
  std::string render(std::size_t in_flight, const std::vector<monitors::ToolHealth>& tools,
                     std::size_t open_waits = 0) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kLatencyBuckets.size()> buckets{};  // not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::uint64_t started_ = 0;
  std::map<std::string, std::uint64_t> runs_;                           // by final status
  std::map<std::pair<std::string, std::string>, std::uint64_t> steps_;  // (tool, outcome)
  std::uint64_t reroutes_ = 0;
  std::uint64_t backtracks_ = 0;
  std::map<std::string, std::uint64_t> escalations_;  // by reason
  std::map<std::string, std::uint64_t> llm_calls_;    // by tier
  std::map<std::string, double> llm_usd_;             // by tier
  std::map<std::string, std::uint64_t> llm_tokens_;   // by tier
  std::map<std::string, Histogram> latency_;          // by tool
  std::map<int, std::uint64_t> requests_;             // by HTTP status
  // Waits resolved, by decision (from wait_resolved).
  std::map<std::string, std::uint64_t> wait_resolutions_;
};

// The trace exporter's counts (with --otlp-endpoint; docs/tracing.md) in the same format, appended
// to /metrics: switchyard_otlp_spans_{exported,dropped,failed}_total.
std::string render_otlp_metrics(const runtime::OtlpStats& stats);

// The queue's series (serve --queue; docs/scale-out.md#the-service-on-a-queue), appended to
// /metrics: switchyard_queue_runs{state} (queued, leased, expired) and
// switchyard_queue_claims_total from `stats` (null: the journal could not be read, and
// switchyard_queue_up is 0), switchyard_queue_admitted_total (`admitted` by this process) and
// switchyard_queue_event_streams (`streams` polled now).
// Shared health's series (a PostgreSQL journal; docs/scale-out.md#shared-health), appended to
// /metrics: switchyard_health_share_{polls,outcomes,transitions,errors}_total and
// switchyard_health_share_up (0 while the last poll failed).
std::string render_health_share_metrics(const runtime::HealthShareStats& stats);

std::string render_queue_metrics(const runtime::QueueStats* stats, std::uint64_t admitted,
                                 std::size_t streams);

}  // namespace switchyard::service
