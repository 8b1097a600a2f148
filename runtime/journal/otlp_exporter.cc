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

using namespace std::string_view_literals;

// Spans are written straight to OTLP/JSON text, appended to a buffer: no JSON document is built
// per span (that cost 3x the step time in engine_bench, docs/tracing.md#the-cost). A step
// attempt's span is written by the sending thread straight into the request body; the rarer
// spans are written on the committing thread into a string of their own. int64 values are
// decimal strings, as the protobuf JSON mapping has them.

// `text`'s characters inside a JSON string literal (made valid UTF-8 first).
void otlp_append_escaped(std::string& out, std::string_view text) {
  // Plain ASCII (ids, names, kinds: nearly every value) is written as it is; anything else is
  // made valid UTF-8 and escaped.
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
  });
  if (plain) {
    out += text;
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
}

// `text` as a JSON string literal.
void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  otlp_append_escaped(out, text);
  out += '"';
}

void append_int(std::string& out, std::int64_t value) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out.append(buf, end);
}

void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) value = 0;
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out.append(buf, end);
}

// One span's JSON object, member by member, appended to `out`. Keys are the literals of this
// file (plain ASCII): written as they are.
class SpanWriter {
 public:
  // `name` is `name_prefix` followed by `name_rest` (escaped). `parent` 0: a root span.
  SpanWriter(std::string& out, std::string_view trace, std::uint64_t span, std::uint64_t parent,
             std::string_view name_prefix, std::string_view name_rest, int kind,
             std::int64_t start_nanos, std::int64_t end_nanos)
      : out_(out) {
    out_ += "{\"traceId\":\"";
    out_ += trace;
    out_ += "\",\"spanId\":\"";
    tools::append_span_id_hex(out_, span);
    if (parent != 0) {
      out_ += "\",\"parentSpanId\":\"";
      tools::append_span_id_hex(out_, parent);
    }
    out_ += "\",\"name\":\"";
    out_ += name_prefix;
    otlp_append_escaped(out_, name_rest);
    out_ += "\",\"kind\":";
    append_int(out_, kind);
    out_ += ",\"startTimeUnixNano\":\"";
    append_int(out_, start_nanos);
    out_ += "\",\"endTimeUnixNano\":\"";
    append_int(out_, end_nanos);
    out_ += "\",\"attributes\":[";
  }
  SpanWriter& attr(std::string_view key, std::string_view value) {
    open_attr(key);
    out_ += "{\"stringValue\":";
    append_quoted(out_, value);
    out_ += "}}";
    return *this;
  }
  SpanWriter& attr_int(std::string_view key, std::int64_t value) {
    open_attr(key);
    out_ += "{\"intValue\":\"";
    append_int(out_, value);
    out_ += "\"}}";
    return *this;
  }
  SpanWriter& attr_double(std::string_view key, double value) {
    open_attr(key);
    out_ += "{\"doubleValue\":";
    append_number(out_, value);
    out_ += "}}";
    return *this;
  }
  // Attribute members already written, each led by a comma.
  SpanWriter& attrs_text(std::string_view members) {
    if (members.empty()) return *this;
    out_ += first_ ? members.substr(1) : members;
    first_ = false;
    return *this;
  }
  // Ends the span: its events (a JSON array's members, "" for none) and status.
  void finish(int code, std::string_view message, std::string_view events = "") {
    out_ += ']';
    if (!events.empty()) {
      out_ += ",\"events\":[";
      out_ += events;
      out_ += ']';
    }
    out_ += ",\"status\":{\"code\":";
    append_int(out_, code);
    if (!message.empty()) {
      out_ += ",\"message\":";
      append_quoted(out_, message);
    }
    out_ += "}}";
  }

 private:
  void open_attr(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += "{\"key\":\"";
    out_ += key;
    out_ += "\",\"value\":";
  }
  std::string& out_;
  bool first_ = true;
};

// A standalone attribute list member (the resource's, a span event's).
void append_attr_text(std::string& out, std::string_view key, std::string_view value) {
  out += "{\"key\":";
  append_quoted(out, key);
  out += ",\"value\":{\"stringValue\":";
  append_quoted(out, value);
  out += "}}";
}

constexpr std::int64_t kNanosPerMs = 1000000;

// Members of a journaled payload, read leniently: absent or of another type gives the fallback.
// The lookups allocate nothing (every committed event passes here): the member is found by a
// string_view key, its type checked before it is read.
const nlohmann::json* span_member(const nlohmann::json& p, std::string_view key) {
  if (!p.is_object()) return nullptr;
  const auto& object = p.get_ref<const nlohmann::json::object_t&>();
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &it->second;
}
std::string_view span_view(const nlohmann::json& p, std::string_view key) {
  const nlohmann::json* v = span_member(p, key);
  if (v == nullptr || !v->is_string()) return {};
  return v->get_ref<const std::string&>();
}
std::string span_text(const nlohmann::json& p, std::string_view key) {
  return std::string(span_view(p, key));
}
std::int64_t span_integer(const nlohmann::json& p, std::string_view key) {
  const nlohmann::json* v = span_member(p, key);
  if (v == nullptr) return 0;
  if (v->is_number_integer() && !v->is_number_unsigned()) {
    return v->get_ref<const nlohmann::json::number_integer_t&>();
  }
  if (v->is_number_unsigned()) {
    const auto u = v->get_ref<const nlohmann::json::number_unsigned_t&>();
    return u <= static_cast<std::uint64_t>(INT64_MAX) ? static_cast<std::int64_t>(u) : 0;
  }
  return 0;
}
double span_number(const nlohmann::json& p, std::string_view key) {
  const nlohmann::json* v = span_member(p, key);
  if (v == nullptr || !v->is_number()) return 0;
  if (v->is_number_float()) return v->get_ref<const nlohmann::json::number_float_t&>();
  if (v->is_number_unsigned()) {
    return static_cast<double>(v->get_ref<const nlohmann::json::number_unsigned_t&>());
  }
  return static_cast<double>(v->get_ref<const nlohmann::json::number_integer_t&>());
}
// A boolean member: 1 true, 0 false, -1 absent or of another type.
int span_boolean(const nlohmann::json& p, std::string_view key) {
  const nlohmann::json* v = span_member(p, key);
  if (v == nullptr || !v->is_boolean()) return -1;
  return v->get_ref<const nlohmann::json::boolean_t&>() ? 1 : 0;
}
std::string span_joined(const nlohmann::json& p, std::string_view key) {
  std::string out;
  const nlohmann::json* list = span_member(p, key);
  if (list == nullptr || !list->is_array()) return out;
  for (const auto& s : list->get_ref<const nlohmann::json::array_t&>()) {
    if (!s.is_string()) continue;
    if (!out.empty()) out += " -> ";
    out += s.get_ref<const std::string&>();
  }
  return out;
}

constexpr int kInternal = 1;
constexpr int kClient = 3;
constexpr int kStatusOk = 1;
constexpr int kStatusError = 2;

std::size_t ignore_body(char*, std::size_t size, std::size_t count, void*) { return size * count; }

}  // namespace

struct OtlpExporter::Connection {
  CURL* curl = nullptr;
  curl_slist* headers = nullptr;
  ~Connection() {
    if (curl != nullptr) curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
  }
};

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

void OtlpExporter::push(PendingSpan span) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() - head_ >= options_.max_queue) {
      ++stats_.dropped;
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() - head_ < options_.max_batch) return;
  }
  cv_.notify_one();
}

void OtlpExporter::push_text(std::string span) {
  PendingSpan s;
  s.text = std::move(span);
  push(std::move(s));
}

void OtlpExporter::observe(const Event& e) {
  const nlohmann::json& p = e.payload;
  const std::string_view t = e.type;  // compared as string_views: length first, no strlen
  std::lock_guard lock(state_mu_);
  if (t == "run_started"sv || t == "resumed"sv) {
    RunState& r = runs_[e.run_id];
    if (r.started_ms == 0) r.started_ms = e.time_ms;
    if (!r.ids || t == "run_started"sv) {
      // The run's ids and names, once: every span of the run shares them.
      auto ids = std::make_shared<RunIds>();
      ids->run_id = e.run_id;
      ids->workflow = t == "run_started"sv ? span_text(p, "workflow")
                      : r.ids              ? r.ids->workflow
                                           : "";
      tools::append_trace_id_hex(ids->trace_id, e.run_id);
      ids->span_id = tools::run_span_id(e.run_id);
      r.ids = std::move(ids);
    }
    return;
  }
  auto it = runs_.find(e.run_id);
  if (it == runs_.end()) return;  // began before the exporter did
  RunState& r = it->second;
  const RunIds& ids = *r.ids;
  if (t == "step_started"sv) {
    const std::pair<int, std::int64_t> call{static_cast<int>(span_integer(p, "call")), e.time_ms};
    const std::string_view tool = span_view(p, "tool");
    if (auto c = r.calls.find(tool); c != r.calls.end()) {
      c->second = call;
    } else {
      r.calls.emplace(std::string(tool), call);
    }
    return;
  }
  if (t == "step_succeeded"sv || t == "step_retry"sv || t == "step_failed"sv) {
    // A step attempt: the few fields its span needs, written by the sending thread.
    PendingSpan s;
    s.kind = PendingSpan::Kind::kStep;
    s.run = r.ids;
    s.tool = span_text(p, "tool");
    s.node = span_text(p, "node");
    const auto found = r.calls.find(s.tool);
    s.call = found != r.calls.end() ? found->second.first : 1;
    s.attempt = span_integer(p, "attempt");
    s.latency_us = span_integer(p, "latency_us");
    s.end_us = e.time_ms * 1000;
    s.outcome = t == "step_succeeded"sv ? 0 : t == "step_retry"sv ? 1 : 2;
    if (s.outcome != 0) {
      s.failure = span_text(p, "failure");
      s.message = excerpt(s.failure + ": " + span_text(p, "reason"), 200);
    }
    if (!r.hints.empty()) {
      if (const auto h = r.hints.find(s.tool); h != r.hints.end()) s.attributes = h->second;
    }
    if (!r.progress.empty()) {
      if (const auto g = r.progress.find(s.tool); g != r.progress.end()) {
        if (g->second.first == s.call) s.events = std::move(g->second.second);
        r.progress.erase(g);
      }
    }
    push(std::move(s));
    return;
  }
  if (t == "tool_hint"sv) {
    // What an MCP tool says of itself (its annotations): attributes of its step spans.
    std::string& members = r.hints[span_text(p, "tool")];
    members.clear();
    if (const int idempotent = span_boolean(p, "idempotent"); idempotent >= 0) {
      members += ",{\"key\":\"switchyard.tool.idempotent_hint\",\"value\":{\"boolValue\":";
      members += idempotent == 1 ? "true" : "false";
      members += "}}";
    }
    if (const std::string from = span_text(p, "from"); !from.empty()) {
      members += ',';
      append_attr_text(members, "switchyard.tool.hint_from", from);
    }
    return;
  }
  if (t == "tool_progress"sv) {
    // A report of a call in flight (an MCP server's notifications/progress): an event of its
    // step attempt's span, at the time it was journaled (with the call's outcome).
    const std::string tool = span_text(p, "tool");
    const int call = static_cast<int>(span_integer(p, "call"));
    auto& [for_call, events] = r.progress[tool];
    if (for_call != call) events.clear();
    for_call = call;
    if (!events.empty()) events += ',';
    events += "{\"timeUnixNano\":\"";
    append_int(events, e.time_ms * kNanosPerMs);
    events += "\",\"name\":\"tool_progress\",\"attributes\":[";
    events += "{\"key\":\"progress\",\"value\":{\"doubleValue\":";
    append_number(events, span_number(p, "progress"));
    events += "}}";
    if (const nlohmann::json* total = span_member(p, "total"); total && total->is_number()) {
      events += ",{\"key\":\"total\",\"value\":{\"doubleValue\":";
      append_number(events, span_number(p, "total"));
      events += "}}";
    }
    if (const std::string message = span_text(p, "message"); !message.empty()) {
      events += ',';
      append_attr_text(events, "message", message);
    }
    events += "]}";
    return;
  }
  if (t == "llm_settled"sv) {
    // An LLM call (GenAI semantic conventions), the child of its step's span.
    const std::string tool = span_text(p, "tool");
    const std::string tier = span_text(p, "tier");
    const auto found = r.calls.find(tool);
    const auto call = found != r.calls.end() ? found->second : std::pair<int, std::int64_t>{1, 0};
    const bool ok = span_boolean(p, "ok") == 1;
    std::string text;
    SpanWriter span(text, ids.trace_id, tools::call_span_id(e.run_id, tool + "\x1fllm", call.first),
                    tools::call_span_id(e.run_id, tool, call.first), "chat ", tier, kClient,
                    (call.second > 0 ? call.second : e.time_ms) * kNanosPerMs,
                    e.time_ms * kNanosPerMs);
    span.attr("gen_ai.operation.name", "chat")
        .attr("gen_ai.request.model", tier)
        .attr_int("gen_ai.usage.total_tokens", span_integer(p, "tokens"))
        .attr_double("switchyard.llm.cost_usd", span_number(p, "cost_usd"))
        .attr("switchyard.tool", tool)
        .attr("switchyard.node", span_text(p, "node"))
        .attr("switchyard.purpose", span_text(p, "purpose"));
    span.finish(ok ? kStatusOk : kStatusError, "");
    push_text(std::move(text));
    return;
  }
  if (t == "wait_started"sv) {
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
  if (t == "wait_resolved"sv) {
    // A wait (an approval, a signal, a timer): a child of its step attempt's span, from the
    // wait's start to its resolution. A wait that began before this exporter did (a resumed
    // run) has no span.
    auto w = r.waits.find(span_text(p, "wait"));
    if (w == r.waits.end()) return;
    const RunState::Wait& wait = w->second;
    const std::string decision = span_text(p, "decision");
    std::string text;
    SpanWriter span(
        text, ids.trace_id, tools::call_span_id(e.run_id, wait.tool + "\x1fwait", wait.call),
        tools::call_span_id(e.run_id, wait.tool, wait.call), "wait ",
        wait.kind + (wait.name.empty() ? "" : " " + wait.name), kInternal,
        wait.started_ms * kNanosPerMs, std::max(e.time_ms, wait.started_ms) * kNanosPerMs);
    span.attr("switchyard.run_id", e.run_id)
        .attr("switchyard.workflow", ids.workflow)
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
    if (good) {
      span.finish(kStatusOk, "");
    } else {
      span.finish(kStatusError, excerpt(decision + (reason.empty() ? "" : ": " + reason), 200));
    }
    push_text(std::move(text));
    return;
  }
  if (t == "reroute"sv || t == "backtrack"sv || t == "goal_demoted"sv || t == "escalated"sv ||
      t == "breaker"sv || t == "cancelled"sv) {
    // An event of the run span: {"timeUnixNano", "name", "attributes"}.
    std::string& events = r.events;
    if (!events.empty()) events += ',';
    events += "{\"timeUnixNano\":\"";
    append_int(events, e.time_ms * kNanosPerMs);
    events += "\",\"name\":";
    append_quoted(events, e.type);
    events += ",\"attributes\":[";
    bool first = true;
    auto add = [&](std::string_view key, std::string_view value) {
      if (!first) events += ',';
      first = false;
      append_attr_text(events, key, value);
    };
    for (const char* key : {"at", "failed_tool", "reason", "from", "to", "tool", "message"}) {
      if (const std::string v = span_text(p, key); !v.empty()) add(key, v);
    }
    if (const std::string route = span_joined(p, "new_route"); !route.empty()) {
      add("new_route", route);
    }
    events += "]}";
    return;
  }
  if (t == "run_finished"sv || t == "run_interrupted"sv) {
    const std::string status = t == "run_finished"sv ? span_text(p, "status") : "interrupted";
    std::string text;
    SpanWriter span(text, ids.trace_id, ids.span_id, 0, "run ", ids.workflow, kInternal,
                    r.started_ms * kNanosPerMs, e.time_ms * kNanosPerMs);
    span.attr("switchyard.run_id", e.run_id)
        .attr("switchyard.workflow", ids.workflow)
        .attr("switchyard.status", status);
    if (t == "run_finished"sv) {
      span.attr_int("switchyard.reroutes", span_integer(p, "reroutes"))
          .attr_int("switchyard.backtracks", span_integer(p, "backtracks"))
          .attr_int("switchyard.llm_calls", span_integer(p, "llm_calls"))
          .attr_int("switchyard.tokens", span_integer(p, "tokens"))
          .attr_double("switchyard.spent_usd", span_number(p, "spent_usd"));
    }
    const bool good = status == "completed" || status == "demoted";
    span.finish(good ? kStatusOk : kStatusError, good ? "" : status, r.events);
    runs_.erase(it);
    push_text(std::move(text));
  }
}

namespace {

// A step attempt's span, written from its record (the sending thread).
template <typename Record>
void write_step_span(std::string& out, const Record& s) {
  static constexpr const char* kOutcomes[] = {"succeeded", "retry", "failed"};
  const auto& run = *s.run;
  const std::int64_t start_us = std::max<std::int64_t>(0, s.end_us - s.latency_us);
  SpanWriter span(out, run.trace_id, tools::call_span_id(run.run_id, s.tool, s.call), run.span_id,
                  "step ", s.node, kClient, start_us * 1000, s.end_us * 1000);
  span.attr("switchyard.run_id", run.run_id)
      .attr("switchyard.workflow", run.workflow)
      .attr("switchyard.node", s.node)
      .attr("switchyard.tool", s.tool)
      .attr_int("switchyard.attempt", s.attempt)
      .attr_int("switchyard.call", s.call)
      .attr("switchyard.outcome", kOutcomes[s.outcome < 3 ? s.outcome : 2])
      .attr_int("switchyard.latency_us", s.latency_us);
  if (s.outcome != 0) span.attr("switchyard.failure", s.failure);
  span.attrs_text(s.attributes);
  span.finish(s.outcome == 0 ? kStatusOk : kStatusError, s.message, s.events);
}

}  // namespace

void OtlpExporter::loop() {
  pthread_setname_np(pthread_self(), "sy-otlp");
  Connection connection;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, options_.flush_interval,
                 [this] { return stopping_ || queue_.size() - head_ >= options_.max_batch; });
    const std::size_t waiting = queue_.size() - head_;
    if (waiting == 0) {
      if (stopping_) return;
      continue;
    }
    batch_.clear();
    if (head_ == 0 && waiting <= options_.max_batch) {
      batch_.swap(queue_);  // all of it: no span is moved
    } else {
      // The oldest max_batch; the moved-from ones before head_ are dropped from the vector once
      // they are half of it (a span is moved a few times at most, on average).
      const std::size_t n = std::min(waiting, options_.max_batch);
      const auto first = queue_.begin() + static_cast<std::ptrdiff_t>(head_);
      batch_.assign(std::make_move_iterator(first),
                    std::make_move_iterator(first + static_cast<std::ptrdiff_t>(n)));
      head_ += n;
      if (head_ == queue_.size()) {
        queue_.clear();
        head_ = 0;
      } else if (head_ * 2 >= queue_.size()) {
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
    }
    lock.unlock();
    // The request body, its memory kept from one batch to the next.
    body_.clear();
    body_ += "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
    append_attr_text(body_, "service.name", options_.service_name);
    body_ +=
        "]},\"scopeSpans\":[{\"scope\":{\"name\":\"switchyard\",\"version\":\"0.1.0\"},"
        "\"spans\":[";
    for (std::size_t i = 0; i < batch_.size(); ++i) {
      if (i > 0) body_ += ',';
      const PendingSpan& s = batch_[i];
      if (s.kind == PendingSpan::Kind::kStep) {
        write_step_span(body_, s);
      } else {
        body_ += s.text;
      }
    }
    body_ += "]}]}]}";
    const std::size_t count = batch_.size();
    batch_.clear();  // frees the records' strings here, not under the lock
    const bool ok = send(connection, count);
    lock.lock();
    (ok ? stats_.exported : stats_.failed) += count;
  }
}

bool OtlpExporter::send(Connection& c, std::size_t count) {
  if (c.curl == nullptr) {
    // One handle for the exporter's life: libcurl keeps its connection open between requests
    // (HTTP keep-alive) and opens another only when the collector closed it.
    c.curl = curl_easy_init();
    if (c.curl == nullptr) return false;
    c.headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(c.curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(c.curl, CURLOPT_HTTPHEADER, c.headers);
    curl_easy_setopt(c.curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(c.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.curl, CURLOPT_WRITEFUNCTION, ignore_body);
  }
  curl_easy_setopt(c.curl, CURLOPT_POSTFIELDS, body_.c_str());
  curl_easy_setopt(c.curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body_.size()));
  const CURLcode rc = curl_easy_perform(c.curl);
  long code = 0;
  curl_easy_getinfo(c.curl, CURLINFO_RESPONSE_CODE, &code);
  if (rc != CURLE_OK || code < 200 || code >= 300) {
    logger().warn("otlp: {} span(s) not exported to {}: {}", count, url_,
                  rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(code));
    return false;
  }
  return true;
}

}  // namespace switchyard::runtime
