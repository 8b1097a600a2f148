#pragma once
// Value types of the embedding API: budgets and model tiers going in; run summaries, journal
// rows, events and verification reports coming out. Plain structs, copied freely;
// thread-compatible. Part of the public embedding API (switchyard.h).
//
// JSON values (a run's input, events' payloads, tools' outputs) are nlohmann::json: the
// workflow format is JSON, and an embedding program needs the same library to build inputs and
// read outputs. Only its header is needed (find_dependency(nlohmann_json) in the package config).

#include <switchyard/export.h>
#include <switchyard/status.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::api {

// Caps on what one run may spend (docs/budgets.md). A field that is absent takes the workflow's
// own `budget` value; a run with neither has no cap of that kind. Before any call (a step of any
// kind, an LLM escalation, the advisor) its worst case is reserved: a call whose worst case does
// not fit what is left is not made: the step fails with `budget_exhausted` and is routed around
// like any failure (a run left with no route escalates with reason `budget_exhausted`).
// Compensations are charged but never refused.
struct Budget {
  // US dollars: every tool's `price_usd` (any kind) plus LLM calls' token costs at their tier's
  // prices.
  std::optional<double> usd{};
  std::optional<std::int64_t> tokens{};     // LLM input + output tokens
  std::optional<std::int64_t> llm_calls{};  // LLM calls (steps, escalations, the advisor)
};

// One language-model tier llm tools may use (docs/models.md). A Runtime's tiers are given
// cheapest first; the budget controller starts each call on the cheapest that fits and
// escalates when an answer fails validation.
struct ModelTier {
  std::string name{};   // how workflows and the journal name the tier ("cheap", "strong")
  std::string model{};  // the provider's model name
  // The OpenAI-compatible API root; requests go to base_url + "/chat/completions".
  std::string base_url{};
  // The environment variable that holds the API key ("" : none, a local server). The key is read
  // when a call is made and never logged, journaled or put in an error message.
  std::string api_key_env{};
  double input_usd_per_mtok = 0;             // price per million input tokens
  double output_usd_per_mtok = 0;            // price per million output tokens
  int context_window = 0;                    // tokens; 0: unknown
  std::chrono::milliseconds timeout{60000};  // per call
};

// Reads a models file (docs/models.md) for RuntimeOptions::models. Errors: kInvalidArgument with
// one Diagnostic (file + JSON pointer) per problem; a file that cannot be read is one diagnostic
// with pointer "".
SWITCHYARD_API Result<std::vector<ModelTier>> load_models_file(const std::string& path);

// kWaiting: running, and held at one wait or more (docs/waits.md#waiting-runs); only run lists
// and rows (Runtime::list_runs, get_run) say it: a run's result (RunSummary) never does.
enum class RunStatus { kRunning, kCompleted, kDemoted, kEscalated, kFailed, kWaiting, kQueued };
// "running", "completed", "demoted", "escalated", "failed": the journal's spelling; "waiting" (a
// running run held at a wait, in lists); "queued" (admitted into a PostgreSQL journal's run queue,
// not yet claimed by a worker: docs/scale-out.md#workers).
SWITCHYARD_API std::string_view to_string(RunStatus status);

// How a finished run ended (docs/runs.md).
struct RunSummary {
  std::string run_id{};
  RunStatus status = RunStatus::kRunning;
  std::string goal{};  // the goal reached or last pursued (after demotion: the new one)
  std::vector<std::string> path{};  // the route as far as it completed, from the start node
  int reroutes = 0;
  int backtracks = 0;
  int llm_calls = 0;
  double spent_usd = 0;
  std::int64_t tokens = 0;
  std::vector<std::string> blocked{};  // escalated: the tools that cut the goal off
  std::string message{};               // escalated or failed: why ("cancelled: request", ...)
  // What the run returns (docs/embedding.md#a-runs-result): the goal step's output (a junction
  // goal: the last step's; null unless the run completed or was demoted), and each step's last
  // output on the final path by tool id, within the workflow's limits.max_output_bytes: past it
  // `output` is null with output_truncated, and `outputs` lose their largest entries first (named
  // in outputs_dropped). Every attempt's output is in the events (Runtime::events).
  nlohmann::json output;
  nlohmann::json outputs = nlohmann::json::object();
  bool output_truncated = false;
  std::vector<std::string> outputs_dropped{};
  // The whole `switchyard run --json` document of the run (docs/cli.md) without "journal".
  nlohmann::json json;
  // completed or demoted (what the `switchyard` program exits 0 for).
  bool succeeded() const {
    return status == RunStatus::kCompleted || status == RunStatus::kDemoted;
  }
};

// One journaled event (docs/journal.md#events): run_started, plan, step_started,
// step_succeeded, step_failed, reroute, backtrack, goal_demoted, escalated, cancelled,
// llm_call, run_finished, ...
struct Event {
  std::string run_id{};
  std::int64_t seq = 0;      // 1-based and dense within a run: the journal's order
  std::int64_t time_ms = 0;  // Unix time, milliseconds
  std::string type{};
  nlohmann::json payload;  // an object; fields per type (docs/journal.md)
  std::string hash{};      // the event's link in its run's hash chain; may be "" when live
};

// A wait step a run in flight is held at (docs/waits.md): an approval, a signal or a timer.
struct Wait {
  std::string run_id{};
  std::string wait_id{};  // "<tool id>#<call>", unique within the run
  std::string kind{};     // "approval", "signal" or "timer"
  std::string name{};     // approval and signal: what is waited for
  std::string tool{};
  std::int64_t branch = -1;     // the fan-out branch that waits, or -1
  std::int64_t started_ms = 0;  // Unix time, milliseconds
  std::int64_t due_ms = 0;      // a timer: when it fires; otherwise its timeout (0: none)
};

// How a wait is resolved (Runtime::approve, reject, signal).
struct WaitResolution {
  // approve: handed to the step as its output's "data"; signal: the step's output.
  nlohmann::json data = nullptr;
  std::string reason{};  // reject: why (the step fails `rejected` with it)
  std::string by{};      // who resolved it; journaled
  // An idempotency key: the same resolution delivered again with the same key is accepted and
  // changes nothing.
  std::string key{};
};

// One run's row of the journal.
struct RunInfo {
  std::string run_id{};
  std::string workflow{};       // the workflow's name
  std::string workflow_hash{};  // hex SHA-256 of its canonical JSON
  // kRunning: in flight, or its process died (resume), or queued for a worker (docs/scale-out.md);
  // kWaiting: the same, held at one wait or more (docs/waits.md#waiting-runs).
  RunStatus status = RunStatus::kRunning;
  std::int64_t started_ms = 0;   // Unix time, milliseconds
  std::int64_t finished_ms = 0;  // 0 while running
  nlohmann::json input;
  nlohmann::json result;       // null while running; else RunSummary::json's fields
  std::string head_hash{};     // the hash of its last event ("" before any)
  std::int64_t head_seq = 0;   // the seq of its last event
  std::int64_t owner_pid = 0;  // the process that started (or resumed) it; 0: unknown
};

// Which runs Runtime::list_runs returns (all conditions must hold), newest first.
struct RunQuery {
  // kRunning: the running runs held at no wait; kWaiting: those held at one or more.
  std::optional<RunStatus> status{};
  std::optional<std::string> workflow{};   // by name
  std::optional<std::int64_t> since_ms{};  // started at or after (Unix ms)
  std::optional<std::int64_t> until_ms{};  // started before (Unix ms)
  int limit = 1000;                        // at most this many; REQUIRES: > 0
};

// Runtime::verify's answer (docs/journal.md#verification): ok() when the hash chain is intact and
// every decision, re-driven from the recorded outcomes without calling a tool, is the one
// journaled.
struct VerifyReport {
  std::string run_id{};
  std::int64_t events = 0;    // events checked
  Status chain{};             // OK: the hash chain is intact; else what broke, where
  Status decisions{};         // OK: every decision re-driven and equal; else the first difference
  std::int64_t verified = 0;  // decisions compared
  bool ok() const { return chain.ok() && decisions.ok(); }
};

// Pictures of a journaled run (docs/journal.md#pictures-of-a-run).
enum class Picture {
  kDot,   // a Graphviz DOT digraph of the workflow with what the run did marked on it
  kHtml,  // one self-contained HTML5 report: summary, the graph as inline SVG, timeline, result
};

}  // namespace switchyard::api
