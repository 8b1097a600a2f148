// Replay's pictures (runtime/replay/render.h): the DOT graph marks what the run did, renders with
// Graphviz, and the HTML report is valid, self-contained and holds the timeline.

#include <gtest/gtest.h>

#include <latch>
#include <sstream>
#include <thread>

#include "runtime/replay/graphviz_svg.h"
#include "runtime/replay/render.h"
#include "tests/support/graph_builder.h"
#include "tests/support/html_check.h"
#include "tests/support/run_command.h"

namespace switchyard::runtime {
namespace {

std::shared_ptr<const graph::Workflow> customer_support() {
  return testing::load_workflow(
      testing::read_text(testing::source_path("examples/customer-support.json")));
}

// Start -> Moderate (fan-out of two branches, join all) -> Publish.
const char* kFanoutWorkflow = R"({
  "format": "switchyard.workflow/v1", "name": "fan", "start": "Start", "goal": "Publish",
  "tools": {"TextScan": {"kind": "mock"}, "ImageScan": {"kind": "mock"},
            "ImageBackup": {"kind": "mock"}, "Publish": {"kind": "mock"}},
  "nodes": {"Moderate": {"fanout": {"join": "all", "branches": [
    {"start": "T0", "goal": "T9", "edges": [["T0", "TextScan", 0.2], ["TextScan", "T9", 0]]},
    {"start": "I0", "goal": "I9", "edges": [["I0", "ImageScan", 0.3], ["I0", "ImageBackup", 0.6],
                                            ["ImageScan", "I9", 0], ["ImageBackup", "I9", 0]]}]}}},
  "edges": [["Start", "Moderate", 0.1], ["Moderate", "Publish", 0.1]]
})";

// A run's events, numbered as they are added.
struct Timeline {
  Timeline& add(const std::string& type, nlohmann::json payload) {
    Event e;
    e.run_id = "r-test";
    e.seq = static_cast<std::int64_t>(events.size()) + 1;
    e.time_ms = 1'767'225'600'000 + 10 * e.seq;
    e.type = type;
    e.payload = std::move(payload);
    events.push_back(std::move(e));
    return *this;
  }
  std::vector<Event> events;
};

RunRecord run_record(const std::string& status, nlohmann::json result) {
  RunRecord r;
  r.run_id = "r-test";
  r.workflow = "customer-support";
  r.workflow_hash = "53528f9340c0ffee";
  r.status = status;
  r.started_ms = 1'767'225'600'000;
  r.finished_ms = r.started_ms + 500;
  r.input = nlohmann::json::object();
  r.result = std::move(result);
  return r;
}

nlohmann::json finished(const std::string& status, nlohmann::json path) {
  return {{"status", status}, {"goal", "Complete"}, {"path", std::move(path)},
          {"reroutes", 1},    {"backtracks", 0},    {"llm_calls", 0},
          {"spent_usd", 0.0}, {"tokens", 0},        {"escalation", nullptr}};
}

// Stripe fails, the run reroutes at CRM through Razorpay and completes.
Timeline rerouted_run() {
  Timeline t;
  t.add("run_started", {{"workflow", "customer-support"},
                        {"input", nlohmann::json::object()},
                        {"known_down", nlohmann::json::array()}})
      .add("plan", {{"at", "Start"},
                    {"route", {"Start", "CRM", "Stripe", "Email", "Complete"}},
                    {"cost", 0.8}})
      .add("step_started", {{"node", "CRM"}, {"tool", "CRM"}, {"kind", "mock"}, {"attempt", 1}})
      .add("step_succeeded", {{"node", "CRM"}, {"tool", "CRM"}, {"output", {{"ok", true}}}})
      .add("step_started", {{"node", "Stripe"}, {"tool", "Stripe"}, {"kind", "mock"}})
      .add("step_failed", {{"node", "Stripe"},
                           {"tool", "Stripe"},
                           {"failure", "injected"},
                           {"reason", "Stripe failed"}})
      .add("reroute", {{"at", "CRM"},
                       {"failed_tool", "Stripe"},
                       {"reason", "Stripe failed"},
                       {"old_route", {"CRM", "Stripe", "Email", "Complete"}},
                       {"new_route", {"CRM", "Razorpay", "Email", "Complete"}},
                       {"cost", 0.9}});
  for (const char* tool : {"Razorpay", "Email", "Complete"}) {
    t.add("step_started", {{"node", tool}, {"tool", tool}, {"kind", "mock"}})
        .add("step_succeeded", {{"node", tool}, {"tool", tool}, {"output", nullptr}});
  }
  t.add("run_finished", finished("completed", {"Start", "CRM", "Razorpay", "Email", "Complete"}));
  return t;
}

// The line of `dot` that declares the node whose label starts with `head`.
std::string node_line(const std::string& dot, const std::string& head) {
  std::istringstream in(dot);
  for (std::string line; std::getline(in, line);) {
    const auto label = line.find("[label=\"" + head);
    if (label == std::string::npos || line.find(" -> ") != std::string::npos) continue;
    const char next = line[label + 8 + head.size()];
    if (next == '"' || next == '\\') return line;
  }
  ADD_FAILURE() << "no node " << head << " in\n" << dot;
  return "";
}

std::string node_id(const std::string& dot, const std::string& head) {
  const std::string line = node_line(dot, head);
  const auto start = line.find_first_not_of(' ');
  return start == std::string::npos ? "" : line.substr(start, line.find(' ', start) - start);
}

// The line of `dot` that declares the edge between the nodes labelled `from` and `to`.
std::string edge_line(const std::string& dot, const std::string& from, const std::string& to,
                      const std::string& from_suffix = "") {
  const std::string needle = node_id(dot, from) + from_suffix + " -> " + node_id(dot, to) + " [";
  std::istringstream in(dot);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) return line;
  }
  ADD_FAILURE() << "no edge " << from << " -> " << to << " in\n" << dot;
  return "";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

constexpr const char* kTakenColor = "color=\"#2e7d32\"";
constexpr const char* kFailedColor = "color=\"#c62828\"";

TEST(RenderDot, DrawsThePathTakenAsThickGreenEdges) {
  const auto w = customer_support();
  const std::string dot = render_dot(*w, run_record("completed", nullptr), rerouted_run().events);
  for (auto [from, to] : {std::pair{"CRM", "Razorpay"}, std::pair{"Razorpay", "Email"},
                          std::pair{"Email", "Complete"}, std::pair{"Start", "CRM"}}) {
    const std::string line = edge_line(dot, from, to);
    EXPECT_TRUE(has(line, kTakenColor) && has(line, "penwidth=3")) << line;
  }
  EXPECT_TRUE(has(node_line(dot, "Razorpay"), "fillcolor=\"#c8e6c9\""));
  EXPECT_FALSE(has(edge_line(dot, "Razorpay", "SMS"), kTakenColor));
}

TEST(RenderDot, MarksTheFailedToolAndTheEdgeThatLedToIt) {
  const auto w = customer_support();
  const std::string dot = render_dot(*w, run_record("completed", nullptr), rerouted_run().events);
  const std::string stripe = node_line(dot, "Stripe");
  EXPECT_TRUE(has(stripe, "failed: injected") && has(stripe, kFailedColor)) << stripe;
  const std::string edge = edge_line(dot, "CRM", "Stripe");
  EXPECT_TRUE(has(edge, kFailedColor) && has(edge, "dashed")) << edge;
}

TEST(RenderDot, LabelsTheEdgeWhereARerouteStarts) {
  const auto w = customer_support();
  const std::string dot = render_dot(*w, run_record("completed", nullptr), rerouted_run().events);
  EXPECT_TRUE(has(edge_line(dot, "CRM", "Razorpay"), "reroute 1"));
  EXPECT_FALSE(has(edge_line(dot, "CRM", "Stripe"), "reroute"));
}

TEST(RenderDot, LeavesNodesTheRunNeverReachedGrey) {
  const auto w = customer_support();
  const std::string dot = render_dot(*w, run_record("completed", nullptr), rerouted_run().events);
  const std::string sms = node_line(dot, "SMS");
  EXPECT_TRUE(has(sms, "fillcolor=\"white\"") && has(sms, "color=\"#bdbdbd\"")) << sms;
}

TEST(RenderDot, MarksAbandonedStepsTheirCompensationAndTheBacktrack) {
  // Start -> A -> B, B fails and nothing leaves A: back to Start, A abandoned and compensated.
  const auto w = testing::load_workflow(R"({
    "format": "switchyard.workflow/v1", "name": "bt", "start": "Start", "goal": "Goal",
    "tools": {"A": {"kind": "mock", "compensate": "UndoA"}, "UndoA": {"kind": "mock"},
              "B": {"kind": "mock"}, "C": {"kind": "mock"}, "Goal": {"kind": "mock"}},
    "edges": [["Start", "A", 1], ["A", "B", 1], ["B", "Goal", 1], ["Start", "C", 5],
              ["C", "Goal", 1]]})");
  Timeline t;
  t.add("plan", {{"at", "Start"}, {"route", {"Start", "A", "B", "Goal"}}})
      .add("step_succeeded", {{"node", "A"}, {"tool", "A"}})
      .add("step_failed", {{"node", "B"}, {"tool", "B"}, {"failure", "timeout"}})
      .add("backtrack", {{"from", "A"},
                         {"to", "Start"},
                         {"abandoned", {"A"}},
                         {"failed_tool", "B"},
                         {"new_route", {"Start", "C", "Goal"}}})
      .add("compensation", {{"for_tool", "A"}, {"tool", "UndoA"}, {"ok", true}})
      .add("step_succeeded", {{"node", "C"}, {"tool", "C"}})
      .add("step_succeeded", {{"node", "Goal"}, {"tool", "Goal"}});
  const std::string dot = render_dot(*w, run_record("completed", nullptr), t.events);
  const std::string a = node_line(dot, "A");
  EXPECT_TRUE(has(a, "abandoned") && has(a, "compensated by UndoA") && has(a, "dashed")) << a;
  const std::string back = edge_line(dot, "A", "Start");
  EXPECT_TRUE(has(back, "backtrack 1") && has(back, "constraint=false")) << back;
  EXPECT_TRUE(has(edge_line(dot, "Start", "A"), "dashed"));
  EXPECT_TRUE(has(edge_line(dot, "Start", "C"), kTakenColor));
}

TEST(RenderDot, MarksAGoalDemotion) {
  const auto w = customer_support();
  Timeline t;
  t.add("plan", {{"at", "Start"}, {"route", {"Start", "CRM", "Stripe", "Email", "Complete"}}})
      .add("step_succeeded", {{"node", "CRM"}, {"tool", "CRM"}})
      .add("goal_demoted", {{"from_goal", "Complete"},
                            {"to_goal", "RefundQueued"},
                            {"decided_by", "rule"},
                            {"blocked", {"Stripe", "Razorpay"}},
                            {"abandoned", nlohmann::json::array()},
                            {"route", {"CRM", "RefundQueued"}}})
      .add("step_succeeded", {{"node", "RefundQueued"}, {"tool", "RefundQueued"}});
  const std::string dot = render_dot(*w, run_record("demoted", nullptr), t.events);
  EXPECT_TRUE(has(edge_line(dot, "Complete", "RefundQueued"), "goal demoted 1"));
  EXPECT_TRUE(has(edge_line(dot, "CRM", "RefundQueued"), kTakenColor));
  EXPECT_TRUE(has(node_line(dot, "RefundQueued"), "peripheries=2"));  // the goal now
}

TEST(RenderDot, MarksTheCutSetOfAnEscalationAndKnownDownTools) {
  const auto w = customer_support();
  Timeline t;
  t.add("run_started", {{"known_down", {"Stripe", "Razorpay"}}})
      .add("plan", {{"at", "Start"}, {"route", nlohmann::json::array()}, {"cost", nullptr}})
      .add("escalated", {{"reason", "no_route"},
                         {"message", "no route to Complete"},
                         {"blocked", {"Stripe", "Razorpay"}},
                         {"at", "Start"}});
  const std::string dot = render_dot(*w, run_record("escalated", nullptr), t.events);
  for (const char* tool : {"Stripe", "Razorpay"}) {
    const std::string line = node_line(dot, tool);
    EXPECT_TRUE(has(line, "blocked (cut set)") && has(line, "known down") &&
                has(line, "penwidth=3"))
        << line;
  }
  EXPECT_FALSE(has(node_line(dot, "Email"), "blocked"));
}

// The fan-out run of examples/workflows/moderation-fanout.json, with mocks: the image branch
// reroutes to its backup, the join holds.
Timeline fanout_run() {
  auto b = [](int branch, nlohmann::json p) {
    p["fanout"] = "Moderate";
    p["branch"] = branch;
    return p;
  };
  Timeline t;
  t.add("plan", {{"at", "Start"}, {"route", {"Start", "Moderate", "Publish"}}})
      .add("fanout_started", {{"node", "Moderate"}, {"join", "all"}, {"need", 2}, {"branches", 2}})
      .add("plan", b(0, {{"at", "T0"}, {"route", {"T0", "TextScan", "T9"}}}))
      .add("plan", b(1, {{"at", "I0"}, {"route", {"I0", "ImageScan", "I9"}}}))
      .add("step_succeeded", b(0, {{"node", "TextScan"}, {"tool", "TextScan"}}))
      .add("step_failed",
           b(1, {{"node", "ImageScan"}, {"tool", "ImageScan"}, {"failure", "http_status"}}))
      .add("reroute", b(1, {{"at", "I0"},
                            {"failed_tool", "ImageScan"},
                            {"new_route", {"I0", "ImageBackup", "I9"}}}))
      .add("step_succeeded", b(1, {{"node", "ImageBackup"}, {"tool", "ImageBackup"}}))
      .add("fanout_joined", {{"node", "Moderate"},
                             {"ok", true},
                             {"succeeded", {0, 1}},
                             {"failed", nlohmann::json::array()},
                             {"cancelled", nlohmann::json::array()}})
      .add("step_succeeded", {{"node", "Publish"}, {"tool", "Publish"}})
      .add("run_finished", finished("completed", {"Start", "Moderate", "Publish"}));
  return t;
}

TEST(RenderDot, DrawsAFanoutAsAClusterOfItsBranches) {
  const auto w = testing::load_workflow(kFanoutWorkflow);
  const std::string dot = render_dot(*w, run_record("completed", nullptr), fanout_run().events);
  EXPECT_TRUE(has(dot, "label=\"Moderate: fan-out, join all\"")) << dot;
  EXPECT_TRUE(has(dot, "label=\"branch 0: succeeded\""));
  EXPECT_TRUE(has(dot, "label=\"branch 1: succeeded\""));
  const std::string cluster = "subgraph cluster_" + node_id(dot, "Moderate") + "b1 {";
  EXPECT_TRUE(has(dot, cluster)) << dot;
  EXPECT_TRUE(has(node_line(dot, "ImageScan"), "failed: http_status"));
  EXPECT_TRUE(has(edge_line(dot, "I0", "ImageBackup"), "reroute 1"));
  EXPECT_TRUE(has(edge_line(dot, "ImageBackup", "I9"), kTakenColor));
  // The outer edge leaves the fan-out from its join.
  EXPECT_TRUE(has(edge_line(dot, "Moderate", "Publish", "j"), kTakenColor));
}

TEST(RenderDot, EveryPictureRendersWithGraphviz) {
  const auto cs = customer_support();
  const auto fan = testing::load_workflow(kFanoutWorkflow);
  for (const auto& [w, events] :
       {std::pair{cs, rerouted_run().events}, std::pair{fan, fanout_run().events},
        std::pair{cs, std::vector<Event>{}}}) {
    auto svg = render_svg(render_dot(*w, run_record("completed", nullptr), events));
    ASSERT_TRUE(svg.ok()) << svg.status().message();
    EXPECT_TRUE(has(*svg, "<svg")) << *svg;
  }
}

TEST(RenderDot, QuotesNamesGraphvizWouldMisread) {
  auto w = testing::load_workflow(R"({
    "format": "switchyard.workflow/v1", "name": "a \"quoted\" \\ name {x}", "start": "Start",
    "goal": "Go;al", "tools": {"Go;al": {"kind": "mock"}, "A\"b": {"kind": "mock"}},
    "edges": [["Start", "A\"b", 1], ["A\"b", "Go;al", 1]]})");
  RunRecord run = run_record("completed", nullptr);
  run.workflow = w->name();
  auto svg = render_svg(render_dot(*w, run, {}));
  ASSERT_TRUE(svg.ok()) << svg.status().message();
  EXPECT_TRUE(has(*svg, "A&quot;b")) << *svg;
}

TEST(RenderSvg, TextThatIsNotDotIsInvalidArgument) {
  auto svg = render_svg("digraph { a -> ");
  ASSERT_FALSE(svg.ok());
  EXPECT_EQ(svg.status().code(), StatusCode::kInvalidArgument);
}

// Graphviz's library is not thread-safe, and the service's and the API's threads draw replay
// pictures at the same time (two GET .../replay?format=html at once): render_svg serializes every
// use of it. Each thread gets its own picture, whole, and a bad text its own error. (Under
// scripts/test --tsan, this is also the race check.)
TEST(RenderSvg, ThreadsDrawingAtOnceEachGetTheirOwnPicture) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 3;
  std::vector<std::vector<Result<std::string>>> drawn(kThreads);
  std::latch together(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &drawn, &together] {
      together.arrive_and_wait();
      for (int r = 0; r < kRounds; ++r) {
        const std::string name = "thread" + std::to_string(t) + "_round" + std::to_string(r);
        // Thread 0 draws a broken text every other round: its error is collected meanwhile.
        drawn[t].push_back(render_svg(t == 0 && r % 2 == 1
                                          ? "digraph { " + name + " -> "
                                          : "digraph { " + name + " -> goal_of_" + name + " }"));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(drawn[t].size(), static_cast<std::size_t>(kRounds));
    for (int r = 0; r < kRounds; ++r) {
      const std::string name = "thread" + std::to_string(t) + "_round" + std::to_string(r);
      const auto& svg = drawn[t][r];
      if (t == 0 && r % 2 == 1) {
        ASSERT_FALSE(svg.ok()) << name;
        EXPECT_EQ(svg.status().code(), StatusCode::kInvalidArgument) << svg.status().message();
        continue;
      }
      ASSERT_TRUE(svg.ok()) << name << ": " << svg.status().message();
      EXPECT_TRUE(has(*svg, "<title>" + name + "</title>")) << *svg;
      EXPECT_TRUE(has(*svg, "<title>goal_of_" + name + "</title>")) << *svg;
      EXPECT_TRUE(svg->ends_with("</svg>\n")) << svg->substr(svg->size() - 40);
    }
  }
}

Result<std::string> rerouted_html() {
  const auto w = customer_support();
  return render_html(*w, run_record("completed", finished("completed", {"Start", "CRM"})),
                     rerouted_run().events);
}

// The whole report, drawn by several threads at once, is the report drawn alone.
TEST(RenderHtml, ThreadsDrawingAtOnceGetTheReportDrawnAlone) {
  auto alone = rerouted_html();
  ASSERT_TRUE(alone.ok()) << alone.status().message();
  constexpr int kThreads = 4;
  std::vector<Result<std::string>> drawn(kThreads, internal_error("not drawn"));
  std::latch together(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &drawn, &together] {
      together.arrive_and_wait();
      drawn[t] = rerouted_html();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& html : drawn) {
    ASSERT_TRUE(html.ok()) << html.status().message();
    EXPECT_EQ(*html, *alone);
  }
}

TEST(RenderHtml, IsValidHtmlByTidy) {
  auto html = rerouted_html();
  ASSERT_TRUE(html.ok()) << html.status().message();
  testing::expect_valid_html(*html);
}

TEST(RenderHtml, IsSelfContained) {
  auto html = rerouted_html();
  ASSERT_TRUE(html.ok()) << html.status().message();
  testing::expect_self_contained(*html);
  EXPECT_TRUE(has(*html, "<svg")) << "the graph is inline";
}

TEST(RenderHtml, ShowsEveryEventOfTheTimeline) {
  auto html = rerouted_html();
  ASSERT_TRUE(html.ok()) << html.status().message();
  const auto events = rerouted_run().events;
  for (const auto& e : events) {
    EXPECT_TRUE(has(*html, "<td class=\"num\">" + std::to_string(e.seq) + "</td>")) << e.seq;
  }
  EXPECT_TRUE(has(*html, "<td class=\"type\">reroute</td>"));
  EXPECT_TRUE(has(*html,
                  "at CRM after Stripe failed: CRM -&gt; Razorpay -&gt; Email -&gt; "
                  "Complete (cost 0.9)"));
  EXPECT_TRUE(has(*html, "<td class=\"num\">+70ms</td>"));  // event 7, 70 ms after the start
}

TEST(RenderHtml, ShowsTheEscalationAndItsCutSet) {
  const auto w = customer_support();
  Timeline t;
  t.add("escalated", {{"reason", "no_route"},
                      {"message", "no route to Complete"},
                      {"blocked", {"Stripe", "Razorpay"}},
                      {"at", "CRM"}});
  auto html = render_html(*w, run_record("escalated", nullptr), t.events);
  ASSERT_TRUE(html.ok()) << html.status().message();
  EXPECT_TRUE(has(*html, "<h2>Escalated: no_route</h2>")) << *html;
  EXPECT_TRUE(has(*html, "<code>Stripe</code>, <code>Razorpay</code>"));
  testing::expect_valid_html(*html);
}

TEST(RenderHtml, EscapesWhatTheJournalSays) {
  const auto w = customer_support();
  RunRecord run = run_record("failed", nullptr);
  run.input = {{"note", "<script>alert(1)</script>"}};
  Timeline t;
  t.add("failed", {{"message", "<img src=x onerror=alert(1)>"}});
  auto html = render_html(*w, run, t.events);
  ASSERT_TRUE(html.ok()) << html.status().message();
  EXPECT_FALSE(has(*html, "<script>"));
  EXPECT_FALSE(has(*html, "<img"));
  EXPECT_TRUE(has(*html, "&lt;img src=x onerror=alert(1)&gt;"));
  testing::expect_valid_html(*html);
  testing::expect_self_contained(*html);
}

}  // namespace
}  // namespace switchyard::runtime
