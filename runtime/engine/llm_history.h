#pragma once
// LlmHistory: how each model tier has done on each llm step, for learned escalation
// (docs/budgets.md#learned-escalation). Fed by the runs' `llm_settled` events as they happen and,
// after a restart, rebuilt from the journal. Thread-safe.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "graph/status.h"
#include "runtime/journal/journal.h"
#include "runtime/machine/run_machine.h"

namespace switchyard::runtime {

class LlmHistory {
 public:
  struct Stats {
    int calls = 0;
    int successes = 0;
    double cost_usd = 0;  // total
  };

  // Samples a tier needs on a step before its success rate is trusted.
  static constexpr int kMinSamples = 5;

  void record(const std::string& workflow, const std::string& tool, const std::string& tier,
              bool ok, double cost_usd);
  Stats stats(const std::string& workflow, const std::string& tool, const std::string& tier) const;

  // Where learned escalation starts `tool` of `workflow` given `tiers` (cheapest first): the tier
  // with the lowest expected total cost, escalations included, E_i = cost_i + (1 - p_i) E_{i+1};
  // nullopt while any tier lacks kMinSamples, or when the cheapest is best. `why` explains.
  std::optional<int> start_tier(const std::string& workflow, const std::string& tool,
                                const std::vector<TierPrice>& tiers, std::string* why) const;

  // Replays the `llm_settled` events of the journal's runs (newest `limit` runs). Returns what
  // it passed over because it cannot be decoded, one line each: a run the journal refuses
  // (Journal::events), an llm_settled event whose fields it cannot read. Errors: the journal's
  // when it cannot be read (I/O).
  Result<std::vector<std::string>> rebuild(const Journal& journal, int limit = 1000);

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, Stats> stats_;
};

// An EventSink that feeds `llm_settled` events to a history, then passes every event on.
class HistorySink : public EventSink {
 public:
  HistorySink(EventSink& inner, LlmHistory* history, std::string workflow)
      : inner_(inner), history_(history), workflow_(std::move(workflow)) {}
  void emit(std::string_view type, nlohmann::json payload) override;

 private:
  EventSink& inner_;
  LlmHistory* history_;
  std::string workflow_;
};

}  // namespace switchyard::runtime
