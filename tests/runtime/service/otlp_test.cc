// OpenTelemetry traces from `switchyard serve --otlp-endpoint` (docs/tracing.md), received by a
// real OTLP/HTTP receiver on loopback (tests/support/otlp_receiver.h): the trace tree (a run span,
// a span per step attempt under it), attributes, timing, the reroute as an event of the run span,
// the `traceparent` an http tool sends, naming its step's span, the exporter's counts in
// /metrics, and the spans of waits.

#include <gtest/gtest.h>

#include "runtime/journal/otlp_exporter.h"
#include "runtime/service/metrics.h"
#include "tests/support/otlp_receiver.h"
#include "tests/support/serve_fixture.h"
#include "tools/trace_context.h"

namespace switchyard::testing {
namespace {

// The value of attribute `key` of `span`.
std::string attribute(const nlohmann::json& span, const std::string& key) {
  return otlp_attribute(span, key);
}

std::int64_t nanos(const nlohmann::json& span, const char* key) {
  return std::stoll(span[key].get<std::string>());
}

class ServeTracing : public ServeFixture {};

TEST_F(ServeTracing, ARunArrivesAsATraceOfItsStepAttemptsWithTheRerouteAndTraceparent) {
  OtlpReceiver receiver;
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

// /metrics until `done(exposition)` holds (at most 20 s); the last exposition read.
Exposition otlp_metrics_until(const std::function<bool(const Exposition&)>& done,
                              const std::function<HttpResult()>& scrape) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    Exposition e = parse_exposition(scrape().body);
    if (done(e) || std::chrono::steady_clock::now() > until) return e;
  }
}

TEST_F(ServeTracing, MetricsCountTheSpansTheCollectorAccepted) {
  OtlpReceiver receiver;
  start({"--otlp-endpoint", receiver.url()});
  const std::string id = server_->start_run(kToken, "quick");
  ASSERT_EQ(server_->wait_run(kToken, id)["status"], "completed");
  const auto spans = receiver.wait_for([&](const std::vector<nlohmann::json>& got) {
    return std::any_of(got.begin(), got.end(), [&](const nlohmann::json& s) {
      return attribute(s, "switchyard.run_id") == id && !s.contains("parentSpanId");
    });
  });
  ASSERT_GE(spans.size(), 2u);  // the run and at least one step
  const auto e = otlp_metrics_until(
      [&](const Exposition& x) {
        return x.samples.count("switchyard_otlp_spans_exported_total") &&
               x.samples.at("switchyard_otlp_spans_exported_total") >= spans.size();
      },
      [&] { return get("/metrics"); });
  EXPECT_EQ(e.samples.at("switchyard_otlp_spans_exported_total"), spans.size());
  EXPECT_EQ(e.samples.at("switchyard_otlp_spans_dropped_total"), 0);
  EXPECT_EQ(e.samples.at("switchyard_otlp_spans_failed_total"), 0);
  EXPECT_EQ(e.types.at("switchyard_otlp_spans_dropped_total"), "counter");
}

TEST_F(ServeTracing, MetricsCountTheSpansOfRequestsTheCollectorRefused) {
  OtlpReceiver receiver({.keep = true, .status = 503});
  start({"--otlp-endpoint", receiver.url()});
  ASSERT_EQ(server_->wait_run(kToken, server_->start_run(kToken, "quick"))["status"], "completed");
  ASSERT_TRUE(receiver.wait_for_requests(1));
  const auto e = otlp_metrics_until(
      [](const Exposition& x) {
        return x.samples.count("switchyard_otlp_spans_failed_total") &&
               x.samples.at("switchyard_otlp_spans_failed_total") > 0;
      },
      [&] { return get("/metrics"); });
  EXPECT_GT(e.samples.at("switchyard_otlp_spans_failed_total"), 0);
  EXPECT_EQ(e.samples.at("switchyard_otlp_spans_exported_total"), 0);
}

TEST_F(ServeTracing, WithoutAnEndpointMetricsHaveNoOtlpCounters) {
  start();
  EXPECT_EQ(get("/metrics").body.find("switchyard_otlp_"), std::string::npos);
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
  auto exporter = runtime::OtlpExporter::start({.endpoint = "http://127.0.0.1:1",
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

TEST(OtlpExporter, AQueueOrBatchOfZeroSpansIsRefused) {
  EXPECT_FALSE(
      runtime::OtlpExporter::start({.endpoint = "http://127.0.0.1:1", .max_queue = 0}).ok());
  EXPECT_FALSE(
      runtime::OtlpExporter::start({.endpoint = "http://127.0.0.1:1", .max_batch = 0}).ok());
}

TEST(OtlpMetrics, TheExportersDroppedExportedAndFailedSpansAreCounters) {
  const runtime::OtlpStats stats{.exported = 7, .dropped = 3, .failed = 2};
  const Exposition e = parse_exposition(service::render_otlp_metrics(stats));
  EXPECT_EQ(e.samples.at("switchyard_otlp_spans_exported_total"), 7);
  EXPECT_EQ(e.samples.at("switchyard_otlp_spans_dropped_total"), 3);
  EXPECT_EQ(e.samples.at("switchyard_otlp_spans_failed_total"), 2);
  for (const char* name :
       {"switchyard_otlp_spans_exported_total", "switchyard_otlp_spans_dropped_total",
        "switchyard_otlp_spans_failed_total"}) {
    EXPECT_EQ(e.types.at(name), "counter");
    EXPECT_EQ(e.helps.count(name), 1u);
  }
}

// The events of a run with an approval wait at node Approve (call 1), resolved as `resolved`.
std::vector<runtime::Event> otlp_wait_events(const std::string& run, nlohmann::json resolved) {
  std::vector<runtime::Event> out;
  std::int64_t t = 1796122805000;
  auto add = [&](const std::string& type, nlohmann::json payload, std::int64_t at) {
    runtime::Event e;
    e.run_id = run;
    e.type = type;
    e.time_ms = at;
    e.payload = std::move(payload);
    out.push_back(std::move(e));
  };
  add("run_started", {{"workflow", "refund"}}, t);
  add("step_started",
      {{"node", "Approve"}, {"tool", "Approve"}, {"call", 1}, {"attempt", 1}, {"kind", "wait"}},
      t + 1);
  add("wait_started",
      {{"wait", "Approve#1"},
       {"kind", "approval"},
       {"name", "refund over $100"},
       {"node", "Approve"},
       {"tool", "Approve"}},
      t + 1);
  add("wait_resolved", std::move(resolved), t + 4000);
  add("run_finished", {{"status", "completed"}}, t + 4100);
  return out;
}

const nlohmann::json* otlp_span_named(const std::vector<nlohmann::json>& spans,
                                      const std::string& name) {
  for (const auto& s : spans) {
    if (s["name"] == name) return &s;
  }
  return nullptr;
}

TEST(OtlpExporter, AWaitIsASpanUnderItsStepWithItsKindNameDecisionAndBy) {
  OtlpReceiver receiver;
  {
    auto exporter = runtime::OtlpExporter::start({.endpoint = receiver.url()});
    ASSERT_TRUE(exporter.ok()) << exporter.status().message();
    for (const auto& e : otlp_wait_events(
             "r-wait", {{"wait", "Approve#1"}, {"decision", "approved"}, {"by", "ana"}})) {
      (*exporter)->observe(e);
    }
  }  // sends what is queued
  const auto spans = receiver.wait_for([](const auto& got) { return got.size() >= 2; });
  const nlohmann::json* wait = otlp_span_named(spans, "wait approval refund over $100");
  ASSERT_NE(wait, nullptr) << nlohmann::json(spans).dump();
  EXPECT_EQ(wait->at("traceId"), tools::trace_id_hex("r-wait"));
  EXPECT_EQ(wait->at("parentSpanId"), tools::call_span_id_hex("r-wait", "Approve", 1));
  EXPECT_EQ(attribute(*wait, "switchyard.wait.kind"), "approval");
  EXPECT_EQ(attribute(*wait, "switchyard.wait.name"), "refund over $100");
  EXPECT_EQ(attribute(*wait, "switchyard.wait.decision"), "approved");
  EXPECT_EQ(attribute(*wait, "switchyard.wait.by"), "ana");
  EXPECT_EQ(attribute(*wait, "switchyard.wait.id"), "Approve#1");
  EXPECT_EQ(attribute(*wait, "switchyard.node"), "Approve");
  EXPECT_EQ(wait->at("status")["code"], 1);
  // From the wait's start to its resolution.
  EXPECT_EQ(nanos(*wait, "endTimeUnixNano") - nanos(*wait, "startTimeUnixNano"),
            std::int64_t{3999} * 1000000);
}

TEST(OtlpExporter, ARejectedWaitIsAnErrorSpanSayingWhy) {
  OtlpReceiver receiver;
  {
    auto exporter = runtime::OtlpExporter::start({.endpoint = receiver.url()});
    ASSERT_TRUE(exporter.ok()) << exporter.status().message();
    for (const auto& e : otlp_wait_events("r-reject", {{"wait", "Approve#1"},
                                                       {"decision", "rejected"},
                                                       {"by", "bo"},
                                                       {"reason", "fraud"}})) {
      (*exporter)->observe(e);
    }
  }
  const auto spans = receiver.wait_for([](const auto& got) { return got.size() >= 2; });
  const nlohmann::json* wait = otlp_span_named(spans, "wait approval refund over $100");
  ASSERT_NE(wait, nullptr) << nlohmann::json(spans).dump();
  EXPECT_EQ(attribute(*wait, "switchyard.wait.decision"), "rejected");
  EXPECT_EQ(attribute(*wait, "switchyard.wait.reason"), "fraud");
  EXPECT_EQ(wait->at("status")["code"], 2);
  EXPECT_EQ(wait->at("status")["message"], "rejected: fraud");
}

TEST(OtlpExporter, SpanTextEscapesQuotesControlCharactersAndInvalidUtf8) {
  // Spans are written as JSON text by hand: values with quotes, backslashes, newlines, control
  // characters, non-ASCII and invalid UTF-8 must still arrive as valid JSON, their text intact
  // (invalid bytes replaced).
  const std::string workflow = "say \"hi\"\\ \n\t\x01 caf\xc3\xa9";
  OtlpReceiver receiver;
  {
    auto exporter = runtime::OtlpExporter::start({.endpoint = receiver.url()});
    ASSERT_TRUE(exporter.ok()) << exporter.status().message();
    (*exporter)->observe(event("run_started", {{"workflow", workflow}}));
    runtime::Event failed = event("step_failed", {{"node", "A"},
                                                  {"tool", "A"},
                                                  {"attempt", 1},
                                                  {"failure", "http_status"},
                                                  {"latency_us", 5}});
    failed.payload["reason"] = std::string("bad \xff byte");  // not valid UTF-8
    (*exporter)->observe(failed);
    (*exporter)->observe(event("run_finished", {{"status", "failed"}, {"spent_usd", 0.25}}));
  }
  const auto spans = receiver.wait_for([](const auto& got) { return got.size() >= 2; });
  ASSERT_EQ(spans.size(), 2u);  // both requests parsed as JSON
  const nlohmann::json* run = otlp_span_named(spans, "run " + workflow);
  ASSERT_NE(run, nullptr) << nlohmann::json(spans).dump();
  EXPECT_EQ(attribute(*run, "switchyard.workflow"), workflow);
  EXPECT_EQ(run->at("status")["message"], "failed");
  for (const auto& a : run->at("attributes")) {
    if (a["key"] == "switchyard.spent_usd") {
      EXPECT_EQ(a["value"]["doubleValue"], 0.25);
    }
  }
  const nlohmann::json* step = otlp_span_named(spans, "step A");
  ASSERT_NE(step, nullptr);
  const std::string message = step->at("status")["message"];
  EXPECT_EQ(message.rfind("http_status: bad ", 0), 0u) << message;
  EXPECT_NE(message.find("byte"), std::string::npos) << message;
}

TEST(OtlpExporter, SpanIdsAreTheOnesTheTraceparentOfACallNames) {
  EXPECT_EQ(tools::trace_id_hex("r-1").size(), 32u);
  EXPECT_NE(tools::trace_id_hex("r-1"), tools::trace_id_hex("r-2"));
  EXPECT_NE(tools::call_span_id_hex("r-1", "A", 1), tools::call_span_id_hex("r-1", "A", 2));
  EXPECT_NE(tools::call_span_id_hex("r-1", "A", 1), tools::run_span_id_hex("r-1"));
  EXPECT_EQ(tools::traceparent("r-1", "A", 1), "00-" + tools::trace_id_hex("r-1") + "-" +
                                                   tools::call_span_id_hex("r-1", "A", 1) + "-01");
}

TEST(OtlpExporter, SpanIdsStayTheSameFromOneReleaseToTheNext) {
  // A run resumed by a newer binary continues the same trace: the ids are a fixed function of
  // the run id, the tool and the call (the values of the first release).
  EXPECT_EQ(tools::trace_id_hex("r-1"), "89a620bf63e9f6f7a42eb68cf274e400");
  EXPECT_EQ(tools::run_span_id_hex("r-1"), "39c3cfe85c1ac5ec");
  EXPECT_EQ(tools::call_span_id_hex("r-1", "A", 1), "56af03cecabcdd89");
  EXPECT_EQ(tools::call_span_id_hex("r-1", "A", 12), "e724db6fbc3e5eb2");
  std::string appended = "x";
  tools::append_trace_id_hex(appended, "r-1");
  tools::append_span_id_hex(appended, tools::call_span_id("r-1", "A", 12));
  EXPECT_EQ(appended, "x89a620bf63e9f6f7a42eb68cf274e400e724db6fbc3e5eb2");
}

TEST(OtlpExporter, ToolProgressReportsAreEventsOfTheirAttemptsSpanAndAHintIsItsAttribute) {
  // An MCP tool's progress reports (tool_progress, journaled just before the call's outcome)
  // become span events of that call's step span, its annotations (tool_hint) attributes of the
  // tool's step spans; a later call of the tool carries none of the earlier call's reports.
  OtlpReceiver receiver;
  {
    auto exporter = runtime::OtlpExporter::start({.endpoint = receiver.url()});
    ASSERT_TRUE(exporter.ok()) << exporter.status().message();
    const std::int64_t t = 1796122805000;
    auto observe = [&](const std::string& type, nlohmann::json payload, std::int64_t at) {
      runtime::Event e;
      e.run_id = "r-progress";
      e.type = type;
      e.time_ms = at;
      e.payload = std::move(payload);
      (*exporter)->observe(e);
    };
    observe("run_started", {{"workflow", "index"}}, t);
    observe("step_started", {{"node", "Index"}, {"tool", "Index"}, {"call", 1}}, t + 1);
    observe("tool_hint", {{"tool", "Index"}, {"idempotent", true}, {"from", "mcp_annotations"}},
            t + 1);
    observe(
        "tool_progress",
        {{"tool", "Index"}, {"call", 1}, {"progress", 40}, {"total", 100}, {"message", "40 files"}},
        t + 50);
    observe("tool_progress", {{"tool", "Index"}, {"call", 1}, {"progress", 100}}, t + 50);
    observe("step_retry",
            {{"node", "Index"},
             {"tool", "Index"},
             {"attempt", 1},
             {"failure", "timeout"},
             {"latency_us", 49000}},
            t + 50);
    observe("step_started", {{"node", "Index"}, {"tool", "Index"}, {"call", 2}}, t + 60);
    observe("step_succeeded",
            {{"node", "Index"}, {"tool", "Index"}, {"attempt", 2}, {"latency_us", 9000}}, t + 70);
    observe("run_finished", {{"status", "completed"}}, t + 80);
  }
  const auto spans = receiver.wait_for([](const auto& got) { return got.size() >= 3; });
  std::map<std::string, nlohmann::json> by_call;  // the step spans, by switchyard.call
  for (const auto& s : spans) {
    if (s["name"] == "step Index") by_call[attribute(s, "switchyard.call")] = s;
  }
  ASSERT_EQ(by_call.size(), 2u) << nlohmann::json(spans).dump();
  const nlohmann::json& first = by_call["1"];
  ASSERT_TRUE(first.contains("events")) << first.dump();
  ASSERT_EQ(first["events"].size(), 2u) << first.dump();
  const nlohmann::json& report = first["events"][0];
  EXPECT_EQ(report["name"], "tool_progress");
  EXPECT_EQ(report["timeUnixNano"], std::to_string(1796122805050) + "000000");
  EXPECT_EQ(attribute(report, "message"), "40 files");
  std::map<std::string, double> numbers;
  for (const auto& a : report["attributes"]) {
    if (a["value"].contains("doubleValue")) numbers[a["key"]] = a["value"]["doubleValue"];
  }
  EXPECT_EQ(numbers["progress"], 40);
  EXPECT_EQ(numbers["total"], 100);
  // The last report: no total, no message.
  EXPECT_EQ(first["events"][1]["attributes"].size(), 1u) << first.dump();
  EXPECT_FALSE(by_call["2"].contains("events")) << by_call["2"].dump();
  for (const auto& [call, span] : by_call) {
    bool hinted = false;
    for (const auto& a : span["attributes"]) {
      if (a["key"] == "switchyard.tool.idempotent_hint") hinted = a["value"]["boolValue"] == true;
    }
    EXPECT_TRUE(hinted) << span.dump();
    EXPECT_EQ(attribute(span, "switchyard.tool.hint_from"), "mcp_annotations");
  }
}

}  // namespace
}  // namespace switchyard::testing
