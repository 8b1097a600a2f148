// What a run returns: the goal step's output and each step's last output (RunResult::output and
// outputs), bounded by the workflow's limits.max_output_bytes.

#include <gtest/gtest.h>

#include "runtime/machine/run_machine.h"
#include "tests/support/graph_builder.h"
#include "tests/support/machine_driver.h"

namespace switchyard::runtime {
namespace {

using testing::build_workflow;
using testing::customer_support_graph;
using testing::drive;
using testing::drive_calls;
using testing::load_workflow;
using testing::Script;
using testing::TestGraphSpec;
using testing::VectorSink;
using Names = std::vector<std::string>;

nlohmann::json answered_by(const std::string& id) { return {{"tool", id}}; }

TEST(RunResult, CarriesTheGoalStepsOutputAndEachStepsLastOutputByToolId) {
  auto w = build_workflow(customer_support_graph());
  VectorSink sink;
  const RunResult r = drive(*w, {}, sink);
  ASSERT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(r.output, answered_by("Complete"));
  EXPECT_EQ(r.outputs, (nlohmann::json{{"CRM", answered_by("CRM")},
                                       {"Stripe", answered_by("Stripe")},
                                       {"Email", answered_by("Email")},
                                       {"Complete", answered_by("Complete")}}));
  EXPECT_FALSE(r.output_truncated);
  EXPECT_TRUE(r.outputs_dropped.empty());
  // run --json (and run_finished) carry them.
  const nlohmann::json j = r.to_json();
  EXPECT_EQ(j["output"], r.output);
  EXPECT_EQ(j["outputs"], r.outputs);
  EXPECT_EQ(j["output_truncated"], false);
  EXPECT_EQ(j["outputs_truncated"], false);
  EXPECT_EQ(j["outputs_dropped"], nlohmann::json::array());
  // The machine's run_finished payload is built by the driver from to_json(): same document.
}

TEST(RunResult, AJunctionGoalReturnsTheLastStepsOutput) {
  TestGraphSpec spec;
  spec.goal = "Done";
  spec.junctions = {"Start", "Done"};
  spec.edges = {{"Start", "A", 1}, {"A", "B", 1}, {"B", "Done", 0}};
  auto w = build_workflow(spec);
  VectorSink sink;
  const RunResult r = drive(*w, {}, sink);
  ASSERT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(r.output, answered_by("B"));
  EXPECT_EQ(r.outputs.size(), 2u);
}

TEST(RunResult, AnEscalatedRunHasNoOutputButKeepsTheOutputsOfItsStepsThatStand) {
  // Start -> A -> B -> C -> Goal with C down and no other way: A and B stand (not compensated).
  TestGraphSpec spec;
  spec.edges = {{"Start", "A", 0.1}, {"A", "B", 0.1}, {"B", "C", 0.1}, {"C", "Goal", 0.1}};
  auto w = build_workflow(spec);
  VectorSink sink;
  Script script;
  script.down = {"C"};
  const RunResult r = drive(*w, script, sink);
  ASSERT_EQ(r.status, RunStatus::kEscalated);
  EXPECT_TRUE(r.output.is_null());
  EXPECT_FALSE(r.output_truncated);  // nothing was left out: there is no output
  EXPECT_EQ(r.outputs, (nlohmann::json{{"A", answered_by("A")}, {"B", answered_by("B")}}));
}

TEST(RunResult, StepsAbandonedByABacktrackAreNotInOutputs) {
  // C fails; the run backtracks to Start (compensating B and A) and goes Start -> D -> Goal.
  TestGraphSpec spec;
  spec.edges = {{"Start", "A", 0.1}, {"A", "B", 0.1},     {"B", "C", 0.1},
                {"C", "Goal", 0.1},  {"Start", "D", 5.0}, {"D", "Goal", 0.1}};
  spec.extra_tools = {"UndoA", "UndoB"};
  spec.compensate = {{"A", "UndoA"}, {"B", "UndoB"}};
  auto w = build_workflow(spec);
  VectorSink sink;
  Script script;
  script.down = {"C"};
  const RunResult r = drive(*w, script, sink);
  ASSERT_EQ(r.status, RunStatus::kCompleted);
  ASSERT_EQ(r.backtracks, 1);
  EXPECT_EQ(r.output, answered_by("Goal"));
  EXPECT_EQ(r.outputs, (nlohmann::json{{"D", answered_by("D")}, {"Goal", answered_by("Goal")}}));
}

TEST(RunResult, AFanoutsOutputIsItsBranchesOutputsUnderItsNodeIdBesideTheirSteps) {
  auto w = load_workflow(R"({"format": "switchyard.workflow/v1", "name": "fan",
    "start": "Start", "goal": "Done",
    "tools": {"Text": {"kind": "mock"}, "Image": {"kind": "mock"}},
    "nodes": {"Fan": {"fanout": {"join": "all", "branches": [
      {"start": "T0", "goal": "T9", "edges": [["T0", "Text", 1], ["Text", "T9", 0]]},
      {"start": "I0", "goal": "I9", "edges": [["I0", "Image", 1], ["Image", "I9", 0]]}]}}},
    "edges": [["Start", "Fan", 1], ["Fan", "Done", 0]]})");
  ASSERT_NE(w, nullptr);
  VectorSink sink;
  RunMachine machine(*w, nlohmann::json::object(), graph::FixedHealth(w->tools().size()), sink);
  drive_calls(*w, machine, [&](const Action& a) {
    return tools::Outcome::success(answered_by(w->tool(a.tool).id));
  });
  const RunResult& r = machine.result();
  ASSERT_EQ(r.status, RunStatus::kCompleted);
  const nlohmann::json fan = {{"0", answered_by("Text")}, {"1", answered_by("Image")}};
  EXPECT_EQ(r.output, fan);  // the last step before the junction goal: the fan-out
  EXPECT_EQ(r.outputs,
            (nlohmann::json{
                {"Fan", fan}, {"Text", answered_by("Text")}, {"Image", answered_by("Image")}}));
}

// Start -> A -> B -> C (the goal), each answering a string of the given length, under a
// workflow-wide limits.max_output_bytes of `bound`.
RunResult chain_with_outputs(std::size_t bound, std::size_t a, std::size_t b, std::size_t c) {
  auto w = load_workflow(R"({"format": "switchyard.workflow/v1", "name": "sized",
    "start": "Start", "goal": "C", "limits": {"max_output_bytes": )" +
                         std::to_string(bound) + R"(},
    "tools": {"A": {"kind": "mock"}, "B": {"kind": "mock"}, "C": {"kind": "mock"}},
    "edges": [["Start", "A", 1], ["A", "B", 1], ["B", "C", 1]]})");
  EXPECT_NE(w, nullptr);
  if (w == nullptr) return {};
  const std::map<std::string, std::size_t> length = {{"A", a}, {"B", b}, {"C", c}};
  VectorSink sink;
  RunMachine machine(*w, nlohmann::json::object(), graph::FixedHealth(w->tools().size()), sink);
  drive_calls(*w, machine, [&](const Action& act) {
    return tools::Outcome::success(std::string(length.at(w->tool(act.tool).id), 'x'));
  });
  EXPECT_EQ(machine.result().status, RunStatus::kCompleted);
  return machine.result();
}

TEST(RunResult, OutputsOverMaxOutputBytesLoseTheirLargestEntriesFirstAndSaySo) {
  // Compact JSON of each output: A 62 bytes, B 32, C 12 (the quotes count). The bound is 100:
  // the output (C) is kept first, leaving 88 for outputs (106 in all): A goes, B and C fit.
  const RunResult r = chain_with_outputs(100, 60, 30, 10);
  EXPECT_EQ(r.output, std::string(10, 'x'));
  EXPECT_FALSE(r.output_truncated);
  EXPECT_EQ(r.outputs_dropped, Names{"A"});
  EXPECT_EQ(r.outputs, (nlohmann::json{{"B", std::string(30, 'x')}, {"C", std::string(10, 'x')}}));
  const nlohmann::json j = r.to_json();
  EXPECT_EQ(j["outputs_truncated"], true);
  EXPECT_EQ(j["outputs_dropped"], nlohmann::json{"A"});
  EXPECT_LE(r.output.dump().size() + r.outputs["B"].dump().size() + r.outputs["C"].dump().size(),
            100u);

  // The output and the outputs exactly at the bound (12 + 62 + 12 + 12 = 98): nothing is left
  // out; one byte less and the largest goes.
  const RunResult fits = chain_with_outputs(98, 60, 10, 10);
  EXPECT_TRUE(fits.outputs_dropped.empty());
  EXPECT_EQ(fits.outputs.size(), 3u);
  EXPECT_EQ(chain_with_outputs(97, 60, 10, 10).outputs_dropped, Names{"A"});
}

TEST(RunResult, AGoalOutputOverTheBoundIsNullAndSaidSoWhileSmallerOutputsStay) {
  // C's output (152 bytes) alone is over the bound of 100: the output is null, and C's entry is
  // the one dropped from outputs; A (62) and B (32) fit.
  const RunResult r = chain_with_outputs(100, 60, 30, 150);
  EXPECT_TRUE(r.output.is_null());
  EXPECT_TRUE(r.output_truncated);
  EXPECT_EQ(r.outputs_dropped, Names{"C"});
  EXPECT_EQ(r.outputs, (nlohmann::json{{"A", std::string(60, 'x')}, {"B", std::string(30, 'x')}}));
  EXPECT_EQ(r.to_json()["output_truncated"], true);
}

}  // namespace
}  // namespace switchyard::runtime
