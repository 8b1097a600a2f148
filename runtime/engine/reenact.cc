#include "runtime/engine/reenact.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <set>

#include "graph/json_read.h"
#include "graph/router.h"
#include "runtime/base/hash.h"
#include "runtime/engine/run_setup.h"
#include "runtime/journal/rows.h"
#include "runtime/journal/tenant_ledger.h"
#include "runtime/journal/text.h"

namespace switchyard::runtime {
namespace {

// Written by drivers and monitors, not decided by the machine: inputs of a reenactment.
// (run_interrupted: the service's shutdown stopped the run where it stood; nothing was decided.)
bool is_driver_event(const std::string& type) {
  return type == "run_started" || type == "llm_learned" || type == "breaker" ||
         type == "run_finished" || type == "resumed" || type == "run_interrupted" ||
         type == "wait_resolved" || type == "tool_hint" || type == "tool_progress" ||
         type == "tenant_reserved" || type == "tenant_settled";
}

// Recorded payloads are read through JsonView. reenact() checks every event first
// (runtime/journal/rows.h: check_event), so a field is absent, null or of the type read here;
// lenient_* (graph/json_read.h) cover absent and null.
// payload[key] when present and not null.
std::optional<JsonView> member(const nlohmann::json& p, const char* key) {
  auto v = JsonView(p).optional_field(key);
  return v.ok() ? *v : std::nullopt;
}

// The slot of a recorded event: 0 for the run's own line, b + 1 for fan-out branch b.
std::uint32_t slot_of(const nlohmann::json& payload) {
  auto branch = member(payload, "branch");
  if (!branch) return 0;
  auto b = branch->integer();
  return b.ok() && *b >= 0 && *b < (std::int64_t{1} << 31) ? static_cast<std::uint32_t>(*b) + 1 : 0;
}

std::string brief(const nlohmann::json& j) {
  return excerpt(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 300);
}

}  // namespace

// Compares what the machine emits with the journal, in order.
struct Reenactment::Sink final : EventSink {
  const std::vector<Event>& recorded;
  std::size_t cursor = 0;
  Status error;
  std::vector<std::pair<std::string, nlohmann::json>> fresh;  // past the journal's end
  bool last_was_fresh = false;
  std::int64_t verified = 0;
  EventSink* live = nullptr;

  // Told each driver event passed over (tenant decisions are checked there).
  std::function<Status(const Event&)> on_driver_event;

  explicit Sink(const std::vector<Event>& r) : recorded(r) {}

  void skip_driver_events() {
    while (cursor < recorded.size() && is_driver_event(recorded[cursor].type)) {
      if (on_driver_event && error.ok()) error = on_driver_event(recorded[cursor]);
      ++cursor;
    }
  }
  const Event* at() {
    skip_driver_events();
    return cursor < recorded.size() ? &recorded[cursor] : nullptr;
  }

  void emit(std::string_view type, nlohmann::json payload) override {
    if (live != nullptr) return live->emit(type, std::move(payload));
    const Event* e = at();
    if (e == nullptr) {
      last_was_fresh = true;
      fresh.emplace_back(std::string(type), std::move(payload));
      return;
    }
    last_was_fresh = false;
    ++cursor;
    if (!error.ok()) return;
    if (e->type != type || e->payload != payload) {
      error = failed_precondition("event #" + std::to_string(e->seq) + " (" + valid_utf8(e->type) +
                                  "): the journal says " + valid_utf8(e->type) + " " +
                                  brief(e->payload) + ", the router now decides " +
                                  std::string(type) + " " + brief(payload));
      return;
    }
    ++verified;
  }
};

void Reenactment::SinkDeleter::operator()(Sink* s) const { delete s; }
void Reenactment::set_live_sink(EventSink* live) { sink_->live = live; }
std::vector<std::pair<std::string, nlohmann::json>> Reenactment::take_fresh() {
  return std::move(sink_->fresh);
}
std::int64_t Reenactment::verified() const { return sink_->verified; }

namespace {

bool is_outcome_event(const std::string& type) {
  return type == "step_succeeded" || type == "step_failed" || type == "step_retry" ||
         type == "llm_call" || type == "llm_settled" || type == "compensation" ||
         type == "advisor_answered";
}

tools::FailureKind kind_of(const nlohmann::json& p) {
  return tools::failure_kind(lenient_string(p, "failure")).value_or(tools::FailureKind::kInternal);
}

// payload[key] (any JSON), or null.
nlohmann::json value_of(const nlohmann::json& p, const char* key) {
  auto v = member(p, key);
  return v ? v->json() : nlohmann::json();
}

// The outcome of the call in `slot`, read from the recorded events from `from` on (the events
// the machine emitted when that call completed). Does not move the cursor: the machine re-emits
// those events, which the sink then compares.
tools::Outcome outcome_from(const std::vector<Event>& recorded, std::size_t from,
                            std::uint32_t slot) {
  tools::Outcome o;
  for (std::size_t i = from; i < recorded.size(); ++i) {
    const Event& e = recorded[i];
    if (is_driver_event(e.type) || slot_of(e.payload) != slot) continue;
    const nlohmann::json& p = e.payload;
    auto latency = [&] { o.latency = std::chrono::microseconds(lenient_integer(p, "latency_us")); };
    if (e.type == "llm_call") {
      o.llm_call = true;
      o.tokens = lenient_integer(p, "tokens");
      o.cost_usd = lenient_number(p, "cost_usd");
      continue;
    }
    if (e.type == "llm_settled") {
      o.tokens = lenient_integer(p, "tokens");
      o.cost_usd = lenient_number(p, "cost_usd");
      o.ok = lenient_boolean(p, "ok");
      if (!o.ok) {
        o.failure = kind_of(p);
        o.reason = lenient_string(p, "reason");
      }
      // An escalation to another tier follows (llm_decision) instead of a step event.
      if (i + 1 < recorded.size() && recorded[i + 1].type == "llm_decision") return o;
      continue;
    }
    if (e.type == "step_succeeded") {
      o.ok = true;
      o.output = value_of(p, "output");
      latency();
      return o;
    }
    if (e.type == "step_failed" || e.type == "step_retry") {
      o.ok = false;
      o.failure = kind_of(p);
      o.reason = lenient_string(p, "reason");
      latency();
      if (member(p, "retry_after_ms")) {
        o.retry_after = std::chrono::milliseconds(lenient_integer(p, "retry_after_ms"));
      }
      if (member(p, "retry_at_ms")) {
        o.retry_at = std::chrono::system_clock::time_point(
            std::chrono::milliseconds(lenient_integer(p, "retry_at_ms")));
      }
      return o;
    }
    if (e.type == "compensation") {
      o.ok = lenient_boolean(p, "ok");
      o.reason = lenient_string(p, "reason");
      if (!o.ok) o.failure = tools::FailureKind::kInternal;
      return o;
    }
    if (e.type == "advisor_answered") {
      o.ok = lenient_boolean(p, "ok");
      if (o.ok) {
        o.output = value_of(p, "output");
      } else {
        o.failure = kind_of(p);
        o.reason = lenient_string(p, "reason");
      }
      return o;
    }
    return o;  // anything else ends what this call produced
  }
  return o;
}

// The machine's inputs from run_started and llm_learned.
Result<RunMachineOptions> options_from(const graph::Workflow& w, const std::vector<Event>& events,
                                       graph::FixedHealth& known, nlohmann::json& input) {
  if (events.empty() || events.front().type != "run_started") {
    return invalid_argument("the run's journal does not start with run_started");
  }
  const JsonView started(events.front().payload, "/payload");
  auto fail = [](const Event& e, const Status& s) { return row_error(e, s); };
  RunMachineOptions options;
  input = value_of(started.json(), "input");
  if (input.is_null()) input = nlohmann::json::object();
  for (const std::string& id : payload_strings(started.json(), "known_down")) {
    const graph::ToolIndex t = w.find_tool(id);
    if (t == graph::kNoIndex) {
      return invalid_argument("run_started names unknown tool \"" + valid_utf8(id) + "\"");
    }
    known.exclude(t);
  }
  if (auto factors = member(started.json(), "factors"); factors && factors->is_object()) {
    for (const auto& [id, factor] : factors->json().items()) {
      const graph::ToolIndex t = w.find_tool(id);
      auto f = JsonView(factor).number();
      if (t == graph::kNoIndex || !f.ok()) {
        return invalid_argument("run_started has a bad factor for " + valid_utf8(id));
      }
      known.set(t, *f);
    }
  }
  if (auto seed = member(started.json(), "seed")) {
    if (const auto* u = seed->json().get_ptr<const nlohmann::json::number_unsigned_t*>()) {
      options.seed = *u;
    } else if (auto n = seed->integer(); n.ok() && *n >= 0) {
      options.seed = static_cast<std::uint64_t>(*n);
    }
  }
  // payload[key] under /payload, or a null view.
  const nlohmann::json kNull;
  auto view = [&](const char* key) {
    auto v = started.optional_field(key);
    return v.ok() && *v ? **v : JsonView(kNull, started.pointer() + "/" + key);
  };
  const JsonView budget_view = view("budget");
  auto budget = budget_from_json(budget_view.json(), budget_view.pointer());
  if (!budget.ok()) return fail(events.front(), budget.status());
  options.budget = *budget;
  auto tiers = tiers_from_json(view("tiers"));
  if (!tiers.ok()) return fail(events.front(), tiers.status());
  options.tiers = std::move(tiers).value();
  for (const Event& e : events) {
    if (e.type != "llm_learned") continue;
    auto start_tiers = member(e.payload, "start_tiers");
    if (!start_tiers || !start_tiers->is_object()) continue;
    for (const auto& [id, start] : start_tiers->json().items()) {
      const graph::ToolIndex t = w.find_tool(id);
      const std::string tier = lenient_string(start, "tier");
      auto it = std::find_if(options.tiers.begin(), options.tiers.end(),
                             [&](const TierPrice& p) { return p.name == tier; });
      if (t == graph::kNoIndex || it == options.tiers.end()) {
        return invalid_argument("llm_learned names an unknown tool or tier: " + valid_utf8(id));
      }
      options.learned_start[t] = {static_cast<int>(it - options.tiers.begin()),
                                  lenient_string(start, "reason")};
    }
  }
  return options;
}

}  // namespace

Result<std::unique_ptr<Reenactment>> reenact(const graph::Workflow& workflow,
                                             const std::vector<Event>& events, bool complete) {
  // Whatever their source, the events are read only once they are known to decode.
  for (const Event& e : events) {
    if (Status s = check_event(e); !s.ok()) return s;
  }
  graph::FixedHealth known(workflow.tools().size());
  nlohmann::json input;
  auto options = options_from(workflow, events, known, input);
  if (!options.ok()) return options.status();

  std::unique_ptr<Reenactment> r(new Reenactment());
  r->sink_.reset(new Reenactment::Sink(events));
  r->last_seq_ = events.back().seq;
  r->finished_ = events.back().type == "run_finished";
  Reenactment::Sink& sink = *r->sink_;
  r->machine_ = std::make_unique<RunMachine>(workflow, std::move(input), known, sink, *options);
  RunMachine& machine = *r->machine_;
  auto& pending = r->pending_;
  auto find = [&](std::uint32_t slot) {
    return std::find_if(pending.begin(), pending.end(),
                        [slot](const auto& p) { return p.first == slot; });
  };

  // The run's tenant (docs/budgets.md#tenant-budgets): each decision journaled for it is
  // checked against the call in flight it was made for.
  const std::string tenant = lenient_string(events.front().payload, "tenant");
  sink.on_driver_event = [&](const Event& e) -> Status {
    if (e.type != "tenant_reserved") return Status();
    const nlohmann::json& p = e.payload;
    const std::string at = "event #" + std::to_string(e.seq) + " (tenant_reserved): ";
    if (lenient_string(p, "tenant") != tenant) {
      return failed_precondition(at + "the run's tenant is '" + valid_utf8(tenant) +
                                 "', the event names '" + valid_utf8(lenient_string(p, "tenant")) +
                                 "'");
    }
    auto call = find(slot_of(p));
    if (call == pending.end()) {
      return failed_precondition(at + "a reservation for no call in flight");
    }
    const std::int64_t usd = usd_micros(lenient_number(p, "usd"));
    const std::int64_t worst = usd_micros(call->second.action.reserved_usd);
    if (usd != worst) {
      return failed_precondition(at + "reserved " + std::to_string(micros_usd(usd)) +
                                 " USD for a call whose worst case the run now reserves as " +
                                 std::to_string(micros_usd(worst)));
    }
    const bool granted = lenient_boolean(p, "granted");
    auto cap = member(p, "cap_usd");
    const bool fits = !cap || usd_micros(lenient_number(p, "spent_usd")) +
                                      usd_micros(lenient_number(p, "reserved_usd")) + usd <=
                                  usd_micros(lenient_number(p, "cap_usd"));
    if (granted != fits) {
      return failed_precondition(at + (granted ? "granted" : "refused") +
                                 " where the tenant's figures say it " +
                                 (fits ? "fits" : "does not fit"));
    }
    call->second.tenant_granted = granted;
    return Status();
  };
  // The outcome of a call with a tenant decision agrees with it: refused iff budget_exhausted.
  auto check_tenant = [&](const PendingCall& call, const tools::Outcome& o,
                          const Event& e) -> Status {
    const bool exhausted = tenant_refused(o) && o.reason.find(": cannot reserve: ") ==
                                                    std::string::npos;  // (not asked: no event)
    const bool refused = call.tenant_granted == false;
    // (A wait step is no call: it reserves nothing.)
    const bool needs = !tenant.empty() && call.action.purpose != Action::Purpose::kCompensate &&
                       workflow.tool(call.action.tool).kind != graph::ToolKind::kWait &&
                       usd_micros(call.action.reserved_usd) > 0 && call_was_sent(o);
    const std::string at = "event #" + std::to_string(e.seq) + " (" + valid_utf8(e.type) + "): ";
    if (refused && !exhausted) {
      return failed_precondition(at + "the call's tenant refused it, yet it was made");
    }
    if (exhausted && !refused) {
      return failed_precondition(at +
                                 "the call failed budget_exhausted with no refusal of its "
                                 "tenant journaled");
    }
    if (needs && !call.tenant_granted) {
      return failed_precondition(at + "the call was made without a reservation of tenant '" +
                                 valid_utf8(tenant) + "'");
    }
    return Status();
  };

  for (;;) {
    if (!sink.error.ok()) return sink.error;
    // An outcome the journal holds for a call in flight comes first: the driver completed it
    // before asking the machine for more.
    if (const Event* e = sink.at()) {
      if (!sink.error.ok()) return sink.error;  // (a driver event passed over, checked)
      const std::uint32_t slot = slot_of(e->payload);
      if (is_outcome_event(e->type) && find(slot) != pending.end()) {
        tools::Outcome o = outcome_from(events, sink.cursor, slot);
        if (Status s = check_tenant(find(slot)->second, o, *e); !s.ok()) return s;
        pending.erase(find(slot));
        machine.complete(slot, std::move(o));
        continue;
      }
      // Decided by the driver, not the router: a cancellation, and resume's in-doubt escalation.
      if (e->type == "cancelled" && slot == 0 && !machine.done()) {
        pending.clear();
        machine.cancel(lenient_string(e->payload, "reason"));
        continue;
      }
      if (e->type == "escalated" && slot == 0 && !machine.done() &&
          lenient_string(e->payload, "reason") == "in_doubt") {
        pending.clear();
        machine.escalate_in_doubt(lenient_string(e->payload, "message"));
        continue;
      }
    }
    if (machine.done()) break;
    // The machine may not be asked for more while its own line waits on a call.
    if (find(0) != pending.end()) break;
    Action a = machine.next();
    if (a.type == Action::Type::kDone) break;
    if (a.type == Action::Type::kAbort) {
      if (auto it = find(a.slot); it != pending.end()) pending.erase(it);
      continue;
    }
    if (a.type == Action::Type::kWait) {
      const Event* e = sink.at();
      if (e == nullptr || !is_outcome_event(e->type) ||
          find(slot_of(e->payload)) == pending.end()) {
        break;  // the journal holds no answer to any call in flight
      }
      continue;
    }
    const bool started =
        (a.purpose == Action::Purpose::kStep || a.purpose == Action::Purpose::kCompensate) &&
        !sink.last_was_fresh;
    pending.emplace_back(a.slot, PendingCall{a, started, std::nullopt});
  }
  if (!sink.error.ok()) return sink.error;

  if (const Event* e = sink.at()) {
    return failed_precondition("event #" + std::to_string(e->seq) + " (" + valid_utf8(e->type) +
                               "): the journal goes on where the router now decides nothing more");
  }
  if (complete) {
    if (!machine.done() || !pending.empty()) {
      return failed_precondition("the journal ends at event #" + std::to_string(r->last_seq_) +
                                 " while the run still has calls in flight: it did not finish");
    }
    if (!sink.fresh.empty()) {
      return failed_precondition("the router now decides " + sink.fresh.front().first + " " +
                                 brief(sink.fresh.front().second) +
                                 " after the journal's last decision");
    }
    const Event& last = events.back();
    if (!r->finished_) {
      return failed_precondition("the journal ends at event #" + std::to_string(last.seq) +
                                 " without run_finished");
    }
    nlohmann::json result = machine.result().to_json();
    // A run journaled before results carried outputs has none of their fields: the rest of its
    // result is compared.
    static constexpr const char* kOutputFields[] = {"output", "output_truncated", "outputs",
                                                    "outputs_dropped", "outputs_truncated"};
    if (last.payload.is_object() &&
        std::none_of(std::begin(kOutputFields), std::end(kOutputFields),
                     [&](const char* key) { return last.payload.contains(key); })) {
      for (const char* key : kOutputFields) result.erase(key);
    }
    if (last.payload != result) {
      return failed_precondition("event #" + std::to_string(last.seq) +
                                 " (run_finished): the journal says " + brief(last.payload) +
                                 ", the run now ends " + brief(result));
    }
  }
  return r;
}

Status verify_chain(const RunRecord& run, const std::vector<Event>& events) {
  std::string link;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const auto expected_seq = static_cast<std::int64_t>(i) + 1;
    if (e.seq != expected_seq) {
      return failed_precondition("event #" + std::to_string(expected_seq) +
                                 " is missing (the next one stored is #" + std::to_string(e.seq) +
                                 "): events were deleted");
    }
    link = event_link(link, e.run_id, e.seq, e.time_ms, e.type, canonical_json(e.payload));
    if (link != e.hash) {
      return failed_precondition(
          "event #" + std::to_string(e.seq) + " (" + valid_utf8(e.type) +
          ") does not match its hash: it was edited, or events before it were reordered");
    }
  }
  if (run.head_seq != static_cast<std::int64_t>(events.size()) || run.head_hash != link) {
    return failed_precondition("the run's head names event #" + std::to_string(run.head_seq) +
                               " but the journal holds " + std::to_string(events.size()) +
                               " event(s) that chain to another head: events after #" +
                               std::to_string(events.size()) + " were deleted or the head edited");
  }
  return Status();
}

}  // namespace switchyard::runtime
