#include "tests/support/machine_driver.h"

namespace switchyard::testing {

std::vector<nlohmann::json> VectorSink::of(const std::string& type) const {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e.type == type) out.push_back(e.payload);
  }
  return out;
}

std::vector<std::string> VectorSink::started() const {
  std::vector<std::string> out;
  for (const auto& p : of("step_started")) out.push_back(p["tool"].get<std::string>());
  return out;
}

std::vector<std::string> VectorSink::types() const {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

runtime::RunResult drive(const graph::Workflow& w, const Script& script, VectorSink& sink,
                         const std::set<std::string>& known_down,
                         runtime::RunMachineOptions options) {
  graph::FixedHealth known(w.tools().size());
  for (const auto& id : known_down) known.exclude(w.find_tool(id));
  runtime::RunMachine machine(w, nlohmann::json::object(), known, sink, options);
  for (auto a = machine.next(); a.type == runtime::Action::Type::kInvoke; a = machine.next()) {
    const std::string& id = w.tool(a.tool).id;
    tools::Outcome outcome;
    if (a.purpose == runtime::Action::Purpose::kAdvisor) {
      outcome = tools::Outcome::success(
          script.advisor ? script.advisor(*a.context)
                         : nlohmann::json{{"action", "escalate"}, {"message", "no"}});
      outcome.llm_call = true;
    } else {
      auto calls = script.fail_calls.find(id);
      const bool fails = script.down.count(id) || known_down.count(id) ||
                         (calls != script.fail_calls.end() && calls->second.count(a.call_number));
      outcome = fails ? tools::Outcome::failed(tools::FailureKind::kInjected, id + " is down")
                      : tools::Outcome::success({{"tool", id}});
    }
    machine.complete(outcome);
  }
  return machine.result();
}

Driven drive_calls(const graph::Workflow& w, runtime::RunMachine& machine,
                   const std::function<tools::Outcome(const runtime::Action&)>& answer) {
  Driven driven;
  std::deque<std::pair<std::uint32_t, tools::Outcome>> in_flight;
  for (auto a = machine.next(); a.type != runtime::Action::Type::kDone; a = machine.next()) {
    switch (a.type) {
      case runtime::Action::Type::kInvoke:
        driven.calls.push_back({a.purpose, w.tool(a.tool).id, a.tier, a.slot});
        if (a.slot == 0) {
          machine.complete(0, answer(a));
        } else {
          in_flight.emplace_back(a.slot, answer(a));
        }
        break;
      case runtime::Action::Type::kWait: {
        auto [slot, outcome] = std::move(in_flight.front());
        in_flight.pop_front();
        machine.complete(slot, std::move(outcome));
        break;
      }
      case runtime::Action::Type::kAbort:
        driven.aborted.push_back(a.slot);
        std::erase_if(in_flight, [&](const auto& c) { return c.first == a.slot; });
        break;
      case runtime::Action::Type::kDone:
        break;
    }
  }
  return driven;
}

}  // namespace switchyard::testing
