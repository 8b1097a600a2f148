#include "runtime/engine/run_setup.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <utility>

#include "graph/json_object.h"
#include "runtime/base/hash.h"
#include "runtime/engine/llm_history.h"
#include "tools/http_tool.h"
#include "tools/models.h"

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
  // The next batch is likely as long as this one: grown once, not event by event.
  batch_.reserve(std::max<std::size_t>(out.size(), kFirstBatch));
  if (seal_) {
    for (Event& e : out) {
      e.payload_json = canonical_json(e.payload);
      e.payload = nullptr;
      e.prev_hash = std::exchange(
          head_, event_link(head_, e.run_id, e.seq, e.time_ms, e.type, e.payload_json));
      e.hash = head_;
    }
  }
  return out;
}

namespace {

// The salt of new_run_id: 40 random bits, drawn again in a forked child (pthread_atfork), so
// that parent and child never make the same id.
std::atomic<std::uint64_t> run_id_salt{0};

std::uint64_t draw_salt() {
  std::random_device random;
  return ((std::uint64_t{random()} << 32) | random()) & 0xffffffffffull;
}

std::uint64_t salt() {
  static const bool once = [] {
    run_id_salt.store(draw_salt());
    pthread_atfork(nullptr, nullptr, [] { run_id_salt.store(draw_salt()); });
    return true;
  }();
  (void)once;
  return run_id_salt.load(std::memory_order_relaxed);
}

}  // namespace

std::string new_run_id(const Clock& clock) {
  // A random salt per process and a counter: the ids one process makes in the same millisecond
  // differ by the counter, so they sort in the order they were made. That keeps the journal's
  // indexes on run_id (runs, events_by_run) written where the runs started at the same time
  // already are, instead of at random places in them.
  static std::atomic<std::uint32_t> counter{0};
  const std::uint64_t count = counter.fetch_add(1, std::memory_order_relaxed) & 0xffffffu;
  char buf[40];
  std::snprintf(buf, sizeof buf, "r-%012llx%010llx%06llx",
                static_cast<unsigned long long>(unix_ms(clock)),
                static_cast<unsigned long long>(salt()), static_cast<unsigned long long>(count));
  return buf;
}

std::vector<TierPrice> tier_prices(const tools::Models* models) {
  std::vector<TierPrice> out;
  if (models == nullptr) return out;
  for (const auto& t : models->tiers)
    out.push_back({t.name, t.input_usd_per_mtok, t.output_usd_per_mtok});
  return out;
}

namespace {

// Replaces the values of secret-looking names (tools::is_secret_header) in `object`.
bool redact_object(nlohmann::json& object) {
  bool any = false;
  if (!object.is_object()) return any;
  for (auto& [name, value] : object.items()) {
    if (tools::is_secret_header(name)) {
      value = kRedacted;
      any = true;
    }
  }
  return any;
}

bool redact_url_field(nlohmann::json& tool, const char* field) {
  if (!tool.contains(field) || !tool[field].is_string()) return false;
  std::string redacted = tools::redact_url(tool[field].get<std::string>());
  tool[field] = redacted;
  return redacted.find(kRedacted) != std::string::npos;
}

}  // namespace

bool redact_workflow_secrets(nlohmann::json& source) {
  bool any = false;
  if (!source.is_object() || !source.contains("tools") || !source["tools"].is_object()) return any;
  for (auto& [id, tool] : source["tools"].items()) {
    if (!tool.is_object()) continue;
    if (tool.contains("headers")) any = redact_object(tool["headers"]) || any;
    if (tool.contains("env")) any = redact_object(tool["env"]) || any;
    any = redact_url_field(tool, "url") || any;
    any = redact_url_field(tool, "probe") || any;
  }
  return any;
}

WorkflowIdentity identify(const graph::Workflow& w) {
  nlohmann::json journaled = w.source();
  redact_workflow_secrets(journaled);
  return {sha256_hex(canonical_json(w.source())),
          std::make_shared<const std::string>(canonical_json(journaled))};
}

nlohmann::json tiers_json(const std::vector<TierPrice>& tiers) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : tiers) {
    out.push_back({{"name", t.name},
                   {"input_usd_per_mtok", t.input_usd_per_mtok},
                   {"output_usd_per_mtok", t.output_usd_per_mtok}});
  }
  return out;
}

Result<std::vector<TierPrice>> tiers_from_json(const JsonView& j) {
  std::vector<TierPrice> out;
  if (j.is_null()) return out;
  SWITCHYARD_RETURN_IF_ERROR(j.expect_array());
  for (std::size_t i = 0; i < j.size(); ++i) {
    SWITCHYARD_ASSIGN_OR_RETURN(const JsonView t, j.element(i));
    TierPrice price;
    SWITCHYARD_ASSIGN_OR_RETURN(price.name, t.string_or("name", ""));
    SWITCHYARD_ASSIGN_OR_RETURN(price.input_usd_per_mtok, t.number_or("input_usd_per_mtok", 0.0));
    SWITCHYARD_ASSIGN_OR_RETURN(price.output_usd_per_mtok, t.number_or("output_usd_per_mtok", 0.0));
    out.push_back(std::move(price));
  }
  return out;
}

void prepare_llm(RunStart& start, const graph::Workflow& w, const LlmHistory* history,
                 EventSink& events) {
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

RunStart prepare_run(const graph::Workflow& w, const WorkflowIdentity& identity,
                     const tools::Models* models, RunRequest& request, const Clock& clock,
                     const RunHealth& health, EventSink& events) {
  const std::string& workflow_hash = identity.hash;
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
  start.record.workflow_source = identity.source;
  start.record.status = "running";
  start.record.started_ms = unix_ms(clock);
  start.record.input = request.input;
  start.machine.budget = request.budget;
  start.machine.seed = *request.seed;
  start.machine.tiers = tier_prices(models);
  nlohmann::json started =
      json_object("budget", budget_json(request.budget), "factors", std::move(factors), "goal",
                  w.graph().node(w.graph().goal()).id, "input", request.input, "known_down",
                  std::move(known_down), "seed", *request.seed, "start",
                  w.graph().node(w.graph().start()).id, "tiers", tiers_json(start.machine.tiers),
                  "workflow", w.name(), "workflow_hash", workflow_hash);
  if (!request.tenant.empty()) started["tenant"] = request.tenant;
  events.emit("run_started", std::move(started));
  return start;
}

}  // namespace switchyard::runtime
