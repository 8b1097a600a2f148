// Health monitors across runs: one run's failure protects the next, a breaker recovers through a
// trial call, graded weights steer traffic before anything fails, a rate-limited service is left
// alone until Retry-After, and unknown failures heal mid-run like known ones.

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <filesystem>

#include "graph/load.h"
#include "monitors/health_table.h"
#include "runtime/engine.h"
#include "runtime/eval.h"
#include "runtime/runner.h"
#include "runtime/system_clock.h"
#include "tests/support/fault_server.h"
#include "tests/support/run_command.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

// Start -> A -> Goal (cheap) or Start -> B -> Goal (dearer).
std::shared_ptr<const graph::Workflow> two_ways(const std::string& a, const std::string& b,
                                                double b_cost = 3) {
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "two", "start": "Start",
    "goal": "Goal", "tools": {"A": )" + a + R"(, "B": )" + b + R"(,
      "Goal": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "A", 1], ["A", "Goal", 0], ["Start", "B", )" + std::to_string(b_cost) +
                                R"(], ["B", "Goal", 0]],
    "policy": {"breaker": {"failures": 1, "cooldown_ms": 1000}}})",
                            "two.json");
  EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.errors[0].to_string());
  return loaded.workflow;
}

// A tool whose health the test switches; counts its calls.
class Switchable : public tools::Tool {
 public:
  void invoke(const tools::Invocation&, Done done) override {
    ++calls;
    done(broken ? tools::Outcome::failed(tools::FailureKind::kConnect, "refused")
                : tools::Outcome::success({{"ok", true}}));
  }
  std::atomic<bool> broken{false};
  std::atomic<int> calls{0};
};

struct Fixture {
  std::shared_ptr<const graph::Workflow> w;
  std::shared_ptr<tools::ToolSet> tools;
  Switchable* a = nullptr;
};

Fixture with_switchable_a() {
  Fixture f;
  f.w = two_ways(R"({"kind": "mock"})", R"({"kind": "mock"})");
  std::vector<std::unique_ptr<tools::Tool>> list;
  for (graph::ToolIndex t = 0; t < f.w->tools().size(); ++t) {
    if (f.w->tool(t).id == "A") {
      auto a = std::make_unique<Switchable>();
      f.a = a.get();
      list.push_back(std::move(a));
    } else {
      auto tool = tools::make_tool(*f.w, t);
      list.push_back(std::move(*tool));
    }
  }
  f.tools = std::make_shared<tools::ToolSet>(std::move(list));
  return f;
}

std::vector<Event> of_type(const Journal& journal, const std::string& run, const std::string& type) {
  std::vector<Event> out;
  auto events = journal.events(run);
  if (!events.ok()) return out;
  for (const auto& e : *events) {
    if (e.type == type) out.push_back(e);
  }
  return out;
}

RunReport run_once(Runner& runner, const std::string& id) {
  RunRequest request;
  request.run_id = id;
  auto report = runner.run(request);
  EXPECT_TRUE(report.ok()) << report.status().message();
  return report.ok() ? *report : RunReport{};
}

TEST(MonitorRuns, OneRunsFailureProtectsTheNext) {
  Fixture f = with_switchable_a();
  f.a->broken = true;
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  Runner runner(f.w, f.tools, *journal, clock, health);
  EXPECT_EQ(run_once(runner, "r1").result.path, (std::vector<std::string>{"Start", "B", "Goal"}));
  auto opened = of_type(*journal, "r1", "breaker");
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0].payload["tool"], "A");
  EXPECT_EQ(opened[0].payload["to"], "open");
  // The next run knows before its first step: A is excluded, not called.
  EXPECT_EQ(run_once(runner, "r2").result.path, (std::vector<std::string>{"Start", "B", "Goal"}));
  EXPECT_EQ(f.a->calls, 1);
  auto started = of_type(*journal, "r2", "run_started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].payload["known_down"], nlohmann::json({"A"}));
}

// B holds the first call's answer until released; later calls answer at once.
class HeldOnce : public tools::Tool {
 public:
  void invoke(const tools::Invocation&, Done done) override {
    std::unique_lock lock(mu);
    if (!first) {
      first = std::move(done);
      reached.set_value();
      return;
    }
    lock.unlock();
    done(tools::Outcome::success({{"b", true}}));
  }
  void release() {
    Done d;
    {
      std::lock_guard lock(mu);
      d = std::move(first);
    }
    d(tools::Outcome::success({{"b", true}}));
  }
  std::mutex mu;
  Done first;
  std::promise<void> reached;
};

TEST(MonitorRuns, ConcurrentRunsShareTheBreaker) {
  // Run 1 meets A refusing connections (the breaker opens) and, still in flight, waits on B.
  // Meanwhile 199 more runs start: every one of them avoids A; only run 1 ever called it.
  auto w = two_ways(R"({"kind": "mock"})", R"({"kind": "mock"})");
  auto a = std::make_unique<Switchable>();
  a->broken = true;
  auto b = std::make_unique<HeldOnce>();
  Switchable* a_ptr = a.get();
  HeldOnce* b_ptr = b.get();
  std::vector<std::unique_ptr<tools::Tool>> list;
  for (graph::ToolIndex t = 0; t < w->tools().size(); ++t) {
    if (w->tool(t).id == "A") {
      list.push_back(std::move(a));
    } else if (w->tool(t).id == "B") {
      list.push_back(std::move(b));
    } else {
      auto tool = tools::make_tool(*w, t);
      list.push_back(std::move(*tool));
    }
  }
  auto tool_set = std::make_shared<tools::ToolSet>(std::move(list));
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  constexpr int kRuns = 200;
  std::atomic<int> via_b{0}, finished{0};
  std::promise<void> others_done;  // run 1 cannot finish before B is released
  auto count = [&](Result<RunReport> r) {
    if (r.ok() && r->result.path == std::vector<std::string>{"Start", "B", "Goal"}) ++via_b;
    if (++finished == kRuns - 1) others_done.set_value();
  };
  {
    Engine engine(*journal, clock, health, {.threads = 2});
    engine.start(w, tool_set, {}, count);
    b_ptr->reached.get_future().wait();  // run 1 has failed on A and is waiting on B
    EXPECT_TRUE(health.is_down("A"));
    for (int i = 1; i < kRuns; ++i) engine.start(w, tool_set, {}, count);
    others_done.get_future().wait();
    b_ptr->release();
    engine.wait_idle();
  }
  EXPECT_EQ(via_b, kRuns);
  EXPECT_EQ(a_ptr->calls, 1);
}

TEST(MonitorRuns, AfterTheCooldownOneTrialCallClosesTheBreaker) {
  Fixture f = with_switchable_a();
  f.a->broken = true;
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);
  Runner runner(f.w, f.tools, *journal, clock, health);
  run_once(runner, "r1");  // opens A
  f.a->broken = false;     // the service comes back
  clock.advance(std::chrono::milliseconds(1000));
  EXPECT_EQ(run_once(runner, "r2").result.path, (std::vector<std::string>{"Start", "A", "Goal"}));
  auto transitions = of_type(*journal, "r2", "breaker");
  ASSERT_EQ(transitions.size(), 2u);
  EXPECT_EQ(transitions[0].payload["to"], "half_open");
  EXPECT_EQ(transitions[1].payload["to"], "closed");
  EXPECT_FALSE(health.is_down("A"));
}

TEST(MonitorRuns, GradedWeightsSteerTrafficFromASlowToolBeforeAnythingFails) {
  // A is cheaper by base cost but answers in 300 ms; B costs 1.5 and answers in 10 ms.
  auto w = two_ways(R"({"kind": "mock", "latency_ms": 300})", R"({"kind": "mock", "latency_ms": 10})",
                    1.5);
  auto tools = *tools::make_tool_set(*w);
  auto journal = make_memory_journal();
  ManualClock clock;
  monitors::HealthTable health(clock);  // warm-up: 3 samples
  Runner runner(w, tools, *journal, clock, health);
  std::vector<std::string> first;
  for (int i = 0; i < 3; ++i) {
    first.push_back(run_once(runner, "w" + std::to_string(i)).result.path[1]);
  }
  EXPECT_EQ(first, (std::vector<std::string>{"A", "A", "A"}));
  // Now A weighs 1 x max(0.5, 300/100) = 3 > 1.5: the next run takes B, with no failure at all.
  auto report = run_once(runner, "w3");
  EXPECT_EQ(report.result.path, (std::vector<std::string>{"Start", "B", "Goal"}));
  EXPECT_EQ(report.result.reroutes, 0);
  auto started = of_type(*journal, "w3", "run_started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_DOUBLE_EQ(started[0].payload["factors"]["A"].get<double>(), 3.0);
  // ...and the journal says the weights changed the route, and how.
  auto reweighted = of_type(*journal, "w3", "reweighted");
  ASSERT_EQ(reweighted.size(), 1u);
  EXPECT_EQ(reweighted[0].payload["old_route"], nlohmann::json({"Start", "A", "Goal"}));
  EXPECT_EQ(reweighted[0].payload["new_route"], nlohmann::json({"Start", "B", "Goal"}));
  EXPECT_DOUBLE_EQ(reweighted[0].payload["factors"]["A"]["new"].get<double>(), 3.0);
  EXPECT_TRUE(of_type(*journal, "w2", "reweighted").empty());  // same route: nothing to say
}

TEST(MonitorRuns, ARateLimitedServiceGetsNoRequestBeforeRetryAfter) {
  testing::FaultServer server;
  auto w = two_ways(R"({"kind": "http", "url": ")" + server.url("/ratelimit/60") + R"("})",
                    R"({"kind": "http", "url": ")" + server.url("/ok/b") + R"("})");
  auto tools = *tools::make_tool_set(*w);
  auto journal = make_memory_journal();
  SystemClock clock;
  monitors::HealthTable health(clock);
  Runner runner(w, tools, *journal, clock, health);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(run_once(runner, "r" + std::to_string(i)).result.path,
              (std::vector<std::string>{"Start", "B", "Goal"}));
  }
  auto stats = server.stats()["by_path"];
  EXPECT_EQ(stats["/ratelimit/60"], 1);  // the 429; then nothing for 60 s
  EXPECT_EQ(stats["/ok/b"], 3);
  auto failed = of_type(*journal, "r0", "step_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].payload["failure"], "rate_limited");
}

TEST(MonitorRuns, AProbeClosesAnOpenBreakerWithoutARealCallFailingFirst) {
  testing::FaultServer server;
  // A fails once (503) then would answer; its breaker opens for 60 s. Its probe says it is back.
  auto loaded = graph::load(R"({"format": "switchyard.workflow/v1", "name": "probe", "start": "Start",
    "goal": "Goal", "tools": {
      "A": {"kind": "http", "url": ")" + server.url("/flaky/1/a") + R"(",
            "probe": ")" + server.url("/ok/health-a") + R"("},
      "B": {"kind": "mock"}, "Goal": {"kind": "mock", "idempotent": true}},
    "edges": [["Start", "A", 1], ["A", "Goal", 0], ["Start", "B", 3], ["B", "Goal", 0]],
    "policy": {"breaker": {"failures": 1, "cooldown_ms": 60000}}})",
                            "probe.json");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  auto w = loaded.workflow;
  auto tools = *tools::make_tool_set(*w);
  auto journal = make_memory_journal();
  SystemClock clock;
  monitors::HealthTable health(clock);
  std::promise<void> recovered;
  std::atomic<bool> told{false};
  Engine engine(*journal, clock, health,
                {.threads = 1, .probe_interval = std::chrono::milliseconds(20),
                 .on_probe = [&](const std::string& tool, bool ok) {
                   if (tool == "A" && ok && !told.exchange(true)) recovered.set_value();
                 }});
  auto run = [&](const std::string& id) {
    RunRequest request;
    request.run_id = id;
    auto report = engine.submit(w, tools, request).get();
    EXPECT_TRUE(report.ok());
    return report.ok() ? report->result.path : std::vector<std::string>{};
  };
  EXPECT_EQ(run("r1"), (std::vector<std::string>{"Start", "B", "Goal"}));
  EXPECT_TRUE(health.is_down("A"));
  recovered.get_future().wait();  // the probe answered 200
  EXPECT_FALSE(health.is_down("A"));
  EXPECT_EQ(run("r2"), (std::vector<std::string>{"Start", "A", "Goal"}));
  auto stats = server.stats()["by_path"];
  EXPECT_EQ(stats["/flaky/1/a"], 2);  // the failure, then the real call after recovery
  EXPECT_GE(stats["/ok/health-a"].get<int>(), 1);
}

TEST(MonitorRuns, UnknownFailuresOfThePaperScenariosReachTheSameStatuses) {
  // Every paper scenario with `known: false`: its down tools are discovered mid-run and healed
  // from where the run stands, never silently.
  testing::TempDir dir;
  int scenarios = 0;
  for (const char* domain : {"CS", "TB", "CM"}) {
    for (int i = 1; i <= 7; ++i) {
      const std::string id = std::string(domain) + "-" + std::to_string(i);
      const std::string path = testing::paper_scenario(id);
      if (!std::filesystem::exists(path)) continue;
      auto doc = nlohmann::json::parse(testing::read_text(path));
      doc["scenario"]["known"] = false;
      const std::string status = doc["scenario"]["expect"]["status"];
      doc["scenario"]["expect"].erase("path");
      doc["scenario"]["expect"].erase("reroutes");
      const std::string copy = dir.write(id + ".json", doc.dump());
      auto report = evaluate({copy}, {.baselines = false, .measure_routing = false});
      ASSERT_TRUE(report.ok()) << report.status().message();
      const ScenarioResult& r = report->scenarios.at(0);
      EXPECT_EQ(r.status, status) << id;
      EXPECT_EQ(r.silent_failures, 0) << id;
      // A dead end found mid-run escalates after steps that already ran; those are left for the
      // human (policy.compensate_on_escalation is off in the paper's files). Elsewhere: none.
      if (status != "escalated") {
        EXPECT_EQ(r.side_effects_abandoned, 0) << id;
      }
      ++scenarios;
    }
  }
  EXPECT_EQ(scenarios, 19);
}

}  // namespace
}  // namespace switchyard::runtime
