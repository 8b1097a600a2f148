#pragma once
// Internal to RunMachine (run_machine.cc, fanout.cc): the state of a running fan-out node.
// Not for drivers: include runtime/machine/run_machine.h.

#include <memory>
#include <vector>

#include "runtime/machine/run_machine.h"

namespace switchyard::runtime {

// One branch of the running fan-out.
struct RunMachine::Branch {
  enum class State { kRunning, kSucceeded, kFailed, kCancelled };
  std::unique_ptr<RunMachine> machine;
  State state = State::kRunning;
  bool in_flight = false;
};

struct RunMachine::FanoutRun {
  graph::NodeIndex node = graph::kNoIndex;
  int need = 0;  // branches that must succeed
  int succeeded = 0;
  int failed = 0;
  std::vector<Branch> branches;
};

}  // namespace switchyard::runtime
