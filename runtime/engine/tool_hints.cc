#include "runtime/engine/tool_hints.h"

#include "graph/json_read.h"

namespace switchyard::runtime {

bool ToolHints::idempotent(graph::ToolIndex t, EventSink& events) {
  const graph::Tool& tool = workflow_.tool(t);
  if (tool.idempotent_declared || t >= tools_.size()) return tool.idempotent;
  const std::optional<bool> hint = tools_.at(t).idempotent_hint();
  if (!hint) return tool.idempotent;
  if (!journaled_[t]) {
    journaled_[t] = 1;
    events.emit("tool_hint",
                {{"tool", tool.id}, {"idempotent", *hint}, {"from", "mcp_annotations"}});
  }
  return *hint;
}

bool hinted_idempotent(const std::vector<Event>& recorded, const std::string& tool) {
  for (const Event& e : recorded) {
    if (e.type != "tool_hint" || lenient_string(e.payload, "tool") != tool) continue;
    const nlohmann::json& v = lenient_member(e.payload, "idempotent");
    if (v.is_boolean() && v == true) return true;
  }
  return false;
}

}  // namespace switchyard::runtime
