#include "runtime/service/otlp_exporter.h"

#include <curl/curl.h>

#include "graph/json_read.h"
#include "runtime/service/log.h"
#include "tools/trace_context.h"

namespace switchyard::service {
namespace {

// OTLP/JSON attribute values (int64 as decimal strings, as the protobuf JSON mapping has them).
nlohmann::json attr(const std::string& key, const std::string& value) {
  return {{"key", key}, {"value", {{"stringValue", valid_utf8(value)}}}};
}
nlohmann::json attr_int(const std::string& key, std::int64_t value) {
  return {{"key", key}, {"value", {{"intValue", std::to_string(value)}}}};
}
nlohmann::json attr_double(const std::string& key, double value) {
  return {{"key", key}, {"value", {{"doubleValue", value}}}};
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

void OtlpExporter::push(nlohmann::json span) {
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

void OtlpExporter::observe(const runtime::Event& e) {
  const nlohmann::json& p = e.payload;
  const std::string trace = tools::trace_id_hex(e.run_id);
  const std::string run_span = tools::run_span_id_hex(e.run_id);
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
    const auto call = r.calls.count(tool) ? r.calls[tool] : std::pair<int, std::int64_t>{1, 0};
    const std::int64_t latency_us = span_integer(p, "latency_us");
    const std::int64_t end_us = e.time_ms * 1000;
    const std::string outcome = e.type == "step_succeeded" ? "succeeded"
                                : e.type == "step_retry"   ? "retry"
                                                           : "failed";
    nlohmann::json attributes = nlohmann::json::array(
        {attr("switchyard.run_id", e.run_id), attr("switchyard.workflow", r.workflow),
         attr("switchyard.node", span_text(p, "node")), attr("switchyard.tool", tool),
         attr_int("switchyard.attempt", span_integer(p, "attempt")),
         attr_int("switchyard.call", call.first), attr("switchyard.outcome", outcome),
         attr_int("switchyard.latency_us", latency_us)});
    nlohmann::json span = {
        {"traceId", trace},
        {"spanId", tools::call_span_id_hex(e.run_id, tool, call.first)},
        {"parentSpanId", run_span},
        {"name", "step " + valid_utf8(span_text(p, "node"))},
        {"kind", kClient},
        {"startTimeUnixNano", nanos_us(std::max<std::int64_t>(0, end_us - latency_us))},
        {"endTimeUnixNano", nanos_us(end_us)},
        {"status", {{"code", kStatusOk}}}};
    if (outcome != "succeeded") {
      attributes.push_back(attr("switchyard.failure", span_text(p, "failure")));
      span["status"] = {
          {"code", kStatusError},
          {"message", excerpt(span_text(p, "failure") + ": " + span_text(p, "reason"), 200)}};
    }
    span["attributes"] = std::move(attributes);
    push(std::move(span));
    return;
  }
  if (e.type == "llm_settled") {
    // An LLM call (GenAI semantic conventions), the child of its step's span.
    const std::string tool = span_text(p, "tool");
    const auto call = r.calls.count(tool) ? r.calls[tool] : std::pair<int, std::int64_t>{1, 0};
    const bool ok =
        p.is_object() && p.contains("ok") && p["ok"].is_boolean() && p["ok"].get<bool>();
    nlohmann::json span = {
        {"traceId", trace},
        {"spanId", tools::call_span_id_hex(e.run_id, tool + "\x1fllm", call.first)},
        {"parentSpanId", tools::call_span_id_hex(e.run_id, tool, call.first)},
        {"name", "chat " + valid_utf8(span_text(p, "tier"))},
        {"kind", kClient},
        {"startTimeUnixNano", unix_nanos(call.second > 0 ? call.second : e.time_ms)},
        {"endTimeUnixNano", unix_nanos(e.time_ms)},
        {"status", {{"code", ok ? kStatusOk : kStatusError}}},
        {"attributes",
         {attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", span_text(p, "tier")),
          attr_int("gen_ai.usage.total_tokens", span_integer(p, "tokens")),
          attr_double("switchyard.llm.cost_usd", span_number(p, "cost_usd")),
          attr("switchyard.tool", tool), attr("switchyard.node", span_text(p, "node")),
          attr("switchyard.purpose", span_text(p, "purpose"))}}};
    push(std::move(span));
    return;
  }
  if (e.type == "reroute" || e.type == "backtrack" || e.type == "goal_demoted" ||
      e.type == "escalated" || e.type == "breaker" || e.type == "cancelled") {
    nlohmann::json attributes = nlohmann::json::array();
    for (const char* key : {"at", "failed_tool", "reason", "from", "to", "tool", "message"}) {
      if (const std::string v = span_text(p, key); !v.empty()) attributes.push_back(attr(key, v));
    }
    if (const std::string route = span_joined(p, "new_route"); !route.empty()) {
      attributes.push_back(attr("new_route", route));
    }
    r.events.push_back(
        {{"timeUnixNano", unix_nanos(e.time_ms)}, {"name", e.type}, {"attributes", attributes}});
    return;
  }
  if (e.type == "run_finished" || e.type == "run_interrupted") {
    const std::string status = e.type == "run_finished" ? span_text(p, "status") : "interrupted";
    nlohmann::json attributes = nlohmann::json::array({attr("switchyard.run_id", e.run_id),
                                                       attr("switchyard.workflow", r.workflow),
                                                       attr("switchyard.status", status)});
    if (e.type == "run_finished") {
      attributes.push_back(attr_int("switchyard.reroutes", span_integer(p, "reroutes")));
      attributes.push_back(attr_int("switchyard.backtracks", span_integer(p, "backtracks")));
      attributes.push_back(attr_int("switchyard.llm_calls", span_integer(p, "llm_calls")));
      attributes.push_back(attr_int("switchyard.tokens", span_integer(p, "tokens")));
      attributes.push_back(attr_double("switchyard.spent_usd", span_number(p, "spent_usd")));
    }
    const bool good = status == "completed" || status == "demoted";
    nlohmann::json span = {{"traceId", trace},
                           {"spanId", run_span},
                           {"name", "run " + valid_utf8(r.workflow)},
                           {"kind", kInternal},
                           {"startTimeUnixNano", unix_nanos(r.started_ms)},
                           {"endTimeUnixNano", unix_nanos(e.time_ms)},
                           {"attributes", std::move(attributes)},
                           {"events", std::move(r.events)},
                           {"status", {{"code", good ? kStatusOk : kStatusError}}}};
    if (!good) span["status"]["message"] = status;
    runs_.erase(it);
    push(std::move(span));
  }
}

void OtlpExporter::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, options_.flush_interval,
                 [this] { return stopping_ || queue_.size() >= options_.max_batch; });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    nlohmann::json spans = nlohmann::json::array();
    while (!queue_.empty() && spans.size() < options_.max_batch) {
      spans.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    const std::size_t n = spans.size();
    const bool ok = send(spans);
    lock.lock();
    (ok ? stats_.exported : stats_.failed) += n;
  }
}

bool OtlpExporter::send(const nlohmann::json& spans) {
  const nlohmann::json doc = {
      {"resourceSpans",
       {{{"resource", {{"attributes", {attr("service.name", options_.service_name)}}}},
         {"scopeSpans",
          {{{"scope", {{"name", "switchyard"}, {"version", "0.1.0"}}}, {"spans", spans}}}}}}}};
  const std::string body = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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

}  // namespace switchyard::service
