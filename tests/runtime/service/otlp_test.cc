// OpenTelemetry traces from `switchyard serve --otlp-endpoint` (docs/tracing.md), received by a
// real OTLP/HTTP receiver on loopback in this test: the trace tree (a run span, a span per step
// attempt under it), attributes, timing, the reroute as an event of the run span, and the
// `traceparent` an http tool sends, naming its step's span.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime/service/otlp_exporter.h"
#include "tests/support/serve_fixture.h"
#include "tools/trace_context.h"

namespace switchyard::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// A loopback HTTP server that keeps what it is sent: the spans POSTed to /v1/traces, and the
// traceparent header of any other request (the http tool's).
class Receiver {
 public:
  Receiver() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~Receiver() {
    // A blocking accept() is not woken by closing the acceptor from another thread: connect to it.
    stopping_ = true;
    beast::error_code ec;
    asio::ip::tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  // Waits (up to 20 s) until `done(spans)` holds; returns the spans received.
  std::vector<nlohmann::json> wait_for(
      const std::function<bool(const std::vector<nlohmann::json>&)>& done) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return done(spans_); });
    return spans_;
  }
  std::vector<std::string> traceparents() {
    std::lock_guard lock(mu_);
    return traceparents_;
  }
  std::vector<std::string> content_types() {
    std::lock_guard lock(mu_);
    return content_types_;
  }

 private:
  void serve() {
    for (;;) {
      beast::error_code ec;
      asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      beast::flat_buffer buffer;
      for (;;) {
        http::request<http::string_body> req;
        http::read(socket, buffer, req, ec);
        if (ec) break;
        record(req);
        http::response<http::string_body> res{http::status::ok, req.version()};
        res.set(http::field::content_type, "application/json");
        res.body() = "{}";
        // One request per connection: this receiver serves one connection at a time, and a
        // client's idle kept-alive connection would hold it.
        res.keep_alive(false);
        res.prepare_payload();
        http::write(socket, res, ec);
        break;
      }
    }
  }
  void record(const http::request<http::string_body>& req) {
    std::lock_guard lock(mu_);
    if (req.target() == "/v1/traces") {
      content_types_.push_back(std::string(req[http::field::content_type]));
      const auto doc = nlohmann::json::parse(req.body(), nullptr, false);
      if (doc.is_object()) {
        for (const auto& rs : doc["resourceSpans"]) {
          for (const auto& ss : rs["scopeSpans"]) {
            for (const auto& span : ss["spans"]) spans_.push_back(span);
          }
        }
      }
    } else {
      traceparents_.push_back(std::string(req["traceparent"]));
    }
    cv_.notify_all();
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<nlohmann::json> spans_;
  std::vector<std::string> traceparents_;
  std::vector<std::string> content_types_;
};

std::string attribute(const nlohmann::json& span, const std::string& key) {
  for (const auto& a : span["attributes"]) {
    if (a["key"] != key) continue;
    const auto& v = a["value"];
    if (v.contains("stringValue")) return v["stringValue"];
    if (v.contains("intValue")) return v["intValue"];
    return v.dump();
  }
  return "";
}

std::int64_t nanos(const nlohmann::json& span, const char* key) {
  return std::stoll(span[key].get<std::string>());
}

class ServeTracing : public ServeFixture {};

TEST_F(ServeTracing, ARunArrivesAsATraceOfItsStepAttemptsWithTheRerouteAndTraceparent) {
  Receiver receiver;
  start({"--otlp-endpoint", receiver.url()});
  // Flaky is the cheaper way and always fails: the run reroutes through Fetch, an http tool that
  // calls the receiver (so its traceparent is seen).
  const nlohmann::json workflow = {{"format", "switchyard.workflow/v1"},
                                   {"name", "traced"},
                                   {"start", "Start"},
                                   {"goal", "Done"},
                                   {"tools",
                                    {{"Flaky", {{"kind", "mock"}, {"fail", "always"}}},
                                     {"Fetch",
                                      {{"kind", "http"},
                                       {"method", "GET"},
                                       {"url", receiver.url() + "/echo"},
                                       {"timeout_ms", 30000},
                                       {"idempotent", true}}},
                                     {"Done", {{"kind", "mock"}, {"output", {{"done", true}}}}}}},
                                   {"edges",
                                    {{"Start", "Flaky", 0.1},
                                     {"Start", "Fetch", 0.5},
                                     {"Flaky", "Done", 0.1},
                                     {"Fetch", "Done", 0.1}}}};
  ASSERT_EQ(post("/v1/workflows", workflow.dump()).status, 201);
  const std::string id = server_->start_run(kToken, "traced");
  const auto run = server_->wait_run(kToken, id);
  ASSERT_EQ(run["status"], "completed") << run.dump();

  auto is_run_span = [&](const nlohmann::json& s) {
    return attribute(s, "switchyard.run_id") == id && !s.contains("parentSpanId");
  };
  const auto spans = receiver.wait_for([&](const std::vector<nlohmann::json>& got) {
    return std::any_of(got.begin(), got.end(), is_run_span);
  });
  std::vector<nlohmann::json> mine;
  for (const auto& s : spans) {
    if (attribute(s, "switchyard.run_id") == id) mine.push_back(s);
  }
  const auto root = std::find_if(mine.begin(), mine.end(), is_run_span);
  ASSERT_NE(root, mine.end()) << nlohmann::json(spans).dump();
  EXPECT_EQ(root->at("name"), "run traced");
  EXPECT_EQ(attribute(*root, "switchyard.status"), "completed");
  EXPECT_EQ(attribute(*root, "switchyard.reroutes"), "1");
  ASSERT_EQ(root->at("traceId").get<std::string>().size(), 32u);
  ASSERT_EQ(root->at("spanId").get<std::string>().size(), 16u);
  // The reroute is an event of the run span, naming the failed tool.
  bool rerouted = false;
  for (const auto& e : root->at("events")) {
    if (e["name"] == "reroute") {
      rerouted = true;
      EXPECT_NE(e.dump().find("Flaky"), std::string::npos) << e.dump();
    }
  }
  EXPECT_TRUE(rerouted) << root->dump();

  // A span per step attempt, children of the run span, in its trace and within its time.
  std::map<std::string, nlohmann::json> steps;  // by node
  for (const auto& s : mine) {
    if (!s.contains("parentSpanId")) continue;
    EXPECT_EQ(s["traceId"], root->at("traceId"));
    EXPECT_EQ(s["parentSpanId"], root->at("spanId"));
    EXPECT_LE(nanos(*root, "startTimeUnixNano"), nanos(s, "startTimeUnixNano"));
    EXPECT_LE(nanos(s, "startTimeUnixNano"), nanos(s, "endTimeUnixNano"));
    EXPECT_LE(nanos(s, "endTimeUnixNano"), nanos(*root, "endTimeUnixNano"));
    steps[attribute(s, "switchyard.node")] = s;
  }
  ASSERT_EQ(steps.size(), 3u) << nlohmann::json(mine).dump();  // Flaky, Fetch, Done
  EXPECT_EQ(steps["Flaky"]["name"], "step Flaky");
  EXPECT_EQ(attribute(steps["Flaky"], "switchyard.outcome"), "failed");
  EXPECT_EQ(attribute(steps["Flaky"], "switchyard.failure"), "injected");
  EXPECT_EQ(steps["Flaky"]["status"]["code"], 2);
  EXPECT_EQ(attribute(steps["Fetch"], "switchyard.outcome"), "succeeded");
  EXPECT_EQ(attribute(steps["Fetch"], "switchyard.tool"), "Fetch");
  EXPECT_EQ(steps["Fetch"]["status"]["code"], 1);

  // The http tool's request carried the trace and its step's span as the parent.
  const auto sent = receiver.traceparents();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], "00-" + root->at("traceId").get<std::string>() + "-" +
                         steps["Fetch"]["spanId"].get<std::string>() + "-01");
  for (const auto& type : receiver.content_types()) EXPECT_EQ(type, "application/json");
}

TEST_F(ServeTracing, AnUnreachableCollectorNeitherFailsNorSlowsRuns) {
  // Port 1 on loopback: refused at once. Runs complete; the spans are counted as not accepted.
  start({"--otlp-endpoint", "http://127.0.0.1:1"});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(server_->wait_run(kToken, server_->start_run(kToken, "quick"))["status"],
              "completed");
  }
  expect_serving();
}

TEST_F(ServeTracing, AnEndpointThatIsNotHttpIsRefusedAtStart) {
  TempDir dir;
  const auto r = run_command({SWITCHYARD_BINARY, "serve", "--journal", dir.file("j.db"),
                              "--no-auth", "--port", "0", "--otlp-endpoint", "ftp://x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--otlp-endpoint"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace switchyard::testing

namespace switchyard::testing {
namespace {

runtime::Event event(const std::string& type, nlohmann::json payload) {
  runtime::Event e;
  e.run_id = "r-drop";
  e.type = type;
  e.time_ms = 1796122805862;
  e.payload = std::move(payload);
  return e;
}

TEST(OtlpExporter, AFullQueueDropsAndCountsSpansInsteadOfWaiting) {
  // Room for two spans; the sending thread waits an hour before its first batch, so nothing is
  // taken off the queue while the events come.
  auto exporter = service::OtlpExporter::start({.endpoint = "http://127.0.0.1:1",
                                                .max_queue = 2,
                                                .max_batch = 100,
                                                .flush_interval = std::chrono::hours(1),
                                                .timeout = std::chrono::seconds(5)});
  ASSERT_TRUE(exporter.ok()) << exporter.status().message();
  (*exporter)->observe(event("run_started", {{"workflow", "w"}}));
  for (int call = 1; call <= 5; ++call) {
    (*exporter)->observe(event("step_started", {{"node", "A"}, {"tool", "A"}, {"call", call}}));
    (*exporter)->observe(event("step_failed", {{"node", "A"},
                                               {"tool", "A"},
                                               {"attempt", call},
                                               {"failure", "timeout"},
                                               {"latency_us", 5}}));
  }
  const auto stats = (*exporter)->stats();
  EXPECT_EQ(stats.dropped, 3u);
  EXPECT_EQ(stats.exported, 0u);
}

TEST(OtlpExporter, SpanIdsAreTheOnesTheTraceparentOfACallNames) {
  EXPECT_EQ(tools::trace_id_hex("r-1").size(), 32u);
  EXPECT_NE(tools::trace_id_hex("r-1"), tools::trace_id_hex("r-2"));
  EXPECT_NE(tools::call_span_id_hex("r-1", "A", 1), tools::call_span_id_hex("r-1", "A", 2));
  EXPECT_NE(tools::call_span_id_hex("r-1", "A", 1), tools::run_span_id_hex("r-1"));
  EXPECT_EQ(tools::traceparent("r-1", "A", 1), "00-" + tools::trace_id_hex("r-1") + "-" +
                                                   tools::call_span_id_hex("r-1", "A", 1) + "-01");
}

}  // namespace
}  // namespace switchyard::testing
