#include "runtime/engine/llm_history.h"

#include <cstdio>

#include "graph/json_read.h"
#include "runtime/base/money.h"
#include "runtime/journal/rows.h"

namespace switchyard::runtime {
namespace {

// What an llm_settled event tells the history.
struct Settled {
  bool counts = false;  // a step's call whose answer was seen (not aborted, not the advisor's)
  std::string tool;
  std::string tier;
  bool ok = false;
  double cost_usd = 0;
};

// Reads an llm_settled payload. Errors name the field that cannot be read.
Result<Settled> settled_of(const nlohmann::json& payload) {
  const JsonView p(payload, "/payload");
  Settled s;
  SWITCHYARD_ASSIGN_OR_RETURN(const std::string purpose, p.string_or("purpose", "step"));
  SWITCHYARD_ASSIGN_OR_RETURN(const bool aborted, p.boolean_or("aborted", false));
  s.counts = purpose == "step" && !aborted;
  if (!s.counts) return s;
  SWITCHYARD_ASSIGN_OR_RETURN(s.tool, p.string_or("tool", ""));
  SWITCHYARD_ASSIGN_OR_RETURN(s.tier, p.string_or("tier", ""));
  SWITCHYARD_ASSIGN_OR_RETURN(s.ok, p.boolean_or("ok", false));
  SWITCHYARD_ASSIGN_OR_RETURN(s.cost_usd, p.number_or("cost_usd", 0.0));
  return s;
}

}  // namespace

void LlmHistory::record(const std::string& workflow, const std::string& tool,
                        const std::string& tier, bool ok, double cost_usd) {
  std::lock_guard lock(mu_);
  Stats& s = stats_[{workflow, tool, tier}];
  ++s.calls;
  s.successes += ok ? 1 : 0;
  s.cost_usd += cost_usd;
}

LlmHistory::Stats LlmHistory::stats(const std::string& workflow, const std::string& tool,
                                    const std::string& tier) const {
  std::lock_guard lock(mu_);
  auto it = stats_.find({workflow, tool, tier});
  return it == stats_.end() ? Stats{} : it->second;
}

std::optional<int> LlmHistory::start_tier(const std::string& workflow, const std::string& tool,
                                          const std::vector<TierPrice>& tiers,
                                          std::string* why) const {
  if (tiers.size() < 2) return std::nullopt;
  std::vector<Stats> s;
  for (const auto& t : tiers) {
    s.push_back(stats(workflow, tool, t.name));
    if (s.back().calls < kMinSamples) return std::nullopt;  // still learning: cascade
  }
  const int n = static_cast<int>(tiers.size());
  std::vector<double> expected(static_cast<std::size_t>(n));
  for (int i = n - 1; i >= 0; --i) {
    const Stats& st = s[static_cast<std::size_t>(i)];
    const double cost = st.cost_usd / st.calls;
    const double p = static_cast<double>(st.successes) / st.calls;
    expected[static_cast<std::size_t>(i)] =
        cost + (i + 1 < n ? (1 - p) * expected[static_cast<std::size_t>(i) + 1] : 0.0);
  }
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (expected[static_cast<std::size_t>(i)] < expected[static_cast<std::size_t>(best)] - 1e-15)
      best = i;
  }
  if (best == 0) return std::nullopt;
  if (why != nullptr) {
    const Stats& cheap = s[0];
    // Money as every human view prints it (runtime/base/money.h).
    *why = "learned: " + tiers[0].name + " succeeds " + std::to_string(cheap.successes) + "/" +
           std::to_string(cheap.calls) + " here; expected " + usd_text(expected[0]) + " from " +
           tiers[0].name + " vs " + usd_text(expected[static_cast<std::size_t>(best)]) + " from " +
           tiers[static_cast<std::size_t>(best)].name;
  }
  return best;
}

Result<std::vector<std::string>> LlmHistory::rebuild(const Journal& journal, int limit) {
  RunFilter filter;
  filter.limit = limit;
  auto runs = journal.list_runs(filter);
  if (!runs.ok()) return runs.status();
  std::vector<std::string> skipped;
  for (const auto& run : *runs) {
    auto events = journal.events(run.run_id);
    if (!events.ok()) {
      // A run with a row that cannot be decoded is passed over; every other is read.
      if (events.status().code() != StatusCode::kInvalidArgument) return events.status();
      skipped.push_back(events.status().message());
      continue;
    }
    for (const auto& e : *events) {
      if (e.type != "llm_settled") continue;
      auto s = settled_of(e.payload);
      if (!s.ok()) {
        skipped.push_back(row_error(e, s.status()).message());
        continue;
      }
      if (s->counts) record(run.workflow, s->tool, s->tier, s->ok, s->cost_usd);
    }
  }
  return skipped;
}

void HistorySink::emit(std::string_view type, nlohmann::json payload) {
  if (history_ != nullptr && type == "llm_settled") {
    // The machine's own event: it always reads.
    if (auto s = settled_of(payload); s.ok() && s->counts) {
      history_->record(workflow_, s->tool, s->tier, s->ok, s->cost_usd);
    }
  }
  inner_.emit(type, std::move(payload));
}

}  // namespace switchyard::runtime
