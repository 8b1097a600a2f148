// A bounded load test on loopback: 1,000 runs submitted by 50 concurrent clients. Prints the
// latency of POST /v1/runs (p50, p99) and checks that every run reaches a final status in the
// journal. Stops by itself: the server drains (SIGTERM, a long grace) once all are submitted.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "tests/support/http_client.h"
#include "tests/support/run_command.h"
#include "tests/support/serve_process.h"
#include "tests/support/service_workflows.h"

namespace switchyard::testing {
namespace {

constexpr int kClients = 50;
constexpr int kRunsPerClient = 20;
constexpr const char* kLoadToken = "load-token";

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

TEST(ServeLoad, ThousandRunsFromFiftyClientsAllReachAFinalStatus) {
  TempDir dir;
  const std::string journal = dir.file("journal.db");
  ServeProcess server(journal,
                      {"--workflow", dir.write("quick.json", quick_workflow()), "--rate", "0",
                       "--max-concurrent-runs", "0", "--grace", "60s", "--threads", "4"},
                      {std::string("SWITCHYARD_TOKENS=") + kLoadToken});
  ASSERT_FALSE(server.url().empty());
  std::vector<std::vector<double>> latencies(kClients);
  std::vector<int> accepted(kClients, 0);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kRunsPerClient; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r =
            server.call("POST", "/v1/runs", kLoadToken,
                        R"({"workflow": "quick", "input": {"client": )" + std::to_string(c) + "}}");
        const auto t1 = std::chrono::steady_clock::now();
        latencies[c].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        if (r.status == 202) ++accepted[c];
      }
    });
  }
  for (auto& t : clients) t.join();
  const double submit_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Drain: the server exits once every run has ended (the grace is far longer than needed).
  server.process().signal(SIGTERM);
  ASSERT_EQ(server.process().wait(std::chrono::seconds(60)), 0);
  const double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<double> all;
  int ok = 0;
  for (int c = 0; c < kClients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    ok += accepted[c];
  }
  EXPECT_EQ(ok, kClients * kRunsPerClient);
  auto runs = switchyard({"runs", "--journal", journal, "--json", "--limit", "5000"});
  std::map<std::string, int> by_status;
  const auto listed = nlohmann::json::parse(runs.out);
  for (const auto& r : listed["runs"]) ++by_status[r["status"]];
  EXPECT_EQ(by_status["completed"], kClients * kRunsPerClient);
  EXPECT_EQ(by_status.count("running"), 0u);
  std::printf(
      "[load] %d runs by %d clients: POST /v1/runs p50 %.2f ms, p99 %.2f ms, max %.2f ms; "
      "submitted in %.2f s (%.0f runs/s), all final in %.2f s; completed %d\n",
      kClients * kRunsPerClient, kClients, percentile(all, 0.5), percentile(all, 0.99),
      percentile(all, 1.0), submit_s, kClients * kRunsPerClient / submit_s, total_s,
      by_status["completed"]);
}

}  // namespace
}  // namespace switchyard::testing
