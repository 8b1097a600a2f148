#pragma once
// Mock tools: scripted outcomes for scenario evaluation, chaos runs and tests. Never used to
// stand in for a real service where users meet one.

#include <memory>

#include "graph/workflow.h"
#include "tools/tool.h"

namespace switchyard::tools {

// Whether a mock with `fail` fails on its `call_number`-th call (1-based). Deterministic: rate
// failures draw from a hash of (seed, call number), so a replay draws the same.
bool mock_fails(const graph::MockFail& fail, int call_number);

// A `mock` tool: fails per `fail`, otherwise returns `output`. Reports `latency` as its duration
// (the engine simulates it on its clock). Thread-safe (stateless).
std::unique_ptr<Tool> make_mock_tool(std::string id, graph::MockTool spec);

// The scenario stand-in for an `llm` tool: a model that picks the first option it is offered.
// Asked with a context holding "options" (the advisor), it answers
// {"action": "demote", "goal": options[0]}, or {"action": "escalate", ...} when there is none;
// otherwise {"text": "..."}. Every call is an LLM call. Fails per `fail` like a mock.
std::unique_ptr<Tool> make_mock_model(std::string id, graph::MockFail fail);

}  // namespace switchyard::tools
