#include "runtime/journal/otlp_exporter.h"

#include <curl/curl.h>
#include <pthread.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "graph/json_read.h"
#include "runtime/base/log.h"
#include "tools/trace_context.h"

namespace switchyard::runtime {
namespace {

// Spans are written straight to OTLP/JSON text here, on the committing thread, and queued as
// text: no JSON document is built per span (that cost 3x the step time in engine_bench,
// docs/tracing.md#the-cost). int64 values are decimal strings, as the protobuf JSON mapping has
// them.

// `text` as a JSON string literal (made valid UTF-8 first).
void append_quoted(std::string& out, std::string_view text) {
  // Plain ASCII (ids, names, kinds: nearly every value) is written as it is; anything else is
  // made valid UTF-8 and escaped.
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
  });
  out += '"';
  if (plain) {
    out += text;
    out += '"';
    return;
  }
  const std::string clean = valid_utf8(text);
  for (const char c : clean) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) value = 0;
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out.append(buf, end);
}

// One span's JSON object, member by member.
class SpanText {
 public:
  SpanText(const std::string& trace, const std::string& span, const std::string& parent,
           std::string_view name, int kind, std::string_view start_nanos,
           std::string_view end_nanos) {
    out_.reserve(768);
    out_ += "{\"traceId\":\"";
    out_ += trace;
    out_ += "\",\"spanId\":\"";
    out_ += span;
    if (!parent.empty()) {
      out_ += "\",\"parentSpanId\":\"";
      out_ += parent;
    }
    out_ += "\",\"name\":";
    append_quoted(out_, name);
    out_ += ",\"kind\":";
    out_ += std::to_string(kind);
    out_ += ",\"startTimeUnixNano\":\"";
    out_ += start_nanos;
    out_ += "\",\"endTimeUnixNano\":\"";
    out_ += end_nanos;
    out_ += "\",\"attributes\":[";
  }
  SpanText& attr(std::string_view key, std::string_view value) {
    open_attr(key);
    out_ += "{\"stringValue\":";
    append_quoted(out_, value);
    out_ += "}}";
    return *this;
  }
  SpanText& attr_int(std::string_view key, std::int64_t value) {
    open_attr(key);
    out_ += "{\"intValue\":\"";
    out_ += std::to_string(value);
    out_ += "\"}}";
    return *this;
  }
  SpanText& attr_double(std::string_view key, double value) {
    open_attr(key);
    out_ += "{\"doubleValue\":";
    append_number(out_, value);
    out_ += "}}";
    return *this;
  }
  // Ends the span: its events (a JSON array's members, "" for none) and status.
  std::string finish(int code, std::string_view message, const std::string& events = "") {
    out_ += "]";
    if (!events.empty()) {
      out_ += ",\"events\":[";
      out_ += events;
      out_ += "]";
    }
    out_ += ",\"status\":{\"code\":";
    out_ += std::to_string(code);
    if (!message.empty()) {
      out_ += ",\"message\":";
      append_quoted(out_, message);
    }
    out_ += "}}";
    return std::move(out_);
  }

 private:
  void open_attr(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += "{\"key\":";
    append_quoted(out_, key);
    out_ += ",\"value\":";
  }
  std::string out_;
  bool first_ = true;
};

// A standalone attribute list member (the resource's, a span event's).
std::string attr_text(std::string_view key, std::string_view value) {
  std::string out = "{\"key\":";
  append_quoted(out, key);
  out += ",\"value\":{\"stringValue\":";
  append_quoted(out, value);
  out += "}}";
  return out;
}

std::string unix_nanos(std::int64_t ms) { return std::to_string(ms) + "000000"; }
std::string nanos_us(std::int64_t us) { return std::to_string(us) + "000"; }

// Members of a journaled payload, read leniently: absent or of another type gives the fallback.
std::string span_text(const nlohmann::json& p, const char* key) {
  auto v = JsonView(p).string_or(key, "");
  return v.ok() ? *v : "";
}
std::int64_t span_integer(const nlohmann::json& p, const char* key) {
  auto v = JsonView(p).integer_or(key, 0);
  return v.ok() ? *v : 0;
}
double span_number(const nlohmann::json& p, const char* key) {
  auto v = JsonView(p).number_or(key, 0);
  return v.ok() ? *v : 0;
}
std::string span_joined(const nlohmann::json& p, const char* key) {
  std::string out;
  if (!p.is_object() || !p.contains(key) || !p[key].is_array()) return out;
  for (const auto& s : p[key]) {
    if (!s.is_string()) continue;
    out += (out.empty() ? "" : " -> ") + s.get<std::string>();
  }
  return out;
}

constexpr int kInternal = 1;
constexpr int kClient = 3;
constexpr int kStatusOk = 1;
constexpr int kStatusError = 2;

std::size_t ignore_body(char*, std::size_t size, std::size_t count, void*) { return size * count; }

}  // namespace

Result<std::unique_ptr<OtlpExporter>> OtlpExporter::start(const OtlpOptions& options) {
  if (options.endpoint.rfind("http://", 0) != 0 && options.endpoint.rfind("https://", 0) != 0) {
    return invalid_argument("--otlp-endpoint " + excerpt(options.endpoint, 100) +
                            ": expected an http:// or https:// URL");
  }
  if (options.max_queue == 0 || options.max_batch == 0) {
    return invalid_argument("OTLP export: the queue and the batch must hold at least one span");
  }
  std::unique_ptr<OtlpExporter> out(new OtlpExporter(options));
  out->thread_ = std::thread([p = out.get()] { p->loop(); });
  return out;
}

OtlpExporter::OtlpExporter(const OtlpOptions& options) : options_(options) {
  url_ = options_.endpoint;
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
  const std::string suffix = "/v1/traces";
  if (url_.size() < suffix.size() ||
      url_.compare(url_.size() - suffix.size(), suffix.size(), suffix) != 0) {
    url_ += suffix;
  }
}

OtlpExporter::~OtlpExporter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  logger().info("otlp: {} span(s) exported, {} dropped (queue full), {} not accepted",
                stats_.exported, stats_.dropped, stats_.failed);
}

OtlpStats OtlpExporter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void OtlpExporter::push(std::string span) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.max_queue) {
      ++stats_.dropped;
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() < options_.max_batch) return;
  }
  cv_.notify_one();
}

void OtlpExporter::observe(const Event& e) {
  const nlohmann::json& p = e.payload;
  std::lock_guard lock(state_mu_);
  if (e.type == "run_started" || e.type == "resumed") {
    RunState& r = runs_[e.run_id];
    if (r.started_ms == 0) r.started_ms = e.time_ms;
    if (e.type == "run_started") r.workflow = span_text(p, "workflow");
    return;
  }
  auto it = runs_.find(e.run_id);
  if (it == runs_.end()) return;  // began before the exporter did
  RunState& r = it->second;
  if (e.type == "step_started") {
    r.calls[span_text(p, "tool")] = {static_cast<int>(span_integer(p, "call")), e.time_ms};
    return;
  }
  if (e.type == "step_succeeded" || e.type == "step_retry" || e.type == "step_failed") {
    const std::string tool = span_text(p, "tool");
    const std::string node = span_text(p, "node");
    const auto found = r.calls.find(tool);
    const auto call = found != r.calls.end() ? found->second : std::pair<int, std::int64_t>{1, 0};
    const std::int64_t latency_us = span_integer(p, "latency_us");
    const std::int64_t end_us = e.time_ms * 1000;
    const char* outcome = e.type == "step_succeeded" ? "succeeded"
                          : e.type == "step_retry"   ? "retry"
                                                     : "failed";
    const bool ok = e.type == "step_succeeded";
    SpanText span(tools::trace_id_hex(e.run_id),
                  tools::call_span_id_hex(e.run_id, tool, call.first),
                  tools::run_span_id_hex(e.run_id), "step " + node, kClient,
                  nanos_us(std::max<std::int64_t>(0, end_us - latency_us)), nanos_us(end_us));
    span.attr("switchyard.run_id", e.run_id)
        .attr("switchyard.workflow", r.workflow)
        .attr("switchyard.node", node)
        .attr("switchyard.tool", tool)
        .attr_int("switchyard.attempt", span_integer(p, "attempt"))
        .attr_int("switchyard.call", call.first)
        .attr("switchyard.outcome", outcome)
        .attr_int("switchyard.latency_us", latency_us);
    if (ok) {
      push(span.finish(kStatusOk, ""));
      return;
    }
    const std::string failure = span_text(p, "failure");
    span.attr("switchyard.failure", failure);
    push(span.finish(kStatusError, excerpt(failure + ": " + span_text(p, "reason"), 200)));
    return;
  }
  if (e.type == "llm_settled") {
    // An LLM call (GenAI semantic conventions), the child of its step's span.
    const std::string tool = span_text(p, "tool");
    const std::string tier = span_text(p, "tier");
    const auto found = r.calls.find(tool);
    const auto call = found != r.calls.end() ? found->second : std::pair<int, std::int64_t>{1, 0};
    const bool ok =
        p.is_object() && p.contains("ok") && p["ok"].is_boolean() && p["ok"].get<bool>();
    SpanText span(tools::trace_id_hex(e.run_id),
                  tools::call_span_id_hex(e.run_id, tool + "\x1fllm", call.first),
                  tools::call_span_id_hex(e.run_id, tool, call.first), "chat " + tier, kClient,
                  unix_nanos(call.second > 0 ? call.second : e.time_ms), unix_nanos(e.time_ms));
    span.attr("gen_ai.operation.name", "chat")
        .attr("gen_ai.request.model", tier)
        .attr_int("gen_ai.usage.total_tokens", span_integer(p, "tokens"))
        .attr_double("switchyard.llm.cost_usd", span_number(p, "cost_usd"))
        .attr("switchyard.tool", tool)
        .attr("switchyard.node", span_text(p, "node"))
        .attr("switchyard.purpose", span_text(p, "purpose"));
    push(span.finish(ok ? kStatusOk : kStatusError, ""));
    return;
  }
  if (e.type == "wait_started") {
    const std::string tool = span_text(p, "tool");
    RunState::Wait& w = r.waits[span_text(p, "wait")];
    w.kind = span_text(p, "kind");
    w.name = span_text(p, "name");
    w.node = span_text(p, "node");
    w.tool = tool;
    const auto found = r.calls.find(tool);
    w.call = found != r.calls.end() ? found->second.first : 1;
    w.started_ms = e.time_ms;
    return;
  }
  if (e.type == "wait_resolved") {
    // A wait (an approval, a signal, a timer): a child of its step attempt's span, from the
    // wait's start to its resolution. A wait that began before this exporter did (a resumed
    // run) has no span.
    auto w = r.waits.find(span_text(p, "wait"));
    if (w == r.waits.end()) return;
    const RunState::Wait& wait = w->second;
    const std::string decision = span_text(p, "decision");
    SpanText span(tools::trace_id_hex(e.run_id),
                  tools::call_span_id_hex(e.run_id, wait.tool + "\x1fwait", wait.call),
                  tools::call_span_id_hex(e.run_id, wait.tool, wait.call),
                  "wait " + wait.kind + (wait.name.empty() ? "" : " " + wait.name), kInternal,
                  unix_nanos(wait.started_ms), unix_nanos(std::max(e.time_ms, wait.started_ms)));
    span.attr("switchyard.run_id", e.run_id)
        .attr("switchyard.workflow", r.workflow)
        .attr("switchyard.node", wait.node)
        .attr("switchyard.tool", wait.tool)
        .attr("switchyard.wait.id", w->first)
        .attr("switchyard.wait.kind", wait.kind)
        .attr("switchyard.wait.decision", decision);
    if (!wait.name.empty()) span.attr("switchyard.wait.name", wait.name);
    for (const char* key : {"by", "key", "reason"}) {
      if (const std::string v = span_text(p, key); !v.empty()) {
        span.attr(std::string("switchyard.wait.") + key, v);
      }
    }
    const bool good = decision != "rejected" && decision != "timed_out";
    const std::string reason = span_text(p, "reason");
    r.waits.erase(w);
    push(good ? span.finish(kStatusOk, "")
              : span.finish(kStatusError,
                            excerpt(decision + (reason.empty() ? "" : ": " + reason), 200)));
    return;
  }
  if (e.type == "reroute" || e.type == "backtrack" || e.type == "goal_demoted" ||
      e.type == "escalated" || e.type == "breaker" || e.type == "cancelled") {
    // An event of the run span: {"timeUnixNano", "name", "attributes"}.
    std::string event = "{\"timeUnixNano\":\"" + unix_nanos(e.time_ms) + "\",\"name\":";
    append_quoted(event, e.type);
    event += ",\"attributes\":[";
    bool first = true;
    auto add = [&](std::string_view key, std::string_view value) {
      if (!first) event += ',';
      first = false;
      event += attr_text(key, value);
    };
    for (const char* key : {"at", "failed_tool", "reason", "from", "to", "tool", "message"}) {
      if (const std::string v = span_text(p, key); !v.empty()) add(key, v);
    }
    if (const std::string route = span_joined(p, "new_route"); !route.empty()) {
      add("new_route", route);
    }
    event += "]}";
    if (!r.events.empty()) r.events += ',';
    r.events += event;
    return;
  }
  if (e.type == "run_finished" || e.type == "run_interrupted") {
    const std::string status = e.type == "run_finished" ? span_text(p, "status") : "interrupted";
    SpanText span(tools::trace_id_hex(e.run_id), tools::run_span_id_hex(e.run_id), "",
                  "run " + r.workflow, kInternal, unix_nanos(r.started_ms), unix_nanos(e.time_ms));
    span.attr("switchyard.run_id", e.run_id)
        .attr("switchyard.workflow", r.workflow)
        .attr("switchyard.status", status);
    if (e.type == "run_finished") {
      span.attr_int("switchyard.reroutes", span_integer(p, "reroutes"))
          .attr_int("switchyard.backtracks", span_integer(p, "backtracks"))
          .attr_int("switchyard.llm_calls", span_integer(p, "llm_calls"))
          .attr_int("switchyard.tokens", span_integer(p, "tokens"))
          .attr_double("switchyard.spent_usd", span_number(p, "spent_usd"));
    }
    const bool good = status == "completed" || status == "demoted";
    std::string text = span.finish(good ? kStatusOk : kStatusError, good ? "" : status, r.events);
    runs_.erase(it);
    push(std::move(text));
  }
}

void OtlpExporter::loop() {
  pthread_setname_np(pthread_self(), "sy-otlp");
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, options_.flush_interval,
                 [this] { return stopping_ || queue_.size() >= options_.max_batch; });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    std::vector<std::string> spans;
    spans.reserve(std::min(queue_.size(), options_.max_batch));
    while (!queue_.empty() && spans.size() < options_.max_batch) {
      spans.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    const bool ok = send(spans);
    lock.lock();
    (ok ? stats_.exported : stats_.failed) += spans.size();
  }
}

bool OtlpExporter::send(const std::vector<std::string>& spans) {
  std::size_t size = 256;
  for (const auto& s : spans) size += s.size() + 1;
  // The request body, its memory kept from one batch to the next (the sending thread's only).
  std::string& body = body_;
  body.clear();
  body.reserve(size);
  body += "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
  body += attr_text("service.name", options_.service_name);
  body +=
      "]},\"scopeSpans\":[{\"scope\":{\"name\":\"switchyard\",\"version\":\"0.1.0\"},\"spans\":[";
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) body += ',';
    body += spans[i];
  }
  body += "]}]}]}";
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return false;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ignore_body);
  const CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK || code < 200 || code >= 300) {
    logger().warn("otlp: {} span(s) not exported to {}: {}", spans.size(), url_,
                  rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(code));
    return false;
  }
  return true;
}

}  // namespace switchyard::runtime
