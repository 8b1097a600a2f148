#pragma once
// What every driver of a RunMachine does the same way (the synchronous Runner and the Engine):
// the run's journal row, its run_started event, the health it starts from, and stamping events.
// Internal to runtime/.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graph/clock.h"
#include "graph/json_read.h"
#include "graph/router.h"
#include "monitors/health_table.h"
#include "runtime/engine/run_health.h"
#include "runtime/engine/runner.h"
#include "runtime/journal/journal.h"
#include "runtime/machine/run_machine.h"

namespace switchyard::runtime {

std::int64_t unix_ms(const Clock& clock);

// Stamps the machine's events with run id, sequence and time, and keeps them until taken.
class EventBuffer final : public EventSink {
 public:
  // `last_seq`: the run's last journaled event (resume), 0 for a new run.
  EventBuffer(const Clock& clock, std::string run_id, std::int64_t last_seq = 0)
      : clock_(clock), run_id_(std::move(run_id)), seq_(last_seq) {
    batch_.reserve(kFirstBatch);
  }
  void emit(std::string_view type, nlohmann::json payload) override;
  // From now on, take() seals the events it returns (Event::payload_json, prev_hash, hash),
  // continuing the chain from `head`, the link of the run's last journaled event ("" for none):
  // serializing and hashing happen on the caller's thread, not the journal writer's.
  void seal_from(std::string head) {
    seal_ = true;
    head_ = std::move(head);
  }
  // The events emitted since the last take().
  std::vector<Event> take();
  bool empty() const { return batch_.empty(); }

 private:
  static constexpr std::size_t kFirstBatch = 16;  // events room is made for at first
  const Clock& clock_;
  std::string run_id_;
  std::int64_t seq_ = 0;
  std::vector<Event> batch_;
  bool seal_ = false;
  std::string head_;  // sealing: the link of the last event taken
};

// Everything a run starts with.
struct RunStart {
  RunRecord record;           // for Journal::begin_run
  graph::FixedHealth known;   // tools the process knows are down, as router factors
  RunMachineOptions machine;  // budget overrides and seed
};

// The budget controller's view of a models file.
std::vector<TierPrice> tier_prices(const tools::Models* models);

class LlmHistory;
// From `history` (may be null), the llm steps that learned escalation starts above the cheapest
// tier (REQUIRES: prepare_run set the tiers); journals those as `llm_learned`.
void prepare_llm(RunStart& start, const graph::Workflow& w, const LlmHistory* history,
                 EventSink& events);

// Fills `request`'s defaults (run id, seed), builds the journal row and emits run_started into
// `events`: everything the run's decisions depend on besides the workflow and the outcomes of
// its calls (input, known health, seed, budget overrides, model tier prices), so that replay and
// resume can re-drive them. `models` may be null (no tier choice).
RunStart prepare_run(const graph::Workflow& w, const WorkflowIdentity& identity,
                     const tools::Models* models, RunRequest& request, const Clock& clock,
                     const RunHealth& health, EventSink& events);

// The run_started payload's `tiers`, and back (replay, resume), read from the journal through `j`
// (null: none); errors name the field that cannot be read. Its `budget`: budget_json and
// budget_from_json (runtime/machine/budget.h).
nlohmann::json tiers_json(const std::vector<TierPrice>& tiers);
Result<std::vector<TierPrice>> tiers_from_json(const JsonView& j);

}  // namespace switchyard::runtime
