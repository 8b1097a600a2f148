// OpenTelemetry traces from the embedding API (RuntimeOptions::otlp_endpoint, docs/tracing.md),
// received by a real OTLP/HTTP receiver on loopback (tests/support/otlp_receiver.h): a run with
// an approval wait arrives as one trace, the wait a span under its step; a full queue drops and
// counts spans (Runtime::trace_stats); an endpoint that is not http(s) is refused at open.

#include <thread>

#include "tests/runtime/api/api_test_support.h"
#include "tests/support/otlp_receiver.h"

namespace switchyard::api_test {
namespace {

using testing::otlp_attribute;
using testing::OtlpReceiver;

api::Workflow traced_refund_workflow() {
  auto w = api::Workflow::from_json(R"({"format": "switchyard.workflow/v1", "name": "refund",
    "start": "Start", "goal": "Done",
    "tools": {"Approve": {"kind": "wait", "approval": "refund over $100"},
              "Refund": {"kind": "builtin", "name": "echo", "idempotent": true},
              "Done": {"kind": "builtin", "name": "echo", "idempotent": true}},
    "edges": [["Start", "Approve", 1], ["Approve", "Refund", 1], ["Refund", "Done", 1]]})");
  EXPECT_TRUE(w.ok()) << w.status().message();
  return *w;
}

const json* traced_span(const std::vector<json>& spans, const std::string& name) {
  for (const auto& s : spans) {
    if (s["name"] == name) return &s;
  }
  return nullptr;
}

TEST(ApiTracing, ARunIsExportedAsOneTraceWithItsApprovalWaitUnderItsStep) {
  OtlpReceiver receiver;
  auto rt = open_runtime({.otlp_endpoint = receiver.url(), .otlp_service_name = "billing"});
  ASSERT_TRUE(rt);
  ASSERT_TRUE(add_echo(*rt).ok());
  auto f = rt->submit(traced_refund_workflow(), {.run_id = "traced-1"});
  const auto until = std::chrono::steady_clock::now() + kWait;
  while (rt->waits().empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(rt->approve("traced-1", "Approve#1", {.by = "ana"}).ok());
  auto r = await(f);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, api::RunStatus::kCompleted);
  rt.reset();  // sends what is queued

  const auto spans = receiver.wait_for([](const std::vector<json>& got) {
    return std::any_of(got.begin(), got.end(),
                       [](const json& s) { return s["name"] == "run refund"; });
  });
  const json* run = traced_span(spans, "run refund");
  const json* step = traced_span(spans, "step Approve");
  const json* wait = traced_span(spans, "wait approval refund over $100");
  ASSERT_TRUE(run && step && wait) << json(spans).dump();
  EXPECT_EQ(otlp_attribute(*run, "switchyard.run_id"), "traced-1");
  EXPECT_EQ(otlp_attribute(*run, "switchyard.status"), "completed");
  for (const json* s : {step, wait}) EXPECT_EQ(s->at("traceId"), run->at("traceId"));
  EXPECT_EQ(step->at("parentSpanId"), run->at("spanId"));
  EXPECT_EQ(wait->at("parentSpanId"), step->at("spanId"));
  EXPECT_EQ(otlp_attribute(*wait, "switchyard.wait.decision"), "approved");
  EXPECT_EQ(otlp_attribute(*wait, "switchyard.wait.by"), "ana");
  EXPECT_EQ(otlp_attribute(*wait, "switchyard.wait.kind"), "approval");
  for (const auto& name : receiver.service_names()) EXPECT_EQ(name, "billing");
  // Run, Approve, Refund, Done, and the wait.
  EXPECT_EQ(spans.size(), 5u) << json(spans).dump();
}

TEST(ApiTracing, AFullQueueDropsSpansAndTraceStatsCountsThem) {
  OtlpReceiver receiver;
  // Room for one span, and no batch is sent before the Runtime closes.
  auto rt = open_runtime({.otlp_endpoint = receiver.url(),
                          .otlp_max_queue = 1,
                          .otlp_flush_interval = std::chrono::hours(1)});
  ASSERT_TRUE(rt);
  ASSERT_TRUE(add_echo(*rt).ok());
  auto r = rt->run(chain({"echo", "echo", "echo"}), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  rt->wait_idle();
  // Three steps and the run: the first queued, the rest dropped.
  const api::TraceStats stats = rt->trace_stats();
  EXPECT_EQ(stats.dropped, 3u);
  EXPECT_EQ(stats.exported, 0u);
  EXPECT_EQ(stats.failed, 0u);
  rt.reset();
  EXPECT_TRUE(receiver.wait_for_requests(1));
  EXPECT_EQ(receiver.wait_for([](const std::vector<json>& got) { return !got.empty(); }).size(),
            1u);
}

TEST(ApiTracing, WithoutAnEndpointNothingIsCounted) {
  auto rt = open_runtime();
  ASSERT_TRUE(rt);
  const api::TraceStats stats = rt->trace_stats();
  EXPECT_EQ(stats.exported + stats.dropped + stats.failed, 0u);
}

TEST(ApiTracing, AnEndpointThatIsNotHttpIsRefusedAtOpen) {
  auto rt = api::Runtime::open({.otlp_endpoint = "ftp://collector"});
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.status().code(), api::StatusCode::kInvalidArgument);
  EXPECT_NE(rt.status().message().find("http"), std::string::npos) << rt.status().message();
}

}  // namespace
}  // namespace switchyard::api_test
