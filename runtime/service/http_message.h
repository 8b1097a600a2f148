#pragma once
// The service's view of an HTTP exchange, free of Boost.Beast (runtime/service/http_server.cc
// converts): what a handler is given and what it answers.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace switchyard::service {

struct HttpRequest {
  std::string method;                        // "GET", "POST", ...
  std::string target;                        // as sent: path and query
  std::string path;                          // the target before '?', not decoded
  std::map<std::string, std::string> query;  // decoded; the last value of a repeated key
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string peer;  // "127.0.0.1:53012"

  // The value of header `name` (lower-case), or "" when absent.
  const std::string& header(const std::string& name) const;
};

class EventStream;  // runtime/service/event_stream.h

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is this stream (text/event-stream), sent as it comes until it ends; the
  // connection is closed after it.
  std::shared_ptr<EventStream> stream;
};

// Decodes %XX and '+' of a query component.
std::string url_decode(const std::string& text);

// `text` as one path segment: every byte but the unreserved ones (letters, digits, "-._~") as
// %XX. For URLs built from names a client chose (`Location: /v1/workflows/<name>`).
std::string url_encode(const std::string& text);

}  // namespace switchyard::service
