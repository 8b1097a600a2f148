#pragma once
// graph::lint: likely mistakes in a workflow that is valid by the format.
//
// The loader accepts any id an edge names: an id that is not a tool or a fan-out is a junction.
// So a typo such as `Paypal` for the tool `Pay` loads fine and becomes a junction that leads
// nowhere, while `Pay` is never called. lint finds such shapes and says what was probably meant:
//
//   - a junction (in the outer graph or a fan-out branch) with no way to its goal: in the outer
//     graph neither to the goal nor to any `demote_to` fallback goal, in a branch not to the
//     branch goal. The pointer names the first edge element that mentions it.
//   - a tool that no route from `start` can call: not a node reachable from `start`, nor one
//     reachable inside a branch of a reachable fan-out, and not used in another way (the
//     escalation advisor, a tool's `compensate` or `probe`). The pointer is /tools/<id>.
//
// Each message ends with "did you mean '<id>'?" when a near-miss id exists (near_miss below):
// for a junction, a tool, fan-out or node that does lead to the goal; for a tool, a junction an
// edge names. Pure and thread-safe: a Workflow in, warnings out.

#include <cstddef>
#include <string_view>
#include <vector>

#include "graph/load.h"
#include "graph/workflow.h"

namespace switchyard::graph {

// Warnings about `workflow` (Severity::kWarning, `file` = `file_name`), in a stable order: the
// junctions of the outer graph, then those of each branch, then the tools in id order. Empty when
// nothing looks wrong.
std::vector<Diagnostic> lint(const Workflow& workflow, std::string_view file_name = "");

// The optimal string alignment distance (insertions, deletions, substitutions and swaps of two
// adjacent characters each cost 1) between `a` and `b`, ignoring ASCII case.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Whether `typed` looks like a misspelling of `meant`: different strings whose edit distance is at
// most 3 and at most half the length of the longer one ("Paypal" for "Pay", "Emial" for "Email",
// "sms" for "SMS"; not "A" for "B").
bool near_miss(std::string_view typed, std::string_view meant);

}  // namespace switchyard::graph
