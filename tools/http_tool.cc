#include "tools/http_tool.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "graph/json_read.h"
#include "graph/template.h"
#include "tools/http_client.h"
#include "tools/output.h"
#include "tools/trace_context.h"

namespace switchyard::tools {
namespace {

constexpr std::chrono::milliseconds kDefaultHttpTimeout{30000};
constexpr std::size_t kReasonBodyChars = 200;  // of an unexpected answer, kept in the reason

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

class HttpToolAdapter final : public Tool {
 public:
  HttpToolAdapter(std::string id, graph::HttpTool spec, std::chrono::milliseconds timeout,
                  graph::OutputLimits limits)
      : id_(std::move(id)),
        spec_(std::move(spec)),
        timeout_(timeout.count() > 0 ? timeout : kDefaultHttpTimeout),
        limits_(limits),
        url_(*graph::parse_template(spec_.url)) {
    for (const auto& [name, value] : spec_.headers) {
      headers_.emplace_back(name, *graph::parse_template(value));
    }
    if (!spec_.idempotency_key.empty()) key_ = *graph::parse_template(spec_.idempotency_key);
    if (spec_.body && spec_.body->is_string()) {
      text_body_ = *graph::parse_template(spec_.body->get<std::string>());
    } else if (spec_.body) {
      body_ = *graph::parse_json_template(*spec_.body);  // validated by the loader
    }
  }

  void invoke(const Invocation& call, Done done) override {
    auto request = build(*call.context);
    if (request.ok() && key_) {
      // The key's own roots: the run (run.id) beside input and steps.
      nlohmann::json context = *call.context;
      context["run"] = {{"id", call.run_id}};
      auto key = graph::render_template(*key_, context);
      if (key.ok()) {
        request->headers.emplace_back("Idempotency-Key", std::move(*key));
      } else {
        request = key.status();
      }
    }
    if (request.ok() && traceparent_enabled() && call.workflow != nullptr) {
      // The step's span is the parent of what the service does (docs/tracing.md).
      request->headers.emplace_back(
          "traceparent",
          traceparent(call.run_id, call.workflow->tool(call.tool).id, call.call_number));
    }
    if (!request.ok()) {
      return done(Outcome::failed(FailureKind::kTemplate, id_ + ": " + request.status().message()));
    }
    HttpAnswerSpec answer{id_, spec_.method, redact_url(request->url), spec_.expect_status,
                          limits_};
    // The answer may come after this adapter is gone (an aborted call outliving its run): it
    // holds what it needs by value.
    http_perform(std::move(*request), call.cancel,
                 [answer = std::move(answer), done = std::move(done)](HttpResponse response) {
                   done(parse_http_response(answer, std::move(response)));
                 });
  }

 private:
  Result<HttpRequest> build(const nlohmann::json& context) const {
    HttpRequest r;
    r.method = spec_.method;
    r.timeout = timeout_;
    r.max_body_bytes = limits_.max_output_bytes;
    auto url = graph::render_template(url_, context);
    if (!url.ok()) return url.status();
    r.url = std::move(*url);
    for (const auto& [name, t] : headers_) {
      auto value = graph::render_template(t, context);
      if (!value.ok()) return value.status();
      r.headers.emplace_back(name, std::move(*value));
    }
    if (text_body_) {
      auto body = graph::render_template(*text_body_, context);
      if (!body.ok()) return body.status();
      r.body = std::move(*body);
    } else if (spec_.body) {
      auto body = graph::render_json_template(body_, context);
      if (!body.ok()) return body.status();
      r.body = body->dump();
    } else if (r.method != "GET") {
      r.body = nlohmann::json{{"input", context.value("input", nlohmann::json())},
                              {"steps", context.value("steps", nlohmann::json::object())}}
                   .dump();
    }
    return r;
  }

  std::string id_;
  graph::HttpTool spec_;
  std::chrono::milliseconds timeout_;
  graph::OutputLimits limits_;
  graph::Template url_;
  std::optional<graph::Template> key_;  // the Idempotency-Key header's template
  std::vector<std::pair<std::string, graph::Template>> headers_;
  std::optional<graph::Template> text_body_;
  graph::JsonTemplate body_;
};

bool expected_status(const std::vector<int>& expect, int status) {
  if (expect.empty()) return status >= 200 && status < 300;
  return std::find(expect.begin(), expect.end(), status) != expect.end();
}

}  // namespace

Outcome parse_http_response(const HttpAnswerSpec& spec, HttpResponse r) {
  const std::string where = spec.id + ": " + spec.method + " " + valid_utf8(spec.shown_url);
  Outcome o;
  if (r.failure != FailureKind::kNone) {
    o = Outcome::failed(r.failure, where + ": " + excerpt(r.error, kReasonBodyChars));
  } else if (!expected_status(spec.expect_status, r.status)) {
    // An error page (HTML, say) is quoted by its start, on one line, as valid UTF-8.
    const std::string snippet = excerpt(r.body, kReasonBodyChars);
    o = Outcome::failed(
        r.status == 429 ? FailureKind::kRateLimited : FailureKind::kHttpStatus,
        where + ": HTTP " + std::to_string(r.status) + (snippet.empty() ? "" : ": " + snippet));
  } else if (r.truncated) {
    o = Outcome::failed(FailureKind::kBadOutput,
                        where + ": HTTP " + std::to_string(r.status) + ": " +
                            over_output_limit("response body", spec.limits.max_output_bytes));
  } else if (r.status == 204 || r.body.empty()) {
    o = Outcome::success(nullptr);
  } else {
    auto output = parse_output(r.body, spec.limits, "body");
    if (!output.ok()) {
      o = Outcome::failed(FailureKind::kBadOutput,
                          where + ": HTTP " + std::to_string(r.status) + ": " +
                              excerpt(output.status().message(), 2 * kReasonBodyChars));
    } else {
      o = Outcome::success(std::move(output).value());
    }
  }
  keep_response_meta(o, r);
  return o;
}

void keep_response_meta(Outcome& o, HttpResponse& r) {
  o.http_status = r.status;
  o.latency = r.latency;
  for (auto& [name, value] : r.headers) {
    if (lower(name) == "retry-after") set_retry_after(o, value);
    // Header values come from outside: kept as valid UTF-8 (they are journaled).
    name = valid_utf8(name);
    value = valid_utf8(value);
  }
  o.headers = redact_headers(std::move(r.headers));
}

bool is_secret_header(std::string_view name) {
  const std::string n = lower(name);
  if (n == "authorization" || n == "proxy-authorization" || n == "cookie" || n == "set-cookie") {
    return true;
  }
  for (const char* word : {"token", "key", "secret", "password", "auth"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::pair<std::string, std::string>> redact_headers(
    std::vector<std::pair<std::string, std::string>> headers) {
  for (auto& [name, value] : headers) {
    if (is_secret_header(name)) value = "[redacted]";
  }
  return headers;
}

std::string redact_url(std::string_view url) {
  const auto query = url.find('?');
  if (query == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, query + 1));
  std::string_view rest = url.substr(query + 1);
  std::string_view fragment;
  if (auto hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash);
    rest = rest.substr(0, hash);
  }
  bool first = true;
  while (true) {
    const auto amp = rest.find('&');
    std::string_view param = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const auto eq = param.find('=');
    if (eq != std::string_view::npos && is_secret_header(param.substr(0, eq))) {
      out += std::string(param.substr(0, eq + 1)) + "[redacted]";
    } else {
      out += param;
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  out += fragment;
  return out;
}

namespace {

// A Retry-After value: a delay (delta-seconds) or a moment (an HTTP date, Unix seconds).
struct RetryAfter {
  std::optional<std::int64_t> delay_s;
  std::optional<std::int64_t> at_unix_s;
};

RetryAfter parse_retry_value(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return {};
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (value.size() > 9) return {};  // more than 30 years: nonsense
    return {std::stoll(std::string(value)), std::nullopt};
  }
  const time_t when = curl_getdate(std::string(value).c_str(), nullptr);
  // A date past 2100 is nonsense too, and one past 2262 cannot even be a system_clock time
  // point (nanoseconds since 1970 in 64 bits): refused before it is converted.
  constexpr time_t kLatestDate = 4102444800;  // 2100-01-01T00:00:00Z
  if (when < 0 || when > kLatestDate) return {};
  return {std::nullopt, static_cast<std::int64_t>(when)};
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t now_unix_s) {
  const RetryAfter r = parse_retry_value(value);
  if (r.delay_s) return std::chrono::seconds(*r.delay_s);
  if (r.at_unix_s)
    return std::chrono::seconds(std::max<std::int64_t>(0, *r.at_unix_s - now_unix_s));
  return std::nullopt;
}

void set_retry_after(Outcome& outcome, std::string_view value) {
  const RetryAfter r = parse_retry_value(value);
  if (r.delay_s) outcome.retry_after = std::chrono::seconds(*r.delay_s);
  if (r.at_unix_s) {
    outcome.retry_at = std::chrono::system_clock::time_point(std::chrono::seconds(*r.at_unix_s));
  }
}

std::unique_ptr<Tool> make_http_tool(std::string id, graph::HttpTool spec,
                                     std::chrono::milliseconds timeout,
                                     graph::OutputLimits limits) {
  return std::make_unique<HttpToolAdapter>(std::move(id), std::move(spec), timeout, limits);
}

}  // namespace switchyard::tools

namespace switchyard::tools {

void probe_url(const std::string& url, std::chrono::milliseconds timeout,
               std::function<void(bool ok, std::string reason)> done) {
  HttpRequest r;
  r.method = "GET";
  r.url = url;
  r.timeout = timeout;
  http_perform(std::move(r), nullptr,
               [done = std::move(done), shown = redact_url(url)](HttpResponse response) {
                 if (response.failure != FailureKind::kNone) {
                   return done(false, "GET " + shown + ": " + response.error);
                 }
                 const bool ok = response.status >= 200 && response.status < 300;
                 done(ok, "GET " + shown + ": HTTP " + std::to_string(response.status));
               });
}

}  // namespace switchyard::tools
