// The embedding API through its public header only, as an embedding program sees it: builtin
// tools (sync, async, cancellable), the three ways to start a run (callback, future, co_await),
// live events, cancellation, journal queries on a real SQLite file, replay verification,
// pictures, resume after the process died, and load errors with their JSON pointers.
// Nothing sleeps: tests wait on futures and events with a bounded timeout.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <switchyard/switchyard.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace api = switchyard::api;
using nlohmann::json;

namespace {

constexpr auto kWait = std::chrono::seconds(30);

// Start -> T0 -> ... -> T{n-1}, step i running the builtin names[i].
api::Workflow chain(const std::vector<std::string>& names, const json& extra_tools = {}) {
  json tools = json::object(), edges = json::array();
  std::string prev = "Start";
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string id = "T" + std::to_string(i);
    tools[id] = {{"kind", "builtin"}, {"name", names[i]}, {"idempotent", true}};
    edges.push_back({prev, id, 1.0});
    prev = id;
  }
  for (const auto& [id, t] : extra_tools.items()) tools[id].update(t);
  json w = {{"format", "switchyard.workflow/v1"},
            {"name", "chain"},
            {"start", "Start"},
            {"goal", prev},
            {"tools", tools},
            {"edges", edges}};
  auto loaded = api::Workflow::from_json(w.dump(), "chain.json");
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return *loaded;
}

// A fresh directory under the system's temporary directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "switchyard-api-XXXXXX");
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::unique_ptr<api::Runtime> open_runtime(api::RuntimeOptions options = {}) {
  if (options.threads == 0) options.threads = 2;
  auto rt = api::Runtime::open(std::move(options));
  EXPECT_TRUE(rt.ok()) << rt.status().to_string();
  return rt.ok() ? std::move(*rt) : nullptr;
}

// Waits (bounded) for a future's value.
template <typename T>
T await(std::future<T>& f) {
  EXPECT_EQ(f.wait_for(kWait), std::future_status::ready);
  return f.get();
}

// What step `tool` of run `run_id` returned (its step_succeeded event), or null.
json output_of(const api::Runtime& rt, const std::string& run_id, const std::string& tool) {
  auto events = rt.events(run_id);
  EXPECT_TRUE(events.ok()) << events.status().to_string();
  if (!events.ok()) return nullptr;
  for (const auto& e : *events) {
    if (e.type == "step_succeeded" && e.payload.value("tool", "") == tool)
      return e.payload["output"];
  }
  return nullptr;
}

// A sync builtin echoing how many steps it has seen.
api::Status add_echo(api::Runtime& rt, const std::string& name = "echo") {
  return rt.add_tool(name, [](const json& ctx) -> api::Result<json> {
    return json{{"steps_seen", ctx["steps"].size()},
                {"customer", ctx["input"].value("customer", "")}};
  });
}

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

TEST(ApiRuns, AsyncBuiltinAnswersFromAnotherThread) {
  auto rt = open_runtime();
  std::mutex mu;
  std::vector<std::thread> workers;
  ASSERT_TRUE(rt->add_async_tool("later", [&](const json& ctx, api::ToolReply reply) {
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

TEST(ApiRuns, ToolThatThrowsFailsItsStepInsteadOfTheProcess) {
  auto rt = open_runtime();
  ASSERT_TRUE(rt->add_tool("throws", [](const json&) -> api::Result<json> {
                  throw std::runtime_error("boom");
                }).ok());
  auto run = rt->run(chain({"throws"}), {});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, api::RunStatus::kEscalated);
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

TEST(ApiEvents, OnEventSeesEveryEventInJournalOrderBeforeTheRunEnds) {
  TempDir dir;
  auto rt = open_runtime({.journal_path = dir.file("j.db")});
  ASSERT_TRUE(add_echo(*rt).ok());
  std::mutex mu;
  std::vector<api::Event> seen;
  std::size_t seen_at_done = 0;
  std::promise<void> finished;
  auto future = finished.get_future();
  auto id = rt->start(chain({"echo", "echo"}),
                      {.on_event =
                           [&](const api::Event& e) {
                             std::lock_guard lock(mu);
                             seen.push_back(e);
                           }},
                      [&](api::Result<api::RunSummary>) {
                        {
                          std::lock_guard lock(mu);
                          seen_at_done = seen.size();
                        }
                        finished.set_value();
                      });
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(future.wait_for(kWait), std::future_status::ready);
  auto journaled = rt->events(*id);
  ASSERT_TRUE(journaled.ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(seen_at_done, journaled->size());
  ASSERT_EQ(seen.size(), journaled->size());
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(seen[i].type, (*journaled)[i].type);
    EXPECT_EQ(seen[i].run_id, *id);
  }
  EXPECT_EQ(seen.front().type, "run_started");
  EXPECT_EQ(seen.back().type, "run_finished");
}

TEST(ApiEvents, SubscriptionSeesEveryRunUntilReset) {
  auto rt = open_runtime();
  ASSERT_TRUE(add_echo(*rt).ok());
  std::mutex mu;
  std::map<std::string, int> finished;
  auto sub = rt->subscribe([&](const api::Event& e) {
    std::lock_guard lock(mu);
    if (e.type == "run_finished") ++finished[e.run_id];
  });
  auto w = chain({"echo"});
  auto a = rt->submit(w, {.run_id = "r-a"});
  auto b = rt->submit(w, {.run_id = "r-b"});
  ASSERT_TRUE(await(a).ok());
  ASSERT_TRUE(await(b).ok());
  sub.reset();
  EXPECT_FALSE(sub);
  auto c = rt->submit(w, {.run_id = "r-c"});
  ASSERT_TRUE(await(c).ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(finished, (std::map<std::string, int>{{"r-a", 1}, {"r-b", 1}}));
}

TEST(ApiCancel, CancelAbortsTheToolInFlightAndEndsTheRunFailed) {
  auto rt = open_runtime();
  std::promise<void> started;
  auto started_future = started.get_future();
  std::atomic<bool> aborted{false};
  ASSERT_TRUE(rt->add_async_tool("hang", [&](const json&, api::ToolReply reply) {
                  reply.on_cancel([reply, &aborted] {
                    aborted = true;
                    reply(api::Status(api::StatusCode::kCancelled, "aborted"));
                  });
                  started.set_value();
                }).ok());
  auto run = rt->submit(chain({"hang"}), {.run_id = "r-cancel"});
  ASSERT_EQ(started_future.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(rt->in_flight(), 1u);
  ASSERT_TRUE(rt->cancel("r-cancel").ok());
  auto r = await(run);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, api::RunStatus::kFailed);
  EXPECT_EQ(r->message, "cancelled: request");
  EXPECT_TRUE(aborted);
  rt->wait_idle();
  EXPECT_EQ(rt->cancel("r-cancel").code(), api::StatusCode::kNotFound);
}

TEST(ApiJournal, QueriesSeeRunsOfEarlierRuntimesOnTheSameFile) {
  TempDir dir;
  const std::string db = dir.file("journal.db");
  {
    auto rt = open_runtime({.journal_path = db});
    ASSERT_TRUE(add_echo(*rt).ok());
    ASSERT_TRUE(rt->add_tool("down", [](const json&) -> api::Result<json> {
                    return api::Status(api::StatusCode::kInternal, "no");
                  }).ok());
    ASSERT_TRUE(rt->run(chain({"echo"}), {.input = {{"k", 1}}, .run_id = "r-1"}).ok());
    ASSERT_TRUE(rt->run(chain({"down"}), {.run_id = "r-2"}).ok());
  }
  ASSERT_TRUE(std::filesystem::exists(db));
  auto rt = open_runtime({.journal_path = db});
  EXPECT_EQ(rt->journal_path(), db);
  auto all = rt->list_runs();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  auto escalated = rt->list_runs({.status = api::RunStatus::kEscalated});
  ASSERT_TRUE(escalated.ok());
  ASSERT_EQ(escalated->size(), 1u);
  EXPECT_EQ(escalated->front().run_id, "r-2");
  auto one = rt->get_run("r-1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->status, api::RunStatus::kCompleted);
  EXPECT_EQ(one->input, (json{{"k", 1}}));
  EXPECT_EQ(one->workflow, "chain");
  auto events = rt->events("r-1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(static_cast<std::int64_t>(events->size()), one->head_seq);
  EXPECT_EQ(events->back().hash, one->head_hash);
  EXPECT_EQ(rt->get_run("r-nope").status().code(), api::StatusCode::kNotFound);
  EXPECT_EQ(rt->events("r-nope").status().code(), api::StatusCode::kNotFound);
}

TEST(ApiJournal, VerifyReDrivesAFinishedRunAndRenderDrawsIt) {
  TempDir dir;
  auto rt = open_runtime({.journal_path = dir.file("j.db")});
  ASSERT_TRUE(add_echo(*rt).ok());
  auto run = rt->run(chain({"echo", "echo"}), {});
  ASSERT_TRUE(run.ok());
  auto report = rt->verify(run->run_id);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_TRUE(report->ok()) << report->chain.to_string() << " " << report->decisions.to_string();
  EXPECT_GT(report->verified, 0);
  auto dot = rt->render(run->run_id, api::Picture::kDot);
  ASSERT_TRUE(dot.ok());
  EXPECT_NE(dot->find("digraph"), std::string::npos);
  EXPECT_EQ(rt->verify("r-nope").status().code(), api::StatusCode::kNotFound);
}

TEST(ApiJournal, OpeningSomethingThatIsNotAJournalIsAnIoError) {
  TempDir dir;
  const std::string path = dir.file("not-a-journal.db");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("hello, I am not SQLite", f);
    std::fclose(f);
  }
  auto rt = api::Runtime::open({.journal_path = path});
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.status().code(), api::StatusCode::kIo);
}

// Registers "first" and "second", counting their calls in `calls`; "second" ends the process
// (exit code 3, as kill -9 would, nothing flushed or finished) when `die` is set.
void add_first_and_second(api::Runtime& rt, std::map<std::string, std::atomic<int>>& calls,
                          bool die) {
  calls["first"] = 0;  // made before any run: the tools only read the map
  calls["second"] = 0;
  for (const char* name : {"first", "second"}) {
    const bool dies = die && std::string(name) == "second";
    ASSERT_TRUE(rt.add_tool(name, [&calls, name, dies](const json&) -> api::Result<json> {
                    ++calls.at(name);
                    if (dies) std::_Exit(3);
                    return json{{name, true}};
                  }).ok());
  }
}

// The child half of the resume tests: runs `workflow` as run r-crash until "second" kills it.
[[noreturn]] void run_until_second_dies(const std::string& db, const api::Workflow& workflow) {
  auto rt = api::Runtime::open({.journal_path = db, .threads = 1});
  if (!rt.ok()) std::_Exit(10);
  std::map<std::string, std::atomic<int>> calls;
  add_first_and_second(**rt, calls, /*die=*/true);
  auto run = (*rt)->run(workflow, {.run_id = "r-crash"});
  std::_Exit(run.ok() ? 11 : 12);  // not reached: "second" exits
}

class ApiResume : public ::testing::Test {
 protected:
  // Runs `workflow` in a child process that dies in "second", then opens the journal here with
  // both tools registered (counting, not dying).
  void crash_then_reopen(const api::Workflow& workflow) {
    EXPECT_EXIT(run_until_second_dies(db_, workflow), ::testing::ExitedWithCode(3), "");
    rt_ = open_runtime({.journal_path = db_});
    auto before = rt_->get_run("r-crash");
    ASSERT_TRUE(before.ok());
    EXPECT_EQ(before->status, api::RunStatus::kRunning);
    add_first_and_second(*rt_, calls_, /*die=*/false);
  }
  // Resumes r-crash; checks that it verifies and cannot be resumed twice.
  api::RunSummary resume() {
    std::atomic<int> live{0};
    auto sub = rt_->subscribe([&](const api::Event&) { ++live; });
    auto resumed = rt_->resume("r-crash");
    EXPECT_TRUE(resumed.ok()) << resumed.status().to_string();
    if (!resumed.ok()) return {};
    EXPECT_GT(live.load(), 0);  // a resumed run's events reach subscribers too
    EXPECT_EQ(rt_->get_run("r-crash")->status, resumed->status);
    auto verified = rt_->verify("r-crash");
    EXPECT_TRUE(verified.ok() && verified->ok());
    EXPECT_EQ(rt_->resume("r-crash").status().code(), api::StatusCode::kFailedPrecondition);
    return *resumed;
  }

  TempDir dir_;
  std::string db_ = dir_.file("j.db");
  std::unique_ptr<api::Runtime> rt_;
  std::map<std::string, std::atomic<int>> calls_;
};

TEST_F(ApiResume, RunThatDiedBeforeAnyDurableStepStartsAgainAndCompletes) {
  // "second" is idempotent: the engine does not wait for its step_started to be written, so the
  // journal holds the run's row only when the process dies.
  crash_then_reopen(chain({"first", "second"}));
  auto r = resume();
  EXPECT_EQ(r.status, api::RunStatus::kCompleted);
  EXPECT_EQ(calls_["first"].load(), 1);
  EXPECT_EQ(calls_["second"].load(), 1);
}

TEST_F(ApiResume, CompletedStepsAreNotRepeatedAndASideEffectInFlightEscalatesInDoubt) {
  // "second" is not idempotent: everything before it is durable before it is invoked.
  crash_then_reopen(chain({"first", "second"}, {{"T1", {{"idempotent", false}}}}));
  auto r = resume();
  EXPECT_EQ(r.status, api::RunStatus::kEscalated);
  EXPECT_NE(r.message.find("T1"), std::string::npos) << r.message;
  EXPECT_EQ(calls_["first"].load(), 0);   // completed before the crash
  EXPECT_EQ(calls_["second"].load(), 0);  // may have taken effect: not repeated
}

TEST(ApiRuntime, RejectsBadOptionsAndRegistrations) {
  EXPECT_EQ(api::Runtime::open({.threads = -1}).status().code(), api::StatusCode::kInvalidArgument);
  auto rt = open_runtime();
  EXPECT_EQ(rt->add_tool("", [](const json&) -> api::Result<json> { return json(); }).code(),
            api::StatusCode::kInvalidArgument);
  EXPECT_EQ(rt->add_async_tool("x", nullptr).code(), api::StatusCode::kInvalidArgument);
  auto r = rt->submit(chain({"x"}), {.input = json::array()});
  EXPECT_EQ(await(r).status().code(), api::StatusCode::kInvalidArgument);
  EXPECT_STRNE(api::version(), "");
}

}  // namespace
