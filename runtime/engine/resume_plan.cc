#include "runtime/engine/resume_plan.h"

#include "graph/json_read.h"
#include "runtime/engine/tool_hints.h"

namespace switchyard::runtime {

Result<ResumePoint> open_resume(Journal& journal, const graph::Workflow& workflow,
                                const std::string& workflow_hash, const std::string& run_id) {
  ResumePoint point;
  auto run = journal.get_run(run_id);
  if (!run.ok()) return run.status();
  if (run->status != "running") {
    return failed_precondition("run " + run_id + " has already finished (" + run->status + ")");
  }
  if (run->workflow_hash != workflow_hash) {
    return failed_precondition("run " + run_id + " ran workflow " + run->workflow + " with hash " +
                               run->workflow_hash.substr(0, 12) + "; this one hashes to " +
                               workflow_hash.substr(0, 12) + ": resume it with the same workflow");
  }
  point.run = std::move(*run);
  auto recorded = journal.events(run_id);
  if (!recorded.ok()) return recorded.status();
  point.recorded = std::move(*recorded);
  if (point.recorded.empty()) return point;
  auto reenacted = reenact(workflow, point.recorded, /*complete=*/false);
  if (!reenacted.ok()) {
    return failed_precondition("run " + run_id +
                               " cannot be resumed: its journal does not "
                               "re-drive: " +
                               reenacted.status().message());
  }
  point.reenacted = std::move(*reenacted);
  return point;
}

namespace {

// The time of the journaled wait_started of wait `wait`, or -1.
std::int64_t wait_started_ms(const std::vector<Event>& recorded, const std::string& wait) {
  for (auto it = recorded.rbegin(); it != recorded.rend(); ++it) {
    if (it->type == "wait_started" && lenient_string(it->payload, "wait") == wait) {
      return it->time_ms;
    }
  }
  return -1;
}

}  // namespace

ResumePlan plan_resume(const graph::Workflow& w, const ResumePoint& point) {
  const Reenactment& r = *point.reenacted;
  const std::vector<Event>& recorded = point.recorded;
  ResumePlan plan;
  // What was in flight when the run stopped, repeated only when that is safe. It stopped because
  // its process died, or because the service shut down and journaled run_interrupted
  // (runtime/service/interrupt_gate.h).
  plan.interrupted = recorded.back().type == "run_interrupted";
  const std::string stopped = plan.interrupted
                                  ? "when the service shut down (run_interrupted, event #" +
                                        std::to_string(recorded.back().seq) + ")"
                                  : "when the process died";
  nlohmann::json retried = nlohmann::json::array(), in_doubt = nlohmann::json::array();
  for (const auto& [slot, call] : r.pending()) {
    const graph::Tool& tool = w.tool(call.action.tool);
    // Not given by the workflow, idempotence may have come from the tool's hint (tool_hint).
    const bool safe = !call.started_in_journal || tool.idempotent || has_idempotency_key(tool) ||
                      (!tool.idempotent_declared && hinted_idempotent(recorded, tool.id));
    nlohmann::json entry = {{"tool", tool.id}, {"slot", slot}, {"call", call.action.call_number}};
    if (safe) {
      plan.again.push_back(call.action);
      if (tool.kind == graph::ToolKind::kWait && call.started_in_journal) {
        const std::string id = wait_id(tool, call.action.call_number);
        if (const std::int64_t started = wait_started_ms(recorded, id); started >= 0) {
          plan.held.push_back({.wait_id = id, .slot = slot, .started_ms = started});
          continue;  // held again, not retried
        }
      }
      if (call.started_in_journal) retried.push_back(std::move(entry));
    } else {
      if (plan.doubt.empty()) {
        plan.doubt = "step " + tool.id + " (call " + std::to_string(call.action.call_number) +
                     ") was in flight " + stopped + ": it may or may not have taken effect, and " +
                     tool.id + " is not idempotent, so it is not repeated";
      }
      in_doubt.push_back(std::move(entry));
    }
  }
  nlohmann::json held = nlohmann::json::array();
  for (const HeldWait& h : plan.held) held.push_back(h.wait_id);
  plan.resumed = {{"after_seq", r.last_seq()},
                  {"owner_pid", point.run.owner_pid},
                  {"retried", retried},
                  {"in_doubt", in_doubt}};
  if (!held.empty()) plan.resumed["waits"] = std::move(held);
  if (!plan.doubt.empty()) {
    plan.again.clear();
    plan.held.clear();
  }
  return plan;
}

}  // namespace switchyard::runtime
