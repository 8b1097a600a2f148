// The crash harness: real workflows of http tools against the fault-injection server, the
// `switchyard run` process killed with SIGKILL at seeded random points (between a step_started
// that is durable and the tool call; after a tool answered, before its answer is journaled;
// inside a journal transaction), then `switchyard resume --all`. Checked with the server's
// request log and the journal: no completed step lost, no non-idempotent request taking effect
// twice, every run in a final status, and the resumed run's journal re-verifies.
//
// SWITCHYARD_CRASH_TRIALS (default 20) sets the number of trials; SWITCHYARD_CRASH_SEED the seed.
// A second case kills a run at chosen points after a side effect succeeded: resume must know it
// ran (its outcome is committed before the run moves on).

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "tests/support/fault_server.h"
#include "tests/support/run_command.h"

namespace switchyard::testing {
namespace {

// Lookup and Ship are idempotent; Charge sends an idempotency key; Notify has neither: a Notify
// call in flight at the crash is in doubt.
constexpr const char* kCheckoutWorkflow = R"({
  "format": "switchyard.workflow/v1",
  "name": "crash-checkout",
  "start": "Start",
  "goal": "Done",
  "tools": {
    "Lookup": {"kind": "http", "method": "GET", "url": "{{input.base}}/ok/lookup", "idempotent": true},
    "Charge": {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/charge",
               "idempotency_key": "{{run.id}}-charge"},
    "Notify": {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/notify"},
    "Ship":   {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/ship", "idempotent": true}
  },
  "edges": [["Start", "Lookup", 1], ["Lookup", "Charge", 1], ["Charge", "Notify", 1],
            ["Notify", "Ship", 1], ["Ship", "Done", 1]]
})";

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : fallback;
}

long count(const nlohmann::json& stats, const char* field, const std::string& path) {
  const auto& by = stats[field];
  return by.contains(path) ? by[path].get<long>() : 0;
}

TEST(CrashHarness, KilledRunsResumeWithoutLosingStepsOrRepeatingSideEffects) {
  const int trials = env_int("SWITCHYARD_CRASH_TRIALS", 20);
  std::mt19937 rng(static_cast<unsigned>(env_int("SWITCHYARD_CRASH_SEED", 2603)));
  const char* kPoints[] = {"before_invoke", "after_call", "inside_append"};
  FaultServer server;
  TempDir dir;
  const std::string workflow = dir.write("checkout.json", kCheckoutWorkflow);
  const std::string input = nlohmann::json{{"base", server.url("")}}.dump();
  int crashed = 0, in_doubt = 0, completed = 0;
  for (int t = 0; t < trials; ++t) {
    const std::string point = kPoints[rng() % 3];
    const int nth = 1 + static_cast<int>(rng() % 4);
    SCOPED_TRACE("trial " + std::to_string(t) + ": SWITCHYARD_CRASH_AT=" + point + ":" +
                 std::to_string(nth));
    server.reset();
    const std::string journal = dir.file("t" + std::to_string(t) + ".db");
    auto run = switchyard({"run", workflow, "--journal", journal, "--input", input, "--json"}, "",
                          {"SWITCHYARD_CRASH_AT=" + point + ":" + std::to_string(nth)});
    ASSERT_TRUE(run.exit_code == 0 || run.exit_code == 128 + 9) << run.out << run.err;
    crashed += run.exit_code != 0;
    auto resume = switchyard({"resume", "--all", "--journal", journal, "--json"});
    ASSERT_TRUE(resume.exit_code == 0 || resume.exit_code == 1) << resume.out << resume.err;

    // Every run of the journal is in a final status.
    auto runs = switchyard({"runs", "--journal", journal, "--json"});
    ASSERT_EQ(runs.exit_code, 0) << runs.err;
    const auto listed = nlohmann::json::parse(runs.out)["runs"];
    ASSERT_EQ(listed.size(), 1u);
    const auto& row = listed[0];
    const std::string status = row["status"];
    ASSERT_TRUE(status == "completed" || status == "escalated") << row.dump();
    const std::string id = row["run_id"];

    // No non-idempotent request took effect twice; a completed run's effects all happened once.
    const auto stats = server.stats();
    EXPECT_LE(count(stats, "effects_by_path", "/ok/charge"), 1) << stats.dump();
    EXPECT_LE(count(stats, "effects_by_path", "/ok/notify"), 1) << stats.dump();
    if (status == "completed") {
      ++completed;
      EXPECT_EQ(count(stats, "effects_by_path", "/ok/charge"), 1) << stats.dump();
      EXPECT_EQ(count(stats, "effects_by_path", "/ok/notify"), 1) << stats.dump();
      EXPECT_GE(count(stats, "effects_by_path", "/ok/ship"), 1) << stats.dump();
    }

    // The journal agrees: each step that succeeded there happened at the server (none lost), and
    // an escalation is the in-doubt Notify, named.
    auto replay = switchyard({"replay", id, "--journal", journal, "--format", "json"});
    ASSERT_EQ(replay.exit_code, 0) << replay.err;
    const auto timeline = nlohmann::json::parse(replay.out);
    for (const auto& e : timeline["events"]) {
      if (e["type"] == "step_succeeded") {
        const std::string tool = e["payload"]["tool"];
        std::string lower = tool;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        EXPECT_GE(count(stats, "effects_by_path", "/ok/" + lower), 1) << tool;
      }
      if (e["type"] == "escalated") {
        ++in_doubt;
        EXPECT_EQ(e["payload"]["reason"], "in_doubt") << e.dump();
        EXPECT_NE(e["payload"]["message"].get<std::string>().find("Notify"), std::string::npos);
      }
    }
    // What was resumed re-verifies: chain intact and every decision re-driven.
    auto verify = switchyard({"replay", id, "--journal", journal, "--verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }
  // The seeded points do crash runs, and both outcomes of a crash are exercised.
  EXPECT_GT(crashed, trials / 3);
  EXPECT_GT(completed, 0);
  EXPECT_GT(in_doubt, 0);
  RecordProperty("crashed", crashed);
  RecordProperty("in_doubt", in_doubt);
  std::printf("crash harness: %d trial(s), %d crashed, %d completed, %d escalated in doubt\n",
              trials, crashed, completed, in_doubt);
}

// Charge has a side effect and nothing that makes it safe to repeat (no idempotency key); the
// steps after it are idempotent.
constexpr const char* kChargeThenIdempotentWorkflow = R"({
  "format": "switchyard.workflow/v1",
  "name": "crash-charge",
  "start": "Start",
  "goal": "Done",
  "tools": {
    "Charge": {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/charge"},
    "Pack":   {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/pack", "idempotent": true},
    "Ship":   {"kind": "http", "method": "POST", "url": "{{input.base}}/ok/ship", "idempotent": true}
  },
  "edges": [["Start", "Charge", 1], ["Charge", "Pack", 1], ["Pack", "Ship", 1], ["Ship", "Done", 1]]
})";

// The report of issue 19: a kill after a non-idempotent step succeeded, while the idempotent
// steps after it ran, made resume call the finished step in doubt (its outcome was still in an
// uncommitted batch). Its outcome is now committed before the run moves on, so resume knows it
// ran: the run completes, Charge is not repeated, nothing is in doubt. The kill points, each
// deterministic: right after that commit; after Pack answered; after Ship answered.
TEST(CrashHarness, AKillAfterASideEffectSucceededResumesWithoutDoubtOrRepeatingIt) {
  FaultServer server;
  TempDir dir;
  const std::string workflow = dir.write("charge.json", kChargeThenIdempotentWorkflow);
  const std::string input = nlohmann::json{{"base", server.url("")}}.dump();
  for (const std::string point : {"after_outcome_commit:1", "after_call:2", "after_call:3"}) {
    SCOPED_TRACE("SWITCHYARD_CRASH_AT=" + point);
    server.reset();
    const std::string journal = dir.file(point.substr(0, point.find(':')) + point.back() + ".db");
    auto run = switchyard({"run", workflow, "--journal", journal, "--input", input, "--json"}, "",
                          {"SWITCHYARD_CRASH_AT=" + point});
    ASSERT_EQ(run.exit_code, 128 + 9) << run.out << run.err;
    EXPECT_EQ(count(server.stats(), "effects_by_path", "/ok/charge"), 1);

    auto resume = switchyard({"resume", "--all", "--journal", journal, "--json"});
    ASSERT_EQ(resume.exit_code, 0) << resume.out << resume.err;
    auto runs = switchyard({"runs", "--journal", journal, "--json"});
    ASSERT_EQ(runs.exit_code, 0) << runs.err;
    const auto listed = nlohmann::json::parse(runs.out)["runs"];
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["status"], "completed") << listed[0].dump();
    const std::string id = listed[0]["run_id"];

    const auto stats = server.stats();
    EXPECT_EQ(count(stats, "effects_by_path", "/ok/charge"), 1) << stats.dump();
    EXPECT_GE(count(stats, "effects_by_path", "/ok/ship"), 1) << stats.dump();

    // The journal: resumed with nothing in doubt, and no escalation.
    auto replay = switchyard({"replay", id, "--journal", journal, "--format", "json"});
    ASSERT_EQ(replay.exit_code, 0) << replay.err;
    const auto timeline = nlohmann::json::parse(replay.out);
    int resumed = 0;
    for (const auto& e : timeline["events"]) {
      EXPECT_NE(e["type"], "escalated") << e.dump();
      if (e["type"] == "resumed") {
        ++resumed;
        EXPECT_EQ(e["payload"]["in_doubt"], nlohmann::json::array()) << e.dump();
      }
    }
    EXPECT_EQ(resumed, 1);
    auto verify = switchyard({"replay", id, "--journal", journal, "--verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }
}

}  // namespace
}  // namespace switchyard::testing
