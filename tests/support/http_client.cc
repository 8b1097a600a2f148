#include "tests/support/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

namespace switchyard::testing {
namespace {

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t append_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t append_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    (*headers)[name] = value;
  }
  return size * n;
}

struct Sse {
  std::string pending;
  SseEvent current;
  std::vector<SseEvent> events;
  const std::function<bool(const SseEvent&)>* until = nullptr;
  bool stop = false;
};

// Parses complete lines; a blank line ends an event. Returning 0 aborts the transfer.
size_t on_sse(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sse*>(user);
  s->pending.append(data, size * n);
  std::size_t nl;
  while ((nl = s->pending.find('\n')) != std::string::npos) {
    std::string line = s->pending.substr(0, nl);
    s->pending.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (!s->current.event.empty() || !s->current.data.empty()) {
        s->current.received = std::chrono::steady_clock::now();
        s->events.push_back(s->current);
        if (*s->until && (*s->until)(s->current)) s->stop = true;
      }
      s->current = {};
      continue;
    }
    if (line[0] == ':') continue;  // a comment (heartbeat)
    const auto colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field == "id") s->current.id = value;
    if (field == "event") s->current.event = value;
    if (field == "data") s->current.data += value;
  }
  return s->stop ? 0 : size * n;
}

curl_slist* header_list(const std::vector<std::string>& headers) {
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  return list;
}

}  // namespace

nlohmann::json HttpResult::json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string HttpResult::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string bearer(const std::string& token) { return "Authorization: Bearer " + token; }

HttpResult http_call(const HttpCall& call) {
  init_once();
  HttpResult out;
  CURL* curl = curl_easy_init();
  curl_slist* headers = header_list(call.headers);
  curl_easy_setopt(curl, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (!call.body.empty() || call.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  } else {
    out.error = curl_easy_strerror(rc);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return out;
}

std::vector<SseEvent> read_sse(const std::string& url, const std::vector<std::string>& headers,
                               long* status, std::chrono::milliseconds timeout,
                               const std::function<bool(const SseEvent&)>& until) {
  init_once();
  Sse s;
  s.until = &until;
  CURL* curl = curl_easy_init();
  curl_slist* list = header_list(headers);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_sse);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return s.events;
}

}  // namespace switchyard::testing
