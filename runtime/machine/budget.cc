#include "runtime/machine/budget.h"

#include <algorithm>
#include <cstdio>

#include "graph/json_object.h"
#include "graph/json_read.h"
#include "runtime/base/money.h"

namespace switchyard::runtime {
namespace {

// Sums of prices may differ from the cap in the last bits: a call costing exactly what is left
// fits.
constexpr double kUsdSlack = 1e-12;

// Money as every human view prints it (runtime/base/money.h): "$0.50", "$0.0125".
std::string usd(double v) { return usd_text(v); }

}  // namespace

Spend& Spend::operator+=(const Spend& o) {
  usd += o.usd;
  tokens += o.tokens;
  llm_calls += o.llm_calls;
  return *this;
}

Spend worst_case(const graph::Tool& tool, std::int64_t prompt_tokens, const TierPrice* tier) {
  Spend w;
  w.usd = tool.price_usd;
  const auto* llm = std::get_if<graph::LlmTool>(&tool.spec);
  if (llm == nullptr) return w;
  w.llm_calls = 1;
  w.tokens = prompt_tokens + llm->max_tokens;
  if (tier != nullptr) {
    w.usd += static_cast<double>(prompt_tokens) * tier->input_usd_per_mtok / 1e6 +
             static_cast<double>(llm->max_tokens) * tier->output_usd_per_mtok / 1e6;
  }
  return w;
}

nlohmann::json budget_json(const graph::Budget& b) {
  auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return json_object("llm_calls", opt(b.llm_calls), "tokens", opt(b.tokens), "usd", opt(b.usd));
}

Result<graph::Budget> budget_from_json(const nlohmann::json& j, const std::string& pointer) {
  graph::Budget b;
  if (j.is_null()) return b;
  if (!j.is_object()) return invalid_argument(pointer + ": expected an object, got " + describe(j));
  for (const auto& [key, value] : j.items()) {
    const std::string at = pointer_join(pointer, key);
    if (key != "usd" && key != "tokens" && key != "llm_calls") {
      return invalid_argument(at + ": unknown field (usd, tokens, llm_calls)");
    }
    if (value.is_null()) continue;  // absent: no cap of this kind
    const JsonView v(value, at);
    if (key == "usd") {
      auto usd = v.number();
      if (!usd.ok() || *usd < 0) {
        return invalid_argument(at + ": expected a number >= 0, got " + describe(value));
      }
      b.usd = *usd;
      continue;
    }
    auto count = v.integer();
    if (!count.ok() || *count < 0) {
      return invalid_argument(at + ": expected an integer >= 0, got " + describe(value));
    }
    (key == "tokens" ? b.tokens : b.llm_calls) = *count;
  }
  return b;
}

std::optional<std::string> BudgetLedger::shortfall(const Spend& worst) const {
  const double usd_used = spent_.usd + reserved_.usd;
  if (caps_.usd && worst.usd > 0 && usd_used + worst.usd > *caps_.usd + kUsdSlack) {
    return "its worst case costs " + usd(worst.usd) + ", " +
           usd(std::max(0.0, *caps_.usd - usd_used)) + " of " + usd(*caps_.usd) + " left";
  }
  const std::int64_t tokens_used = spent_.tokens + reserved_.tokens;
  if (caps_.tokens && worst.tokens > 0 && tokens_used + worst.tokens > *caps_.tokens) {
    return "its worst case uses " + std::to_string(worst.tokens) + " token(s), " +
           std::to_string(std::max<std::int64_t>(0, *caps_.tokens - tokens_used)) + " of " +
           std::to_string(*caps_.tokens) + " left";
  }
  const std::int64_t calls_used = spent_.llm_calls + reserved_.llm_calls;
  if (caps_.llm_calls && worst.llm_calls > 0 && calls_used + worst.llm_calls > *caps_.llm_calls) {
    return "an LLM call, " +
           std::to_string(std::max<std::int64_t>(0, *caps_.llm_calls - calls_used)) + " of " +
           std::to_string(*caps_.llm_calls) + " left";
  }
  return std::nullopt;
}

void BudgetLedger::reserve(const Spend& worst) { reserved_ += worst; }

Spend BudgetLedger::settle(const Spend& reserved, const Spend& actual) {
  reserved_.usd -= reserved.usd;
  reserved_.tokens -= reserved.tokens;
  reserved_.llm_calls -= reserved.llm_calls;
  if (reserved_.usd < 0) reserved_.usd = 0;  // rounding of the sums
  spent_ += actual;
  return {std::max(0.0, actual.usd - reserved.usd),
          std::max<std::int64_t>(0, actual.tokens - reserved.tokens),
          std::max<std::int64_t>(0, actual.llm_calls - reserved.llm_calls)};
}

bool tenant_refused(const tools::Outcome& outcome) {
  return outcome.failure == tools::FailureKind::kBudgetExhausted &&
         outcome.reason.starts_with(kTenantRefusal);
}

bool call_was_sent(const tools::Outcome& outcome) {
  using tools::FailureKind;
  return outcome.failure != FailureKind::kUnavailable &&
         outcome.failure != FailureKind::kTemplate && outcome.failure != FailureKind::kThrottled &&
         !tenant_refused(outcome);
}

double call_charge_usd(const tools::Outcome& outcome, double price_usd, double reserved_usd) {
  if (!call_was_sent(outcome)) return 0;
  const double usd = outcome.cost_usd + price_usd;
  return outcome.usage_unknown ? std::max(usd, reserved_usd) : usd;
}

}  // namespace switchyard::runtime
