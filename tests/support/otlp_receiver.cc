#include "tests/support/otlp_receiver.h"

#include <pthread.h>
#include <sys/socket.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>

namespace switchyard::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

OtlpReceiver::OtlpReceiver(Options options)
    : options_(options), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
  thread_ = std::thread([this] { accept_loop(); });
}

OtlpReceiver::~OtlpReceiver() {
  // A blocking accept() is not woken by closing the acceptor from another thread: connect to it.
  stopping_ = true;
  beast::error_code ec;
  asio::ip::tcp::socket wake(io_);
  wake.connect(acceptor_.local_endpoint(), ec);
  thread_.join();
  // Then end every connection: a thread blocked reading its socket returns once it is shut down.
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mu_);
    for (const auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
    connections.swap(connections_);
  }
  for (auto& t : connections) t.join();
}

void OtlpReceiver::accept_loop() {
  pthread_setname_np(pthread_self(), "otlp-receiver");
  for (;;) {
    auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
    beast::error_code ec;
    acceptor_.accept(*socket, ec);
    if (ec || stopping_) return;
    std::lock_guard lock(mu_);
    sockets_.push_back(socket);
    connections_.emplace_back([this, socket] {
      pthread_setname_np(pthread_self(), "otlp-receiver");
      serve(*socket);
    });
  }
}

void OtlpReceiver::serve(asio::ip::tcp::socket& socket) {
  beast::flat_buffer buffer;
  // The connection ends (the client sees it closed) when this returns; its descriptor is freed at
  // destruction.
  struct Ender {
    asio::ip::tcp::socket& s;
    ~Ender() { ::shutdown(s.native_handle(), SHUT_RDWR); }
  } ender{socket};
  for (;;) {
    beast::error_code ec;
    http::request_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    http::read(socket, buffer, parser, ec);
    if (ec) return;  // closed, or shut down at destruction
    const auto& req = parser.get();
    take(req);
    http::response<http::string_body> res{static_cast<http::status>(options_.status),
                                          req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = "{}";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::write(socket, res, ec);
    answered(req.target() == "/v1/traces");
    if (ec || !res.keep_alive()) return;
  }
}

std::string OtlpReceiver::url() const {
  return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
}

std::vector<nlohmann::json> OtlpReceiver::wait_for(
    const std::function<bool(const std::vector<nlohmann::json>&)>& done) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(20), [&] { return done(spans_); });
  return spans_;
}

bool OtlpReceiver::wait_for_requests(std::uint64_t n) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return trace_requests_ >= n; });
}

std::vector<std::string> OtlpReceiver::traceparents() {
  std::lock_guard lock(mu_);
  return traceparents_;
}

std::vector<std::string> OtlpReceiver::content_types() {
  std::lock_guard lock(mu_);
  return content_types_;
}

std::vector<std::string> OtlpReceiver::service_names() {
  std::lock_guard lock(mu_);
  return service_names_;
}

std::uint64_t OtlpReceiver::trace_requests() {
  std::lock_guard lock(mu_);
  return trace_requests_;
}

std::uint64_t OtlpReceiver::bytes() {
  std::lock_guard lock(mu_);
  return bytes_;
}

void OtlpReceiver::take(const http::request<http::string_body>& req) {
  std::lock_guard lock(mu_);
  if (req.target() == "/v1/traces") {
    bytes_ += req.body().size();
    if (!options_.keep) return;
    content_types_.push_back(std::string(req[http::field::content_type]));
    const auto doc = nlohmann::json::parse(req.body(), nullptr, false);
    if (!doc.is_object() || !doc.contains("resourceSpans")) return;
    for (const auto& rs : doc["resourceSpans"]) {
      if (rs.contains("resource")) {
        service_names_.push_back(otlp_attribute(rs["resource"], "service.name"));
      }
      if (!rs.contains("scopeSpans")) continue;
      for (const auto& ss : rs["scopeSpans"]) {
        if (!ss.contains("spans")) continue;
        for (const auto& span : ss["spans"]) spans_.push_back(span);
      }
    }
  } else if (options_.keep) {
    traceparents_.push_back(std::string(req["traceparent"]));
  }
}

void OtlpReceiver::answered(bool trace_request) {
  {
    // Counted once answered: a test that waits for n requests sees the exporter's tally of them
    // right after (it counts as curl returns).
    std::lock_guard lock(mu_);
    if (trace_request) ++trace_requests_;
  }
  cv_.notify_all();
}

std::string otlp_attribute(const nlohmann::json& span, const std::string& key) {
  if (!span.contains("attributes")) return "";
  for (const auto& a : span["attributes"]) {
    if (a.value("key", "") != key) continue;
    const auto& v = a["value"];
    if (v.contains("stringValue")) return v["stringValue"];
    if (v.contains("intValue")) return v["intValue"];
    return v.dump();
  }
  return "";
}

}  // namespace switchyard::testing
