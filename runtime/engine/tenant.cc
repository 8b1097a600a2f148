#include "runtime/engine/tenant.h"

#include <algorithm>

#include "graph/json_read.h"
#include "runtime/base/log.h"
#include "runtime/base/money.h"
#include "runtime/machine/budget.h"

namespace switchyard::runtime {
namespace {

void add_branch(nlohmann::json& payload, std::uint32_t slot) {
  if (slot != 0) payload["branch"] = slot - 1;
}

}  // namespace

RunTenant::RunTenant(TenantLedger& ledger, std::string tenant, std::string run_id,
                     std::int64_t next_call)
    : ledger_(&ledger),
      tenant_(std::move(tenant)),
      run_id_(std::move(run_id)),
      next_call_(next_call) {}

RunTenant RunTenant::resumed(TenantLedger& ledger, const std::string& run_id,
                             const std::vector<Event>& recorded) {
  if (recorded.empty() || recorded.front().type != "run_started") return RunTenant();
  const std::string tenant = lenient_string(recorded.front().payload, "tenant");
  std::int64_t last = 0;
  for (const Event& e : recorded) {
    if (e.type == "tenant_reserved") last = std::max(last, lenient_integer(e.payload, "call"));
  }
  return RunTenant(ledger, tenant, run_id, last + 1);
}

std::string tenant_refusal(const std::string& tenant, const TenantDecision& d, double usd) {
  const std::int64_t left = d.cap ? *d.cap - d.spent - d.reserved : 0;
  return std::string(kTenantRefusal) + tenant +
         "': " + usd_text(micros_usd(std::max<std::int64_t>(0, left))) + " left of its " +
         usd_text(micros_usd(d.cap.value_or(0))) + " cap (" + usd_text(micros_usd(d.spent)) +
         " spent, " + usd_text(micros_usd(d.reserved)) +
         " reserved by calls in flight), the call needs " + usd_text(usd);
}

std::optional<tools::Outcome> RunTenant::reserve(const Action& action,
                                                 const graph::Workflow& workflow,
                                                 EventSink& events) {
  if (!active()) return std::nullopt;
  retry_unsettled(events);
  const std::string& tool = workflow.tool(action.tool).id;
  const double price = workflow.tool(action.tool).price_usd;
  const std::int64_t usd = usd_micros(action.reserved_usd);
  if (action.purpose == Action::Purpose::kCompensate || usd <= 0) {
    open_[action.slot] = Open{0, 0, price, tool};
    return std::nullopt;
  }
  const std::int64_t call = next_call_++;
  auto decision = ledger_->reserve(tenant_, run_id_, call, usd);
  if (!decision.ok()) {
    return tools::Outcome::failed(tools::FailureKind::kBudgetExhausted,
                                  std::string(kTenantRefusal) + tenant_ + "': " + tool +
                                      ": cannot reserve: " + decision.status().message());
  }
  nlohmann::json payload = {{"tenant", tenant_},
                            {"call", call},
                            {"tool", tool},
                            {"usd", micros_usd(usd)},
                            {"granted", decision->granted},
                            {"cap_usd", decision->cap ? nlohmann::json(micros_usd(*decision->cap))
                                                      : nlohmann::json(nullptr)},
                            {"spent_usd", micros_usd(decision->spent)},
                            {"reserved_usd", micros_usd(decision->reserved)}};
  add_branch(payload, action.slot);
  events.emit("tenant_reserved", std::move(payload));
  if (!decision->granted) {
    return tools::Outcome::failed(
        tools::FailureKind::kBudgetExhausted,
        tenant_refusal(tenant_, *decision, micros_usd(usd)) + " (" + tool + ")");
  }
  open_[action.slot] = Open{call, micros_usd(usd), price, tool};
  return std::nullopt;
}

void RunTenant::close(std::uint32_t slot, const Open& open, double charged, bool aborted,
                      EventSink& events) {
  retry_unsettled(events);
  Closing c{slot, open, usd_micros(charged), aborted, false};
  if (open.call == 0 && c.charged <= 0) return;  // nothing reserved, nothing spent
  if (!take(c, events)) unsettled_.push_back(std::move(c));
}

bool RunTenant::take(const Closing& c, EventSink& events) {
  Status s;
  if (c.open.call == 0) {
    s = ledger_->charge(tenant_, c.charged);
  } else {
    auto settled = ledger_->settle(run_id_, c.open.call, c.charged);
    s = settled.status();
    if (settled.ok() && !*settled) {
      // Settled already as left open (a take-over charged its worst case): not charged again.
      logger().warn("run {}: tenant '{}' call {}: its reservation was already settled", run_id_,
                    tenant_, c.open.call);
    }
  }
  if (!s.ok()) {
    // Not journaled as settled: the reservation stays open (counted against the cap), and the
    // settlement is asked again later (retry_unsettled) or left to the next resume.
    logger().log(c.retried ? spdlog::level::debug : spdlog::level::err,
                 "run {}: tenant '{}': cannot settle call {} (asked again later): {}", run_id_,
                 tenant_, c.open.call, s.message());
    return false;
  }
  nlohmann::json payload = {{"tenant", tenant_},
                            {"call", c.open.call},
                            {"tool", c.open.tool},
                            {"reserved_usd", c.open.reserved_usd},
                            {"charged_usd", micros_usd(c.charged)}};
  if (c.aborted) payload["aborted"] = true;
  add_branch(payload, c.slot);
  events.emit("tenant_settled", std::move(payload));
  return true;
}

void RunTenant::retry_unsettled(EventSink& events) {
  if (unsettled_.empty()) return;
  std::vector<Closing> again;
  for (Closing& c : unsettled_) {
    c.retried = true;
    if (!again.empty() || !take(c, events)) again.push_back(std::move(c));
  }
  unsettled_ = std::move(again);
}

void RunTenant::settle(std::uint32_t slot, const tools::Outcome& outcome, EventSink& events) {
  auto it = open_.find(slot);
  if (it == open_.end()) return;
  const Open open = std::move(it->second);
  open_.erase(it);
  // The run's own charge of the call (spend.cc): its cost and price, at least its worst case when
  // its usage could not be read.
  close(slot, open, call_charge_usd(outcome, open.price_usd, open.reserved_usd), false, events);
}

void RunTenant::abandon(std::uint32_t slot, EventSink& events) {
  auto it = open_.find(slot);
  if (it == open_.end()) return;
  const Open open = std::move(it->second);
  open_.erase(it);
  close(slot, open, open.reserved_usd, true, events);
}

void RunTenant::abandon_all(EventSink& events) {
  while (!open_.empty()) abandon(open_.begin()->first, events);
  retry_unsettled(events);
  for (const Closing& c : unsettled_) {
    if (c.open.call == 0) {
      logger().error("run {}: tenant '{}': a compensation's charge of {} was not recorded", run_id_,
                     tenant_, usd_text(micros_usd(c.charged)));
    } else {
      logger().error(
          "run {}: tenant '{}': call {} left unsettled ({} reserved stays counted against the "
          "cap until the run is resumed or taken over)",
          run_id_, tenant_, c.open.call, usd_text(c.open.reserved_usd));
    }
  }
  unsettled_.clear();
}

void RunTenant::settle_left_open(EventSink& events) {
  if (ledger_ == nullptr) return;
  auto left = ledger_->settle_abandoned(run_id_);
  if (!left.ok()) {
    logger().error("run {}: tenant '{}': cannot settle the reservations left open: {}", run_id_,
                   tenant_, left.status().message());
    return;
  }
  for (const AbandonedReservation& r : *left) {
    next_call_ = std::max(next_call_, r.call + 1);
    if (tenant_.empty()) {
      // Its run_started never became durable (the run starts again): charged all the same.
      logger().warn("run {}: a tenant reservation left open (call {}) charged its worst case {}",
                    run_id_, r.call, usd_text(micros_usd(r.usd)));
      continue;
    }
    events.emit("tenant_settled", {{"tenant", tenant_},
                                   {"call", r.call},
                                   {"reserved_usd", micros_usd(r.usd)},
                                   {"charged_usd", micros_usd(r.usd)},
                                   {"left_open", true}});
  }
}

}  // namespace switchyard::runtime
