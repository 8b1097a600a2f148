// SIGTERM or SIGINT with runs in flight: runs that finish within --grace finish; the others are
// journaled run_interrupted and left `running` for `switchyard resume`, every event so far
// journaled; the process exits 0.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "tests/support/fault_server.h"
#include "tests/support/http_client.h"
#include "tests/support/run_command.h"
#include "tests/support/serve_process.h"
#include "tests/support/service_workflows.h"

namespace switchyard::testing {
namespace {

// Not kToken: in a unity build this file shares a translation unit with the tests that use
// tests/support/serve_fixture.h's kToken, which this name would hide from the files after it.
constexpr const char* kShutdownToken = "shutdown-token";

class ServeShutdown : public ::testing::Test {
 protected:
  // Serves workflow "slow" (a GET of the fault server's /slow/<ms>) with --grace `grace`.
  void start(int slow_ms, const std::string& grace) {
    serve(http_workflow("slow", faults_.url("/slow/" + std::to_string(slow_ms))), grace);
  }
  // Serves the workflow document `workflow` with --grace `grace` and `flags`.
  void serve(const std::string& workflow, const std::string& grace,
             std::vector<std::string> flags = {}) {
    const std::string wf = dir_.write("workflow.json", workflow);
    flags.insert(flags.end(), {"--workflow", wf, "--grace", grace});
    server_ = std::make_unique<ServeProcess>(
        journal(), flags,
        std::vector<std::string>{std::string("SWITCHYARD_TOKENS=") + kShutdownToken});
    ASSERT_FALSE(server_->url().empty());
  }
  std::string journal() const { return dir_.file("journal.db"); }
  // Starts `n` runs and returns once each one's call to the fault server is in flight (an
  // idempotent call is not made durable first: the fault server is what knows).
  std::vector<std::string> start_in_flight(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back(server_->start_run(kShutdownToken, "slow"));
    faults_.wait_for_requests(n);
    return ids;
  }
  nlohmann::json run_row(const std::string& id) {
    auto r = switchyard({"runs", "--journal", journal(), "--json", "--limit", "100"});
    const auto doc = nlohmann::json::parse(r.out, nullptr, false);
    if (doc.is_object()) {
      for (const auto& row : doc["runs"]) {
        if (row["run_id"] == id) return row;
      }
    }
    ADD_FAILURE() << "no run " << id << ": " << r.out << r.err;
    return nullptr;
  }
  nlohmann::json replay(const std::string& id) {
    auto r = switchyard({"replay", id, "--journal", journal(), "--json"});
    return nlohmann::json::parse(r.out);
  }
  // `replay ID --verify --json`: its exit code and document.
  std::pair<int, nlohmann::json> verify(const std::string& id) {
    auto r = switchyard({"replay", id, "--journal", journal(), "--verify", "--json"});
    return {r.exit_code, nlohmann::json::parse(r.out, nullptr, false)};
  }
  // The run's events end with the in-flight step's step_started, then run_interrupted naming it
  // (the server's --grace `grace_ms`); seqs are dense. Returns run_interrupted's seq.
  std::int64_t expect_interrupted(const std::string& id, const std::string& tool,
                                  std::int64_t grace_ms) {
    EXPECT_EQ(run_row(id)["status"], "running") << id;
    const auto events = replay(id)["events"];
    EXPECT_GE(events.size(), 2u) << events.dump();
    if (events.size() < 2) return 0;
    for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["seq"], i + 1);
    const auto& last = events.back();
    EXPECT_EQ(last["type"], "run_interrupted") << events.dump();
    EXPECT_EQ(last["payload"]["reason"], "shutdown");
    EXPECT_EQ(last["payload"]["grace_ms"], grace_ms);
    EXPECT_EQ(last["payload"]["in_flight"],
              nlohmann::json::parse(R"([{"tool": ")" + tool + R"("}])"));
    const auto& before = events[events.size() - 2];
    EXPECT_EQ(before["type"], "step_started") << events.dump();
    EXPECT_EQ(before["payload"]["tool"], tool);
    EXPECT_EQ(std::count_if(events.begin(), events.end(),
                            [](const auto& e) { return e["type"] == "cancelled"; }),
              0);
    return last["seq"].get<std::int64_t>();
  }

  TempDir dir_;
  FaultServer faults_;
  std::unique_ptr<ServeProcess> server_;
};

TEST_F(ServeShutdown, DrainingIsNotReadyRefusesRunsAndLetsRunsFinish) {
  start(1500, "30s");
  const std::string id = start_in_flight(1).front();
  server_->process().signal(SIGTERM);
  // /readyz turns 503 at once and stays so while the run drains; new runs are refused.
  HttpResult ready;
  for (int i = 0; i < 100 && ready.status != 503; ++i) ready = server_->call("GET", "/readyz", "");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(server_->call("POST", "/v1/runs", kShutdownToken, R"({"workflow": "slow"})").status,
            503);
  EXPECT_EQ(server_->process().wait(std::chrono::seconds(30)), 0);
  EXPECT_EQ(run_row(id)["status"], "completed");
}

TEST_F(ServeShutdown, RunsPastTheGraceAreInterruptedAndResumeFinishesThem) {
  start(1500, "200ms");
  const std::vector<std::string> ids = start_in_flight(3);
  server_->process().signal(SIGTERM);
  EXPECT_EQ(server_->process().wait(std::chrono::seconds(30)), 0);
  for (const auto& id : ids) {
    // Every event up to the interruption is journaled: the call in flight, then run_interrupted
    // where the cancellation would have been.
    expect_interrupted(id, "Fetch", 200);
  }
  auto resumed = switchyard({"resume", "--all", "--journal", journal(), "--json"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  for (const auto& id : ids) {
    EXPECT_EQ(run_row(id)["status"], "completed") << id;
    auto verify = switchyard({"replay", id, "--journal", journal(), "--verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out;
  }
}

TEST_F(ServeShutdown, SigintDrainsLikeSigterm) {
  start(1500, "30s");
  const std::string id = start_in_flight(1).front();
  server_->process().signal(SIGINT);
  HttpResult ready;
  for (int i = 0; i < 100 && ready.status != 503; ++i) ready = server_->call("GET", "/readyz", "");
  EXPECT_EQ(ready.status, 503);
  const HttpResult refused =
      server_->call("POST", "/v1/runs", kShutdownToken, R"({"workflow": "slow"})");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.header("retry-after"), "5");
  EXPECT_EQ(server_->process().wait(std::chrono::seconds(30)), 0);
  EXPECT_EQ(run_row(id)["status"], "completed");
  auto [code, doc] = verify(id);
  EXPECT_EQ(code, 0) << doc.dump();
}

TEST_F(ServeShutdown, SigintPastTheGraceJournalsRunInterruptedAndResumeContinuesTheRuns) {
  // Prep is not idempotent, so the run's first events are committed (and streamed) before it is
  // invoked; then the idempotent Fetch is in flight when the drain begins.
  serve(
      nlohmann::json{{"format", "switchyard.workflow/v1"},
                     {"name", "slow"},
                     {"start", "Start"},
                     {"goal", "Done"},
                     {"tools",
                      {{"Prep", {{"kind", "mock"}, {"latency_ms", 1}, {"output", {{"ok", true}}}}},
                       {"Fetch",
                        {{"kind", "http"},
                         {"method", "GET"},
                         {"url", faults_.url("/slow/1500")},
                         {"timeout_ms", 30000},
                         {"idempotent", true}}}}},
                     {"edges", {{"Start", "Prep", 1}, {"Prep", "Fetch", 1}, {"Fetch", "Done", 0}}}}
          .dump(),
      "200ms");
  const std::vector<std::string> ids = start_in_flight(2);
  // A client following the first run's events gets the interruption before its stream ends.
  std::mutex mu;
  std::condition_variable cv;
  bool following = false;  // under mu
  std::vector<SseEvent> streamed;
  std::thread follower([&] {
    long status = 0;
    streamed = read_sse(server_->url() + "/v1/runs/" + ids[0] + "/events", {bearer(kShutdownToken)},
                        &status, std::chrono::seconds(30), [&](const SseEvent& e) {
                          {
                            std::lock_guard lock(mu);
                            following = true;
                          }
                          cv.notify_all();
                          return e.event == "run_interrupted";
                        });
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return following; }));
  }
  server_->process().signal(SIGINT);
  EXPECT_EQ(server_->process().wait(std::chrono::seconds(30)), 0);
  follower.join();
  ASSERT_FALSE(streamed.empty());
  EXPECT_EQ(streamed.back().event, "run_interrupted");

  std::map<std::string, std::int64_t> interrupted_at;
  for (const auto& id : ids) {
    interrupted_at[id] = expect_interrupted(id, "Fetch", 200);
    // The hash chain covers it, and the decisions up to it re-drive.
    auto [code, doc] = verify(id);
    EXPECT_EQ(code, 0) << doc.dump();
    EXPECT_EQ(doc["verify"]["chain"]["ok"], true) << doc.dump();
    EXPECT_EQ(doc["verify"]["interrupted_at"], interrupted_at[id]) << doc.dump();
    // The pictures say so.
    auto text = switchyard({"replay", id, "--journal", journal(), "--format", "text"});
    EXPECT_NE(text.out.find("run_interrupted shutdown: the service shut down"), std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("in flight: Fetch"), std::string::npos) << text.out;
    auto dot = switchyard({"replay", id, "--journal", journal(), "--format", "dot"});
    EXPECT_NE(dot.out.find("interrupted (shutdown)"), std::string::npos) << dot.out;
    EXPECT_NE(dot.out.find("running, interrupted by a service shutdown"), std::string::npos);
  }

  EXPECT_EQ(streamed.back().id, std::to_string(interrupted_at[ids[0]]));

  {
    // A server started again on the journal: a stream of an interrupted run gives its events
    // and ends at run_interrupted, rather than waiting on heartbeats for events that only
    // `resume` will write.
    serve(http_workflow("slow", faults_.url("/slow/1")), "1s");
    long status = 0;
    const auto opened = std::chrono::steady_clock::now();
    const auto again = read_sse(server_->url() + "/v1/runs/" + ids[1] + "/events",
                                {bearer(kShutdownToken)}, &status, std::chrono::seconds(30));
    EXPECT_EQ(status, 200);
    ASSERT_FALSE(again.empty());
    EXPECT_EQ(again.back().event, "run_interrupted");
    EXPECT_EQ(again.back().id, std::to_string(interrupted_at[ids[1]]));
    EXPECT_LT(std::chrono::steady_clock::now() - opened, std::chrono::seconds(20));
    server_->process().signal(SIGTERM);
    EXPECT_EQ(server_->process().wait(std::chrono::seconds(30)), 0);
  }

  auto resumed = switchyard({"resume", "--all", "--journal", journal(), "--json"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  for (const auto& id : ids) {
    EXPECT_EQ(run_row(id)["status"], "completed") << id;
    // Resume continued after run_interrupted: it is still there, then `resumed` names it.
    const auto events = replay(id)["events"];
    const auto at = static_cast<std::size_t>(interrupted_at[id]);
    ASSERT_GT(events.size(), at);
    EXPECT_EQ(events[at - 1]["type"], "run_interrupted");
    EXPECT_EQ(events[at]["type"], "resumed");
    EXPECT_EQ(events[at]["payload"]["after_seq"], interrupted_at[id]);
    EXPECT_EQ(events.back()["type"], "run_finished");
    auto [code, doc] = verify(id);
    EXPECT_EQ(code, 0) << doc.dump();
    EXPECT_FALSE(doc["verify"].contains("interrupted_at")) << doc.dump();
  }
}

TEST_F(ServeShutdown, ResumeOfAnInterruptedStepThatIsNotIdempotentNamesTheShutdown) {
  // A POST that is not idempotent: resume cannot know whether it took effect.
  serve(nlohmann::json{{"format", "switchyard.workflow/v1"},
                       {"name", "slow"},
                       {"start", "Start"},
                       {"goal", "Done"},
                       {"tools",
                        {{"Charge",
                          {{"kind", "http"},
                           {"method", "POST"},
                           {"url", faults_.url("/slow/1500")},
                           {"timeout_ms", 30000}}}}},
                       {"edges", {{"Start", "Charge", 1}, {"Charge", "Done", 0}}}}
            .dump(),
        "100ms");
  const std::string id = start_in_flight(1).front();
  server_->process().signal(SIGTERM);
  EXPECT_EQ(server_->process().wait(std::chrono::seconds(30)), 0);
  const std::int64_t at = expect_interrupted(id, "Charge", 100);

  auto resumed = switchyard({"resume", id, "--journal", journal(), "--json"});
  const auto doc = nlohmann::json::parse(resumed.out, nullptr, false);
  EXPECT_EQ(doc.value("status", ""), "escalated") << resumed.out << resumed.err;
  const std::string message = doc.is_object() && doc["escalation"].is_object()
                                  ? doc["escalation"].value("message", "")
                                  : "";
  EXPECT_NE(message.find("was in flight when the service shut down (run_interrupted, event #" +
                         std::to_string(at) + ")"),
            std::string::npos)
      << resumed.out;
  EXPECT_EQ(message.find("process died"), std::string::npos) << message;
  EXPECT_EQ(run_row(id)["status"], "escalated");
  auto [code, verified] = verify(id);
  EXPECT_EQ(code, 0) << verified.dump();
}

// A POST /v1/runs that races the start of the drain gets 503, or 202 for a run the drain lets
// finish or interrupts for resume: never one that the engine's shutdown fails.
TEST_F(ServeShutdown, RunsAcceptedAsTheDrainBeginsAreNeverFailedByIt) {
  serve(mock_workflow("slow", 200), "50ms", {"--rate", "0", "--max-concurrent-runs", "0"});
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> accepted;  // under mu
  std::atomic<bool> refused{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (!refused.load()) {
        const HttpResult r =
            server_->call("POST", "/v1/runs", kShutdownToken, R"({"workflow": "slow"})");
        if (r.status == 202) {
          {
            std::lock_guard lock(mu);
            accepted.push_back(r.json()["run_id"].get<std::string>());
          }
          cv.notify_all();
        } else {
          // 503 while draining; no answer once the server has stopped.
          EXPECT_TRUE(r.status == 503 || r.status == 0) << r.status << " " << r.body;
          refused = true;
          cv.notify_all();
        }
      }
    });
  }
  // Signalled while the clients are still posting, so that posts straddle the drain's start.
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30),
                            [&] { return accepted.size() >= 8 || refused.load(); }));
  }
  server_->process().signal(SIGTERM);
  for (auto& t : clients) t.join();
  EXPECT_EQ(server_->process().wait(std::chrono::seconds(30)), 0);
  ASSERT_GE(accepted.size(), 8u);
  auto r = switchyard({"runs", "--journal", journal(), "--json", "--limit", "100000"});
  const auto doc = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> rows;
  for (const auto& row : doc["runs"]) rows[row["run_id"].get<std::string>()] = row;
  for (const auto& id : accepted) {
    ASSERT_TRUE(rows.count(id)) << "run " << id << " was accepted but has no row";
    const std::string status = rows[id]["status"];
    if (status == "running") {
      EXPECT_EQ(replay(id)["events"].back()["type"], "run_interrupted") << id;
    } else {
      EXPECT_EQ(status, "completed") << id << ": " << rows[id].dump();
    }
  }
}

}  // namespace
}  // namespace switchyard::testing
