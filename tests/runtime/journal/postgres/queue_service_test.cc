// `switchyard serve --queue` on a PostgreSQL journal, as an operator meets it: runs posted to the
// service are admitted into the queue, a `switchyard worker` process runs them, and the service
// streams their events from the journal and shows the queue in /metrics.

#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <thread>

#include "tests/support/http_client.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/run_command.h"
#include "tests/support/serve_process.h"
#include "tests/support/service_workflows.h"
#include "tests/support/subprocess.h"

namespace switchyard::testing {
namespace {

// The value of the series `name` (with its labels, as printed) in a /metrics text; -1: absent.
double queue_metric(const std::string& text, const std::string& name) {
  const std::string prefix = name + " ";
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (text.compare(at, prefix.size(), prefix) == 0) {
      return std::stod(text.substr(at + prefix.size(), end - at - prefix.size()));
    }
    at = end + 1;
  }
  return -1;
}

// Calls `get` until `done` holds for what it returns or 20 s passed (polling a condition another
// process changes); returns the last value.
template <typename Get, typename Done>
auto poll_until(Get get, Done done) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto value = get();
  while (!done(value) && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    value = get();
  }
  return value;
}

TEST(PostgresQueueService, ARunPostedIsQueuedThenRunByAWorkerWhileItsEventsStreamFromTheJournal) {
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string url = cluster.fresh("queue_service");
  TempDir dir;
  const std::string workflow = dir.write("quick.json", quick_workflow());
  ServeProcess server(url, {"--queue", "--queue-poll", "20ms", "--workflow", workflow},
                      {"SWITCHYARD_TOKENS=q-token"});
  ASSERT_FALSE(server.url().empty());

  // Admitted, not run: no worker is up yet.
  auto posted = server.call("POST", "/v1/runs", "q-token",
                            R"({"workflow": "quick", "input": {}, "run_id": "queued-1"})");
  ASSERT_EQ(posted.status, 202) << posted.body;
  const auto admitted = nlohmann::json::parse(posted.body);
  EXPECT_EQ(admitted["status"], "queued");
  EXPECT_EQ(admitted["run_id"], "queued-1");
  auto row = server.call("GET", "/v1/runs/queued-1", "q-token");
  ASSERT_EQ(row.status, 200) << row.body;
  EXPECT_EQ(nlohmann::json::parse(row.body)["status"], "queued");
  auto listed = server.call("GET", "/v1/runs?status=queued", "q-token");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(nlohmann::json::parse(listed.body)["runs"].size(), 1u) << listed.body;
  auto metrics = server.call("GET", "/metrics", "q-token").body;
  EXPECT_EQ(queue_metric(metrics, "switchyard_queue_up"), 1) << metrics;
  EXPECT_EQ(queue_metric(metrics, "switchyard_queue_runs{state=\"queued\"}"), 1) << metrics;
  EXPECT_EQ(queue_metric(metrics, "switchyard_queue_admitted_total"), 1) << metrics;
  EXPECT_EQ(queue_metric(metrics, "switchyard_queue_claims_total"), 0) << metrics;

  // The same id again is refused; a budget in the request cannot reach the worker: refused.
  auto again =
      server.call("POST", "/v1/runs", "q-token", R"({"workflow": "quick", "run_id": "queued-1"})");
  EXPECT_EQ(again.status, 409) << again.body;
  auto budget =
      server.call("POST", "/v1/runs", "q-token", R"({"workflow": "quick", "budget": {"usd": 1}})");
  EXPECT_EQ(budget.status, 400) << budget.body;
  EXPECT_EQ(nlohmann::json::parse(budget.body)["error"]["pointer"], "/budget") << budget.body;
  // A queued run cancelled through the service: the cancellation waits in the journal for the
  // worker that claims the run (docs/scale-out.md#cancelling-and-resolving-runs-that-workers-run).
  auto second = server.call("POST", "/v1/runs", "q-token",
                            R"({"workflow": "quick", "input": {}, "run_id": "queued-2"})");
  ASSERT_EQ(second.status, 202) << second.body;
  auto cancel = server.call("POST", "/v1/runs/queued-2/cancel", "q-token", "{}");
  ASSERT_EQ(cancel.status, 202) << cancel.body;
  EXPECT_EQ(nlohmann::json::parse(cancel.body)["queued"], true) << cancel.body;

  // The stream is open (and followed through the journal) before any event of the run exists.
  auto streamed = std::async(std::launch::async, [&] {
    long status = 0;
    return read_sse(server.url() + "/v1/runs/queued-1/events", {"Authorization: Bearer q-token"},
                    &status, std::chrono::seconds(30));
  });
  const double followed = poll_until(
      [&] {
        return queue_metric(server.call("GET", "/metrics", "q-token").body,
                            "switchyard_queue_event_streams");
      },
      [](double n) { return n == 1; });
  ASSERT_EQ(followed, 1);

  Subprocess worker({SWITCHYARD_BINARY, "worker", "--journal", url, "--workflow", workflow,
                     "--name", "qw", "--poll", "5ms"},
                    {}, dir.file("worker.log"));
  const auto events = streamed.get();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().event, "run_started");
  EXPECT_EQ(events.back().event, "run_finished");
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(std::stoll(events[i].id), std::stoll(events[i - 1].id) + 1) << "no event is lost";
  }
  auto done = server.call("GET", "/v1/runs/queued-1", "q-token");
  EXPECT_EQ(nlohmann::json::parse(done.body)["status"], "completed") << done.body;
  const auto cancelled = poll_until(
      [&] {
        return nlohmann::json::parse(server.call("GET", "/v1/runs/queued-2", "q-token").body);
      },
      [](const nlohmann::json& r) { return r.value("status", "") == "failed"; });
  EXPECT_EQ(cancelled["status"], "failed") << cancelled.dump();
  EXPECT_EQ(cancelled["result"]["escalation"]["message"], "cancelled: cancelled through the API")
      << cancelled.dump();
  metrics = server.call("GET", "/metrics", "q-token").body;
  EXPECT_EQ(queue_metric(metrics, "switchyard_queue_runs{state=\"queued\"}"), 0) << metrics;
  EXPECT_EQ(queue_metric(metrics, "switchyard_queue_claims_total"), 2) << metrics;
  EXPECT_EQ(queue_metric(metrics, "switchyard_queue_event_streams"), 0) << metrics;

  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(std::chrono::seconds(20)), 0);
  server.process().signal(SIGTERM);
  EXPECT_EQ(server.process().wait(std::chrono::seconds(20)), 0);
  auto verify = switchyard({"replay", "queued-1", "--journal", url, "--verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
}

// A service on a PostgreSQL journal without --queue: a run another process writes (a worker,
// holding it at an approval) streams from the journal as it goes on, to run_finished.
TEST(PostgresQueueService, AServiceWithoutAQueueStreamsARunAnotherProcessWrites) {
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string url = cluster.fresh("stream_elsewhere");
  TempDir dir;
  const std::string workflow = dir.write("held.json", held_workflow("held-elsewhere"));
  ServeProcess server(url, {"--queue-poll", "20ms", "--workflow", workflow},
                      {"SWITCHYARD_TOKENS=s-token"});
  ASSERT_FALSE(server.url().empty());
  auto enq = switchyard({"enqueue", workflow, "--journal", url, "--run-id", "elsewhere-1"});
  ASSERT_EQ(enq.exit_code, 0) << enq.err << enq.out;
  Subprocess worker({SWITCHYARD_BINARY, "worker", "--journal", url, "--workflow", workflow,
                     "--name", "sw", "--poll", "5ms"},
                    {}, dir.file("worker.log"));
  ASSERT_EQ(pg_wait_for(url,
                        "SELECT count(*) FROM events WHERE run_id = 'elsewhere-1' AND type = "
                        "'wait_started'",
                        "1", std::chrono::seconds(20)),
            "1");
  // The stream is open (it has sent the run's history) before the approval lets the run go on.
  long status = 0;
  std::promise<void> opened;
  auto streamed = std::async(std::launch::async, [&] {
    bool first = true;
    return read_sse(server.url() + "/v1/runs/elsewhere-1/events", {"Authorization: Bearer s-token"},
                    &status, std::chrono::seconds(20), [&](const SseEvent&) {
                      if (first) opened.set_value();
                      first = false;
                      return false;
                    });
  });
  ASSERT_EQ(opened.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
  auto approved = switchyard({"approve", "elsewhere-1", "Ask#1", "--journal", url});
  ASSERT_EQ(approved.exit_code, 0) << approved.err << approved.out;
  const auto events = streamed.get();
  EXPECT_EQ(status, 200);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().event, "run_started");
  EXPECT_EQ(events.back().event, "run_finished");
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(std::chrono::seconds(20)), 0);
}

// A row of the run that cannot be decoded (an edited journal) ends the stream that follows the
// run through the journal, instead of keeping it open and failing at every poll; opened again,
// the stream answers the error naming the row.
TEST(PostgresQueueService, AStreamMeetingARowThatCannotBeDecodedEndsAndNamesItWhenOpenedAgain) {
  PostgresCluster& cluster = PostgresCluster::shared();
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  const std::string url = cluster.fresh("queue_poisoned");
  TempDir dir;
  ServeProcess server(
      url,
      {"--queue", "--queue-poll", "20ms", "--workflow", dir.write("quick.json", quick_workflow())},
      {"SWITCHYARD_TOKENS=q-token"});
  ASSERT_FALSE(server.url().empty());
  auto posted = server.call("POST", "/v1/runs", "q-token",
                            R"({"workflow": "quick", "input": {}, "run_id": "poisoned-1"})");
  ASSERT_EQ(posted.status, 202) << posted.body;
  long status = 0;
  auto streamed = std::async(std::launch::async, [&] {
    return read_sse(server.url() + "/v1/runs/poisoned-1/events", {"Authorization: Bearer q-token"},
                    &status, std::chrono::seconds(30));
  });
  auto streams = [&] {
    return queue_metric(server.call("GET", "/metrics", "q-token").body,
                        "switchyard_queue_event_streams");
  };
  ASSERT_EQ(poll_until(streams, [](double n) { return n == 1; }), 1);
  ASSERT_EQ(pg_exec(url,
                    "INSERT INTO events (run_id, seq, time_ms, type, payload) VALUES "
                    "('poisoned-1', 1, 1, 'run_started', 'not json')"),
            "");
  EXPECT_EQ(poll_until(streams, [](double n) { return n == 0; }), 0);
  EXPECT_TRUE(streamed.get().empty());  // ended by the server, without an event
  EXPECT_EQ(status, 200);
  auto again = server.call("GET", "/v1/runs/poisoned-1/events", "q-token");
  EXPECT_EQ(again.status, 500) << again.body;
  EXPECT_NE(again.body.find("run poisoned-1 seq 1 (run_started): /payload"), std::string::npos)
      << again.body;
}

TEST(PostgresQueueService, ServeWithAQueueOnASqliteJournalIsRefusedAtStart) {
  TempDir dir;
  auto r =
      switchyard({"serve", "--journal", dir.file("j.db"), "--no-auth", "--port", "0", "--queue"});
  EXPECT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_NE(r.err.find("--queue needs a journal with a run queue"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace switchyard::testing
