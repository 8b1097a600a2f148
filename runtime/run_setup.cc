#include "runtime/run_setup.h"

#include "runtime/llm_history.h"
#include "tools/models.h"

#include <random>

namespace switchyard::runtime {

std::int64_t unix_ms(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch())
      .count();
}

void EventBuffer::emit(std::string_view type, nlohmann::json payload) {
  Event e;
  e.run_id = run_id_;
  e.seq = ++seq_;
  e.time_ms = unix_ms(clock_);
  e.type = std::string(type);
  e.payload = std::move(payload);
  batch_.push_back(std::move(e));
}

std::vector<Event> EventBuffer::take() {
  std::vector<Event> out;
  out.swap(batch_);
  return out;
}

std::string new_run_id(const Clock& clock) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "r-%012llx%016llx",
                static_cast<unsigned long long>(unix_ms(clock)),
                static_cast<unsigned long long>(rng()));
  return buf;
}

std::vector<TierPrice> tier_prices(const tools::Models* models) {
  std::vector<TierPrice> out;
  if (models == nullptr) return out;
  for (const auto& t : models->tiers) out.push_back({t.name, t.input_usd_per_mtok, t.output_usd_per_mtok});
  return out;
}

void prepare_llm(RunStart& start, const graph::Workflow& w, const tools::Models* models,
                 const LlmHistory* history, EventSink& events) {
  start.machine.tiers = tier_prices(models);
  if (history == nullptr || start.machine.tiers.size() < 2) return;
  nlohmann::json learned = nlohmann::json::object();
  for (graph::ToolIndex t = 0; t < w.tools().size(); ++t) {
    const auto* spec = std::get_if<graph::LlmTool>(&w.tool(t).spec);
    if (spec == nullptr || !spec->tier.empty() || spec->difficulty == graph::Difficulty::kHard) {
      continue;
    }
    std::string why;
    if (auto tier = history->start_tier(w.name(), w.tool(t).id, start.machine.tiers, &why)) {
      start.machine.learned_start[t] = {*tier, why};
      learned[w.tool(t).id] = {{"tier", start.machine.tiers[static_cast<std::size_t>(*tier)].name},
                               {"reason", why}};
    }
  }
  if (!learned.empty()) events.emit("llm_learned", {{"start_tiers", learned}});
}

RunStart prepare_run(const graph::Workflow& w, const std::string& workflow_hash,
                     RunRequest& request, const Clock& clock,
                     const RunHealth& health, EventSink& events) {
  if (request.run_id.empty()) request.run_id = new_run_id(clock);
  if (!request.seed) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    request.seed = rng();
  }
  RunStart start{{}, graph::FixedHealth(w.tools().size()), {}};
  // The monitor's view when the run starts: tools down are excluded before any step, graded
  // factors weigh the others. Journaled, so a replay sees what the router saw.
  std::vector<std::string> known_down;
  nlohmann::json factors = nlohmann::json::object();
  for (graph::ToolIndex t = 0; t < w.tools().size(); ++t) {
    const double f = health.factor(t);
    if (f == graph::kInfinity) {
      start.known.exclude(t);
      known_down.push_back(w.tool(t).id);
    } else if (f != 1.0) {
      start.known.set(t, f);
      factors[w.tool(t).id] = f;
    }
  }
  start.record.run_id = request.run_id;
  start.record.workflow = w.name();
  start.record.workflow_hash = workflow_hash;
  start.record.status = "running";
  start.record.started_ms = unix_ms(clock);
  start.record.input = request.input;
  start.machine.budget = request.budget;
  start.machine.seed = *request.seed;
  events.emit("run_started", {{"workflow", w.name()},
                              {"workflow_hash", workflow_hash},
                              {"input", request.input},
                              {"start", w.graph().node(w.graph().start()).id},
                              {"goal", w.graph().node(w.graph().goal()).id},
                              {"known_down", known_down},
                              {"factors", factors},
                              {"seed", *request.seed}});
  return start;
}

}  // namespace switchyard::runtime
