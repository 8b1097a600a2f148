#pragma once
// Chaos: a workflow run under every set of at most K tools down, to show it never fails
// silently, and the minimal cut sets that make its goal unreachable.
//
// Each set is a scenario run (every tool a mock; the set's tools fail on every call, known down
// before the run or, with `unknown`, discovered mid-run), audited from its journal like `eval`.
// Sets run in parallel on all cores. A minimal cut set is a set of tools whose failure leaves no
// route from start to goal (with fan-out joins and fallback goals ignored: the main goal) while
// no smaller subset of it does; edges whose conditions are false at the start of a run (input {})
// are no route, those whose conditions read a step's output count as open. A run that a condition
// leaves with no route ends visibly (demoted or escalated, its journal says which edges were
// closed): the audit counts no silent failure for it.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graph/status.h"
#include "graph/workflow.h"

namespace switchyard::runtime {

struct ChaosOptions {
  int max_down = 1;      // K
  bool unknown = false;  // failures discovered mid-run instead of known before it
  int threads = 0;       // 0: hardware concurrency
};

struct ChaosRow {
  std::vector<std::string> down;
  std::string status;
  std::vector<std::string> path;
  int reroutes = 0;
  int llm_calls = 0;
  int silent_failures = 0;
  int side_effects_abandoned = 0;
  std::vector<std::string> findings;
};

struct ChaosReport {
  std::string workflow;
  ChaosOptions options;
  std::vector<std::string> tools;  // the tools that were taken down, in id order
  std::vector<ChaosRow> rows;      // by set size, then lexicographically
  std::vector<std::vector<std::string>> minimal_cut_sets;
  int silent_failures = 0;
  int side_effects_abandoned = 0;
  nlohmann::json to_json() const;
};

// Errors: kInvalidArgument when max_down is out of 0..8 or the workflow's source cannot be
// re-loaded as a scenario.
Result<ChaosReport> run_chaos(const graph::Workflow& workflow, const ChaosOptions& options);

}  // namespace switchyard::runtime
