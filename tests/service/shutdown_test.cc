// SIGTERM with runs in flight: runs that finish within --grace finish; the others are left for
// `switchyard resume`, every event so far journaled; the process exits 0.

#include <gtest/gtest.h>
#include <signal.h>

#include "tests/support/fault_server.h"
#include "tests/support/http_client.h"
#include "tests/support/run_command.h"
#include "tests/support/serve_process.h"
#include "tests/support/service_workflows.h"

namespace switchyard::testing {
namespace {

constexpr const char* kToken = "shutdown-token";

class ServeShutdown : public ::testing::Test {
 protected:
  // Serves workflow "slow" (a GET of the fault server's /slow/<ms>) with --grace `grace`.
  void start(int slow_ms, const std::string& grace) {
    const std::string wf = dir_.write(
        "slow.json", http_workflow("slow", faults_.url("/slow/" + std::to_string(slow_ms))));
    server_ = std::make_unique<ServeProcess>(
        journal(), std::vector<std::string>{"--workflow", wf, "--grace", grace},
        std::vector<std::string>{std::string("SWITCHYARD_TOKENS=") + kToken});
    ASSERT_FALSE(server_->url().empty());
  }
  std::string journal() const { return dir_.file("journal.db"); }
  // Starts `n` runs and returns once each one's call to the fault server is in flight (an
  // idempotent call is not made durable first: the fault server is what knows).
  std::vector<std::string> start_in_flight(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back(server_->start_run(kToken, "slow"));
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
  EXPECT_EQ(server_->call("POST", "/v1/runs", kToken, R"({"workflow": "slow"})").status, 503);
  EXPECT_EQ(server_->process().wait(std::chrono::seconds(30)), 0);
  EXPECT_EQ(run_row(id)["status"], "completed");
}

TEST_F(ServeShutdown, RunsPastTheGraceAreInterruptedAndResumeFinishesThem) {
  start(1500, "200ms");
  const std::vector<std::string> ids = start_in_flight(3);
  server_->process().signal(SIGTERM);
  EXPECT_EQ(server_->process().wait(std::chrono::seconds(30)), 0);
  for (const auto& id : ids) {
    EXPECT_EQ(run_row(id)["status"], "running") << id;
    // Every event up to the interruption is journaled: the call in flight, no cancellation.
    const auto events = replay(id)["events"];
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["type"], "step_started") << events.dump();
    for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["seq"], i + 1);
  }
  auto resumed = switchyard({"resume", "--all", "--journal", journal(), "--json"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  for (const auto& id : ids) {
    EXPECT_EQ(run_row(id)["status"], "completed") << id;
    auto verify = switchyard({"replay", id, "--journal", journal(), "--verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out;
  }
}

}  // namespace
}  // namespace switchyard::testing
