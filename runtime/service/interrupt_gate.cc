#include "runtime/service/interrupt_gate.h"

namespace switchyard::service {
namespace {

// Whether `e` is the cancellation of an interrupted run. A sealed event's payload travels as
// canonical JSON text (runtime/journal.h).
bool is_interruption(const runtime::Event& e) {
  if (e.type != "cancelled") return false;
  const nlohmann::json payload =
      e.payload.is_null() && !e.payload_json.empty()
          ? nlohmann::json::parse(e.payload_json, nullptr, /*allow_exceptions=*/false)
          : e.payload;
  return payload.is_object() && payload.value("reason", std::string()) == kInterruptReason;
}

}  // namespace

using runtime::Event;
using runtime::Journal;

// Inside a group, a write must use the journal the group hands it (its transaction); this view
// filters as the gate does and forwards to that journal.
class InterruptGate::Within final : public Journal {
 public:
  Within(InterruptGate& gate, Journal& target) : gate_(gate), target_(target) {}
  Result<std::string> workflow_source(const std::string& h) const override {
    return target_.workflow_source(h);
  }
  Status begin_run(const runtime::RunRecord& r) override { return target_.begin_run(r); }
  Status append(const std::vector<Event>& events) override {
    auto kept = gate_.filter(events);
    return kept.empty() ? Status() : target_.append(std::move(kept));
  }
  Status finish_run(const std::string& id, const std::string& status, const nlohmann::json& result,
                    std::int64_t ms) override {
    return gate_.is_interrupted(id) ? Status() : target_.finish_run(id, status, result, ms);
  }
  Result<std::vector<runtime::RunRecord>> list_runs(const runtime::RunFilter& f) const override {
    return target_.list_runs(f);
  }
  Result<runtime::RunRecord> get_run(const std::string& id) const override {
    return target_.get_run(id);
  }
  Result<std::vector<Event>> events(const std::string& id) const override {
    return target_.events(id);
  }
  Status claim_run(const std::string& id) override { return target_.claim_run(id); }
  Result<runtime::GcStats> gc(std::int64_t t) override { return target_.gc(t); }
  std::string location() const override { return target_.location(); }
  bool chains_events() const override { return target_.chains_events(); }

 private:
  InterruptGate& gate_;
  Journal& target_;
};

std::set<std::string> InterruptGate::interrupted() const {
  std::lock_guard lock(mu_);
  return interrupted_;
}

bool InterruptGate::is_interrupted(const std::string& run_id) const {
  std::lock_guard lock(mu_);
  return interrupted_.count(run_id) > 0;
}

std::vector<Event> InterruptGate::filter(const std::vector<Event>& events) {
  std::vector<Event> kept;
  kept.reserve(events.size());
  std::lock_guard lock(mu_);
  for (const auto& e : events) {
    if (interrupted_.count(e.run_id)) continue;
    if (is_interruption(e)) {
      interrupted_.insert(e.run_id);
      continue;
    }
    kept.push_back(e);
  }
  return kept;
}

std::vector<Status> InterruptGate::write_group(std::vector<Write>& writes) {
  std::vector<Write> wrapped;
  wrapped.reserve(writes.size());
  for (auto& w : writes) {
    wrapped.push_back([this, &w](Journal& target) {
      Within view(*this, target);
      return w(view);
    });
  }
  return inner_.write_group(wrapped);
}

Status InterruptGate::append(const std::vector<Event>& events) {
  Within view(*this, inner_);
  return view.append(events);
}

Status InterruptGate::finish_run(const std::string& run_id, const std::string& status,
                                 const nlohmann::json& result, std::int64_t finished_ms) {
  Within view(*this, inner_);
  return view.finish_run(run_id, status, result, finished_ms);
}

Result<std::string> InterruptGate::workflow_source(const std::string& hash) const {
  return inner_.workflow_source(hash);
}
Status InterruptGate::begin_run(const runtime::RunRecord& run) { return inner_.begin_run(run); }
Result<std::vector<runtime::RunRecord>> InterruptGate::list_runs(
    const runtime::RunFilter& f) const {
  return inner_.list_runs(f);
}
Result<runtime::RunRecord> InterruptGate::get_run(const std::string& run_id) const {
  return inner_.get_run(run_id);
}
Result<std::vector<Event>> InterruptGate::events(const std::string& run_id) const {
  return inner_.events(run_id);
}
Status InterruptGate::claim_run(const std::string& run_id) { return inner_.claim_run(run_id); }
Result<runtime::GcStats> InterruptGate::gc(std::int64_t finished_before_ms) {
  return inner_.gc(finished_before_ms);
}

}  // namespace switchyard::service
