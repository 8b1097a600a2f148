#pragma once
// Scenario evaluation (`switchyard eval`): runs scenario files with every tool mocked, audits each
// run's journal, and optionally runs the paper's baselines over the same files.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graph/status.h"
#include "graph/workflow.h"

namespace switchyard::runtime {

class Journal;

struct ScenarioResult {
  std::string id;
  std::string file;
  std::string status;
  std::string expected_status;
  bool correct = false;
  std::vector<std::string> path;
  std::vector<std::string> expected_path;  // empty when the scenario gives none
  int llm_calls = 0;
  int reroutes = 0;  // reroutes + backtracks
  int silent_failures = 0;
  int side_effects_abandoned = 0;
  std::int64_t route_ns = 0;  // median time of one routing decision
  bool replay_ok = true;      // the journal re-drives to the same decisions (replay --verify)
  std::vector<std::string> findings;  // audit findings and mismatches
  nlohmann::json to_json() const;
};

struct EvalTotals {
  int scenarios = 0;
  int correct = 0;
  int llm_calls = 0;
  int reroutes = 0;
  int silent_failures = 0;
  int side_effects_abandoned = 0;
  nlohmann::json to_json() const;
};

struct EvalReport {
  std::vector<ScenarioResult> scenarios;
  EvalTotals totals;
  bool with_baselines = false;
  std::vector<ScenarioResult> react;
  EvalTotals react_totals;
  std::vector<ScenarioResult> static_workflow;
  EvalTotals static_totals;
  nlohmann::json to_json() const;  // the `eval --json` document (docs/cli.md)
};

struct EvalOptions {
  bool baselines = false;
  bool measure_routing = true;  // route_ns (costs a few ms per scenario)
};

// Evaluates one loaded scenario workflow, journaling its run (id "eval-<scenario id>") into
// `journal` (null: a journal in memory). REQUIRES: workflow.scenario() is set.
ScenarioResult evaluate_scenario(const graph::Workflow& workflow, const std::string& file,
                                 Journal* journal = nullptr);

// Expands PATHs (files, or folders: every *.json in them, sorted) and evaluates each. Errors:
// kNotFound for a missing path; kInvalidArgument for a file that does not load or has no
// `scenario` block (the message names the file and the first error).
Result<EvalReport> evaluate(const std::vector<std::string>& paths, const EvalOptions& options);

}  // namespace switchyard::runtime
