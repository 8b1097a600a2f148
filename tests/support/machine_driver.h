#pragma once
// Drives a RunMachine with scripted outcomes, recording its events in memory: the run loop's
// decisions tested without tools, clocks or a journal.

#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "graph/router.h"
#include "graph/workflow.h"
#include "runtime/machine/run_machine.h"

namespace switchyard::testing {

struct RecordedEvent {
  std::string type;
  nlohmann::json payload;
};

class VectorSink : public runtime::EventSink {
 public:
  void emit(std::string_view type, nlohmann::json payload) override {
    events.push_back({std::string(type), std::move(payload)});
  }
  // Events of `type`, in order.
  std::vector<nlohmann::json> of(const std::string& type) const;
  // Tool ids of step_started events, in order.
  std::vector<std::string> started() const;
  std::vector<std::string> types() const;
  std::vector<RecordedEvent> events;
};

struct Script {
  std::set<std::string> down;                       // fail every call
  std::map<std::string, std::set<int>> fail_calls;  // fail these 1-based calls
  // The advisor's answer, given the options it was offered; default: escalate.
  std::function<nlohmann::json(const nlohmann::json& context)> advisor;
};

// Runs the machine to its end. Tools in `known_down` are down before the run (and fail if called).
runtime::RunResult drive(const graph::Workflow& w, const Script& script, VectorSink& sink,
                         const std::set<std::string>& known_down = {},
                         runtime::RunMachineOptions options = {});

// A call the machine handed out, as answer() saw it.
struct Call {
  runtime::Action::Purpose purpose;
  std::string tool;
  int tier;
  std::uint32_t slot;
};

struct Driven {
  std::vector<Call> calls;             // in the order they were handed out
  std::vector<std::uint32_t> aborted;  // slots of calls the machine aborted
};

// Runs `machine` to its end, answering each call with `answer`: the run's own line at once,
// fan-out branch calls in the order they were made, one each time the machine waits.
Driven drive_calls(const graph::Workflow& w, runtime::RunMachine& machine,
                   const std::function<tools::Outcome(const runtime::Action&)>& answer);

}  // namespace switchyard::testing
