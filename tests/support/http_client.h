#pragma once
// A small real HTTP client for tests (libcurl easy; curl types stay in http_client.cc): one
// request per call, and a reader of Server-Sent Event streams.

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace switchyard::testing {

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::string body;                  // sent when not empty (or when method is POST)
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds timeout{10000};
};

struct HttpResult {
  long status = 0;  // 0: no answer (see error)
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error;                           // curl's, when the call failed
  // The body parsed (null when it is not JSON).
  nlohmann::json json() const;
  std::string header(const std::string& name) const;
};

HttpResult http_call(const HttpCall& call);

// "Authorization: Bearer <token>".
std::string bearer(const std::string& token);

struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
  std::chrono::steady_clock::time_point received;  // when the client had it
};

// GETs an event stream and collects its events until the server ends it, `until` returns true
// for an event, or `timeout` passes. `status` gets the HTTP status.
std::vector<SseEvent> read_sse(const std::string& url, const std::vector<std::string>& headers,
                               long* status, std::chrono::milliseconds timeout,
                               const std::function<bool(const SseEvent&)>& until = nullptr);

}  // namespace switchyard::testing
