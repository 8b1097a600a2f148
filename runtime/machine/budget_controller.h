#pragma once
// BudgetController: the budget controller of one run (docs/budgets.md). Before a call it chooses
// the call's model tier and reserves the call's worst case; when the call ends it settles the
// reservation with what the call cost. A call whose worst case does not fit what is left of the
// budget is refused, with why, and never made.
//
// Tier choice, for an `llm` tool when the run has tiers (cheapest first):
//  - the tool names a tier: that tier (and, escalating, nothing else);
//  - a hard step: the strongest tier that fits, downgrading until one does;
//  - a tool with a learned start tier: that tier, then up, then down when only a cheaper one fits;
//  - otherwise: the cheapest tier that fits; an escalation tries the tiers above the failed one.
// Any other call (a tool with a price, an llm call without tiers) has no tier: its worst case is
// its price and, for an llm tool, one LLM call and its token bound.
//
// The controller decides and keeps the ledger; it journals nothing (the RunMachine emits
// llm_decision, llm_call and llm_settled from what it returns). Deterministic: the same calls and
// costs give the same choices.
//
// Thread-compatible: one controller per run, shared by the run's fan-out branches, used from the
// run's thread.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/workflow.h"
#include "runtime/machine/budget.h"

namespace switchyard::runtime {

class BudgetController {
 public:
  // A call the budget can cover: its tier (-1: not a tiered llm call) and its worst case.
  struct TierChoice {
    int tier = -1;
    Spend worst;
  };

  // An empty controller: no caps, no tiers, no workflow; only for a RunMachine's fan-out branches,
  // which use their run's controller.
  BudgetController() = default;
  // REQUIRES: `workflow` outlives the controller. `caps`: the run's caps (absent: no cap of that
  // kind). `tiers`: the model tiers llm calls may use, cheapest first (empty: no tier choice).
  // `learned_start`: llm tools that start above the cheapest tier, with why.
  BudgetController(const graph::Workflow& workflow, graph::Budget caps,
                   std::vector<TierPrice> tiers,
                   std::map<graph::ToolIndex, std::pair<int, std::string>> learned_start);

  // The call of `tool` to make, its templates seeing `context`: for an llm tool with tiers, the
  // tier it starts on (above `above`: an escalation); for any other call, no tier. Nullopt, with
  // why in `*why` (when not null), when its worst case does not fit what is left.
  std::optional<TierChoice> plan_call(graph::ToolIndex tool, int above,
                                      const nlohmann::json& context, std::string* why) const;
  // The tier for a call of llm `tool` (REQUIRES: an llm tool, tiers not empty), as plan_call.
  std::optional<TierChoice> choose_tier(graph::ToolIndex tool, int above,
                                        const nlohmann::json& context, std::string* why) const;
  // An upper bound of the prompt tokens of a call of `tool` seeing `context` (0: not an llm tool).
  std::int64_t prompt_tokens(graph::ToolIndex tool, const nlohmann::json& context) const;

  // Reserves `choice` for a call about to be made. REQUIRES: `choice` came from plan_call or
  // choose_tier and nothing was reserved or spent since.
  void reserve(const TierChoice& choice) { ledger_.reserve(choice.worst); }
  // The call `choice` was reserved for has ended: releases the reservation, charges `actual`, and
  // returns how far `actual` went past the reservation (zero in each quantity where it did not).
  Spend settle(const TierChoice& choice, const Spend& actual) {
    return ledger_.settle(choice.worst, actual);
  }
  // Charges a call made without a reservation (compensations: undoing is not optional).
  void charge(const Spend& actual) { ledger_.charge(actual); }

  // REQUIRES: 0 <= tier < tiers().size().
  const std::string& tier_name(int tier) const {
    return tiers_[static_cast<std::size_t>(tier)].name;
  }
  const std::vector<TierPrice>& tiers() const { return tiers_; }
  const Spend& spent() const { return ledger_.spent(); }
  const Spend& reserved() const { return ledger_.reserved(); }

 private:
  const graph::Workflow* workflow_ = nullptr;
  std::vector<TierPrice> tiers_;
  std::map<graph::ToolIndex, std::pair<int, std::string>> learned_start_;
  BudgetLedger ledger_;
};

}  // namespace switchyard::runtime
