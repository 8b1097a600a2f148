// Waits through a real `switchyard serve` (docs/waits.md, docs/service.md): GET /v1/waits,
// POST /v1/runs/{id}/waits/{wait} and /signals/{name}, their errors, the `waiting` status, the
// events on the SSE stream and the metrics; and the CLI's waits/approve/reject/signal commands
// against the served service.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support/serve_fixture.h"

namespace switchyard::testing {
namespace {

using nlohmann::json;

// The refund of docs/waits.md, with mocks: an approval above $100 (a condition on the input),
// rejected or not it reroutes to Apologize. `also_confirm`: the approved route then waits for a
// "confirmed" signal (so that the run stays in flight after its approval).
json waits_refund_workflow(const std::string& name, bool also_confirm = false) {
  json w = {{"format", "switchyard.workflow/v1"},
            {"name", name},
            {"start", "Start"},
            {"goal", "Done"},
            {"tools",
             {{"Approve", {{"kind", "wait"}, {"approval", "refund over $100"}}},
              {"Refund", {{"kind", "mock"}, {"output", {{"refund", "rfnd_9"}}}}},
              {"Apologize", {{"kind", "mock"}}},
              {"Done", {{"kind", "mock"}}}}},
            {"edges",
             {{"Start", "Approve", 1, {{"ptr", "/input/amount"}, {"gt", 100}}},
              {"Start", "Refund", 1, {{"ptr", "/input/amount"}, {"le", 100}}},
              {"Refund", "Done", 1},
              {"Start", "Apologize", 9},
              {"Apologize", "Done", 1}}}};
  if (also_confirm) {
    w["tools"]["Confirm"] = {{"kind", "wait"}, {"signal", "confirmed"}, {"timeout_ms", 86400000}};
    w["edges"].push_back({"Approve", "Confirm", 1});
    w["edges"].push_back({"Confirm", "Refund", 1});
  } else {
    w["edges"].push_back({"Approve", "Refund", 1});
  }
  return w;
}

// Three fan-out branches, each waiting for its own approval; the join waits for all.
json waits_three_branches_workflow() {
  return {{"format", "switchyard.workflow/v1"},
          {"name", "three"},
          {"start", "Start"},
          {"goal", "Done"},
          {"tools",
           {{"A", {{"kind", "wait"}, {"approval", "a"}}},
            {"B", {{"kind", "wait"}, {"approval", "b"}}},
            {"C", {{"kind", "wait"}, {"approval", "c"}}},
            {"Done", {{"kind", "mock"}}}}},
          {"nodes",
           {{"Fan",
             {{"fanout",
               {{"join", "all"},
                {"branches",
                 {{{"start", "A0"}, {"goal", "A"}, {"edges", {{"A0", "A", 1}}}},
                  {{"start", "B0"}, {"goal", "B"}, {"edges", {{"B0", "B", 1}}}},
                  {{"start", "C0"}, {"goal", "C"}, {"edges", {{"C0", "C", 1}}}}}}}}}}}},
          {"edges", {{"Start", "Fan", 1}, {"Fan", "Done", 1}}}};
}

constexpr auto kWaitsDeadline = std::chrono::seconds(10);

class ServeWaits : public ServeFixture {
 protected:
  void SetUp() override { start({"--rate", "0"}); }

  void add(const json& workflow) const {
    auto r = post("/v1/workflows", workflow.dump());
    ASSERT_EQ(r.status, 201) << r.body;
  }
  std::string run(const std::string& workflow, const std::string& id,
                  const json& input = json::object()) const {
    auto r =
        post("/v1/runs", json{{"workflow", workflow}, {"input", input}, {"run_id", id}}.dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return id;
  }
  // GET /v1/waits?run=ID polled until it lists `n` waits (at most kWaitsDeadline): its "waits".
  json await_waits(const std::string& run_id, std::size_t n) const {
    const auto until = std::chrono::steady_clock::now() + kWaitsDeadline;
    for (;;) {
      auto r = get("/v1/waits?run=" + run_id);
      EXPECT_EQ(r.status, 200) << r.body;
      json waits = r.json().value("waits", json::array());
      if (waits.size() == n || std::chrono::steady_clock::now() > until) return waits;
    }
  }
  HttpResult decide(const std::string& run_id, const std::string& wait, const json& body,
                    const std::string& token = kToken) const {
    return post("/v1/runs/" + run_id + "/waits/" + wait, body.dump(), token);
  }
  HttpResult signal(const std::string& run_id, const std::string& name, const json& body) const {
    return post("/v1/runs/" + run_id + "/signals/" + name, body.dump());
  }
  // The payloads of the run's events of `type`, from GET /v1/runs/{id}/replay.
  std::vector<json> payloads(const std::string& run_id, const std::string& type) const {
    auto r = get("/v1/runs/" + run_id + "/replay");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<json> out;
    for (const auto& e : r.json().value("events", json::array())) {
      if (e.value("type", "") == type) out.push_back(e["payload"]);
    }
    return out;
  }
  double sample(const std::string& name) const {
    auto r = get("/metrics");
    EXPECT_EQ(r.status, 200);
    return parse_exposition(r.body).samples[name];
  }
};

TEST_F(ServeWaits, AnApprovalIsListedShownWaitingThenApprovedOverHttp) {
  add(waits_refund_workflow("refund"));
  const std::string id = run("refund", "refund-approved", {{"amount", 250}});
  const json waits = await_waits(id, 1);
  ASSERT_EQ(waits.size(), 1u);
  const json& w = waits[0];
  EXPECT_EQ(w["run_id"], id);
  EXPECT_EQ(w["wait_id"], "Approve#1");
  EXPECT_EQ(w["kind"], "approval");
  EXPECT_EQ(w["name"], "refund over $100");
  EXPECT_EQ(w["tool"], "Approve");
  EXPECT_EQ(w["node"], "Approve");
  EXPECT_EQ(w["branch"], -1);
  EXPECT_GT(w["started_ms"].get<std::int64_t>(), 0);
  EXPECT_TRUE(w["due_ms"].is_null());
  // The unfiltered list has it too.
  EXPECT_EQ(get("/v1/waits").json()["waits"].size(), 1u);

  const json held = get("/v1/runs/" + id).json();
  EXPECT_EQ(held["status"], "waiting");
  ASSERT_EQ(held["waits"].size(), 1u);
  EXPECT_EQ(held["waits"][0]["wait_id"], "Approve#1");

  auto r = decide(id, "Approve%231",
                  {{"decision", "approve"}, {"data", {{"note", "VIP"}}}, {"by", "ana"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json(), (json{{"run_id", id}, {"wait_id", "Approve#1"}, {"decision", "approved"}}));
  const json done = server_->wait_run(kToken, id);
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["result"]["path"], (json{"Start", "Approve", "Refund", "Done"}));
  EXPECT_EQ(done["result"]["outputs"]["Approve"]["data"]["note"], "VIP");
  EXPECT_EQ(done["waits"], json::array());
  const auto resolved = payloads(id, "wait_resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]["by"], "ana");
  EXPECT_EQ(resolved[0]["decision"], "approved");
}

// GET /v1/runs lists a run held at a wait as `waiting` (docs/waits.md#waiting-runs), from its
// journaled wait_started (committed a moment after the wait is listed, hence the poll), and the
// status filter splits the running runs: ?status=waiting finds it, ?status=running does not.
TEST_F(ServeWaits, ARunHeldAtAWaitIsListedWaitingAndFoundByItsStatus) {
  add(waits_refund_workflow("refund"));
  const std::string id = run("refund", "refund-listed", {{"amount", 250}});
  ASSERT_EQ(await_waits(id, 1).size(), 1u);
  auto ids = [this](const std::string& query) {
    std::vector<std::string> out;
    auto r = get("/v1/runs" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    for (const auto& run : r.json().value("runs", json::array())) {
      out.push_back(run.value("run_id", "") + ":" + run.value("status", ""));
    }
    return out;
  };
  const auto until = std::chrono::steady_clock::now() + kWaitsDeadline;
  while (ids("?status=waiting").empty() && std::chrono::steady_clock::now() < until) {
  }
  EXPECT_EQ(ids("?status=waiting"), (std::vector<std::string>{id + ":waiting"}));
  EXPECT_EQ(ids(""), (std::vector<std::string>{id + ":waiting"}));
  EXPECT_TRUE(ids("?status=running").empty());
  auto bad = get("/v1/runs?status=paused");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("running, waiting, completed"), std::string::npos) << bad.body;

  ASSERT_EQ(decide(id, "Approve%231", {{"decision", "approve"}}).status, 200);
  EXPECT_EQ(server_->wait_run(kToken, id)["status"], "completed");
  EXPECT_TRUE(ids("?status=waiting").empty());
  EXPECT_EQ(ids(""), (std::vector<std::string>{id + ":completed"}));
}

TEST_F(ServeWaits, ARefundUnderTheLimitAsksNobody) {
  add(waits_refund_workflow("refund"));
  const json done = server_->wait_run(kToken, run("refund", "refund-small", {{"amount", 40}}));
  EXPECT_EQ(done["result"]["path"], (json{"Start", "Refund", "Done"}));
}

TEST_F(ServeWaits, ARejectionReroutesAndTheJournalNamesTheCallersToken) {
  add(waits_refund_workflow("refund"));
  const std::string id = run("refund", "refund-rejected", {{"amount", 250}});
  ASSERT_EQ(await_waits(id, 1).size(), 1u);
  auto r = decide(id, "Approve%231", {{"decision", "reject"}, {"reason", "looks like fraud"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["decision"], "rejected");
  const json done = server_->wait_run(kToken, id);
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["result"]["path"], (json{"Start", "Apologize", "Done"}));
  const auto resolved = payloads(id, "wait_resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]["by"], "token #0");
  EXPECT_EQ(resolved[0]["reason"], "looks like fraud");
  const auto failed = payloads(id, "step_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["failure"], "rejected");
}

TEST_F(ServeWaits, ADuplicateApprovalWithItsKeyIsAppliedOnceAndOthersConflict) {
  add(waits_refund_workflow("refund2", /*also_confirm=*/true));
  const std::string id = run("refund2", "refund-dup", {{"amount", 250}});
  ASSERT_EQ(await_waits(id, 1).size(), 1u);
  const json approve = {{"decision", "approve"}, {"key", "ticket-77"}};
  ASSERT_EQ(decide(id, "Approve%231", approve).status, 200);
  // The run now waits for the confirmation: the approval is resolved, the run still in flight.
  const json next = await_waits(id, 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0]["wait_id"], "Confirm#1");
  auto again = decide(id, "Approve%231", approve);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["decision"], "approved");
  auto other = decide(id, "Approve%231", {{"decision", "approve"}, {"key", "ticket-78"}});
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(other.json()["error"]["code"], "conflict");
  EXPECT_EQ(decide(id, "Approve%231", {{"decision", "reject"}}).status, 409);

  auto s = signal(id, "confirmed", {{"data", {{"seat", "12A"}}}, {"key", "msg-8812"}});
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.json(), (json{{"run_id", id}, {"wait_id", "Confirm#1"}, {"decision", "signalled"}}));
  const json done = server_->wait_run(kToken, id);
  EXPECT_EQ(done["result"]["path"], (json{"Start", "Approve", "Confirm", "Refund", "Done"}));
  EXPECT_EQ(done["result"]["outputs"]["Confirm"], (json{{"seat", "12A"}}));
  const auto resolved = payloads(id, "wait_resolved");
  ASSERT_EQ(resolved.size(), 2u);  // one approval (not three), one signal
  EXPECT_EQ(resolved[0]["wait"], "Approve#1");
  EXPECT_EQ(resolved[0]["key"], "ticket-77");
  EXPECT_EQ(resolved[1]["wait"], "Confirm#1");
}

TEST_F(ServeWaits, UnknownWaitsBadFieldsAndMisfitDecisionsAreRefusedWithTheirPointer) {
  add(waits_refund_workflow("refund2", /*also_confirm=*/true));
  const std::string id = run("refund2", "refund-errors", {{"amount", 250}});
  ASSERT_EQ(await_waits(id, 1).size(), 1u);
  auto expect_error = [](const HttpResult& r, long status, const std::string& code,
                         const char* pointer) {
    EXPECT_EQ(r.status, status) << r.body;
    const json e = r.json()["error"];
    EXPECT_EQ(e.value("code", ""), code) << r.body;
    EXPECT_FALSE(e.value("message", "").empty()) << r.body;
    if (pointer != nullptr) {
      EXPECT_EQ(e.value("pointer", "?"), pointer) << r.body;
    }
  };
  expect_error(decide("no-such-run", "Approve%231", {{"decision", "approve"}}), 404, "not_found",
               nullptr);
  expect_error(decide(id, "Nope%231", {{"decision", "approve"}}), 404, "not_found", nullptr);
  expect_error(signal(id, "refund%20over%20%24100", {{"data", 1}}), 404, "not_found", nullptr);
  expect_error(decide(id, "Approve%231", {{"decision", "maybe"}}), 400, "invalid_argument",
               "/decision");
  expect_error(decide(id, "Approve%231", json::object()), 400, "invalid_argument", "/decision");
  expect_error(decide(id, "Approve%231", {{"decision", "reject"}, {"data", 1}}), 400,
               "invalid_argument", "/data");
  expect_error(decide(id, "Approve%231", {{"decision", "approve"}, {"reason", "x"}}), 400,
               "invalid_argument", "/reason");
  expect_error(decide(id, "Approve%231", {{"decision", "approve"}, {"by", 5}}), 400,
               "invalid_argument", "/by");
  expect_error(decide(id, "Approve%231", {{"decision", "approve"}, {"key", json::array()}}), 400,
               "invalid_argument", "/key");
  expect_error(post("/v1/runs/" + id + "/waits/Approve%231", "[1"), 400, "invalid_argument", "");
  // Still open after all that; then the confirmation wait refuses an approval.
  ASSERT_EQ(decide(id, "Approve%231", {{"decision", "approve"}}).status, 200);
  ASSERT_EQ(await_waits(id, 1)[0]["wait_id"], "Confirm#1");
  expect_error(decide(id, "Confirm%231", {{"decision", "approve"}}), 400, "invalid_argument",
               "/decision");
  // A cancelled run drops its wait: not found.
  ASSERT_EQ(post("/v1/runs/" + id + "/cancel", "").status, 202);
  EXPECT_EQ(await_waits(id, 0).size(), 0u);
  expect_error(decide(id, "Confirm%231", {{"decision", "approve"}}), 404, "not_found", nullptr);
  server_->wait_run(kToken, id);
}

TEST_F(ServeWaits, ThreeParallelApprovalsResolvedInReverseOrderResumeTheirBranches) {
  add(waits_three_branches_workflow());
  const std::string id = run("three", "three-reverse");
  json waits = await_waits(id, 3);
  ASSERT_EQ(waits.size(), 3u);
  std::set<std::int64_t> branches;
  for (const auto& w : waits) branches.insert(w["branch"].get<std::int64_t>());
  EXPECT_EQ(branches, (std::set<std::int64_t>{0, 1, 2}));
  const std::vector<std::string> order = {"C", "B", "A"};
  for (std::size_t i = 0; i < order.size(); ++i) {
    auto r =
        decide(id, order[i] + "%231", {{"decision", "approve"}, {"data", static_cast<int>(i)}});
    ASSERT_EQ(r.status, 200) << order[i] << ": " << r.body;
    // The other branches still wait.
    waits = await_waits(id, order.size() - i - 1);
    EXPECT_EQ(waits.size(), order.size() - i - 1);
    for (const auto& w : waits) EXPECT_NE(w["wait_id"], order[i] + "#1");
  }
  const json done = server_->wait_run(kToken, id);
  EXPECT_EQ(done["status"], "completed");
  const json fan = done["result"]["outputs"]["Fan"];
  EXPECT_EQ(fan["2"]["data"], 0);  // C, approved first
  EXPECT_EQ(fan["1"]["data"], 1);
  EXPECT_EQ(fan["0"]["data"], 2);
}

// The approval gate (docs/waits.md#approval-before-a-tool) over HTTP: policy.approval puts a
// loader-inserted `<tool>:approval` wait before each priced tool, in each fan-out branch; approved
// out of order, each resumes only its branch, and each tool runs after its approval.
TEST_F(ServeWaits, PolicyApprovalsInFanoutBranchesAreListedAndApprovedOutOfOrderOverHttp) {
  json w = {{"format", "switchyard.workflow/v1"},
            {"name", "gated-three"},
            {"start", "Start"},
            {"goal", "Done"},
            {"policy", {{"approval", {{"above_usd", 1}}}}},
            {"tools",
             {{"PayA", {{"kind", "mock"}, {"price_usd", 5}, {"output", {{"paid", "a"}}}}},
              {"PayB", {{"kind", "mock"}, {"price_usd", 5}, {"output", {{"paid", "b"}}}}},
              {"PayC", {{"kind", "mock"}, {"price_usd", 5}, {"output", {{"paid", "c"}}}}},
              {"Done", {{"kind", "mock"}, {"idempotent", true}}}}},
            {"nodes",
             {{"Fan",
               {{"fanout",
                 {{"join", "all"},
                  {"branches",
                   {{{"start", "A0"}, {"goal", "PayA"}, {"edges", {{"A0", "PayA", 1}}}},
                    {{"start", "B0"}, {"goal", "PayB"}, {"edges", {{"B0", "PayB", 1}}}},
                    {{"start", "C0"}, {"goal", "PayC"}, {"edges", {{"C0", "PayC", 1}}}}}}}}}}}},
            {"edges", {{"Start", "Fan", 1}, {"Fan", "Done", 1}}}};
  add(w);
  const std::string id = run("gated-three", "gated-1");
  json waits = await_waits(id, 3);
  ASSERT_EQ(waits.size(), 3u) << waits.dump();
  std::set<std::string> ids;
  for (const auto& x : waits) {
    ids.insert(x["wait_id"].get<std::string>());
    EXPECT_EQ(x["kind"], "approval");
  }
  EXPECT_EQ(ids, (std::set<std::string>{"PayA:approval#1", "PayB:approval#1", "PayC:approval#1"}));
  for (const std::string tool : {"PayB", "PayC", "PayA"}) {
    auto r = decide(id, tool + ":approval%231", {{"decision", "approve"}, {"by", "ana"}});
    ASSERT_EQ(r.status, 200) << tool << ": " << r.body;
  }
  const json done = server_->wait_run(kToken, id);
  EXPECT_EQ(done["status"], "completed") << done.dump();
  std::vector<std::string> resolved;
  for (const auto& p : payloads(id, "wait_resolved")) resolved.push_back(p["wait"]);
  EXPECT_EQ(resolved,
            (std::vector<std::string>{"PayB:approval#1", "PayC:approval#1", "PayA:approval#1"}));
  std::vector<std::string> tools;
  for (const auto& p : payloads(id, "step_succeeded")) tools.push_back(p.value("tool", ""));
  for (const std::string tool : {"PayA", "PayB", "PayC"}) {
    const auto gate = std::find(tools.begin(), tools.end(), tool + ":approval");
    const auto ran = std::find(tools.begin(), tools.end(), tool);
    EXPECT_TRUE(gate != tools.end() && ran != tools.end() && gate < ran) << tool;
  }
}

TEST_F(ServeWaits, TheEventStreamCarriesWaitStartedLiveThenWaitResolved) {
  add(waits_refund_workflow("refund"));
  const std::string id = run("refund", "refund-sse", {{"amount", 250}});
  long status = 0;
  // Live: the stream stays open while the run is held, and wait_started is on it.
  auto live = read_sse(server_->url() + "/v1/runs/" + id + "/events", {bearer(kToken)}, &status,
                       kWaitsDeadline, [](const SseEvent& e) { return e.event == "wait_started"; });
  EXPECT_EQ(status, 200);
  ASSERT_FALSE(live.empty());
  ASSERT_EQ(live.back().event, "wait_started");
  const json started = json::parse(live.back().data);
  EXPECT_EQ(started["payload"]["wait"], "Approve#1");
  EXPECT_EQ(started["payload"]["kind"], "approval");

  // The wait is open from the moment its wait_started was handed to the journal: resolved the
  // instant the event arrived, without polling GET /v1/waits first.
  ASSERT_EQ(decide(id, "Approve%231", {{"decision", "approve"}}).status, 200);
  auto rest =
      read_sse(server_->url() + "/v1/runs/" + id + "/events",
               {bearer(kToken), "Last-Event-ID: " + live.back().id}, &status, kWaitsDeadline);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().event, "run_finished");
  std::vector<std::string> types;
  for (const auto& e : rest) types.push_back(e.event);
  ASSERT_FALSE(types.empty());
  EXPECT_EQ(types.front(), "wait_resolved");
  EXPECT_EQ(json::parse(rest.front().data)["payload"]["decision"], "approved");
}

TEST_F(ServeWaits, MetricsGaugeOpenWaitsAndCountResolutionsByDecision) {
  add(waits_refund_workflow("refund"));
  const std::string approved = R"(switchyard_wait_resolutions_total{decision="approved"})";
  const std::string rejected = R"(switchyard_wait_resolutions_total{decision="rejected"})";
  EXPECT_EQ(sample("switchyard_waits_open"), 0);
  EXPECT_EQ(sample(approved), 0);
  const std::string a = run("refund", "metrics-a", {{"amount", 250}});
  const std::string b = run("refund", "metrics-b", {{"amount", 300}});
  ASSERT_EQ(await_waits(a, 1).size(), 1u);
  ASSERT_EQ(await_waits(b, 1).size(), 1u);
  EXPECT_EQ(sample("switchyard_waits_open"), 2);
  ASSERT_EQ(decide(a, "Approve%231", {{"decision", "approve"}}).status, 200);
  ASSERT_EQ(decide(b, "Approve%231", {{"decision", "reject"}}).status, 200);
  server_->wait_run(kToken, a);
  server_->wait_run(kToken, b);
  EXPECT_EQ(sample("switchyard_waits_open"), 0);
  EXPECT_EQ(sample(approved), 1);
  EXPECT_EQ(sample(rejected), 1);
}

// The booking of docs/waits.md: a confirmation signal with a 24 h timeout.
TEST_F(ServeWaits, ABookingWaitsForItsSignalWithItsDueTimeAndTakesItsData) {
  add({{"format", "switchyard.workflow/v1"},
       {"name", "booking"},
       {"start", "Start"},
       {"goal", "Done"},
       {"tools",
        {{"Confirm", {{"kind", "wait"}, {"signal", "confirmed"}, {"timeout_ms", 86400000}}},
         {"Book", {{"kind", "mock"}}},
         {"Done", {{"kind", "mock"}}}}},
       {"edges", {{"Start", "Confirm", 1}, {"Confirm", "Book", 1}, {"Book", "Done", 1}}}});
  const std::string id = run("booking", "booking-1");
  const json waits = await_waits(id, 1);
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_EQ(waits[0]["kind"], "signal");
  EXPECT_EQ(waits[0]["name"], "confirmed");
  EXPECT_EQ(waits[0]["due_ms"].get<std::int64_t>(),
            waits[0]["started_ms"].get<std::int64_t>() + 86400000);
  EXPECT_EQ(signal(id, "cancelled", {{"data", 1}}).status, 404);
  auto r = signal(id, "confirmed", {{"data", {{"seat", "12A"}}}, {"by", "sms-webhook"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["wait_id"], "Confirm#1");
  const json done = server_->wait_run(kToken, id);
  EXPECT_EQ(done["result"]["outputs"]["Confirm"], (json{{"seat", "12A"}}));
}

// ---- The CLI against the served service ----

TEST_F(ServeWaits, CliListsApprovesRejectsAndSignalsWithJsonOutput) {
  add(waits_refund_workflow("refund"));
  add(waits_refund_workflow("refund2", /*also_confirm=*/true));
  const std::string a = run("refund", "cli-a", {{"amount", 250}});
  const std::string b = run("refund2", "cli-b", {{"amount", 250}});
  ASSERT_EQ(await_waits(a, 1).size(), 1u);
  ASSERT_EQ(await_waits(b, 1).size(), 1u);
  const std::string server = server_->url();
  const std::vector<std::string> env = {std::string("SWITCHYARD_TOKEN=") + kToken};

  auto listed = switchyard({"waits", "--server", server, "--json"}, "", env);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const json doc = parse_json(listed.out);
  ASSERT_EQ(doc["waits"].size(), 2u);
  EXPECT_EQ(doc["waits"][0]["wait_id"], "Approve#1");
  auto human = switchyard({"waits", "--server", server, "--token", kToken, "--run", a});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("cli-a"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("approval 'refund over $100'"), std::string::npos) << human.out;
  EXPECT_EQ(human.out.find("cli-b"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("1 open wait(s)"), std::string::npos) << human.out;

  auto approved = switchyard({"approve", b, "Approve#1", "--data", R"({"note": "VIP"})", "--by",
                              "ana", "--key", "k1", "--server", server, "--json"},
                             "", env);
  ASSERT_EQ(approved.exit_code, 0) << approved.err;
  EXPECT_EQ(parse_json(approved.out),
            (json{{"run_id", b}, {"wait_id", "Approve#1"}, {"decision", "approved"}}));
  ASSERT_EQ(await_waits(b, 1)[0]["wait_id"], "Confirm#1");
  auto signalled = switchyard(
      {"signal", b, "confirmed", "--data", R"({"seat": "12A"})", "--server", server}, "", env);
  ASSERT_EQ(signalled.exit_code, 0) << signalled.err;
  EXPECT_EQ(signalled.out, "run cli-b: wait Confirm#1 signalled (signal 'confirmed')\n");
  EXPECT_EQ(server_->wait_run(kToken, b)["result"]["outputs"]["Confirm"], (json{{"seat", "12A"}}));

  auto rejected = switchyard(
      {"reject", a, "Approve#1", "--reason", "fraud", "--by", "bo", "--server", server}, "", env);
  ASSERT_EQ(rejected.exit_code, 0) << rejected.err;
  EXPECT_EQ(rejected.out, "run cli-a: wait Approve#1 rejected\n");
  const json done = server_->wait_run(kToken, a);
  EXPECT_EQ(done["result"]["path"], (json{"Start", "Apologize", "Done"}));
  EXPECT_EQ(payloads(a, "wait_resolved")[0]["by"], "bo");
}

TEST_F(ServeWaits, CliShowsTheServersErrorsAndExitsByTheirKind) {
  const std::string server = server_->url();
  // A wrong token: the server's message, exit 2; as JSON too.
  auto wrong = switchyard({"waits", "--server", server, "--token", "nope"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("invalid bearer token"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("HTTP 401"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("SWITCHYARD_TOKEN"), std::string::npos) << wrong.err;
  auto wrong_json = switchyard({"waits", "--server", server, "--token", "nope", "--json"});
  EXPECT_EQ(wrong_json.exit_code, 2);
  const json e = parse_json(wrong_json.out)["error"];
  EXPECT_EQ(e["code"], "unauthenticated");
  EXPECT_EQ(e["http_status"], 401);
  // An unknown wait: the server's 404 message.
  auto unknown =
      switchyard({"approve", "no-such-run", "Approve#1", "--server", server, "--token", kToken});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("run no-such-run has no open wait 'Approve#1'"), std::string::npos)
      << unknown.err;
  // --data that is not JSON is refused before anything is sent.
  auto bad = switchyard({"signal", "r", "confirmed", "--data", "{nope", "--server", server});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--data"), std::string::npos) << bad.err;
  // No service there: exit 3.
  auto down = switchyard({"waits", "--server", "http://127.0.0.1:1", "--token", kToken});
  EXPECT_EQ(down.exit_code, 3);
  EXPECT_NE(down.err.find("cannot reach the service at http://127.0.0.1:1"), std::string::npos)
      << down.err;
}

}  // namespace
}  // namespace switchyard::testing
