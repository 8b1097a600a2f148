// `switchyard replay --format dot|html` as users meet it: real runs, a real journal, the picture
// drawn from the workflow the journal stored.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/replay/graphviz_svg.h"
#include "tests/support/html_check.h"
#include "tests/support/run_command.h"

namespace switchyard {
namespace {

using testing::TempDir;

// Start -> Moderate (fan-out, join all: text, image, links) -> Publish; the image scanner fails
// and its branch reroutes to the backup.
const char* kFanout = R"({
  "format": "switchyard.workflow/v1", "name": "moderation-mock", "start": "Start",
  "goal": "Publish", "demote_to": ["HumanReview"],
  "tools": {"TextScan": {"kind": "mock"}, "ImageScan": {"kind": "mock", "fail": "always"},
            "ImageScanBackup": {"kind": "mock"}, "LinkScan": {"kind": "mock"},
            "Publish": {"kind": "mock"}, "HumanReview": {"kind": "mock", "idempotent": true}},
  "nodes": {"Moderate": {"fanout": {"join": "all", "branches": [
    {"start": "T0", "goal": "T9", "edges": [["T0", "TextScan", 0.2], ["TextScan", "T9", 0]]},
    {"start": "I0", "goal": "I9", "edges": [["I0", "ImageScan", 0.3], ["I0", "ImageScanBackup", 0.6],
                                            ["ImageScan", "I9", 0], ["ImageScanBackup", "I9", 0]]},
    {"start": "L0", "goal": "L9", "edges": [["L0", "LinkScan", 0.1], ["LinkScan", "L9", 0]]}]}}},
  "edges": [["Start", "Moderate", 0.1], ["Moderate", "Publish", 0.1], ["Start", "HumanReview", 5.0]]
})";

class ReplayFormats : public ::testing::Test {
 protected:
  // Runs `workflow_file` into the journal; returns the run's id.
  std::string run(const std::string& workflow_file, int expected_exit = 0) {
    auto r = testing::switchyard({"run", workflow_file, "--journal", journal(), "--json"});
    EXPECT_EQ(r.exit_code, expected_exit) << r.err << r.out;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_object() ? j.value("run_id", "") : "";
  }
  testing::CommandResult replay(const std::string& run_id, const std::string& format) {
    return testing::switchyard({"replay", run_id, "--journal", journal(), "--format", format});
  }
  std::string journal() const { return dir_.file("j.db"); }
  TempDir dir_;
};

TEST_F(ReplayFormats, DotOfARealRunRendersWithGraphviz) {
  const std::string id = run(testing::source_path("examples/customer-support.json"));
  auto dot = replay(id, "dot");
  ASSERT_EQ(dot.exit_code, 0) << dot.err;
  EXPECT_TRUE(dot.out.starts_with("digraph run {")) << dot.out;
  EXPECT_NE(dot.out.find("reroute 1"), std::string::npos) << dot.out;
  auto svg = runtime::render_svg(dot.out);  // what `dot -Tsvg` does, in process
  ASSERT_TRUE(svg.ok()) << svg.status().message();
}

TEST_F(ReplayFormats, HtmlOfAnEscalatedRunIsValidSelfContainedAndNamesTheCutSet) {
  const std::string id = run(testing::paper_scenario("CS-5"), 1);
  auto html = replay(id, "html");
  ASSERT_EQ(html.exit_code, 0) << html.err;
  testing::expect_valid_html(html.out);
  testing::expect_self_contained(html.out);
  EXPECT_NE(html.out.find("<h2>Escalated"), std::string::npos);
  EXPECT_NE(html.out.find("Cut set"), std::string::npos);
}

TEST_F(ReplayFormats, HtmlOfAFanoutRunShowsItsBranchesAndTimeline) {
  const std::string id = run(dir_.write("fan.json", kFanout));
  auto html = replay(id, "html");
  ASSERT_EQ(html.exit_code, 0) << html.err;
  testing::expect_valid_html(html.out);
  testing::expect_self_contained(html.out);
  // In the SVG, Graphviz writes '-' as "&#45;".
  for (const char* text : {"Moderate: fan&#45;out, join all", "branch 1: succeeded",
                           "fanout_joined", "[Moderate/1] at I0 after ImageScan failed"}) {
    EXPECT_NE(html.out.find(text), std::string::npos) << text;
  }
}

TEST_F(ReplayFormats, AnUnknownFormatIsUsageError) {
  const std::string id = run(testing::source_path("examples/customer-support.json"));
  auto r = replay(id, "png");
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace switchyard
