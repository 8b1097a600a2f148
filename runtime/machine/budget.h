#pragma once
// The budget controller's arithmetic (docs/budgets.md): what a call costs or may cost, and one
// run's ledger of what it has spent and what its calls in flight have reserved.
//
// The cap is hard by reservation: before a call, its worst case is reserved, and a call whose
// worst case does not fit (spent + reserved + worst <= cap, in USD, tokens and LLM calls alike)
// is not made. When the call ends its reservation is released and what it cost is charged.
//
// Thread-compatible: one ledger per run, used from the run's thread.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "graph/status.h"
#include "graph/workflow.h"
#include "tools/tool.h"

namespace switchyard::runtime {

// An amount of each budgeted quantity.
struct Spend {
  double usd = 0;
  std::int64_t tokens = 0;
  std::int64_t llm_calls = 0;
  Spend& operator+=(const Spend& o);
};

// A model tier's prices, as the budget controller sees them (from the models file).
struct TierPrice {
  std::string name;
  double input_usd_per_mtok = 0;
  double output_usd_per_mtok = 0;
};

// The worst case of one call of `tool`: its price_usd, and for an llm tool one LLM call, an upper
// bound of its tokens (`prompt_tokens`, from tools::prompt_token_bound, plus max_tokens) and, with
// a tier, their cost at its prices (input bound x input price + max_tokens x output price).
Spend worst_case(const graph::Tool& tool, std::int64_t prompt_tokens, const TierPrice* tier);

// A budget's JSON form: {"usd": number >= 0, "tokens": integer >= 0, "llm_calls": integer >= 0},
// each member optional, null meaning absent (no cap of that kind). How run_started journals a
// run's budget overrides (every member, absent ones null) and how a service request gives them.
nlohmann::json budget_json(const graph::Budget& budget);
// The one reader of that form (journal rows, requests). Null is no budget. Errors
// (kInvalidArgument, naming the member's pointer below `pointer`): not an object, an unknown
// member, a value of the wrong type or below 0.
Result<graph::Budget> budget_from_json(const nlohmann::json& j, const std::string& pointer);

// The start of the reason of a call its tenant's budget refused (or could not be asked for):
// "tenant budget '<key>': ..." (docs/budgets.md#tenant-budgets).
inline constexpr std::string_view kTenantRefusal = "tenant budget '";
// Whether `outcome` is such a refusal: failed budget_exhausted, its reason starting so.
bool tenant_refused(const tools::Outcome& outcome);
// Whether a call that ended with `outcome` was sent, and so is charged: not when the monitor
// refused it, its template or API key was missing, its throttle gave no turn, or its tenant's
// budget refused it.
bool call_was_sent(const tools::Outcome& outcome);
// What such a call is charged in USD: nothing when it was not sent; else its cost plus the tool's
// `price_usd`, and at least `reserved_usd` (its worst case) when its usage could not be read.
double call_charge_usd(const tools::Outcome& outcome, double price_usd, double reserved_usd);

class BudgetLedger {
 public:
  explicit BudgetLedger(graph::Budget caps = {}) : caps_(std::move(caps)) {}

  // Nullopt when `worst` fits what is left; else why not (for the journal).
  std::optional<std::string> shortfall(const Spend& worst) const;
  // REQUIRES: shortfall(worst) is nullopt.
  void reserve(const Spend& worst);
  // The call `reserved` was held for has ended: releases the reservation, charges `actual`, and
  // returns how far `actual` went past the reservation (zero in each quantity where it did not).
  Spend settle(const Spend& reserved, const Spend& actual);
  // Charges a call made without a reservation (compensations: undoing is not optional).
  void charge(const Spend& actual) { spent_ += actual; }

  const Spend& spent() const { return spent_; }
  const Spend& reserved() const { return reserved_; }
  const graph::Budget& caps() const { return caps_; }

 private:
  graph::Budget caps_;
  Spend spent_;
  Spend reserved_;
};

}  // namespace switchyard::runtime
