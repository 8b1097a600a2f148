#pragma once
// HttpServer: HTTP/1.1 on Boost.Beast (confined to http_server.cc), a few threads, asynchronous;
// every request goes to one handler. It enforces what no handler should have to: the deadline for
// reading a request (slow clients), the size of headers and body (413), malformed HTTP (400), and
// Server-Sent Event streams (HttpResponse::stream). A bad request never stops the server.
//
// Thread-safety: the handler is called from the server's threads, several at once.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "graph/status.h"
#include "runtime/service/http_message.h"

namespace switchyard::service {

struct HttpServerOptions {
  std::string host = "127.0.0.1";         // the address to listen on
  int port = 0;                           // 0: a free one (see HttpServer::port())
  int threads = 2;                        // I/O threads
  std::int64_t max_body_bytes = 1 << 20;  // larger bodies are refused with 413
  // Reading one request, headers and body together, must end within this (from the connection's
  // start for its first request, from the first byte of a later one); then the connection is
  // closed. Writing a response has the same deadline.
  std::chrono::milliseconds read_timeout{10000};
  // A kept-alive connection that sends no byte of its next request for this long is closed.
  std::chrono::milliseconds idle_timeout{30000};
  // An SSE stream with nothing to say sends a comment this often (keeps proxies from closing).
  std::chrono::milliseconds heartbeat{15000};
};

// What parse_request() made of some bytes.
struct ParsedRequest {
  enum class Outcome {
    kRequest,     // `request` is a whole request
    kRejected,    // the server would answer `rejection` (400, 413, 431) and close
    kIncomplete,  // the bytes end before the request does
  };
  Outcome outcome = Outcome::kIncomplete;
  HttpRequest request;
  HttpResponse rejection;
};

// Parses the first HTTP/1.1 request of `bytes` as a connection of the server parses it (the same
// header and body limits, the same conversion to HttpRequest, the same 400/413/431 answers), but
// without a socket: for tests and the fuzzer (tests/fuzz/http_request_fuzz.cc). Bytes after the
// request are ignored. Never throws.
ParsedRequest parse_request(std::string_view bytes, const HttpServerOptions& options,
                            const std::string& peer = "in-process");

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Binds and listens, then serves on its threads until stop(). Errors: kInvalidArgument (a host
  // that is not an IP address), kUnavailable (cannot bind: port in use, permission).
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options,
                                                   Handler handler);
  // Stops (as stop()).
  ~HttpServer();

  int port() const;
  const std::string& host() const;
  // No new connection is accepted; open ones go on.
  void stop_accepting();
  // Closes every connection (event streams too) and joins the threads. Idempotent.
  void stop();

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::service
