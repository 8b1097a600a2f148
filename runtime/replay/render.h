#pragma once
// Pictures of a journaled run for people (`switchyard replay --format dot|html`): the workflow's
// graph with what the run did marked on it, and a report that adds the run's timeline.
//
// Pure: a workflow, the run's row and its events (in sequence order) in, text out; nothing is
// read or written. Thread-safe. What is marked and how: docs/journal.md#pictures-of-a-run.

#include <string>
#include <vector>

#include "graph/status.h"
#include "graph/workflow.h"
#include "runtime/journal/journal.h"

namespace switchyard::runtime {

// A Graphviz DOT digraph (`dot -Tsvg` renders it): every node and edge of `workflow`, each
// fan-out node as a cluster of its branches, with the path taken, failed steps, reroutes,
// backtracks, goal demotions, abandoned and compensated steps, known-down and blocked tools
// marked by colour and style, and a legend.
std::string render_dot(const graph::Workflow& workflow, const RunRecord& run,
                       const std::vector<Event>& events);

// One self-contained HTML5 document (no scripts, no external assets): the run's summary, its
// escalation and cut set when it escalated, the graph of render_dot as inline SVG, the timeline
// (seq, +time, type, summary: what `replay --format text` prints) and the result.
// Errors: those of render_svg (runtime/replay/graphviz_svg.h).
Result<std::string> render_html(const graph::Workflow& workflow, const RunRecord& run,
                                const std::vector<Event>& events);

}  // namespace switchyard::runtime
