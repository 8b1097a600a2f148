// The embedding API through its public header only, as an embedding program sees it: loading
// workflows (errors with JSON pointers), builtin tools (sync, async, failing, throwing), budgets,
// and the three ways to start a run (callback, future, co_await).
// Nothing sleeps: tests wait on futures with a bounded timeout.

#include <gtest/gtest.h>
#include <switchyard/switchyard.h>

#include <atomic>
#include <coroutine>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "api_test_support.h"

namespace switchyard::api_test {
namespace {

TEST(ApiWorkflow, LoadErrorsCarryTheFileAndTheJsonPointerOfEachProblem) {
  json w = {{"format", "switchyard.workflow/v1"},
            {"name", "bad"},
            {"start", "Start"},
            {"goal", "A"},
            {"tools", {{"A", {{"kind", "teleport"}}}}},
            {"edges", json::array({json::array({"Start", "A", -1})})}};
  auto loaded = api::Workflow::from_json(w.dump(), "bad.json");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), api::StatusCode::kInvalidArgument);
  const auto& d = loaded.status().diagnostics();
  ASSERT_GE(d.size(), 2u);
  EXPECT_EQ(d[0].file, "bad.json");
  std::vector<std::string> pointers;
  for (const auto& x : d) pointers.push_back(x.pointer);
  EXPECT_NE(std::find(pointers.begin(), pointers.end(), "/tools/A/kind"), pointers.end());
  EXPECT_NE(std::find(pointers.begin(), pointers.end(), "/edges/0/2"), pointers.end());
  EXPECT_NE(loaded.status().message().find("bad.json: /"), std::string::npos);
}

TEST(ApiWorkflow, MissingFileIsOneDiagnosticNamingIt) {
  auto loaded = api::Workflow::from_file("/nonexistent/w.json");
  ASSERT_FALSE(loaded.ok());
  ASSERT_EQ(loaded.status().diagnostics().size(), 1u);
  EXPECT_EQ(loaded.status().diagnostics()[0].file, "/nonexistent/w.json");
  EXPECT_EQ(loaded.status().diagnostics()[0].pointer, "");
}

TEST(ApiWorkflow, NamesTheBuiltinsItNeeds) {
  auto w = chain({"b", "a", "b"});
  EXPECT_EQ(w.builtins(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(w.name(), "chain");
  EXPECT_EQ(w.hash().size(), 64u);
}

TEST(ApiRuns, SyncBuiltinsSeeTheInputAndEarlierSteps) {
  auto rt = open_runtime();
  ASSERT_TRUE(add_echo(*rt).ok());
  auto w = chain({"echo", "echo", "echo"});
  auto run = rt->run(w, {.input = {{"customer", "ada"}}});
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->status, api::RunStatus::kCompleted);
  EXPECT_EQ(run->path, (std::vector<std::string>{"Start", "T0", "T1", "T2"}));
  EXPECT_EQ(output_of(*rt, run->run_id, "T2")["steps_seen"], 2);
  EXPECT_EQ(output_of(*rt, run->run_id, "T0")["customer"], "ada");
}

TEST(ApiRuns, TheSummaryReturnsTheGoalStepsOutputAndEveryStepsOutput) {
  TempDir dir;
  auto rt = open_runtime({.journal_path = dir.file("journal.db")});
  ASSERT_TRUE(add_echo(*rt).ok());
  ASSERT_TRUE(rt->add_tool("ship", [](const json&) -> api::Result<json> {
                  return json{{"tracking", "1Z999AA10123456784"}};
                }).ok());
  auto w = chain({"echo", "ship"});
  auto run = rt->run(w, {.input = {{"customer", "ada"}}});
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  ASSERT_TRUE(run->succeeded());
  EXPECT_EQ(run->output, (json{{"tracking", "1Z999AA10123456784"}}));
  EXPECT_EQ(run->outputs, (json{{"T0", output_of(*rt, run->run_id, "T0")}, {"T1", run->output}}));
  EXPECT_EQ(run->outputs["T0"]["customer"], "ada");
  EXPECT_FALSE(run->output_truncated);
  EXPECT_TRUE(run->outputs_dropped.empty());
  EXPECT_EQ(run->json["output"], run->output);
  EXPECT_EQ(run->json["outputs"], run->outputs);
  // Journaled: in run_finished, and in the run's result read back.
  EXPECT_EQ(payloads_of(*rt, run->run_id, "run_finished").back()["output"], run->output);
  auto info = rt->get_run(run->run_id);
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->result["output"], run->output);
  EXPECT_EQ(info->result["outputs"], run->outputs);
  // A run on an engine thread returns the same.
  auto f = rt->submit(w, {.input = {{"customer", "bob"}}});
  auto submitted = await(f);
  ASSERT_TRUE(submitted.ok()) << submitted.status().to_string();
  EXPECT_EQ(submitted->output, run->output);
  EXPECT_EQ(submitted->outputs["T0"]["customer"], "bob");
}

TEST(ApiRuns, AnEscalatedSummaryHasNoOutputButKeepsWhatItsStepsReturned) {
  auto rt = open_runtime();
  ASSERT_TRUE(add_echo(*rt).ok());
  ASSERT_TRUE(rt->add_tool("down", [](const json&) -> api::Result<json> {
                  return api::Status(api::StatusCode::kUnavailable, "down");
                }).ok());
  auto run = rt->run(chain({"echo", "down"}), {.input = {{"customer", "ada"}}});
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->status, api::RunStatus::kEscalated);
  EXPECT_TRUE(run->output.is_null());
  EXPECT_FALSE(run->output_truncated);
  ASSERT_EQ(run->outputs.size(), 1u);
  EXPECT_EQ(run->outputs["T0"]["customer"], "ada");
}

TEST(ApiRuns, AsyncBuiltinAnswersFromAnotherThread) {
  auto rt = open_runtime();
  std::mutex mu;
  std::vector<std::thread> workers;
  ASSERT_TRUE(rt->add_async_tool("later", [&](const json& ctx, api::ToolReply reply) {
                  // An abort holding the reply must not keep it alive once answered (LSan).
                  reply.on_cancel([reply] { reply(api::Status(api::StatusCode::kCancelled, "")); });
                  std::lock_guard lock(mu);
                  workers.emplace_back([reply, n = ctx["steps"].size()] {
                    reply(json{{"answered_by", "worker"}, {"n", n}});
                  });
                }).ok());
  auto run = rt->run(chain({"later", "later"}), {});
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->status, api::RunStatus::kCompleted);
  EXPECT_EQ(output_of(*rt, run->run_id, "T1")["n"], 1);
  for (auto& t : workers) t.join();
}

TEST(ApiRuns, RunDrivesTheRunOnTheCallingThreadAndItsEventsWithAJournalInMemory) {
  auto rt = open_runtime();
  std::mutex mu;
  std::set<std::thread::id> tool_threads, event_threads;
  ASSERT_TRUE(rt->add_tool("where", [&](const api::ToolCall&) -> api::Result<json> {
                  std::lock_guard lock(mu);
                  tool_threads.insert(std::this_thread::get_id());
                  return json::object();
                }).ok());
  int events = 0;
  auto run = rt->run(chain({"where", "where"}), {.on_event = [&](const api::Event&) {
                       std::lock_guard lock(mu);
                       event_threads.insert(std::this_thread::get_id());
                       ++events;
                     }});
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->status, api::RunStatus::kCompleted);
  std::lock_guard lock(mu);
  EXPECT_EQ(tool_threads, std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(event_threads, std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(events, static_cast<int>(rt->events(run->run_id)->size()));
  EXPECT_EQ(rt->in_flight(), 0u);
}

TEST(ApiRuns, ARunStartedFromInsideAToolRunsToItsEnd) {
  auto rt = open_runtime({.threads = 1});
  ASSERT_TRUE(add_echo(*rt).ok());
  const api::Workflow inner = chain({"echo"});
  ASSERT_TRUE(rt->add_tool("sub", [&](const api::ToolCall&) -> api::Result<json> {
                  auto r = rt->run(inner, {});
                  if (!r.ok()) return r.status();
                  return json{{"sub_run", r->run_id},
                              {"completed", r->status == api::RunStatus::kCompleted}};
                }).ok());
  // Once through run() (the calling thread's loop) and once through start() (an engine thread,
  // the only one: the inner run must not wait for it).
  auto direct = rt->run(chain({"sub"}), {});
  ASSERT_TRUE(direct.ok()) << direct.status().to_string();
  EXPECT_EQ(output_of(*rt, direct->run_id, "T0")["completed"], true);
  auto started = rt->submit(chain({"sub"}), {});
  auto via_engine = await(started);
  ASSERT_TRUE(via_engine.ok()) << via_engine.status().to_string();
  EXPECT_EQ(output_of(*rt, via_engine->run_id, "T0")["completed"], true);
}

TEST(ApiRuns, BuiltinFailureIsRoutedAroundAndCodesBecomeFailureKinds) {
  auto rt = open_runtime();
  ASSERT_TRUE(add_echo(*rt).ok());
  ASSERT_TRUE(rt->add_tool("down", [](const json&) -> api::Result<json> {
                  return api::Status(api::StatusCode::kUnavailable, "service down");
                }).ok());
  // Start -> T0 (down) -> Goal, or Start -> Alt (echo) -> Goal, dearer.
  json w = {
      {"format", "switchyard.workflow/v1"},
      {"name", "detour"},
      {"start", "Start"},
      {"goal", "Goal"},
      {"tools",
       {{"T0", {{"kind", "builtin"}, {"name", "down"}}},
        {"Alt", {{"kind", "builtin"}, {"name", "echo"}}},
        {"Goal", {{"kind", "builtin"}, {"name", "echo"}}}}},
      {"edges", {{"Start", "T0", 1}, {"Start", "Alt", 5}, {"T0", "Goal", 1}, {"Alt", "Goal", 1}}}};
  auto loaded = api::Workflow::from_json(w.dump(), "detour.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  auto run = rt->run(*loaded, {});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, api::RunStatus::kCompleted);
  EXPECT_EQ(run->reroutes, 1);
  EXPECT_EQ(run->path, (std::vector<std::string>{"Start", "Alt", "Goal"}));
  auto events = rt->events(run->run_id);
  ASSERT_TRUE(events.ok());
  bool unavailable = false;
  for (const auto& e : *events) {
    if (e.type == "step_failed") unavailable = e.payload.value("failure", "") == "unavailable";
  }
  EXPECT_TRUE(unavailable);
}

TEST(ApiRuntime, HealthListsEachToolTheMonitorSawWithItsFailures) {
  auto rt = open_runtime();
  EXPECT_EQ(rt->health(), json::array());  // nothing called yet
  ASSERT_TRUE(add_echo(*rt).ok());
  ASSERT_TRUE(rt->add_tool("down", [](const json&) -> api::Result<json> {
                  return api::Status(api::StatusCode::kUnavailable, "service down");
                }).ok());
  auto run = rt->run(chain({"echo", "down"}), {});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, api::RunStatus::kEscalated);
  std::map<std::string, json> by_tool;
  for (const auto& h : rt->health()) by_tool[h.at("tool").get<std::string>()] = h;
  ASSERT_EQ(by_tool.size(), 2u);
  EXPECT_EQ(by_tool.at("T0").at("consecutive_failures"), 0);
  EXPECT_GE(by_tool.at("T1").at("consecutive_failures").get<int>(), 1);
  EXPECT_NE(by_tool.at("T1").at("last_failure").dump().find("service down"), std::string::npos);
}

TEST(ApiRuns, ToolThatThrowsFailsItsStepInsteadOfTheProcess) {
  auto rt = open_runtime();
  ASSERT_TRUE(rt->add_tool("throws", [](const json&) -> api::Result<json> {
                  throw std::runtime_error("boom");
                }).ok());
  auto run = rt->run(chain({"throws"}), {});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, api::RunStatus::kEscalated);
}

TEST(ApiRuns, RunBudgetCapsWhatTheRunMaySpend) {
  auto rt = open_runtime();
  json doc = {{"format", "switchyard.workflow/v1"},
              {"name", "paid"},
              {"start", "Start"},
              {"goal", "Paid"},
              {"tools", {{"Paid", {{"kind", "mock"}, {"price_usd", 0.02}}}}},
              {"edges", {{"Start", "Paid", 1}}}};
  auto paid = api::Workflow::from_json(doc.dump(), "paid.json");
  ASSERT_TRUE(paid.ok()) << paid.status().message();
  auto free_run = rt->run(*paid, {});
  ASSERT_TRUE(free_run.ok());
  EXPECT_EQ(free_run->status, api::RunStatus::kCompleted);
  EXPECT_DOUBLE_EQ(free_run->spent_usd, 0.02);
  auto capped = rt->run(*paid, {.budget = {.usd = 0.01}});
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->status, api::RunStatus::kEscalated);  // the call was not made
  EXPECT_DOUBLE_EQ(capped->spent_usd, 0.0);
}

TEST(ApiRuns, StartReturnsTheIdAndCallsDoneOnceWithTheSummary) {
  auto rt = open_runtime();
  ASSERT_TRUE(add_echo(*rt).ok());
  std::promise<api::Result<api::RunSummary>> done;
  auto future = done.get_future();
  std::atomic<int> calls{0};
  auto id =
      rt->start(chain({"echo"}), {.run_id = "r-callback"}, [&](api::Result<api::RunSummary> r) {
        if (++calls == 1) done.set_value(std::move(r));
      });
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "r-callback");
  auto run = await(future);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->run_id, "r-callback");
  rt->wait_idle();
  EXPECT_EQ(calls.load(), 1);
}

TEST(ApiRuns, StartOfAWorkflowWithAnUnregisteredBuiltinFailsAtOnce) {
  auto rt = open_runtime();
  bool called = false;
  auto id = rt->start(chain({"nobody"}), {}, [&](api::Result<api::RunSummary>) { called = true; });
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), api::StatusCode::kInvalidArgument);
  EXPECT_NE(id.status().message().find("nobody"), std::string::npos);
  auto future = rt->submit(chain({"nobody"}), {});
  EXPECT_FALSE(await(future).ok());
  EXPECT_FALSE(called);
}

TEST(ApiRuns, StartOfAWorkflowWithAnLlmToolNeedsModelTiers) {
  auto rt = open_runtime();
  json doc = {{"format", "switchyard.workflow/v1"},
              {"name", "ask"},
              {"start", "Start"},
              {"goal", "Ask"},
              {"tools", {{"Ask", {{"kind", "llm"}, {"prompt", "hello"}}}}},
              {"edges", {{"Start", "Ask", 1}}}};
  auto ask = api::Workflow::from_json(doc.dump(), "ask.json");
  ASSERT_TRUE(ask.ok()) << ask.status().message();
  auto id = rt->start(*ask, {}, [](api::Result<api::RunSummary>) {});
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), api::StatusCode::kInvalidArgument);
  EXPECT_NE(id.status().message().find("Ask"), std::string::npos);
}

TEST(ApiRuns, SubmitRunsManyConcurrentlyAsFutures) {
  auto rt = open_runtime();
  ASSERT_TRUE(add_echo(*rt).ok());
  auto w = chain({"echo", "echo"});
  std::vector<std::future<api::Result<api::RunSummary>>> futures;
  for (int i = 0; i < 50; ++i) futures.push_back(rt->submit(w, {.input = {{"i", i}}}));
  for (auto& f : futures) {
    auto r = await(f);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, api::RunStatus::kCompleted);
  }
}

// The smallest coroutine type: starts at once, nothing to await it by.
struct Detached {
  struct promise_type {
    Detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

// Two runs one after the other, each co_awaited; the paths of both go to `out`.
Detached two_runs(api::Runtime& rt, api::Workflow w, std::promise<std::vector<std::string>>& out) {
  std::vector<std::string> statuses;
  // (Options built before co_await: GCC 12 miscompiles braced temporaries inside it.)
  api::RunOptions options;
  options.input["n"] = 1;
  api::Result<api::RunSummary> first = co_await rt.run_async(w, options);
  statuses.push_back(first.ok() ? std::string(api::to_string(first->status)) : "error");
  options.input["n"] = 2;
  auto second = co_await rt.run_async(w, options);
  statuses.push_back(second.ok() ? std::string(api::to_string(second->status)) : "error");
  out.set_value(statuses);
}

TEST(ApiRuns, CoAwaitedRunsResumeTheCoroutineWithTheirSummaries) {
  auto rt = open_runtime();
  ASSERT_TRUE(add_echo(*rt).ok());
  std::promise<std::vector<std::string>> out;
  auto future = out.get_future();
  two_runs(*rt, chain({"echo", "echo"}), out);
  EXPECT_EQ(await(future), (std::vector<std::string>{"completed", "completed"}));
}

Detached failed_start(api::Runtime& rt, api::Workflow w, std::promise<api::Status>& out) {
  api::RunOptions options;
  auto r = co_await rt.run_async(w, options);
  out.set_value(r.status());
}

TEST(ApiRuns, CoAwaitOfARunThatCannotStartContinuesAtOnceWithTheError) {
  auto rt = open_runtime();
  std::promise<api::Status> out;
  auto future = out.get_future();
  failed_start(*rt, chain({"nobody"}), out);
  EXPECT_EQ(await(future).code(), api::StatusCode::kInvalidArgument);
}

Detached one_run(api::Runtime& rt, api::Workflow w,
                 std::promise<api::Result<api::RunSummary>>& out) {
  api::RunOptions options;
  out.set_value(co_await rt.run_async(w, options));
}

TEST(ApiRuns, DestroyingTheRuntimeResumesACoAwaitedRunInFlightFailed) {
  auto rt = open_runtime();
  std::promise<void> called;
  auto in_call = called.get_future();
  ASSERT_TRUE(rt->add_async_tool("pending", [&called](const json&, api::ToolReply reply) {
                  // Answers only when cancelled: the run is in flight until the Runtime goes.
                  reply.on_cancel([reply] { reply(api::Status(api::StatusCode::kCancelled, "")); });
                  called.set_value();
                }).ok());
  std::promise<api::Result<api::RunSummary>> out;
  auto future = out.get_future();
  one_run(*rt, chain({"pending"}), out);
  ASSERT_EQ(in_call.wait_for(kWait), std::future_status::ready);
  rt.reset();  // resumes the coroutine before it returns
  ASSERT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  auto run = future.get();
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  EXPECT_EQ(run->status, api::RunStatus::kFailed);
  EXPECT_EQ(run->message, "cancelled: engine shutdown");
}

TEST(ApiBuiltinArgs, OneFunctionServesManyToolsByTheirIdsAndRenderedArgs) {
  auto rt = open_runtime();
  ASSERT_TRUE(rt->add_tool("score", [](const api::ToolCall& call) -> api::Result<json> {
                  return json{{"tool", call.tool()}, {"args", call.args()}};
                }).ok());
  auto w = chain(
      {"score", "score"},
      {{"T0",
        {{"args", {{"weight", 2}, {"order", "{{input.order}}"}, {"label", "item-{{input.n}}"}}}}},
       {"T1", {{"args", {{"weight", 5}, {"prev", "{{steps.T0.output.args.weight}}"}}}}}});
  auto r = rt->run(w, {.input = {{"order", {{"id", 7}}}, {"n", 3}}, .run_id = "r-args"});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->status, api::RunStatus::kCompleted) << r->message;
  // A string that is one reference passes the value with its type; any other renders as text.
  EXPECT_EQ(output_of(*rt, "r-args", "T0"),
            (json{{"tool", "T0"},
                  {"args", {{"weight", 2}, {"order", {{"id", 7}}}, {"label", "item-3"}}}}));
  EXPECT_EQ(output_of(*rt, "r-args", "T1"),
            (json{{"tool", "T1"}, {"args", {{"weight", 5}, {"prev", 2}}}}));
}

TEST(ApiBuiltinArgs, ATypedReadOfAMissingValueFailsTheStepNamingThePointer) {
  auto rt = open_runtime();
  ASSERT_TRUE(rt->add_tool("lookup", [](const api::ToolCall& call) -> api::Result<json> {
                  auto id = call.string_at("/input/order/id");
                  if (!id.ok()) return id.status();
                  auto table = call.string_at("/args/table");
                  if (!table.ok()) return table.status();
                  return json{{"row", *table + "/" + *id}};
                }).ok());
  auto w = chain({"lookup"}, {{"T0", {{"args", {{"table", "orders"}}}}}});
  auto found = rt->run(w, {.input = {{"order", {{"id", "o-1"}}}}, .run_id = "r-found"});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->status, api::RunStatus::kCompleted) << found->message;
  EXPECT_EQ(output_of(*rt, "r-found", "T0"), (json{{"row", "orders/o-1"}}));

  // Missing: a `template` failure; of another type: `bad_output`. The run escalates (no other
  // route) and says why.
  auto missing = rt->run(w, {.input = {{"order", json::object()}}, .run_id = "r-missing"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, api::RunStatus::kEscalated);
  // The run's own message names the step and the pointer, not only "unreachable".
  EXPECT_NE(missing->message.find("after T0 failed: T0: /input/order/id: missing"),
            std::string::npos)
      << missing->message;
  auto failed = payloads_of(*rt, "r-missing", "step_failed");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0]["failure"], "template");
  EXPECT_EQ(failed[0]["reason"], "T0: /input/order/id: missing (expected a string)");
  auto wrong = rt->run(w, {.input = {{"order", {{"id", 7}}}}, .run_id = "r-wrong"});
  ASSERT_TRUE(wrong.ok());
  failed = payloads_of(*rt, "r-wrong", "step_failed");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0]["failure"], "bad_output");
  EXPECT_EQ(failed[0]["reason"], "T0: /input/order/id: expected a string, got number 7");
}

TEST(ApiBuiltinArgs, TypedReadsConvertOrSayWhatIsThere) {
  auto rt = open_runtime();
  json seen;
  ASSERT_TRUE(rt->add_tool("probe", [&seen](const api::ToolCall& call) -> api::Result<json> {
                  seen = {{"n", call.number_at("/args/ratio").value()},
                          {"i", call.integer_at("/input/count").value()},
                          {"b", call.boolean_at("/args/strict").value()},
                          {"v", call.value_at("/input/list/1").value()},
                          {"whole", call.value_at("/args").value()},
                          {"bad_pointer", call.string_at("input").status().message()},
                          {"past_end", call.value_at("/input/list/9").status().message()},
                          {"through_scalar", call.value_at("/input/count/x").status().message()}};
                  return json::object();
                }).ok());
  auto w = chain({"probe"}, {{"T0", {{"args", {{"ratio", 0.5}, {"strict", true}}}}}});
  auto r = rt->run(w, {.input = {{"count", 4}, {"list", {"a", "b"}}}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, api::RunStatus::kCompleted) << r->message;
  EXPECT_EQ(seen["n"], 0.5);
  EXPECT_EQ(seen["i"], 4);
  EXPECT_EQ(seen["b"], true);
  EXPECT_EQ(seen["v"], "b");
  EXPECT_EQ(seen["whole"], (json{{"ratio", 0.5}, {"strict", true}}));
  EXPECT_EQ(seen["bad_pointer"], "'input' is not a JSON pointer");
  EXPECT_EQ(seen["past_end"], "/input/list/9: missing (expected a value)");
  EXPECT_EQ(seen["through_scalar"], "/input/count: expected an object, got number 4");
}

TEST(ApiBuiltinArgs, AContextOnlyBuiltinStillRunsForAToolWithArgs) {
  auto rt = open_runtime();
  ASSERT_TRUE(add_echo(*rt).ok());
  auto w = chain({"echo"}, {{"T0", {{"args", {{"x", "{{input.customer}}"}}}}}});
  auto r = rt->run(w, {.input = {{"customer", "ada"}}, .run_id = "r-echo"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, api::RunStatus::kCompleted) << r->message;
  // A template that names a missing value fails the step before the builtin is called.
  auto w2 = chain({"echo"}, {{"T0", {{"args", {{"x", "{{input.nobody}}"}}}}}});
  auto r2 = rt->run(w2, {.input = {{"customer", "ada"}}, .run_id = "r-missing-arg"});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->status, api::RunStatus::kEscalated);
  auto failed = payloads_of(*rt, "r-missing-arg", "step_failed");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0]["failure"], "template");
}

TEST(ApiRuntime, RejectsBadOptionsAndRegistrations) {
  EXPECT_EQ(api::Runtime::open({.threads = -1}).status().code(), api::StatusCode::kInvalidArgument);
  auto rt = open_runtime();
  EXPECT_EQ(rt->add_tool("", [](const json&) -> api::Result<json> { return json(); }).code(),
            api::StatusCode::kInvalidArgument);
  // An empty function of each kind.
  EXPECT_EQ(rt->add_tool("x", api::SyncTool()).code(), api::StatusCode::kInvalidArgument);
  EXPECT_EQ(rt->add_tool("x", api::CallTool()).code(), api::StatusCode::kInvalidArgument);
  EXPECT_EQ(rt->add_async_tool("x", api::AsyncTool()).code(), api::StatusCode::kInvalidArgument);
  EXPECT_EQ(rt->add_async_tool("x", api::AsyncCallTool()).code(),
            api::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      rt->add_tool("", [](const api::ToolCall&) -> api::Result<json> { return json(); }).code(),
      api::StatusCode::kInvalidArgument);
  auto r = rt->submit(chain({"x"}), {.input = json::array()});
  EXPECT_EQ(await(r).status().code(), api::StatusCode::kInvalidArgument);
  EXPECT_STRNE(api::version(), "");
}

}  // namespace
}  // namespace switchyard::api_test
