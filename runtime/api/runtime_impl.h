#pragma once
// Internal to the embedding API's implementation: what a Runtime holds. Not installed.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "monitors/health_table.h"
#include "runtime/api/internal.h"
#include "runtime/base/system_clock.h"
#include "runtime/engine/engine.h"
#include "runtime/engine/health_share.h"
#include "runtime/engine/llm_history.h"
#include "runtime/engine/startup.h"
#include "runtime/journal/event_feed.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/otlp_exporter.h"
#include "runtime/worker/worker.h"
#include "tools/builtin.h"
#include "tools/models.h"
#include "tools/tool_set.h"

namespace switchyard::api {

// The journal and the feed over it, shared with the subscriptions (which may outlive the
// Runtime: the feed must outlive them).
struct SWITCHYARD_HIDDEN JournalCore {
  std::unique_ptr<runtime::Journal> journal;
  std::unique_ptr<runtime::EventFeed> feed;  // over *journal; what runs write through
};

struct SWITCHYARD_HIDDEN EventSubscription::Impl {
  std::shared_ptr<JournalCore> core;  // declared first: destroyed after the subscription
  runtime::EventFeed::Subscription subscription;
};

struct SWITCHYARD_HIDDEN Runtime::Impl {
  RuntimeOptions options;
  runtime::SystemClock clock;
  std::shared_ptr<JournalCore> core;
  tools::Models models;
  // The health monitor and learned escalation's history as the startup sequence made them
  // (runtime/engine/startup.h; its journal moved to `core`).
  runtime::Startup startup;
  monitors::HealthTable* health = nullptr;  // startup.health
  runtime::LlmHistory* history = nullptr;   // startup.history

  mutable std::mutex mu;
  tools::BuiltinRegistry builtins;  // guarded by mu
  std::uint64_t generation = 0;     // of builtins: bumped by every registration (mu)
  struct CachedTools {
    std::shared_ptr<const graph::Workflow> model;  // keeps the key alive
    std::uint64_t generation = 0;
    std::shared_ptr<tools::ToolSet> tools;
  };
  std::map<const graph::Workflow*, CachedTools> tool_sets;  // mu
  std::set<std::string> in_flight;                          // run ids started or resumed here (mu)

  // With options.otlp_endpoint: the trace exporter, subscribed to the feed (the subscription
  // ends before the exporter sends what is queued and stops).
  std::unique_ptr<runtime::OtlpExporter> otlp;
  runtime::EventFeed::Subscription otlp_subscription;

  // Declared last: destroyed first, while everything it uses is alive.
  std::unique_ptr<runtime::Engine> engine;
  // options.health_poll on a PostgreSQL journal: the other processes' outcomes, learned by
  // `health` (destroyed before the engine and the journal it reads).
  std::unique_ptr<runtime::HealthShare> health_share;
  // start_worker: the worker of the journal's queue, on its thread (destroyed before the engine;
  // stopped and joined by stop_worker, which ~Runtime calls abandoning its runs). Under
  // worker_mu.
  mutable std::mutex worker_mu;
  std::unique_ptr<runtime::Journal> worker_claims;  // the worker's claims' own connection
  std::unique_ptr<runtime::Worker> worker;
  std::thread worker_thread;
  runtime::WorkerStats stopped_worker_stats;  // the last worker's, once stopped
  // `abandon`: without waiting for the runs it holds (Worker::abandon), as ~Runtime does.
  void stop_worker(bool abandon);

  runtime::Journal& journal() const { return *core->feed; }
  // The workflow's tool adapters, with the builtins registered now. Errors: make_tool_set's.
  switchyard::Result<std::shared_ptr<tools::ToolSet>> tools_for(const Workflow& workflow);
  void add_builtin(const std::string& name, tools::CallBuiltin fn);
  // Subscribes `callback` to the feed, for the events of `run_id` only ("": every run).
  EventSubscription subscribe(const std::string& run_id, EventCallback callback);
  // Records `run_id` as in flight here; false when it already is.
  bool enter(const std::string& run_id);
  void leave(const std::string& run_id);

  // Checks a run's options and readies what the engine needs (Runtime::start and run): its
  // tools, its request (the run id made when none was given, entered as in flight) and its
  // subscription. Errors: the run's input is not an object, its tools cannot be made, its run id
  // is in the journal or in flight already.
  struct Prepared;
  Result<Prepared> prepare(const Workflow& workflow, RunOptions& options);
};

}  // namespace switchyard::api
