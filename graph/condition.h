#pragma once
// Edge conditions (`when`): a small, side-effect-free language over what a run knows when it
// plans: its input and the outputs of the steps it has taken (docs/workflow-format.md#conditions).
//
//   {"ptr": "/steps/Fraud/output/score", "gt": 0.8}      eq ne lt le gt ge in, on a JSON pointer
//   {"exists": "/steps/Lookup/output/id"}                the pointer names a value (null included)
//   {"and": [c, ...]}  {"or": [c, ...]}  {"not": c}
//
// Pointers are RFC 6901 pointers into the run's context {"input": ..., "steps": {id: {"output":
// ...}}} (what builtins and templates see): /input..., /steps/<tool or fan-out id>[/output...].
//
// Values: a comparison whose pointer names no value is false (so is `ne`); eq/ne/in compare JSON
// values (numbers by value: 1 == 1.0); lt/le/gt/ge compare two numbers or two strings (byte
// order) and are false for any other pair of types. A condition is evaluated in one of two modes:
//  - deciding (the run stands at the edge's source): a step that has not run names no value;
//  - looking ahead (an edge further on): a comparison or `exists` on a step that has not run is
//    undecided, and and/or/not combine in Kleene's three-valued logic (false and undecided is
//    false, true or undecided is true, not undecided is undecided). The router keeps an undecided
//    edge; it is decided when the run gets to its source.
// Pure and thread-safe.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace switchyard::graph {

class Graph;

enum class ConditionOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kExists, kAnd, kOr, kNot };

struct Condition {
  ConditionOp op = ConditionOp::kExists;
  // Comparisons and exists: the pointer as written, its reference tokens unescaped, and the step
  // it reads (its id; empty under /input).
  std::string pointer;
  std::vector<std::string> tokens;
  std::string step;
  nlohmann::json operand;        // comparisons: the value compared with (in: a non-empty array)
  std::vector<Condition> terms;  // and / or: one or more; not: exactly one
};

enum class Truth : std::uint8_t { kFalse, kTrue, kUndecided };

// The value of `condition` over `context` ({"input", "steps"}). `look_ahead`: a leaf on a step
// with no entry under context["steps"] is undecided (see above); otherwise it names no value.
Truth evaluate(const Condition& condition, const nlohmann::json& context, bool look_ahead);

// For messages and journals: "/steps/Fraud/output/score gt 0.8", "exists /input/vip",
// "(a) and (b)", "not (a)".
std::string to_string(const Condition& condition);

// JSON for the journal: true, false or null (undecided).
nlohmann::json to_json(Truth truth);

// The conditions of `graph` evaluated for a run that stands at node `at` (kNoIndex: at none yet,
// e.g. before a tool start has run): edges out of `at` are decided, every other guarded edge is
// looked ahead. `values` (optional) receives one Truth per guarded edge, in graph.guarded() order.
// Returns one flag per edge of the graph: closed (its condition is false) or not.
std::vector<bool> closed_edges(const Graph& graph, const nlohmann::json& context, std::uint32_t at,
                               std::vector<Truth>* values = nullptr);

}  // namespace switchyard::graph
