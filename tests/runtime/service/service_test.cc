// `switchyard serve` through a real HTTP client on loopback: every endpoint, auth, limits,
// malformed requests, live events, metrics (docs/service.md).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <set>
#include <sstream>

#include "tests/support/http_client.h"
#include "tests/support/run_command.h"
#include "tests/support/serve_fixture.h"
#include "tests/support/service_workflows.h"
#include "tests/support/subprocess.h"

namespace switchyard::testing {
namespace {

class Serve : public ServeFixture {};

TEST_F(Serve, RefusesToStartWithoutATokenUnlessNoAuth) {
  auto r = switchyard({"serve", "--port", "0", "--journal", journal()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no token configured"), std::string::npos) << r.err;
  auto public_host = switchyard(
      {"serve", "--port", "0", "--journal", journal(), "--no-auth", "--host", "0.0.0.0"});
  EXPECT_EQ(public_host.exit_code, 2);
  EXPECT_NE(public_host.err.find("loopback"), std::string::npos) << public_host.err;
}

TEST_F(Serve, NoAuthOnLoopbackServesWithoutToken) {
  server_ = std::make_unique<ServeProcess>(journal(), std::vector<std::string>{"--no-auth"});
  ASSERT_FALSE(server_->url().empty());
  EXPECT_EQ(get("/v1/workflows", "").status, 200);
}

TEST_F(Serve, ProbesArePublicAndReady) {
  start();
  auto alive = get("/healthz", "");
  EXPECT_EQ(alive.status, 200);
  EXPECT_EQ(alive.json()["status"], "alive");
  auto ready = get("/readyz", "");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json()["status"], "ready");
}

TEST_F(Serve, MissingOrWrongTokenIs401WithChallenge) {
  start();
  for (const std::string token : {"", "wrong-token", "test-token-1x"}) {
    auto r = get("/v1/workflows", token);
    EXPECT_EQ(r.status, 401) << token;
    EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"switchyard\"");
    EXPECT_EQ(r.json()["error"]["code"], "unauthenticated");
  }
  EXPECT_EQ(get("/metrics", "").status, 401);
  EXPECT_EQ(get("/v1/workflows", kOtherToken).status, 200);  // the one from SWITCHYARD_TOKENS
}

// Secrets never logged: at debug level (every request, every 401), the log names token numbers
// and peers, never a token, a right one or a wrong one.
TEST_F(Serve, TokensNeverReachTheLogEvenAtDebugLevel) {
  const std::string log = dir_.file("serve.log");
  start({}, {}, log);
  const std::string wrong = "wrong-secret-7f3a";
  EXPECT_EQ(get("/v1/workflows", wrong).status, 401);
  EXPECT_EQ(get("/v1/workflows").status, 200);
  EXPECT_EQ(get("/v1/workflows", kOtherToken).status, 200);
  server_->wait_run(kToken, server_->start_run(kToken, "quick"));
  server_->process().signal(SIGTERM);
  ASSERT_EQ(server_->process().wait(std::chrono::seconds(30)), 0);
  const std::string text = read_text(log);
  // The log did record these requests (so it would have had the chance to leak them).
  EXPECT_NE(text.find("/v1/workflows"), std::string::npos) << text;
  EXPECT_NE(text.find(": 401"), std::string::npos) << text;
  for (const std::string& secret : {std::string(kToken), std::string(kOtherToken), wrong}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in:\n" << text;
  }
}

TEST_F(Serve, RegistersWorkflowAndListsIt) {
  start();
  auto r = post("/v1/workflows", mock_workflow("extra", 1));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["name"], "extra");
  EXPECT_EQ(r.json()["hash"].get<std::string>().size(), 64u);
  std::set<std::string> names;
  const auto list = get("/v1/workflows").json();
  for (const auto& w : list["workflows"]) names.insert(w["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"extra", "quick", "slow"}));
  auto one = get("/v1/workflows/extra");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.json()["workflow"]["name"], "extra");
  EXPECT_EQ(get("/v1/workflows/nope").status, 404);
}

TEST_F(Serve, InvalidWorkflowIs400WithPointerLikeTheCli) {
  start();
  nlohmann::json w = nlohmann::json::parse(quick_workflow());
  w["edges"][0][2] = -1;
  auto r = post("/v1/workflows", w.dump());
  ASSERT_EQ(r.status, 400) << r.body;
  const auto error = r.json()["error"];
  EXPECT_EQ(error["code"], "invalid_argument");
  EXPECT_EQ(error["pointer"], "/edges/0/2");
  EXPECT_EQ(error["file"], "request body");
  // The same diagnostic `switchyard validate --json` gives for the same document.
  auto cli = switchyard({"validate", dir_.write("bad.json", w.dump()), "--json"});
  EXPECT_EQ(nlohmann::json::parse(cli.out)["errors"][0]["message"], error["message"]);
  expect_serving();
}

TEST_F(Serve, MalformedJsonIs400AndServerKeepsServing) {
  start();
  for (const std::string body : {"{not json", "[1, 2]", ""}) {
    auto r = post("/v1/runs", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.json()["error"]["code"], "invalid_argument") << r.body;
  }
  EXPECT_NE(post("/v1/runs", "{not json")
                .json()["error"]["message"]
                .get<std::string>()
                .find("request body: not JSON"),
            std::string::npos);
  expect_serving();
}

TEST_F(Serve, OversizedBodyIs413AndServerKeepsServing) {
  start({"--max-body-bytes", "1024"});
  auto r = post("/v1/workflows", std::string(4096, ' '));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"]["code"], "payload_too_large");
  expect_serving();
}

TEST_F(Serve, SlowClientIsCutOffAtTheReadTimeoutAndServerKeepsServing) {
  start({"--read-timeout", "1s"});
  // A client that sends half a request line and then nothing (slowloris).
  const int port = std::stoi(server_->url().substr(server_->url().rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string partial = "GET /v1/workflows HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  const auto sent = std::chrono::steady_clock::now();
  // The server closes the connection (EOF) at the deadline; 10 s is only a safety net.
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  char c;
  EXPECT_LE(::recv(fd, &c, 1, 0), 0);
  // The server's clock may start a little before `sent`: a margin of 300 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(700));
  ::close(fd);
  expect_serving();
}

TEST_F(Serve, UnknownEndpointIs404AndWrongMethod405) {
  start();
  EXPECT_EQ(get("/v1/nothing").status, 404);
  auto r = server_->call("DELETE", "/v1/runs", kToken);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, POST");
}

TEST_F(Serve, RunCompletesAndMatchesRunJson) {
  start();
  const std::string id = server_->start_run(kToken, "quick", {{"customer", "ada"}});
  const auto run = server_->wait_run(kToken, id);
  EXPECT_EQ(run["status"], "completed");
  EXPECT_EQ(run["input"]["customer"], "ada");
  const auto& result = run["result"];
  EXPECT_EQ(result["run_id"], id);
  EXPECT_EQ(result["path"], (nlohmann::json{"Start", "A", "Done"}));
  // The journal holds the same run, as `switchyard runs` sees it.
  auto cli = switchyard({"runs", "--journal", journal(), "--json"});
  EXPECT_EQ(nlohmann::json::parse(cli.out)["runs"][0]["run_id"], id);
}

TEST_F(Serve, AFinishedRunsResultAndItsRunFinishedEventCarryWhatItReturned) {
  start();
  const std::string id = server_->start_run(kToken, "quick");
  const auto run = server_->wait_run(kToken, id);
  ASSERT_EQ(run["status"], "completed") << run.dump();
  // GET /v1/runs/{id}: the goal is a junction, so the output is A's, the last step's.
  const auto& result = run["result"];
  EXPECT_EQ(result["output"], (nlohmann::json{{"ok", true}})) << run.dump();
  EXPECT_EQ(result["outputs"], (nlohmann::json{{"A", {{"ok", true}}}}));
  EXPECT_EQ(result["outputs_truncated"], false);
  // The stream's run_finished: the same, without another request.
  long status = 0;
  auto events = read_sse(server_->url() + "/v1/runs/" + id + "/events", {bearer(kToken)}, &status,
                         std::chrono::seconds(30));
  EXPECT_EQ(status, 200);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "run_finished");
  const auto finished = nlohmann::json::parse(events.back().data);
  EXPECT_EQ(finished["payload"]["output"], result["output"]);
  EXPECT_EQ(finished["payload"]["outputs"], result["outputs"]);
}

// A request's budget caps its run: a step priced above it is not invoked, the run escalates.
TEST_F(Serve, ARunsBudgetCapsItsSpend) {
  start();
  const auto priced = nlohmann::json{
      {"format", "switchyard.workflow/v1"},
      {"name", "priced"},
      {"start", "Start"},
      {"goal", "Done"},
      {"tools",
       {{"Paid",
         {{"kind", "mock"}, {"latency_ms", 1}, {"price_usd", 0.5}, {"output", {{"ok", true}}}}}}},
      {"edges", {{"Start", "Paid", 1}, {"Paid", "Done", 0}}}};
  ASSERT_EQ(post("/v1/workflows", priced.dump()).status, 201);
  auto capped = post("/v1/runs", R"({"workflow": "priced", "budget": {"usd": 0.1}})");
  ASSERT_EQ(capped.status, 202) << capped.body;
  const auto run = server_->wait_run(kToken, capped.json()["run_id"]);
  EXPECT_EQ(run["status"], "escalated") << run.dump();
  EXPECT_EQ(run["result"]["escalation"]["blocked"], (nlohmann::json{"Paid"})) << run.dump();
  EXPECT_NE(run["result"]["escalation"].value("message", "").find("budget: Paid"),
            std::string::npos)
      << run.dump();
  EXPECT_EQ(run["result"]["spent_usd"], 0.0);
  EXPECT_EQ(run["result"]["path"], (nlohmann::json{"Start"}));
  // Without the cap the same workflow runs and is charged the step's price.
  const auto paid = server_->wait_run(kToken, server_->start_run(kToken, "priced"));
  EXPECT_EQ(paid["status"], "completed") << paid.dump();
  EXPECT_DOUBLE_EQ(paid["result"]["spent_usd"].get<double>(), 0.5);
}

TEST_F(Serve, RunRequestIsValidated) {
  start();
  EXPECT_EQ(post("/v1/runs", R"({"workflow": "nope"})").status, 404);
  EXPECT_EQ(post("/v1/runs", R"({"input": {}})").status, 400);
  EXPECT_EQ(post("/v1/runs", R"({"workflow": "quick", "input": 3})").status, 400);
  EXPECT_EQ(post("/v1/runs", R"({"workflow": "quick", "budget": {"usd": -1}})").status, 400);
  EXPECT_EQ(post("/v1/runs", R"({"workflow": "quick", "run_id": "../x"})").status, 400);
  auto chosen = post("/v1/runs", R"({"workflow": "quick", "run_id": "my-run-1"})");
  ASSERT_EQ(chosen.status, 202);
  server_->wait_run(kToken, "my-run-1");
  EXPECT_EQ(post("/v1/runs", R"({"workflow": "quick", "run_id": "my-run-1"})").status, 409);
}

TEST_F(Serve, ListsRunsWithFilters) {
  start();
  const std::string a = server_->start_run(kToken, "quick");
  server_->wait_run(kToken, a);
  const std::string b = server_->start_run(kToken, "slow");
  server_->wait_run(kToken, b);
  const auto all = get("/v1/runs").json()["runs"];
  EXPECT_EQ(all.size(), 2u);
  const auto slow = get("/v1/runs?workflow=slow&status=completed").json()["runs"];
  ASSERT_EQ(slow.size(), 1u);
  EXPECT_EQ(slow[0]["run_id"], b);
  EXPECT_EQ(get("/v1/runs?limit=1").json()["runs"].size(), 1u);
  EXPECT_EQ(get("/v1/runs?since=2999-01-01").json()["runs"].size(), 0u);
  EXPECT_EQ(get("/v1/runs?until=2999-01-01").json()["runs"].size(), 2u);
  EXPECT_EQ(get("/v1/runs?status=bogus").status, 400);
  EXPECT_EQ(get("/v1/runs?since=yesterday").status, 400);
  EXPECT_EQ(get("/v1/runs/unknown-run").status, 404);
}

TEST_F(Serve, CancelEndsARunInFlight) {
  start();
  const std::string id = server_->start_run(kToken, "slow");
  auto r = post("/v1/runs/" + id + "/cancel", "");
  EXPECT_EQ(r.status, 202) << r.body;
  const auto run = server_->wait_run(kToken, id);
  EXPECT_EQ(run["status"], "failed");
  EXPECT_EQ(post("/v1/runs/" + id + "/cancel", "").status, 409);
  EXPECT_EQ(post("/v1/runs/unknown/cancel", "").status, 404);
}

TEST_F(Serve, ReplaysInEveryFormatAndVerifies) {
  start();
  const std::string id = server_->start_run(kToken, "quick");
  server_->wait_run(kToken, id);
  auto json = get("/v1/runs/" + id + "/replay?format=json");
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(json.json()["events"].back()["type"], "run_finished");
  auto cli = switchyard({"replay", id, "--journal", journal(), "--format", "text"});
  auto text = get("/v1/runs/" + id + "/replay?format=text");
  EXPECT_EQ(text.body, cli.out);
  EXPECT_NE(text.header("content-type").find("text/plain"), std::string::npos);
  auto dot = get("/v1/runs/" + id + "/replay?format=dot");
  EXPECT_EQ(dot.body.rfind("digraph", 0), 0u) << dot.body.substr(0, 40);
  auto html = get("/v1/runs/" + id + "/replay?format=html");
  EXPECT_NE(html.body.find("<svg"), std::string::npos);
  auto verify = get("/v1/runs/" + id + "/replay?verify=true");
  ASSERT_EQ(verify.status, 200);
  EXPECT_EQ(verify.json()["verify"]["ok"], true) << verify.body;
  EXPECT_EQ(get("/v1/runs/" + id + "/replay?format=pdf").status, 400);
}

TEST_F(Serve, HealthListsToolsThatRan) {
  start();
  server_->wait_run(kToken, server_->start_run(kToken, "quick"));
  auto r = get("/v1/health");
  ASSERT_EQ(r.status, 200);
  std::set<std::string> tools;
  const auto doc = r.json();
  for (const auto& t : doc["tools"]) tools.insert(t["tool"]);
  EXPECT_TRUE(tools.count("A")) << r.body;
}

TEST_F(Serve, EventsStreamLiveAndEndAfterRunFinished) {
  start();
  const std::string id = server_->start_run(kToken, "slow");
  long status = 0;
  auto events = read_sse(server_->url() + "/v1/runs/" + id + "/events", {bearer(kToken)}, &status,
                         std::chrono::seconds(30));
  EXPECT_EQ(status, 200);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front().event, "run_started");
  EXPECT_EQ(events.back().event, "run_finished");
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, std::to_string(i + 1));
    auto data = nlohmann::json::parse(events[i].data);
    EXPECT_EQ(data["seq"], i + 1);
    EXPECT_EQ(data["type"], events[i].event);
    EXPECT_EQ(data["run_id"], id);
  }
  // Live: the first events came while the 400 ms step was still running.
  EXPECT_GT(events.back().received - events.front().received, std::chrono::milliseconds(200));
}

TEST_F(Serve, EventsResumeAfterLastEventId) {
  start();
  const std::string id = server_->start_run(kToken, "quick");
  server_->wait_run(kToken, id);
  const auto all = get("/v1/runs/" + id + "/replay?format=json").json()["events"];
  long status = 0;
  auto rest = read_sse(server_->url() + "/v1/runs/" + id + "/events",
                       {bearer(kToken), "Last-Event-ID: 2"}, &status, std::chrono::seconds(10));
  ASSERT_EQ(rest.size(), all.size() - 2);
  EXPECT_EQ(rest.front().id, "3");
  EXPECT_EQ(rest.back().event, "run_finished");
  read_sse(server_->url() + "/v1/runs/nope/events", {bearer(kToken)}, &status,
           std::chrono::seconds(10));
  EXPECT_EQ(status, 404);
}

TEST_F(Serve, MetricsAreValidExpositionAndCountersMove) {
  start();
  auto before = parse_exposition(get("/metrics").body);
  server_->wait_run(kToken, server_->start_run(kToken, "quick"));
  auto r = get("/metrics");
  EXPECT_NE(r.header("content-type").find("text/plain; version=0.0.4"), std::string::npos);
  auto after = parse_exposition(r.body);
  for (const auto& [name, type] : after.types) EXPECT_TRUE(after.helps.count(name)) << name;
  EXPECT_EQ(after.types["switchyard_runs_total"], "counter");
  EXPECT_EQ(after.types["switchyard_step_latency_seconds"], "histogram");
  EXPECT_EQ(after.types["switchyard_breaker_state"], "gauge");
  const std::string completed = "switchyard_runs_total{status=\"completed\"}";
  EXPECT_EQ(after.samples[completed], before.samples[completed] + 1);
  EXPECT_EQ(after.samples["switchyard_steps_total{tool=\"A\",outcome=\"succeeded\"}"], 1);
  EXPECT_EQ(after.samples["switchyard_step_latency_seconds_count{tool=\"A\"}"], 1);
  EXPECT_EQ(after.samples["switchyard_step_latency_seconds_bucket{tool=\"A\",le=\"+Inf\"}"], 1);
  EXPECT_EQ(after.samples["switchyard_breaker_state{tool=\"A\",state=\"closed\"}"], 1);
  // Every sample belongs to a declared family.
  for (const auto& [sample, value] : after.samples) {
    std::string family = sample.substr(0, sample.find('{'));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (!after.types.count(family) && family.size() > s.size() &&
          family.compare(family.size() - s.size(), s.size(), s) == 0) {
        family.resize(family.size() - s.size());
      }
    }
    EXPECT_TRUE(after.types.count(family)) << sample;
  }
}

TEST_F(Serve, RateLimitIs429WithRetryAfter) {
  start({"--rate", "0.5", "--burst", "3"});
  int limited = 0;
  HttpResult last;
  for (int i = 0; i < 5; ++i) {
    last = get("/v1/workflows");
    if (last.status == 429) {
      ++limited;
      EXPECT_GE(std::stoi(last.header("retry-after")), 1);
      EXPECT_EQ(last.json()["error"]["code"], "rate_limited");
    }
  }
  EXPECT_EQ(limited, 2);
  // Per token: the other token still has its burst.
  EXPECT_EQ(get("/v1/workflows", kOtherToken).status, 200);
  EXPECT_EQ(get("/healthz", "").status, 200);  // probes are not limited
}

TEST_F(Serve, ConcurrentRunsPerTokenAre429WithRetryAfter) {
  start({"--max-concurrent-runs", "1"});
  const std::string first = server_->start_run(kToken, "slow");
  auto second = post("/v1/runs", R"({"workflow": "slow"})");
  EXPECT_EQ(second.status, 429);
  EXPECT_EQ(second.header("retry-after"), "1");
  EXPECT_EQ(second.json()["error"]["code"], "too_many_runs");
  EXPECT_EQ(post("/v1/runs", R"({"workflow": "slow"})", kOtherToken).status, 202);
  server_->wait_run(kToken, first);
  EXPECT_EQ(post("/v1/runs", R"({"workflow": "quick"})").status, 202);
}

TEST_F(Serve, CommandToolsPostedOverHttpAreRefusedWithTheirPointerUnlessAllowed) {
  // Preloaded with --workflow (the operator's own file): accepted without the flag.
  start({"--workflow",
         dir_.write("env.json", command_workflow("env", {SWITCHYARD_FAKE_COMMAND, "environ"}))});
  EXPECT_EQ(get("/v1/workflows/env").status, 200);
  auto r = post("/v1/workflows", command_workflow("posted", {SWITCHYARD_FAKE_COMMAND, "echo"}));
  ASSERT_EQ(r.status, 403) << r.body;
  const auto error = r.json()["error"];
  EXPECT_EQ(error["code"], "command_tools_refused");
  EXPECT_EQ(error["pointer"], "/tools/Run");
  EXPECT_EQ(error["file"], "request body");
  EXPECT_NE(error["message"].get<std::string>().find("--allow-command-tools"), std::string::npos);
  EXPECT_EQ(get("/v1/workflows/posted").status, 404);  // not registered
  expect_serving();
}

// An MCP server spoken to over stdio is a program started on the server's host, like a command
// tool's: refused over HTTP without --allow-command-tools (and never started); one reached over
// Streamable HTTP is a network peer, like an http tool's, and accepted.
TEST_F(Serve, StdioMcpServersPostedOverHttpAreRefusedLikeCommandTools) {
  start();
  auto mcp_workflow = [](const std::string& name, const std::string& server) {
    return R"({"format": "switchyard.workflow/v1", "name": ")" + name +
           R"(", "start": "Start", "goal": "Done",
      "mcp_servers": {"s": )" +
           server + R"(},
      "tools": {"Call": {"kind": "mcp", "server": "s", "tool": "echo"}},
      "edges": [["Start", "Call", 1], ["Call", "Done", 0]]})";
  };
  auto r = post("/v1/workflows",
                mcp_workflow("stdio", R"({"argv": ["/bin/sh", "-c", "touch /tmp/never"]})"));
  ASSERT_EQ(r.status, 403) << r.body;
  const auto error = r.json()["error"];
  EXPECT_EQ(error["code"], "command_tools_refused");
  EXPECT_EQ(error["pointer"], "/tools/Call");
  EXPECT_NE(error["message"].get<std::string>().find("MCP tool whose server (over stdio)"),
            std::string::npos)
      << error.dump();
  EXPECT_EQ(get("/v1/workflows/stdio").status, 404);  // not registered
  auto http = post("/v1/workflows", mcp_workflow("remote", R"({"url": "http://127.0.0.1:1/mcp"})"));
  EXPECT_EQ(http.status, 201) << http.body;
  expect_serving();
}

TEST_F(Serve, CommandToolsPostedOverHttpAreAcceptedWithAllowCommandTools) {
  start({"--allow-command-tools"});
  auto r = post("/v1/workflows", command_workflow("posted", {SWITCHYARD_FAKE_COMMAND, "echo"}));
  ASSERT_EQ(r.status, 201) << r.body;
  const auto run = server_->wait_run(kToken, server_->start_run(kToken, "posted"));
  EXPECT_EQ(run["status"], "completed") << run.dump();
}

TEST_F(Serve, CommandToolsDoNotSeeTheServiceTokens) {
  start({"--allow-command-tools"}, {"SY_MARKER=visible"});
  ASSERT_EQ(
      post("/v1/workflows", command_workflow("env", {SWITCHYARD_FAKE_COMMAND, "environ"})).status,
      201);
  const std::string id = server_->start_run(kToken, "env");
  ASSERT_EQ(server_->wait_run(kToken, id)["status"], "completed");
  // The step's output, as the journal keeps it: the tool's whole environment.
  const auto replay = get("/v1/runs/" + id + "/replay?format=json");
  const auto events = replay.json()["events"];
  nlohmann::json vars;
  for (const auto& e : events) {
    if (e["type"] == "step_succeeded") vars = e["payload"]["output"]["environ"];
  }
  ASSERT_TRUE(vars.is_object()) << replay.body;
  EXPECT_EQ(vars.value("SY_MARKER", ""), "visible");  // the server's environment reached it
  EXPECT_FALSE(vars.contains("SWITCHYARD_TOKENS")) << vars.dump();
  EXPECT_EQ(replay.body.find(kOtherToken), std::string::npos);
  EXPECT_EQ(get("/v1/workflows", kOtherToken).status, 200);  // the token still works
}

TEST_F(Serve, JournalDefaultsToSwitchyardDbInTheCurrentFolder) {
  Subprocess server(
      {"/bin/sh", "-c",
       "cd '" + dir_.path() + "' && exec " + SWITCHYARD_BINARY + " serve --port 0 --no-auth"});
  const auto line = server.read_line(std::chrono::seconds(20));
  ASSERT_TRUE(line && line->rfind("listening on ", 0) == 0) << line.value_or("(no line)");
  HttpCall ready;
  ready.url = line->substr(13) + "/readyz";
  EXPECT_EQ(http_call(ready).json()["journal"], "switchyard.db");
  EXPECT_TRUE(std::filesystem::exists(dir_.file("switchyard.db")));
}

TEST_F(Serve, EventsResumeMidRunWithExactlyTheRemainingEvents) {
  start({"--allow-command-tools"});
  // The run's only step waits until `gate` exists: the run goes on until the test lets it end.
  const std::string gate = dir_.file("gate");
  ASSERT_EQ(
      post("/v1/workflows", command_workflow("gated", {SWITCHYARD_FAKE_COMMAND, "after", gate}))
          .status,
      201);
  const std::string id = server_->start_run(kToken, "gated");
  const std::string url = server_->url() + "/v1/runs/" + id + "/events";
  long status = 0;
  // First connection: the client reads until the step has started (the events before the
  // gate), then hangs up, having handled only the first.
  auto first = read_sse(url, {bearer(kToken)}, &status, std::chrono::seconds(10),
                        [](const SseEvent& e) { return e.event == "step_started"; });
  ASSERT_GE(first.size(), 2u);
  EXPECT_EQ(first[0].id, "1");
  EXPECT_EQ(first.back().event, "step_started");
  // Reconnect after event 1 while the step still waits: the stream resends 2..step_started from
  // the journal; once it has given one, the step is let go, so the rest (its outcome,
  // run_finished) arrives live on the same stream.
  bool released = false;
  auto rest = read_sse(url, {bearer(kToken), "Last-Event-ID: 1"}, &status, std::chrono::seconds(30),
                       [&](const SseEvent&) {
                         if (!released) dir_.write("gate", "");
                         released = true;
                         return false;
                       });
  EXPECT_EQ(status, 200);
  ASSERT_TRUE(released);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().event, "run_finished");
  // Exactly the events after 1, each once, in order: the journal's events 2..end.
  const auto all = get("/v1/runs/" + id + "/replay?format=json").json()["events"];
  ASSERT_EQ(rest.size(), all.size() - 1);
  for (std::size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i].id, std::to_string(i + 2));
    EXPECT_EQ(rest[i].event, all[i + 1]["type"]);
  }
  // More than the history: the events after the release came live.
  EXPECT_GT(rest.size(), first.size() - 1);
}

}  // namespace
}  // namespace switchyard::testing
