// NeoGraph's side of `scripts/bench-peer --neograph DIR`: the same shapes as Switchyard's driver
// (tests/bench/peer/switchyard_driver.cc), written against NeoGraph's C++ GraphEngine
// (GraphEngine::build from a JSON definition, nodes registered with NodeFactory). Every node does
// the same trivial work as Switchyard's builtins: it answers {"ok": true}, appended to an
// append-reduced `steps` channel (Switchyard keeps each step's output in the run's context).
//   neograph_driver SHAPE STORE MODE RUNS
//   SHAPE  chain3 | chain10   __start__ -> T0 -> ... -> T(n-1) -> __end__
//          fanout5 | fanout8  __start__ -> B0..B(n-1) (one super-step) -> Done -> __end__
//   STORE  none               no checkpoint store (how NeoGraph's own benchmarks run; nothing of
//                             the run is kept)
//          memory             InMemoryCheckpointStore (a checkpoint per super-step)
//          sqlite             SqliteCheckpointStore on a fresh file (as shipped: WAL,
//                             synchronous=NORMAL)
//   MODE   seq                RUNS runs one after another (GraphEngine::run): us per run
//          burst              RUNS runs started at once (co_spawn of run_async), spread over 2
//                             threads, each with its own io_context (Switchyard's driver runs 2
//                             engine threads): runs per second
// Each process first runs min(200, RUNS) untimed warm-up runs, as the other drivers do.
// Prints one JSON line: {"engine", "shape", "store", "mode", "runs", "us_per_run", "runs_per_s"}.
// NeoGraph reports failures by throwing; they are caught here and end the program with status 1.

#include <neograph/graph/sqlite_checkpoint.h>
#include <neograph/neograph.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace ng = neograph::graph;
using neograph::json;

// The node of every shape: appends {"tool": <its name>, "output": {"ok": true}} to `steps`.
class OkNode final : public ng::GraphNode {
 public:
  explicit OkNode(std::string name) : name_(std::move(name)) {}
  asio::awaitable<ng::NodeOutput> run(ng::NodeInput) override {
    json record;
    record["tool"] = name_;
    record["output"] = json{{"ok", true}};
    ng::NodeOutput out;
    out.writes.push_back(ng::ChannelWrite{"steps", json::array({record})});
    co_return out;
  }
  std::string get_name() const override { return name_; }

 private:
  std::string name_;
};

json edge(const std::string& from, const std::string& to) { return {{"from", from}, {"to", to}}; }

// The graph definition of a shape and the nodes each run executes; an empty definition for an
// unknown shape.
std::pair<json, int> definition_of(const std::string& shape) {
  json nodes = json::object();
  json edges = json::array();
  int steps = 0;
  if (shape == "chain3" || shape == "chain10") {
    steps = shape == "chain3" ? 3 : 10;
    std::string prev = "__start__";
    for (int i = 0; i < steps; ++i) {
      const std::string id = "T" + std::to_string(i);
      nodes[id] = json{{"type", "ok"}};
      edges.push_back(edge(prev, id));
      prev = id;
    }
    edges.push_back(edge(prev, "__end__"));
  } else if (shape == "fanout5" || shape == "fanout8") {
    const int n = shape == "fanout5" ? 5 : 8;
    json wait_for = json::array();
    for (int b = 0; b < n; ++b) {
      const std::string id = "B" + std::to_string(b);
      nodes[id] = json{{"type", "ok"}};
      edges.push_back(edge("__start__", id));
      edges.push_back(edge(id, "Done"));
      wait_for.push_back(id);
    }
    // The join: a barrier node fires once every branch has signalled (NeoGraph's AND-join).
    json done;
    done["type"] = "ok";
    done["barrier"] = json{{"wait_for", wait_for}};
    nodes["Done"] = done;
    edges.push_back(edge("Done", "__end__"));
    steps = n + 1;
  } else {
    return {json(), 0};
  }
  json def;
  def["schema_version"] = ng::TOPOLOGY_SCHEMA_VERSION;
  def["name"] = shape;
  def["channels"] = json{{"steps", {{"reducer", "append"}}}};
  def["nodes"] = nodes;
  def["edges"] = edges;
  return {def, steps};
}

ng::RunConfig config_of(int n) {
  ng::RunConfig config;
  config.thread_id = "run-" + std::to_string(n);
  config.input = json{{"steps", json::array()}};
  return config;
}

bool run_ok(const ng::RunResult& r, int steps) {
  return !r.interrupted && static_cast<int>(r.execution_trace.size()) == steps;
}

int measure(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s SHAPE none|memory|sqlite seq|burst RUNS\n", argv[0]);
    return 2;
  }
  const std::string shape = argv[1], store = argv[2], mode = argv[3];
  const int runs = std::atoi(argv[4]);
  const auto [definition, steps] = definition_of(shape);
  if (steps == 0 || (store != "none" && store != "memory" && store != "sqlite") ||
      (mode != "seq" && mode != "burst") || runs < 1) {
    std::fprintf(stderr, "bad arguments (see the comment at the top of driver.cc)\n");
    return 2;
  }

  // Fan-out branches run as coroutines on the run's own thread (worker_count 1, build()'s default;
  // Switchyard also runs a run's branches on its one engine thread): no warning about it per run.
  setenv("NEOGRAPH_SUPPRESS_FANOUT_WARNING", "1", 1);
  ng::NodeFactory::instance().register_type(
      "ok", [](const std::string& name, const json&, const ng::NodeContext&) {
        return std::make_unique<OkNode>(name);
      });
  const std::string file = std::filesystem::temp_directory_path() /
                           ("switchyard-peer-neograph-" + std::to_string(getpid()) + ".db");
  const auto remove_file = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file + suffix);
  };
  remove_file();
  ng::EngineConfig config;
  if (store == "memory") config.checkpoint_store = std::make_shared<ng::InMemoryCheckpointStore>();
  if (store == "sqlite")
    config.checkpoint_store = std::make_shared<ng::SqliteCheckpointStore>(file);
  auto engine = ng::GraphEngine::build(definition, std::move(config));

  for (int i = 0; i < std::min(200, runs); ++i) {
    if (!run_ok(engine->run(config_of(-i - 1)), steps)) {
      std::fprintf(stderr, "a warm-up run did not complete as expected\n");
      return 1;
    }
  }

  std::atomic<int> failed{0};
  const auto t0 = std::chrono::steady_clock::now();
  if (mode == "seq") {
    for (int i = 0; i < runs; ++i) {
      if (!run_ok(engine->run(config_of(i)), steps)) ++failed;
    }
  } else {
    std::vector<std::unique_ptr<asio::io_context>> loops;
    for (int t = 0; t < 2; ++t) loops.push_back(std::make_unique<asio::io_context>());
    for (int i = 0; i < runs; ++i) {
      asio::co_spawn(
          *loops[i % 2],
          [&engine, &failed, i, steps = steps]() -> asio::awaitable<void> {
            try {
              ng::RunResult r = co_await engine->run_async(config_of(i));
              if (!run_ok(r, steps)) ++failed;
            } catch (const std::exception& e) {
              ++failed;
            }
          },
          asio::detached);
    }
    std::vector<std::thread> threads;
    for (auto& loop : loops) threads.emplace_back([&loop] { loop->run(); });
    for (auto& thread : threads) thread.join();
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  engine.reset();
  remove_file();
  if (failed > 0) {
    std::fprintf(stderr, "%d of %d runs did not complete as expected\n", failed.load(), runs);
    return 1;
  }
  std::printf(
      "{\"engine\":\"neograph\",\"shape\":\"%s\",\"store\":\"%s\",\"mode\":\"%s\",\"runs\":%d,"
      "\"us_per_run\":%.3f,\"runs_per_s\":%.1f}\n",
      shape.c_str(), store.c_str(), mode.c_str(), runs, us / runs, runs / (us / 1e6));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return measure(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neograph: %s\n", e.what());
    return 1;
  }
}
