#include "runtime/engine/llm_history.h"

#include <cstdio>

namespace switchyard::runtime {
namespace {

// What the history learns from: a step's calls whose answer was seen (an aborted call's was not;
// an advisor's is no step's).
bool counts(const nlohmann::json& settled) {
  return settled.value("purpose", "step") == "step" && !settled.value("aborted", false);
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
    if (expected[static_cast<std::size_t>(i)] < expected[static_cast<std::size_t>(best)] - 1e-15) best = i;
  }
  if (best == 0) return std::nullopt;
  if (why != nullptr) {
    const Stats& cheap = s[0];
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "learned: %s succeeds %d/%d here; expected $%.6g from %s vs $%.6g from %s",
                  tiers[0].name.c_str(), cheap.successes, cheap.calls, expected[0],
                  tiers[0].name.c_str(), expected[static_cast<std::size_t>(best)],
                  tiers[static_cast<std::size_t>(best)].name.c_str());
    *why = buf;
  }
  return best;
}

Status LlmHistory::rebuild(const Journal& journal, int limit) {
  RunFilter filter;
  filter.limit = limit;
  auto runs = journal.list_runs(filter);
  if (!runs.ok()) return runs.status();
  for (const auto& run : *runs) {
    auto events = journal.events(run.run_id);
    if (!events.ok()) return events.status();
    for (const auto& e : *events) {
      if (e.type != "llm_settled" || !counts(e.payload)) continue;
      record(run.workflow, e.payload.value("tool", ""), e.payload.value("tier", ""),
             e.payload.value("ok", false), e.payload.value("cost_usd", 0.0));
    }
  }
  return Status();
}

void HistorySink::emit(std::string_view type, nlohmann::json payload) {
  if (history_ != nullptr && type == "llm_settled" && counts(payload)) {
    history_->record(workflow_, payload.value("tool", ""), payload.value("tier", ""),
                     payload.value("ok", false), payload.value("cost_usd", 0.0));
  }
  inner_.emit(type, std::move(payload));
}

}  // namespace switchyard::runtime
