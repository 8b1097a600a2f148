// `switchyard serve` started again on the journal of a server that died: the runs that server
// left unfinished are continued by the new one at start (ServiceOptions::resume_orphans,
// docs/service.md#restarts): a run held at an approval is held again, listed by GET /v1/waits
// and finished by the approval sent to the new server; with --no-resume it is left as it was.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/run_command.h"
#include "tests/support/serve_process.h"

namespace switchyard::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kRestartToken = "restart-token";

class ServeRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    // Start -> Approve (an approval) -> Done.
    const json workflow = {{"format", "switchyard.workflow/v1"},
                           {"name", "held"},
                           {"start", "Start"},
                           {"goal", "Done"},
                           {"tools",
                            {{"Approve", {{"kind", "wait"}, {"approval", "go ahead"}}},
                             {"Done", {{"kind", "mock"}, {"output", {{"done", true}}}}}}},
                           {"edges", {{"Start", "Approve", 1}, {"Approve", "Done", 1}}}};
    workflow_ = dir_.write("held.json", workflow.dump());
  }
  std::unique_ptr<ServeProcess> serve(std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--workflow", workflow_, "--rate", "0"});
    auto server = std::make_unique<ServeProcess>(
        journal(), flags,
        std::vector<std::string>{std::string("SWITCHYARD_TOKENS=") + kRestartToken});
    EXPECT_FALSE(server->url().empty());
    return server;
  }
  std::string journal() const { return dir_.file("journal.db"); }
  // GET /v1/waits?run=ID: its waits.
  static json waits(const ServeProcess& server, const std::string& id) {
    auto r = server.call("GET", "/v1/waits?run=" + id, kRestartToken);
    EXPECT_EQ(r.status, 200) << r.body;
    const json doc = r.json();
    return doc.is_object() && doc.contains("waits") ? doc["waits"] : json::array();
  }
  // Whether run `id`'s wait_started is in the journal (GET /v1/runs/{id}/replay reads it).
  static bool wait_started_committed(const ServeProcess& server, const std::string& id) {
    auto r = server.call("GET", "/v1/runs/" + id + "/replay", kRestartToken);
    if (r.status != 200) return false;
    const json doc = r.json();
    if (!doc.is_object() || !doc.contains("events")) return false;
    for (const auto& e : doc["events"]) {
      if (e.value("type", "") == "wait_started") return true;
    }
    return false;
  }
  // A run of `held` started on `server`, once it is held at its approval (its wait_started
  // committed); then the server is
  // killed with SIGKILL (the run stays `running` in the journal, owned by a dead process).
  std::string held_run_of_a_killed_server() {
    auto first = serve();
    const std::string id = first->start_run(kRestartToken, "held");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (waits(*first, id).empty() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));  // polling a condition, not timing it
    }
    EXPECT_EQ(waits(*first, id).size(), 1u) << "the run was never held";
    // A wait is listed from the moment its wait_started is handed to the journal: killed before
    // that commit, the run would not be held at it in the journal (a resume starts it anew).
    while (!wait_started_committed(*first, id) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));  // polling a condition, not timing it
    }
    EXPECT_TRUE(wait_started_committed(*first, id));
    first->process().signal(SIGKILL);
    EXPECT_EQ(first->process().wait(std::chrono::seconds(10)), 128 + SIGKILL);
    return id;
  }

  TempDir dir_;
  std::string workflow_;
};

TEST_F(ServeRestart, ARunHeldWhenItsServerWasKilledIsHeldAgainAtStartAndFinishesOnApproval) {
  const std::string id = held_run_of_a_killed_server();
  auto second = serve();
  // Listed at once: the run is resumed before the server listens.
  const json held = waits(*second, id);
  ASSERT_EQ(held.size(), 1u) << held.dump();
  EXPECT_EQ(held[0]["wait_id"], "Approve#1");
  EXPECT_EQ(held[0]["kind"], "approval");
  auto approved = second->call("POST", "/v1/runs/" + id + "/waits/Approve%231", kRestartToken,
                               json{{"decision", "approve"}, {"by", "ana"}}.dump());
  ASSERT_EQ(approved.status, 200) << approved.body;
  const json run = second->wait_run(kRestartToken, id);
  EXPECT_EQ(run["status"], "completed") << run.dump();
  // The journal holds one run, continued (not started again), that verifies.
  auto verified = switchyard({"replay", id, "--journal", journal(), "--verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  auto shown = switchyard({"replay", id, "--journal", journal(), "--json"});
  const json events = json::parse(shown.out, nullptr, false)["events"];
  int started = 0, resumed = 0;
  for (const auto& e : events) {
    started += e["type"] == "run_started";
    resumed += e["type"] == "resumed";
  }
  EXPECT_EQ(started, 1) << shown.out;
  EXPECT_EQ(resumed, 1) << shown.out;
}

// A deploy: the server is stopped gracefully (SIGTERM) while a run is held at an approval; past
// the grace the run is interrupted, not failed, and the next server holds it again.
TEST_F(ServeRestart, ARunHeldWhenItsServerWasStoppedIsHeldAgainByTheNextServer) {
  std::string id;
  {
    auto first = serve({"--grace", "100ms"});
    id = first->start_run(kRestartToken, "held");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (waits(*first, id).empty() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));  // polling a condition, not timing it
    }
    ASSERT_EQ(waits(*first, id).size(), 1u) << "the run was never held";
    first->process().signal(SIGTERM);
    EXPECT_EQ(first->process().wait(std::chrono::seconds(10)), 0);
  }
  auto second = serve();
  const json held = waits(*second, id);
  ASSERT_EQ(held.size(), 1u) << held.dump();
  EXPECT_EQ(held[0]["wait_id"], "Approve#1");
  auto approved = second->call("POST", "/v1/runs/" + id + "/waits/Approve%231", kRestartToken,
                               json{{"decision", "approve"}}.dump());
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(second->wait_run(kRestartToken, id)["status"], "completed");
  auto verified = switchyard({"replay", id, "--journal", journal(), "--verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

// The wait inbox (docs/waits.md#while-no-process-holds-the-run): a server that does not hold the
// run (here: --no-resume) queues its approval in the journal (202), once per key; the next
// server that resumes the run applies it at start.
TEST_F(ServeRestart, AnApprovalSentWhileNoServerHoldsTheRunIsQueuedThenAppliedByTheNextServer) {
  const std::string id = held_run_of_a_killed_server();
  {
    auto second = serve({"--no-resume"});
    const std::string path = "/v1/runs/" + id + "/waits/Approve%231";
    const std::string body = json{{"decision", "approve"}, {"by", "ana"}, {"key", "k-1"}}.dump();
    auto queued = second->call("POST", path, kRestartToken, body);
    ASSERT_EQ(queued.status, 202) << queued.body;
    EXPECT_EQ(queued.json()["queued"], true) << queued.body;
    EXPECT_EQ(queued.json()["wait_id"], "Approve#1") << queued.body;
    EXPECT_EQ(queued.json()["decision"], "approved") << queued.body;
    EXPECT_EQ(second->call("POST", path, kRestartToken, body).status, 202);  // the same, again
    auto other = second->call("POST", path, kRestartToken, json{{"decision", "reject"}}.dump());
    EXPECT_EQ(other.status, 409) << other.body;
    auto unknown = second->call("POST", "/v1/runs/" + id + "/waits/Approve%239", kRestartToken,
                                json{{"decision", "approve"}}.dump());
    EXPECT_EQ(unknown.status, 404) << unknown.body;
    auto signal = second->call("POST", "/v1/runs/" + id + "/signals/confirmed", kRestartToken,
                               json{{"data", 1}}.dump());
    EXPECT_EQ(signal.status, 404) << signal.body;
    // Not in flight here, and held at its wait in the journal: waiting
    // (docs/waits.md#waiting-runs).
    EXPECT_EQ(second->call("GET", "/v1/runs/" + id, kRestartToken).json()["status"], "waiting");
  }
  auto third = serve();
  const json run = third->wait_run(kRestartToken, id);
  EXPECT_EQ(run["status"], "completed") << run.dump();
  auto shown = switchyard({"replay", id, "--journal", journal(), "--json"});
  const json events = json::parse(shown.out, nullptr, false)["events"];
  int resolved = 0;
  for (const auto& e : events) {
    if (e["type"] != "wait_resolved") continue;
    ++resolved;
    EXPECT_EQ(e["payload"]["by"], "ana") << e.dump();
    EXPECT_EQ(e["payload"]["key"], "k-1") << e.dump();
  }
  EXPECT_EQ(resolved, 1) << shown.out;
  auto verified = switchyard({"replay", id, "--journal", journal(), "--verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

TEST_F(ServeRestart, WithNoResumeTheRunOfADeadServerIsLeftAsItWas) {
  const std::string id = held_run_of_a_killed_server();
  auto second = serve({"--no-resume"});
  EXPECT_TRUE(waits(*second, id).empty());
  auto run = second->call("GET", "/v1/runs/" + id, kRestartToken);
  ASSERT_EQ(run.status, 200) << run.body;
  // Left as it was: held at its wait in the journal, so listed waiting, with no wait open here.
  EXPECT_EQ(run.json()["status"], "waiting") << run.body;
  EXPECT_EQ(run.json()["waits"], json::array()) << run.body;
  auto shown = switchyard({"replay", id, "--journal", journal(), "--json"});
  EXPECT_EQ(shown.out.find("\"resumed\""), std::string::npos) << shown.out;
}

}  // namespace
}  // namespace switchyard::testing
