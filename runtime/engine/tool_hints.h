#pragma once
// Whether a tool is idempotent for the call a run is about to make: the workflow's `idempotent`
// when it gives one, else what the tool's service says (tools::Tool::idempotent_hint: an MCP
// server's annotations), else false. A driver (Engine, Runner) asks before each call and after
// each answer; the durability rules (docs/journal.md) follow the answer. Internal to runtime/.

#include <cstdint>
#include <string>
#include <vector>

#include "graph/workflow.h"
#include "runtime/journal/journal.h"
#include "runtime/machine/run_machine.h"
#include "tools/tool_set.h"

namespace switchyard::runtime {

class ToolHints {
 public:
  ToolHints(const graph::Workflow& workflow, const tools::ToolSet& tools)
      : workflow_(workflow), tools_(tools), journaled_(workflow.tools().size(), 0) {}

  // Tool `t` is idempotent for this run's next call. The first time in the run a hint decides
  // for `t`, emits `tool_hint` {tool, idempotent, from} into `events` (a driver event; resume
  // reads it: plan_resume). A hint not yet known (the tool has not read it yet) counts as false
  // and is asked again next time.
  bool idempotent(graph::ToolIndex t, EventSink& events);

 private:
  const graph::Workflow& workflow_;
  const tools::ToolSet& tools_;
  std::vector<std::uint8_t> journaled_;  // per tool: its hint is in the run's events
};

// Whether `recorded` (a run's journal) holds a `tool_hint` saying tool `tool` is idempotent.
bool hinted_idempotent(const std::vector<Event>& recorded, const std::string& tool);

}  // namespace switchyard::runtime
