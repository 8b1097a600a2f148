#pragma once
// OtlpReceiver: a real OTLP/HTTP receiver on loopback (127.0.0.1, a free port) for the tracing
// tests and benchmarks. It serves any number of connections at once, each on a thread of its own
// (every thread of it is named otlp-receiver), keeps a connection open between requests when the
// client asks for it (HTTP/1.1 keep-alive, as a collector does), answers every request with
// `status` and keeps what it was sent: the spans POSTed to /v1/traces (JSON encoding) and the
// `traceparent` header of any other request (an http tool's). Discarding, it parses nothing and
// only counts requests and bytes (the benchmark's collector that accepts and discards).
//
// Thread-safety: every method may be called from any thread.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace switchyard::testing {

class OtlpReceiver {
 public:
  struct Options {
    bool keep = true;  // false: discard what arrives (count it only)
    int status = 200;  // the HTTP status of every answer
  };
  OtlpReceiver() : OtlpReceiver(Options{}) {}
  explicit OtlpReceiver(Options options);
  ~OtlpReceiver();
  OtlpReceiver(const OtlpReceiver&) = delete;
  OtlpReceiver& operator=(const OtlpReceiver&) = delete;

  // "http://127.0.0.1:PORT": the base URL an exporter is given.
  std::string url() const;
  // Waits (up to 20 s) until `done(spans)` holds; returns the spans received so far.
  std::vector<nlohmann::json> wait_for(
      const std::function<bool(const std::vector<nlohmann::json>&)>& done);
  // Waits (up to 20 s) until `n` requests to /v1/traces have been answered; whether they were.
  bool wait_for_requests(std::uint64_t n);
  std::vector<std::string> traceparents();
  std::vector<std::string> content_types();
  // The resource's service.name of each resourceSpans received.
  std::vector<std::string> service_names();
  std::uint64_t trace_requests();
  std::uint64_t bytes();

 private:
  void accept_loop();
  void serve(boost::asio::ip::tcp::socket& socket);  // one connection, until it is closed
  // Takes one request (under mu_); counts it as answered once its answer is written.
  void take(const boost::beast::http::request<boost::beast::http::string_body>& req);
  void answered(bool trace_request);

  Options options_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<nlohmann::json> spans_;
  std::vector<std::string> traceparents_;
  std::vector<std::string> content_types_;
  std::vector<std::string> service_names_;
  std::uint64_t trace_requests_ = 0;
  std::uint64_t bytes_ = 0;
  // The connections (under mu_): their sockets, closed at destruction to end their threads.
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> connections_;
  std::thread thread_;  // last: started once the rest is made
};

// The value of attribute `key` of an OTLP/JSON span (a string, or an int64 as its decimal
// string, or the JSON of another value); "" when absent.
std::string otlp_attribute(const nlohmann::json& span, const std::string& key);

}  // namespace switchyard::testing
