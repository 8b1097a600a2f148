// run_finished's output fields as the journal's readers check them (runtime/journal/rows.h): a
// row an older build wrote without them decodes; one of the wrong type is named by its pointer.

#include <gtest/gtest.h>

#include "runtime/journal/rows.h"

namespace switchyard::runtime {
namespace {

nlohmann::json finished_without_outputs() {
  return {{"status", "completed"}, {"goal", "Done"},  {"path", {"Start", "A", "Done"}},
          {"reroutes", 0},         {"backtracks", 0}, {"llm_calls", 0},
          {"spent_usd", 0.0},      {"tokens", 0},     {"escalation", nullptr}};
}

TEST(ResultRows, ARunFinishedWithoutOutputFieldsDecodes) {
  EXPECT_TRUE(check_payload("run_finished", finished_without_outputs()).ok());
  nlohmann::json with = finished_without_outputs();
  with["output"] = "1Z999";
  with["outputs"] = {{"A", "1Z999"}};
  with["output_truncated"] = false;
  with["outputs_dropped"] = nlohmann::json::array();
  with["outputs_truncated"] = false;
  EXPECT_TRUE(check_payload("run_finished", with).ok());
}

TEST(ResultRows, OutputFieldsOfTheWrongTypeAreNamedByTheirPointer) {
  const std::vector<std::pair<const char*, nlohmann::json>> bad = {
      {"outputs", nlohmann::json::array({1})},
      {"outputs_dropped", nlohmann::json::array({1})},
      {"output_truncated", "no"},
      {"outputs_truncated", 1}};
  for (const auto& [key, value] : bad) {
    nlohmann::json p = finished_without_outputs();
    p[key] = value;
    const Status s = check_payload("run_finished", p);
    EXPECT_FALSE(s.ok()) << key;
    EXPECT_NE(s.message().find(std::string("/payload/") + key), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace switchyard::runtime
