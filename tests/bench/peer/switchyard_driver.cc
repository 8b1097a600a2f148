// Switchyard's side of scripts/bench-peer, through the public embedding API only
// (<switchyard/switchyard.h>, linked against libswitchyard.so, like api_bench): the same shapes
// as the peers' drivers (langgraph.mjs, neograph/driver.cc), every tool a builtin registered with
// Runtime::add_tool that answers {"ok": true} at once, on a Runtime with 2 engine threads.
//   build/tests/bench/peer/switchyard_driver SHAPE STORE MODE RUNS
//   SHAPE  chain3 | chain10   Start -> T0 -> ... -> T(n-1)
//          reroute            chain10 whose T4 fails in every run; T4b (edge T3 -> T4b of weight
//                             2, as run_loop_bench's detour) takes over: T3 -> T4 -x-> T4b -> T5
//          fanout5 | fanout8  Start -> a fan-out node of that many branches (one builtin each,
//                             join all) -> Done
//   STORE  memory             the journal in memory (its default window of 10,000 finished runs)
//          nokeep             the journal in memory with memory_keep_runs = 0: each run is
//                             forgotten as it finishes (against a peer that keeps nothing)
//          sqlite             a fresh SQLite journal file, synchronous=NORMAL
//          durable            the same with sync_full (fsync per commit)
//   MODE   seq                RUNS runs one after another (Runtime::run): us per run
//          burst              RUNS runs started at once (Runtime::start), then waited for:
//                             runs per second
// Each process first runs min(200, RUNS) untimed warm-up runs, as the peers' drivers do.
// Prints one JSON line: {"engine", "shape", "store", "mode", "runs", "us_per_run", "runs_per_s"}.

#include <switchyard/switchyard.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace {

namespace api = switchyard::api;
using nlohmann::json;

json builtin(const char* name) {
  return {{"kind", "builtin"}, {"name", name}, {"idempotent", true}};
}

// The workflow of a shape, and the reroutes every run of it must make; nullopt for an unknown one.
std::optional<std::pair<api::Workflow, int>> workflow_of(const std::string& shape) {
  json tools = json::object(), edges = json::array(), nodes = json::object();
  std::string goal;
  int reroutes = 0;
  if (shape == "chain3" || shape == "chain10" || shape == "reroute") {
    const int n = shape == "chain3" ? 3 : 10;
    std::string prev = "Start";
    for (int i = 0; i < n; ++i) {
      const std::string id = "T" + std::to_string(i);
      tools[id] = builtin("ok");
      edges.push_back({prev, id, 1.0});
      prev = id;
    }
    goal = prev;
    if (shape == "reroute") {
      // T4 fails with kNotFound, a `template` failure: the health monitor does not count it
      // (docs/monitors.md), so every run meets the failure and reroutes, as every LangGraph run
      // does. A failure it counts would open T4's breaker after 3 runs, and later runs would plan
      // T3 -> T4b from the start without failing (cheaper; not this case).
      tools["T4"] = builtin("down");
      tools["T4b"] = builtin("ok");
      edges.push_back({"T3", "T4b", 2.0});
      edges.push_back({"T4b", "T5", 1.0});
      reroutes = 1;
    }
  } else if (shape == "fanout5" || shape == "fanout8") {
    const int n = shape == "fanout5" ? 5 : 8;
    json branches = json::array();
    for (int b = 0; b < n; ++b) {
      const std::string id = "B" + std::to_string(b);
      tools[id] = builtin("ok");
      branches.push_back({{"start", id + "s"}, {"goal", id}, {"edges", {{id + "s", id, 1.0}}}});
    }
    tools["Done"] = builtin("ok");
    nodes["Fan"] = {{"fanout", {{"join", "all"}, {"branches", branches}}}};
    edges = {{"Start", "Fan", 1.0}, {"Fan", "Done", 1.0}};
    goal = "Done";
  } else {
    return std::nullopt;
  }
  json w = {{"format", "switchyard.workflow/v1"},
            {"name", shape},
            {"start", "Start"},
            {"goal", goal},
            {"tools", tools},
            {"edges", edges}};
  if (!nodes.empty()) w["nodes"] = nodes;
  auto loaded = api::Workflow::from_json(w.dump(), shape + ".json");
  if (!loaded.ok()) {
    std::fprintf(stderr, "workflow: %s\n", loaded.status().message().c_str());
    return std::nullopt;
  }
  return std::make_pair(std::move(*loaded), reroutes);
}

bool run_ok(const api::Result<api::RunSummary>& r, int reroutes) {
  return r.ok() && r->status == api::RunStatus::kCompleted && r->reroutes == reroutes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s SHAPE memory|nokeep|sqlite|durable seq|burst RUNS\n", argv[0]);
    return 2;
  }
  const std::string shape = argv[1], store = argv[2], mode = argv[3];
  const int runs = std::atoi(argv[4]);
  auto shaped = workflow_of(shape);
  if (!shaped ||
      (store != "memory" && store != "nokeep" && store != "sqlite" && store != "durable") ||
      (mode != "seq" && mode != "burst") || runs < 1) {
    std::fprintf(stderr, "bad arguments (see the comment at the top of switchyard_driver.cc)\n");
    return 2;
  }
  const auto& [workflow, reroutes] = *shaped;

  const std::string file = std::filesystem::temp_directory_path() /
                           ("switchyard-peer-" + std::to_string(getpid()) + ".db");
  const auto remove_file = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file + suffix);
  };
  remove_file();
  const bool in_memory = store == "memory" || store == "nokeep";
  auto opened = api::Runtime::open({.journal_path = in_memory ? "" : file,
                                    .memory_keep_runs = store == "nokeep" ? 0u : 10000u,
                                    .sync_full = store == "durable",
                                    .threads = 2});
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().message().c_str());
    return 1;
  }
  std::unique_ptr<api::Runtime> rt = std::move(*opened);
  (void)rt->add_tool("ok", [](const api::ToolCall&) -> api::Result<json> {
    return json{{"ok", true}};
  });
  (void)rt->add_tool("down", [](const api::ToolCall&) -> api::Result<json> {
    return api::Status(api::StatusCode::kNotFound, "T4 is down");
  });

  for (int i = 0; i < std::min(200, runs); ++i) {
    if (!run_ok(rt->run(workflow, {}), reroutes)) {
      std::fprintf(stderr, "a warm-up run did not complete as expected\n");
      return 1;
    }
  }

  int failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  if (mode == "seq") {
    for (int i = 0; i < runs; ++i) failed += run_ok(rt->run(workflow, {}), reroutes) ? 0 : 1;
  } else {
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    const auto finish = [&](bool ok) {
      std::lock_guard lock(mu);
      failed += ok ? 0 : 1;
      if (++done == runs) cv.notify_one();
    };
    for (int i = 0; i < runs; ++i) {
      auto started = rt->start(
          workflow, {}, [&](api::Result<api::RunSummary> r) { finish(run_ok(r, reroutes)); });
      if (!started.ok()) finish(false);
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == runs; });
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  rt.reset();
  remove_file();
  if (failed > 0) {
    std::fprintf(stderr, "%d of %d runs did not complete as expected\n", failed, runs);
    return 1;
  }
  std::printf(
      "{\"engine\":\"switchyard\",\"shape\":\"%s\",\"store\":\"%s\",\"mode\":\"%s\",\"runs\":%d,"
      "\"us_per_run\":%.3f,\"runs_per_s\":%.1f}\n",
      shape.c_str(), store.c_str(), mode.c_str(), runs, us / runs, runs / (us / 1e6));
  return 0;
}
