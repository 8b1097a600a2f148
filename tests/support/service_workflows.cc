#include "tests/support/service_workflows.h"

#include <nlohmann/json.hpp>

namespace switchyard::testing {
namespace {

std::string one_step(const std::string& name, const std::string& tool, nlohmann::json spec) {
  return nlohmann::json{{"format", "switchyard.workflow/v1"},
                        {"name", name},
                        {"start", "Start"},
                        {"goal", "Done"},
                        {"tools", {{tool, std::move(spec)}}},
                        {"edges", {{"Start", tool, 1}, {tool, "Done", 0}}}}
      .dump();
}

}  // namespace

std::string mock_workflow(const std::string& name, int latency_ms) {
  return one_step(name, "A",
                  {{"kind", "mock"}, {"latency_ms", latency_ms}, {"output", {{"ok", true}}}});
}

std::string quick_workflow() { return mock_workflow("quick", 1); }

std::string command_workflow(const std::string& name, const std::vector<std::string>& argv) {
  return one_step(name, "Run", {{"kind", "command"}, {"argv", argv}, {"timeout_ms", 30000}});
}

std::string held_workflow(const std::string& name) {
  return nlohmann::json{{"format", "switchyard.workflow/v1"},
                        {"name", name},
                        {"start", "Start"},
                        {"goal", "Done"},
                        {"tools",
                         {{"Prep", {{"kind", "mock"}}},
                          {"Ask", {{"kind", "wait"}, {"approval", "refund"}}},
                          {"Done", {{"kind", "mock"}, {"idempotent", true}}}}},
                        {"edges", {{"Start", "Prep", 1}, {"Prep", "Ask", 1}, {"Ask", "Done", 1}}}}
      .dump();
}

std::string http_workflow(const std::string& name, const std::string& url) {
  return one_step(name, "Fetch",
                  {{"kind", "http"},
                   {"method", "GET"},
                   {"url", url},
                   {"timeout_ms", 30000},
                   {"idempotent", true}});
}

}  // namespace switchyard::testing
