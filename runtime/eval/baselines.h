#pragma once
// The paper's two baselines, as runners over the same scenario files, with the counting rules of
// tests/scenarios/paper/README.md. They exist to put Switchyard's figures beside theirs in
// `switchyard eval --baselines`; nothing here is hard-coded per scenario.
//
//  - ReAct: an LLM chooses every step. 1 planning call; at each node 1 call to choose the next
//    tool, trying options in order of base cost, plus 1 call per option found down; at a node
//    whose options are all down, 2 more calls (reason about backtracking, give up) and the run
//    stops, visibly (escalated). No backtracking.
//  - Static workflow: the healthy cheapest route, hard-coded, with one pre-coded fallback per tool:
//    the cheapest other successor of the same predecessor (this yields the paper's pairs
//    Stripe<->Razorpay, Email<->SMS, FlightAPI<->TrainAPI, ...). A down tool whose fallback is up
//    is replaced by it; a tool with no fallback stops the run visibly (escalated), as does a node
//    whose 3 or more next tools are all down; a tool and its fallback both down: the layer is
//    skipped and the run reports success: a silent failure.
//
// Each baseline writes the events its run would journal, and silent failures are counted from
// them by the same audit as Switchyard's own runs.

#include <string>
#include <vector>

#include "graph/workflow.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

struct BaselineRun {
  std::string status;  // completed or escalated
  std::vector<std::string> path;
  int llm_calls = 0;
  std::vector<Event> events;  // what it would journal
};

// REQUIRES: workflow.scenario() is set (its `down` and `fail_calls` decide what is down).
BaselineRun run_react_baseline(const graph::Workflow& workflow);
BaselineRun run_static_baseline(const graph::Workflow& workflow);

}  // namespace switchyard::runtime
