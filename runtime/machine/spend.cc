// RunMachine: the spend of its calls. Before a call, the reservation the budget controller chose
// is held (one call in flight per machine); when the call ends it is settled with what the call
// cost, and llm_decision, llm_call and llm_settled are journaled; a call that will never be
// completed (cancel, abort) is charged its worst case if it may have been sent.

#include <algorithm>
#include <cassert>
#include <optional>
#include <string>

#include "runtime/machine/run_machine.h"

namespace switchyard::runtime {

using graph::kNoIndex;
using graph::NodeIndex;
using graph::ToolIndex;

void RunMachine::hold(const TierChoice& choice) {
  assert(!held_);
  controller().reserve(choice);
  held_ = choice;
}

void RunMachine::start_llm_step(NodeIndex node, ToolIndex tool, const TierChoice& choice,
                                const std::string& reason) {
  hold(choice);
  sink_.emit("llm_decision", {{"node", node_id(node)},
                              {"tool", workflow_.tool(tool).id},
                              {"tier", options_.tiers[static_cast<std::size_t>(choice.tier)].name},
                              {"reason", reason},
                              {"reserved_usd", choice.worst.usd},
                              {"reserved_tokens", choice.worst.tokens}});
  pending_ = invoke(Action::Purpose::kStep, tool, node, &context_);
  pending_->tier = choice.tier;
}

int RunMachine::settle(const tools::Outcome& outcome, ToolIndex tool, NodeIndex node,
                       std::string_view purpose) {
  // A call that was never sent (the monitor refused it, its key or template was missing) costs
  // nothing; any other is charged what it cost, its price and, for a model, its usage.
  const bool sent = call_was_sent(outcome);
  Spend actual;
  if (sent) {
    actual = {outcome.cost_usd + workflow_.tool(tool).price_usd, outcome.tokens,
              outcome.llm_call ? 1 : 0};
  }
  std::optional<TierChoice> held = std::move(held_);
  held_.reset();
  if (sent && held && outcome.usage_unknown) {
    // The reply's usage could not be read: the call is charged its reserved worst case.
    actual = {std::max(actual.usd, held->worst.usd), std::max(actual.tokens, held->worst.tokens),
              std::max(actual.llm_calls, held->worst.llm_calls)};
  }
  Spend over;
  if (held) {
    over = controller().settle(*held, actual);
  } else {
    controller().charge(actual);
  }
  sync_spend();
  if (outcome.llm_call) {
    sink_.emit("llm_call", {{"tool", workflow_.tool(tool).id},
                            {"purpose", purpose},
                            {"tokens", outcome.tokens},
                            {"cost_usd", outcome.cost_usd}});
  }
  const int tier = held ? held->tier : -1;
  if (tier >= 0 && outcome.llm_call) {
    nlohmann::json settled = {
        {"node", node == kNoIndex ? nlohmann::json(nullptr) : nlohmann::json(node_id(node))},
        {"purpose", purpose},
        {"tool", workflow_.tool(tool).id},
        {"tier", options_.tiers[static_cast<std::size_t>(tier)].name},
        {"tokens", outcome.tokens},
        {"cost_usd", outcome.cost_usd},
        {"reserved_usd", held->worst.usd},
        {"ok", outcome.ok}};
    if (over.usd > 0 || over.tokens > 0) {
      // The provider reported more than the honest bound: charged as reported (it bills it).
      settled["over_reservation"] = {{"usd", over.usd}, {"tokens", over.tokens}};
    }
    if (!outcome.ok) {  // what the call failed of: an escalation journals no step_failed
      settled["failure"] = std::string(tools::to_string(outcome.failure));
      settled["reason"] = outcome.reason;
    }
    sink_.emit("llm_settled", std::move(settled));
  }
  return tier;
}

void RunMachine::drop_held(bool sent) {
  if (!held_) return;
  const TierChoice held = *held_;
  held_.reset();
  // The request of an aborted call may have reached the provider, which bills it; its answer,
  // and so its usage, will never be seen. Charging its worst case keeps the cap hard; releasing
  // it would let the next call spend money the provider may already be owed.
  controller().settle(held, sent ? held.worst : Spend{});
  sync_spend();
  if (!sent || held.tier < 0) return;
  const bool step = awaiting_ == Awaiting::kStep;
  sink_.emit("llm_settled",
             {{"node", step ? nlohmann::json(node_id(step_node_)) : nlohmann::json(nullptr)},
              {"purpose", step ? "step" : "advisor"},
              {"tool", workflow_.tool(current_tool_).id},
              {"tier", options_.tiers[static_cast<std::size_t>(held.tier)].name},
              {"tokens", held.worst.tokens},
              {"cost_usd", held.worst.usd - workflow_.tool(current_tool_).price_usd},
              {"reserved_usd", held.worst.usd},
              {"ok", false},
              {"aborted", true}});
}

void RunMachine::sync_spend() {
  RunResult& r = root_->result_;
  const Spend& spent = controller().spent();
  r.spent_usd = spent.usd;
  r.tokens = spent.tokens;
  r.llm_calls = static_cast<int>(spent.llm_calls);
}

}  // namespace switchyard::runtime
