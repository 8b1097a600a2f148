#pragma once
// HealthTable: what the process knows about each tool's health, keyed by tool id and shared by
// every run of the process. One run's failure is every run's knowledge.
//
// This is the up/down core the circuit breakers and graded weights build on. Thread-safe: reads
// take a shared lock, writes an exclusive one; no lock is held while calling out.

#include <map>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::monitors {

class HealthTable {
 public:
  // Marks `tool` down (its breaker open) for `reason`.
  void mark_down(std::string_view tool, std::string reason);
  // Marks `tool` healthy again.
  void mark_up(std::string_view tool);
  bool is_down(std::string_view tool) const;
  // Every tool currently down, with its reason, in id order.
  std::map<std::string, std::string> down_tools() const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::string, std::less<>> down_;
};

}  // namespace switchyard::monitors
