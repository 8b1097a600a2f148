// `switchyard run --otlp-endpoint` and `resume --otlp-endpoint` (docs/tracing.md): the run arrives
// as a trace at a real OTLP/HTTP receiver on loopback (tests/support/otlp_receiver.h) before the
// command exits; a resumed run continues the same trace; an endpoint that is not http(s) is
// refused before the journal is touched.

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/otlp_receiver.h"
#include "tests/support/run_command.h"

namespace switchyard::testing {
namespace {

constexpr const char* kTracedCliWorkflow = R"({
  "format": "switchyard.workflow/v1", "name": "cli-traced", "start": "Start", "goal": "Done",
  "tools": {"Fetch": {"kind": "mock", "output": {"ok": true}, "idempotent": true},
            "Pack":  {"kind": "mock", "output": {"ok": true}, "idempotent": true},
            "Done":  {"kind": "mock", "output": {"done": true}, "idempotent": true}},
  "edges": [["Start", "Fetch", 1], ["Fetch", "Pack", 1], ["Pack", "Done", 1]]})";

std::vector<nlohmann::json> cli_spans_named(const std::vector<nlohmann::json>& spans,
                                            const std::string& prefix) {
  std::vector<nlohmann::json> out;
  for (const auto& s : spans) {
    if (s["name"].get<std::string>().rfind(prefix, 0) == 0) out.push_back(s);
  }
  return out;
}

TEST(TracingCli, RunExportsItsTraceBeforeItExits) {
  OtlpReceiver receiver;
  TempDir dir;
  const std::string wf = dir.write("wf.json", kTracedCliWorkflow);
  auto r = switchyard(
      {"run", wf, "--journal", dir.file("j.db"), "--otlp-endpoint", receiver.url(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string id = parse_json(r.out)["run_id"];
  // Sent when the process ended: already here.
  const auto spans = receiver.wait_for([](const auto& got) { return got.size() >= 4; });
  const auto runs = cli_spans_named(spans, "run ");
  ASSERT_EQ(runs.size(), 1u) << nlohmann::json(spans).dump();
  EXPECT_EQ(runs[0]["name"], "run cli-traced");
  EXPECT_EQ(otlp_attribute(runs[0], "switchyard.run_id"), id);
  EXPECT_EQ(otlp_attribute(runs[0], "switchyard.status"), "completed");
  const auto steps = cli_spans_named(spans, "step ");
  ASSERT_EQ(steps.size(), 3u) << nlohmann::json(spans).dump();
  for (const auto& s : steps) {
    EXPECT_EQ(s["traceId"], runs[0]["traceId"]);
    EXPECT_EQ(s["parentSpanId"], runs[0]["spanId"]);
  }
}

TEST(TracingCli, AResumedRunContinuesTheSameTrace) {
  OtlpReceiver receiver;
  TempDir dir;
  const std::string wf = dir.write("wf.json", kTracedCliWorkflow);
  const std::string journal = dir.file("j.db");
  // Killed after its second call answered: Fetch is journaled, Pack is not.
  auto crashed = switchyard({"run", wf, "--journal", journal, "--otlp-endpoint", receiver.url()},
                            "", {"SWITCHYARD_CRASH_AT=after_call:2"});
  ASSERT_EQ(crashed.exit_code, 128 + 9) << crashed.out << crashed.err;
  auto resumed = switchyard(
      {"resume", "--all", "--journal", journal, "--otlp-endpoint", receiver.url(), "--json"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  const auto spans =
      receiver.wait_for([](const auto& got) { return !cli_spans_named(got, "run ").empty(); });
  const auto runs = cli_spans_named(spans, "run ");
  ASSERT_EQ(runs.size(), 1u) << nlohmann::json(spans).dump();
  EXPECT_EQ(otlp_attribute(runs[0], "switchyard.status"), "completed");
  // The resumed process's steps are in the run's trace, under its span.
  const auto steps = cli_spans_named(spans, "step ");
  ASSERT_FALSE(steps.empty());
  for (const auto& s : steps) {
    EXPECT_EQ(s["traceId"], runs[0]["traceId"]);
    EXPECT_EQ(s["parentSpanId"], runs[0]["spanId"]);
  }
  bool done = false;
  for (const auto& s : steps) done = done || s["name"] == "step Done";
  EXPECT_TRUE(done) << nlohmann::json(steps).dump();
}

TEST(TracingCli, AnEndpointThatIsNotHttpIsRefusedBeforeTheJournalIsTouched) {
  TempDir dir;
  const std::string wf = dir.write("wf.json", kTracedCliWorkflow);
  auto r = switchyard({"run", wf, "--journal", dir.file("j.db"), "--otlp-endpoint", "ftp://x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--otlp-endpoint"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("j.db")));
}

}  // namespace
}  // namespace switchyard::testing
