#include "runtime/service/metrics.h"

#include <cassert>
#include <charconv>
#include <sstream>

namespace switchyard::service {
namespace {

std::string text(const nlohmann::json& payload, const char* key) {
  auto it = payload.find(key);
  return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string("unknown");
}

// A non-negative number of the payload, 0 when it is absent or not one (never a throwing read).
double quantity(const nlohmann::json& payload, const char* key) {
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_number()) return 0;
  const double v = it->get<double>();
  return v > 0 ? v : 0;
}

// A label value, escaped as the format requires.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The shortest text that reads back as `v` (0.1, not 0.10000000000000001): bucket bounds are
// matched as label strings (`le="0.1"`).
std::string number(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  assert(ec == std::errc());
  return std::string(buf, end);
}

void header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

// A series of one sample without labels: its header and its value line.
template <typename Value>
void series(std::ostringstream& out, const char* name, const char* type, const char* help,
            const Value& value) {
  header(out, name, type, help);
  out << name << " " << value << "\n";
}

}  // namespace

void Metrics::observe(const runtime::Event& e) {
  const auto& p = e.payload;
  std::lock_guard lock(mu_);
  if (e.type == "run_started") {
    ++started_;
  } else if (e.type == "run_finished") {
    ++runs_[text(p, "status")];
  } else if (e.type == "step_succeeded" || e.type == "step_failed" || e.type == "step_retry") {
    const std::string tool = text(p, "tool");
    ++steps_[{tool, e.type.substr(5)}];
    if (auto it = p.find("latency_us"); it != p.end() && it->is_number()) {
      const double seconds = it->get<double>() / 1e6;
      Histogram& h = latency_[tool];
      ++h.count;
      h.sum += seconds;
      for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        if (seconds <= kLatencyBuckets[i]) {
          ++h.buckets[i];
          break;
        }
      }
    }
  } else if (e.type == "reroute") {
    ++reroutes_;
  } else if (e.type == "backtrack") {
    ++backtracks_;
  } else if (e.type == "escalated") {
    ++escalations_[text(p, "reason")];
  } else if (e.type == "wait_resolved") {
    ++wait_resolutions_[text(p, "decision")];
  } else if (e.type == "llm_settled") {
    const std::string tier = text(p, "tier");
    ++llm_calls_[tier];
    llm_usd_[tier] += quantity(p, "cost_usd");
    llm_tokens_[tier] += static_cast<std::uint64_t>(quantity(p, "tokens"));
  }
}

void Metrics::observe_request(int status) {
  std::lock_guard lock(mu_);
  ++requests_[status];
}

std::string Metrics::render(std::size_t in_flight, const std::vector<monitors::ToolHealth>& tools,
                            std::size_t open_waits) const {
  std::lock_guard lock(mu_);
  std::ostringstream out;
  series(out, "switchyard_runs_started_total", "counter", "Runs started by this process.",
         started_);
  header(out, "switchyard_runs_total", "counter", "Runs finished, by final status.");
  for (const char* s : {"completed", "demoted", "escalated", "failed"}) {
    auto it = runs_.find(s);
    out << "switchyard_runs_total{status=\"" << s << "\"} " << (it == runs_.end() ? 0 : it->second)
        << "\n";
  }
  series(out, "switchyard_runs_in_flight", "gauge", "Runs in flight in the engine.", in_flight);
  series(out, "switchyard_waits_open", "gauge",
         "Waits (approvals, signals, timers) the runs in flight are held at.", open_waits);
  header(out, "switchyard_wait_resolutions_total", "counter",
         "Waits resolved, by decision (approved, rejected, signalled, fired, timed_out).");
  for (const char* d : {"approved", "rejected", "signalled", "fired", "timed_out"}) {
    auto it = wait_resolutions_.find(d);
    out << "switchyard_wait_resolutions_total{decision=\"" << d << "\"} "
        << (it == wait_resolutions_.end() ? 0 : it->second) << "\n";
  }
  header(out, "switchyard_steps_total", "counter",
         "Tool step attempts, by tool and outcome (succeeded, failed, retry).");
  for (const auto& [key, n] : steps_) {
    out << "switchyard_steps_total{tool=\"" << label(key.first) << "\",outcome=\"" << key.second
        << "\"} " << n << "\n";
  }
  series(out, "switchyard_reroutes_total", "counter", "Routes recomputed after a failure.",
         reroutes_);
  series(out, "switchyard_backtracks_total", "counter", "Backtracks to an earlier node.",
         backtracks_);
  header(out, "switchyard_escalations_total", "counter", "Runs escalated to a human, by reason.");
  for (const auto& [reason, n] : escalations_) {
    out << "switchyard_escalations_total{reason=\"" << label(reason) << "\"} " << n << "\n";
  }
  header(out, "switchyard_llm_calls_total", "counter", "Language model calls settled, by tier.");
  for (const auto& [tier, n] : llm_calls_) {
    out << "switchyard_llm_calls_total{tier=\"" << label(tier) << "\"} " << n << "\n";
  }
  header(out, "switchyard_llm_spend_usd_total", "counter", "Language model spend in USD, by tier.");
  for (const auto& [tier, usd] : llm_usd_) {
    out << "switchyard_llm_spend_usd_total{tier=\"" << label(tier) << "\"} " << number(usd) << "\n";
  }
  header(out, "switchyard_llm_tokens_total", "counter", "Language model tokens, by tier.");
  for (const auto& [tier, n] : llm_tokens_) {
    out << "switchyard_llm_tokens_total{tier=\"" << label(tier) << "\"} " << n << "\n";
  }
  header(out, "switchyard_breaker_state", "gauge",
         "Circuit breaker state per tool: 1 for the state it is in, 0 for the others.");
  for (const auto& h : tools) {
    for (auto state : {monitors::BreakerState::kClosed, monitors::BreakerState::kOpen,
                       monitors::BreakerState::kHalfOpen}) {
      out << "switchyard_breaker_state{tool=\"" << label(h.tool) << "\",state=\""
          << monitors::to_string(state) << "\"} " << (h.breaker == state ? 1 : 0) << "\n";
    }
  }
  header(out, "switchyard_step_latency_seconds", "histogram",
         "Latency of tool step attempts, by tool.");
  for (const auto& [tool, h] : latency_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out << "switchyard_step_latency_seconds_bucket{tool=\"" << label(tool) << "\",le=\""
          << number(kLatencyBuckets[i]) << "\"} " << cumulative << "\n";
    }
    out << "switchyard_step_latency_seconds_bucket{tool=\"" << label(tool) << "\",le=\"+Inf\"} "
        << h.count << "\n";
    out << "switchyard_step_latency_seconds_sum{tool=\"" << label(tool) << "\"} " << number(h.sum)
        << "\n";
    out << "switchyard_step_latency_seconds_count{tool=\"" << label(tool) << "\"} " << h.count
        << "\n";
  }
  header(out, "switchyard_http_requests_total", "counter", "HTTP requests answered, by status.");
  for (const auto& [status, n] : requests_) {
    out << "switchyard_http_requests_total{code=\"" << status << "\"} " << n << "\n";
  }
  return out.str();
}

std::string render_otlp_metrics(const runtime::OtlpStats& stats) {
  std::ostringstream out;
  series(out, "switchyard_otlp_spans_exported_total", "counter",
         "Trace spans the OTLP collector accepted.", stats.exported);
  series(out, "switchyard_otlp_spans_dropped_total", "counter",
         "Trace spans dropped because the export queue was full.", stats.dropped);
  series(out, "switchyard_otlp_spans_failed_total", "counter",
         "Trace spans of export requests that failed (no answer, or not 2xx; not retried).",
         stats.failed);
  return out.str();
}

std::string render_health_share_metrics(const runtime::HealthShareStats& stats) {
  std::ostringstream out;
  series(out, "switchyard_health_share_up", "gauge",
         "1 while this process reads the tool outcomes other processes journal, 0 while its last "
         "read failed (it tries again at each poll).",
         stats.last_error.empty() ? 1 : 0);
  series(out, "switchyard_health_share_polls_total", "counter",
         "Reads of the outcomes other processes journaled.", stats.polls);
  series(out, "switchyard_health_share_outcomes_total", "counter",
         "Step outcomes of other processes recorded in this process's health monitor.",
         stats.outcomes);
  series(out, "switchyard_health_share_transitions_total", "counter",
         "Breaker changes here caused by what other processes journaled.", stats.transitions);
  series(out, "switchyard_health_share_errors_total", "counter",
         "Reads of other processes' outcomes that failed (retried at the next poll).",
         stats.errors);
  return out.str();
}

std::string render_queue_metrics(const runtime::QueueStats* stats, std::uint64_t admitted,
                                 std::size_t streams) {
  std::ostringstream out;
  series(out, "switchyard_queue_up", "gauge",
         "1 when the queue's figures below were read from the journal, 0 when it could not be "
         "read.",
         stats != nullptr ? 1 : 0);
  if (stats != nullptr) {
    header(out, "switchyard_queue_runs", "gauge",
           "Runs of the queue by state: queued (waiting for a worker), leased (held by a worker), "
           "expired (held by a worker whose lease expired: another worker takes it over).");
    out << "switchyard_queue_runs{state=\"queued\"} " << stats->queued << "\n";
    out << "switchyard_queue_runs{state=\"leased\"} " << stats->leased << "\n";
    out << "switchyard_queue_runs{state=\"expired\"} " << stats->expired << "\n";
    series(out, "switchyard_queue_claims_total", "counter",
           "Claims made by all workers of the runs in the journal (from the queue, take-overs, "
           "adopts): the sum of the runs' fencing epochs.",
           stats->claims);
  }
  series(out, "switchyard_queue_admitted_total", "counter",
         "Runs this process admitted into the queue (POST /v1/runs).", admitted);
  series(out, "switchyard_queue_event_streams", "gauge",
         "Event streams of queued runs this process follows by reading the journal.", streams);
  return out.str();
}

}  // namespace switchyard::service
