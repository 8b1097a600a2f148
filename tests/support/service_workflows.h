#pragma once
// Workflow documents the service tests register: tiny, real (no scenario block).

#include <string>
#include <vector>

namespace switchyard::testing {

// "quick": Start -> A (a mock, 1 ms) -> Done.
std::string quick_workflow();
// `name`: Start -> A (a mock taking `latency_ms`) -> Done.
std::string mock_workflow(const std::string& name, int latency_ms);
// `name`: Start -> Run (a command tool running `argv`, 30 s timeout) -> Done.
std::string command_workflow(const std::string& name, const std::vector<std::string>& argv);
// `name`: Start -> Fetch (an idempotent GET of `url`, 30 s timeout) -> Done.
std::string http_workflow(const std::string& name, const std::string& url);
// `name`: Start -> Prep (a mock) -> Ask (a wait for approval "refund") -> Done (an idempotent
// mock): a run held at wait `Ask#1` until it is approved.
std::string held_workflow(const std::string& name);

}  // namespace switchyard::testing
