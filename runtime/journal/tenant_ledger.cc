#include "runtime/journal/tenant_ledger.h"

#include <cmath>
#include <limits>

#include "graph/json_read.h"

namespace switchyard::runtime {

std::int64_t usd_micros(double usd) { return std::llround(usd * 1e6); }
double micros_usd(std::int64_t micros) { return static_cast<double>(micros) / 1e6; }

Status check_tenant_key(const std::string& key) {
  if (key.empty()) return invalid_argument("a tenant key must not be empty");
  if (key.size() > 200) return invalid_argument("a tenant key is at most 200 bytes");
  if (valid_utf8(key) != key) return invalid_argument("a tenant key must be valid UTF-8");
  for (const char c : key) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return invalid_argument("a tenant key must not hold control characters");
    }
  }
  return Status();
}

Status check_tenant_cap(double usd) {
  if (!std::isfinite(usd) || usd < 0 || usd >= 1e12) {
    return invalid_argument("a tenant's cap must be a number of USD >= 0 and below 10^12");
  }
  return Status();
}

Result<TenantDecision> InProcessTenantLedger::reserve(const std::string& tenant,
                                                      const std::string& run_id, std::int64_t call,
                                                      std::int64_t usd) {
  std::lock_guard lock(mu_);
  TenantBudget& t = tenants_[tenant];
  t.key = tenant;
  TenantDecision d{.granted = false, .cap = t.cap, .spent = t.spent, .reserved = t.reserved};
  d.granted = !t.cap || t.spent + t.reserved + usd <= *t.cap;
  if (!d.granted) return d;
  auto [it, fresh] = held_.try_emplace({run_id, call}, Held{tenant, usd});
  if (!fresh)
    return invalid_argument("run " + run_id + " already reserved its tenant call " +
                            std::to_string(call));
  t.reserved += usd;
  return d;
}

Result<bool> InProcessTenantLedger::settle(const std::string& run_id, std::int64_t call,
                                           std::int64_t charged) {
  std::lock_guard lock(mu_);
  auto it = held_.find({run_id, call});
  if (it == held_.end()) return false;
  TenantBudget& t = tenants_[it->second.tenant];
  t.key = it->second.tenant;
  t.reserved -= it->second.usd;
  t.spent += charged;
  held_.erase(it);
  return true;
}

Status InProcessTenantLedger::charge(const std::string& tenant, std::int64_t usd) {
  std::lock_guard lock(mu_);
  TenantBudget& t = tenants_[tenant];
  t.key = tenant;
  t.spent += usd;
  return Status();
}

Result<std::vector<AbandonedReservation>> InProcessTenantLedger::settle_abandoned(
    const std::string& run_id) {
  std::lock_guard lock(mu_);
  std::vector<AbandonedReservation> out;
  auto it = held_.lower_bound({run_id, std::numeric_limits<std::int64_t>::min()});
  while (it != held_.end() && it->first.first == run_id) {
    TenantBudget& t = tenants_[it->second.tenant];
    t.key = it->second.tenant;
    t.reserved -= it->second.usd;
    t.spent += it->second.usd;
    out.push_back({it->first.second, it->second.usd});
    it = held_.erase(it);
  }
  return out;
}

Status InProcessTenantLedger::set_cap(const std::string& tenant, std::int64_t cap) {
  std::lock_guard lock(mu_);
  TenantBudget& t = tenants_[tenant];
  t.key = tenant;
  t.cap = cap;
  return Status();
}

Result<std::vector<TenantBudget>> InProcessTenantLedger::list() {
  std::lock_guard lock(mu_);
  std::vector<TenantBudget> out;
  for (const auto& [key, t] : tenants_) out.push_back(t);
  return out;
}

TenantLedger& process_tenant_ledger() {
  // Never destroyed, as the call limiter: an engine thread left running at exit may still settle.
  static auto* const ledger = new InProcessTenantLedger;
  return *ledger;
}

}  // namespace switchyard::runtime
