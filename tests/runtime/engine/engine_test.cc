// The asynchronous engine: many runs at once, async tools answering from other threads,
// cancellation (request and deadline), journal order before side effects, journal failures.
// Nothing here sleeps: tests wait on futures and on the tools' own signals.

#include "runtime/engine/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "graph/load.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/event_feed.h"
#include "runtime/journal/forwarding_journal.h"
#include "tests/support/graph_builder.h"
#include "tests/support/run_command.h"
#include "tools/builtin.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {
namespace {

using testing::builtin_chain;

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() {
    builtins_.add("echo", [](const nlohmann::json& ctx) -> Result<nlohmann::json> {
      return nlohmann::json{{"steps_seen", ctx["steps"].size()}};
    });
  }
  std::shared_ptr<tools::ToolSet> tools_for(const graph::Workflow& w) {
    auto set = tools::make_tool_set(w, {.builtins = &builtins_});
    EXPECT_TRUE(set.ok()) << set.status().message();
    return *set;
  }
  tools::BuiltinRegistry builtins_;
  std::unique_ptr<Journal> journal_ = make_memory_journal();
  ManualClock clock_;
  monitors::HealthTable health_{clock_};
};

TEST_F(EngineTest, RunsManyRunsConcurrentlyAndJournalsEachCompletely) {
  auto w = builtin_chain(5);
  auto tools = tools_for(*w);
  Engine engine(*journal_, clock_, health_, {.threads = 2});
  std::vector<std::future<Result<RunReport>>> futures;
  for (int i = 0; i < 500; ++i) futures.push_back(engine.submit(w, tools, {}));
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->result.status, RunStatus::kCompleted);
    EXPECT_EQ(r->result.path.size(), 6u);
    auto events = journal_->events(r->run_id);
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->back().type, "run_finished");
    EXPECT_EQ(journal_->get_run(r->run_id)->status, "completed");
  }
  engine.wait_idle();  // a run leaves in_flight just after its `done` returns
  EXPECT_EQ(engine.in_flight(), 0u);
}

TEST_F(EngineTest, MakesTheSameDecisionsAsTheSynchronousRunner) {
  int calls = 0;
  builtins_.add("flaky", [&calls](const nlohmann::json&) -> Result<nlohmann::json> {
    return ++calls % 2 == 1 ? Result<nlohmann::json>(Status(StatusCode::kUnavailable, "flaky"))
                            : Result<nlohmann::json>(nlohmann::json{{"ok", true}});
  });
  auto flaky = builtin_chain(4, {{"T1", {{"retries", 1}, {"name", "flaky"}}}});
  auto strip = [](std::vector<Event> events) {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (auto& e : events) out.emplace_back(e.type, e.payload);
    return out;
  };
  RunRequest request;
  request.run_id = "sync";
  request.seed = 42;
  Runner runner(flaky, tools_for(*flaky), *journal_, clock_, health_);
  ASSERT_TRUE(runner.run(request).ok());
  calls = 0;
  request.run_id = "async";
  Engine engine(*journal_, clock_, health_, {.threads = 2});
  auto r = engine.submit(flaky, tools_for(*flaky), request).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(strip(*journal_->events("sync")).size(), strip(*journal_->events("async")).size());
  auto a = strip(*journal_->events("sync"));
  auto b = strip(*journal_->events("async"));
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first) << i;
    if (a[i].first != "step_succeeded") {
      EXPECT_EQ(a[i].second, b[i].second) << a[i].first;
    }
  }
}

TEST_F(EngineTest, AsyncBuiltinsMayAnswerFromAnyThread) {
  std::vector<std::thread> helpers;
  std::mutex mu;
  builtins_.add_async("remote", [&](const nlohmann::json&, auto done) {
    std::lock_guard lock(mu);
    helpers.emplace_back([done] { done(nlohmann::json{{"from", "another thread"}}); });
  });
  auto w = builtin_chain(3, {}, "remote");
  Engine engine(*journal_, clock_, health_, {.threads = 2});
  auto r = engine.submit(w, tools_for(*w), {}).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  std::lock_guard lock(mu);
  for (auto& t : helpers) t.join();
}

// A builtin that keeps its callback and never answers until told to.
struct Hanging {
  std::mutex mu;
  std::condition_variable called;
  std::function<void(Result<nlohmann::json>)> pending;
  void add_to(tools::BuiltinRegistry& registry) {
    registry.add_async("hang", [this](const nlohmann::json&, auto done) {
      std::lock_guard lock(mu);
      pending = std::move(done);
      called.notify_all();
    });
  }
  void wait_called() {
    std::unique_lock lock(mu);
    called.wait(lock, [this] { return pending != nullptr; });
  }
};

TEST_F(EngineTest, CancellationAbandonsTheCallInFlightAndIsJournaled) {
  Hanging hanging;
  hanging.add_to(builtins_);
  auto w = builtin_chain(3, {{"T1", {{"name", "hang"}}}});
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  RunRequest request;
  request.run_id = "r1";
  auto future = engine.submit(w, tools_for(*w), request);
  hanging.wait_called();
  EXPECT_TRUE(engine.cancel("r1"));
  auto r = future.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kFailed);
  EXPECT_EQ(r->result.path, (std::vector<std::string>{"Start", "T0"}));
  auto events = journal_->events("r1");
  auto cancelled = std::find_if(events->begin(), events->end(),
                                [](const Event& e) { return e.type == "cancelled"; });
  ASSERT_NE(cancelled, events->end());
  EXPECT_EQ(cancelled->payload["reason"], "request");
  EXPECT_EQ(cancelled->payload["in_flight"], "T1");
  // The late answer is ignored: nothing more happens to the finished run.
  hanging.pending(nlohmann::json{{"late", true}});
  engine.wait_idle();
  EXPECT_EQ(journal_->events("r1")->size(), events->size());
  EXPECT_FALSE(engine.cancel("r1"));
}

TEST_F(EngineTest, AnAsyncBuiltinIsHandedTheCallsCancelTokenAndAbortsWithItsRun) {
  std::promise<void> started, aborted;
  builtins_.add_async("abortable",
                      [&](const nlohmann::json&, const std::shared_ptr<tools::CallCancel>& cancel,
                          tools::BuiltinDone done) {
                        cancel->on_cancel([&aborted, done] {
                          aborted.set_value();
                          done(Status(StatusCode::kCancelled, "aborted"));
                        });
                        started.set_value();
                      });
  auto w = builtin_chain(2, {{"T0", {{"name", "abortable"}}}});
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  RunRequest request;
  request.run_id = "r1";
  auto future = engine.submit(w, tools_for(*w), request);
  started.get_future().wait();
  EXPECT_TRUE(engine.cancel("r1"));
  aborted.get_future().wait();  // the builtin's own abort ran
  auto r = future.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kFailed);
  EXPECT_EQ(r->result.message, "cancelled: request");
}

TEST_F(EngineTest, DeadlineCancelsARunThatTakesTooLong) {
  Hanging hanging;
  hanging.add_to(builtins_);
  auto w = builtin_chain(2, {{"T0", {{"name", "hang"}}}});
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  RunRequest request;
  request.run_id = "slow";
  request.deadline = std::chrono::milliseconds(20);
  auto r = engine.submit(w, tools_for(*w), request).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kFailed);
  EXPECT_EQ(r->result.message, "cancelled: deadline");
}

TEST_F(EngineTest, StepStartIsDurableBeforeANonIdempotentToolRuns) {
  std::atomic<int> unjournaled{0};
  builtins_.add("charge", [&](const nlohmann::json&) -> Result<nlohmann::json> {
    auto runs = journal_->list_runs({});
    auto events = journal_->events(runs->front().run_id);
    if (!events.ok() || events->empty() || events->back().type != "step_started") ++unjournaled;
    return nlohmann::json{{"charged", true}};
  });
  auto w = builtin_chain(3, {{"T1", {{"name", "charge"}, {"idempotent", false}}}});
  Engine engine(*journal_, clock_, health_, {.threads = 2});
  auto r = engine.submit(w, tools_for(*w), {}).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(unjournaled.load(), 0);
}

TEST_F(EngineTest, UnwritableJournalInvokesNothing) {
  std::atomic<int> calls{0};
  builtins_.add("count", [&](const nlohmann::json&) -> Result<nlohmann::json> {
    ++calls;
    return nlohmann::json::object();
  });
  auto w = builtin_chain(2, {}, "count");
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  RunRequest request;
  request.run_id = "dup";
  RunRecord taken;
  taken.run_id = "dup";
  taken.workflow = "x";
  taken.workflow_hash = "h";
  taken.status = "running";
  ASSERT_TRUE(journal_->begin_run(taken).ok());
  auto r = engine.submit(w, tools_for(*w), request).get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(EngineTest, RetriesWaitTheirSeededBackoff) {
  int calls = 0;
  builtins_.add("twice", [&calls](const nlohmann::json&) -> Result<nlohmann::json> {
    return ++calls <= 2 ? Result<nlohmann::json>(Status(StatusCode::kUnavailable, "busy"))
                        : Result<nlohmann::json>(nlohmann::json{{"ok", true}});
  });
  auto w = builtin_chain(1, {{"T0", {{"name", "twice"}, {"retries", 2}}}});
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  RunRequest request;
  request.run_id = "retry";
  request.seed = 7;
  const auto t0 = clock_.now();
  auto r = engine.submit(w, tools_for(*w), request).get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  std::int64_t waited = 0;
  std::vector<std::int64_t> delays;
  auto events = journal_->events("retry");
  ASSERT_TRUE(events.ok());
  for (const auto& e : *events) {
    if (e.type == "step_retry") delays.push_back(e.payload["delay_ms"].get<std::int64_t>());
  }
  ASSERT_EQ(delays.size(), 2u);
  EXPECT_GE(delays[0], 50);  // 100 ms x [0.5, 1.5)
  EXPECT_LT(delays[0], 150);
  EXPECT_GE(delays[1], 100);  // 200 ms x [0.5, 1.5)
  EXPECT_LT(delays[1], 300);
  for (auto d : delays) waited += d;
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - t0).count(),
            waited);
}

TEST_F(EngineTest, ShutdownCancelsRunsStillInFlight) {
  Hanging hanging;
  hanging.add_to(builtins_);
  auto w = builtin_chain(2, {{"T0", {{"name", "hang"}}}});
  std::future<Result<RunReport>> future;
  {
    Engine engine(*journal_, clock_, health_, {.threads = 1});
    future = engine.submit(w, tools_for(*w), {});
    hanging.wait_called();
  }  // the destructor cancels and waits
  auto r = future.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.message, "cancelled: engine shutdown");
}

// ---- Engine::run: a run on the calling thread ----

TEST_F(EngineTest, RunOnTheCallingThreadInvokesItsToolsAndWritesItsMemoryJournalThere) {
  std::mutex mu;
  std::set<std::thread::id> tool_threads, feed_threads;
  builtins_.add("where", [&](const nlohmann::json&) -> Result<nlohmann::json> {
    std::lock_guard lock(mu);
    tool_threads.insert(std::this_thread::get_id());
    return nlohmann::json::object();
  });
  EventFeed feed(*journal_);
  auto sub = feed.subscribe([&](const Event&) {
    std::lock_guard lock(mu);
    feed_threads.insert(std::this_thread::get_id());
  });
  // T1 has a side effect: its step's start is written before it runs, in line too.
  auto w = builtin_chain(3, {{"T1", {{"idempotent", false}}}}, "where");
  Engine engine(feed, clock_, health_, {.threads = 2});
  auto r = engine.run(w, tools_for(*w), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  EXPECT_EQ(journal_->get_run(r->run_id)->status, "completed");
  std::lock_guard lock(mu);
  EXPECT_EQ(tool_threads, std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(feed_threads, std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(engine.in_flight(), 0u);
}

TEST_F(EngineTest, RunOnTheCallingThreadLeavesASqliteJournalToTheWriterThread) {
  testing::TempDir dir;
  auto file = open_sqlite_journal(dir.file("j.db"));
  ASSERT_TRUE(file.ok()) << file.status().message();
  EventFeed feed(**file);
  std::mutex mu;
  std::set<std::thread::id> feed_threads;
  auto sub = feed.subscribe([&](const Event&) {
    std::lock_guard lock(mu);
    feed_threads.insert(std::this_thread::get_id());
  });
  auto w = builtin_chain(2);
  Engine engine(feed, clock_, health_, {.threads = 1});
  auto r = engine.run(w, tools_for(*w), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*file)->get_run(r->run_id)->status, "completed");
  std::lock_guard lock(mu);
  ASSERT_EQ(feed_threads.size(), 1u);
  EXPECT_NE(*feed_threads.begin(), std::this_thread::get_id());
}

TEST_F(EngineTest, RunOnTheCallingThreadTakesAnswersGivenOnOtherThreads) {
  std::vector<std::thread> helpers;
  std::mutex mu;
  builtins_.add_async("remote", [&](const nlohmann::json&, auto done) {
    std::lock_guard lock(mu);
    helpers.emplace_back([done] { done(nlohmann::json{{"from", "another thread"}}); });
  });
  auto w = builtin_chain(3, {}, "remote");
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  for (int i = 0; i < 20; ++i) {  // the caller's loop is reused run after run
    auto r = engine.run(w, tools_for(*w), {});
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->result.status, RunStatus::kCompleted);
    EXPECT_EQ(r->result.path.size(), 4u);
  }
  std::lock_guard lock(mu);
  for (auto& t : helpers) t.join();
}

TEST_F(EngineTest, RunOnTheCallingThreadIsCancelledFromAnotherThreadAndIgnoresTheLateAnswer) {
  Hanging hanging;
  hanging.add_to(builtins_);
  auto w = builtin_chain(3, {{"T1", {{"name", "hang"}}}});
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  std::thread canceller([&] {
    hanging.wait_called();
    EXPECT_EQ(engine.in_flight(), 1u);
    EXPECT_TRUE(engine.cancel("r1"));
  });
  RunRequest request;
  request.run_id = "r1";
  auto r = engine.run(w, tools_for(*w), request);
  canceller.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kFailed);
  EXPECT_EQ(r->result.message, "cancelled: request");
  const auto journaled = journal_->events("r1")->size();
  hanging.pending(nlohmann::json{{"late", true}});  // refused: the run is closed
  EXPECT_EQ(journal_->events("r1")->size(), journaled);
  EXPECT_EQ(engine.in_flight(), 0u);
  EXPECT_FALSE(engine.cancel("r1"));
  // The thread's loop is clean for its next run.
  auto next = engine.run(builtin_chain(2), tools_for(*builtin_chain(2)), {});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->result.status, RunStatus::kCompleted);
}

TEST_F(EngineTest, RunOnTheCallingThreadHonoursItsDeadline) {
  Hanging hanging;
  hanging.add_to(builtins_);
  auto w = builtin_chain(2, {{"T0", {{"name", "hang"}}}});
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  RunRequest request;
  request.run_id = "slow";
  request.deadline = std::chrono::milliseconds(20);
  auto r = engine.run(w, tools_for(*w), request);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->result.status, RunStatus::kFailed);
  EXPECT_EQ(r->result.message, "cancelled: deadline");
}

TEST_F(EngineTest, ARunStartedInsideAToolOfARunOnTheCallingThreadRunsToItsEnd) {
  Engine* engine_ptr = nullptr;
  std::shared_ptr<tools::ToolSet> inner_tools;
  auto inner = builtin_chain(2);
  inner_tools = tools_for(*inner);
  builtins_.add("nested", [&](const nlohmann::json&) -> Result<nlohmann::json> {
    auto r = engine_ptr->run(inner, inner_tools, {});
    if (!r.ok()) return r.status();
    return nlohmann::json{{"inner", std::string(to_string(r->result.status))}};
  });
  auto outer = builtin_chain(2, {{"T0", {{"name", "nested"}}}});
  Engine engine(*journal_, clock_, health_, {.threads = 1});
  engine_ptr = &engine;
  auto r = engine.run(outer, tools_for(*outer), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.status, RunStatus::kCompleted);
  auto events = journal_->events(r->run_id);
  ASSERT_TRUE(events.ok());
  bool saw_inner = false;
  for (const auto& e : *events) {
    if (e.type == "step_succeeded" && e.payload.contains("output") &&
        e.payload["output"].contains("inner")) {
      saw_inner = e.payload["output"]["inner"] == "completed";
    }
  }
  EXPECT_TRUE(saw_inner);
  EXPECT_EQ(journal_->list_runs({})->size(), 2u);
}

// A journal in memory whose appends fail from the `fail_from`-th on.
class FailingAppends final : public ForwardingJournal {
 public:
  FailingAppends(Journal& inner, int fail_from) : ForwardingJournal(inner), left_(fail_from) {}
  Status append(std::vector<Event>&& events) override {
    if (left_-- <= 0) return Status(StatusCode::kIo, "disk full");
    return inner().append(std::move(events));
  }

 private:
  std::atomic<int> left_;
};

TEST_F(EngineTest, AnInlineWriteThatFailsBeforeASideEffectInvokesNothingMore) {
  std::atomic<int> charged{0};
  builtins_.add("charge", [&](const nlohmann::json&) -> Result<nlohmann::json> {
    ++charged;
    return nlohmann::json::object();
  });
  FailingAppends journal(*journal_, 0);
  ASSERT_TRUE(journal.writes_inline());
  auto w = builtin_chain(3, {{"T1", {{"name", "charge"}, {"idempotent", false}}}});
  Engine engine(journal, clock_, health_, {.threads = 1});
  for (bool on_calling_thread : {true, false}) {
    auto r = on_calling_thread ? engine.run(w, tools_for(*w), {})
                               : engine.submit(w, tools_for(*w), {}).get();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kIo);
    EXPECT_EQ(charged.load(), 0);
  }
  engine.wait_idle();  // a run leaves in_flight just after its `done` returns
  EXPECT_EQ(engine.in_flight(), 0u);
}

}  // namespace
}  // namespace switchyard::runtime
