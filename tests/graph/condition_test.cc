// Edge conditions (`when`, graph/condition.h): the loader's forms and errors (each with its JSON
// pointer), evaluation in both modes, and the router's closed edges.

#include "graph/condition.h"

#include <gtest/gtest.h>

#include "graph/load.h"
#include "graph/router.h"

// A namespace of its own: the unity build compiles this file with the other graph tests.
namespace switchyard::graph::condition_test {
namespace {

// Start -> Fraud; Fraud -> Review when the score is above 0.8, Fraud -> Auto otherwise.
nlohmann::json fraud_workflow() {
  return nlohmann::json::parse(R"({
    "format": "switchyard.workflow/v1", "name": "fraud", "start": "Start", "goal": "Done",
    "tools": {"Fraud": {"kind": "mock"}, "Review": {"kind": "mock"}, "Auto": {"kind": "mock"},
              "Done": {"kind": "mock"}},
    "edges": [["Start", "Fraud", 0.1],
              ["Fraud", "Review", 1.0, {"ptr": "/steps/Fraud/output/score", "gt": 0.8}],
              {"from": "Fraud", "to": "Auto", "cost": 0.2,
               "when": {"ptr": "/steps/Fraud/output/score", "le": 0.8}},
              ["Review", "Done", 0.1], ["Auto", "Done", 0.1]]
  })");
}

LoadResult load_doc(const nlohmann::json& doc) { return load(doc.dump(), "wf.json"); }

nlohmann::json J(const char* text) { return nlohmann::json::parse(text); }

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

bool has_error(const LoadResult& r, const std::string& pointer, const std::string& fragment) {
  for (const auto& e : r.errors) {
    if (e.pointer == pointer && e.message.find(fragment) != std::string::npos) return true;
  }
  return false;
}

// The condition `when` loaded on the fraud workflow's edge Fraud -> Review.
Condition parsed(const nlohmann::json& when) {
  auto doc = fraud_workflow();
  doc["edges"][1][3] = when;
  LoadResult r = load_doc(doc);
  EXPECT_TRUE(r.ok()) << all_errors(r);
  if (!r.ok()) return {};
  const Graph& g = r.workflow->graph();
  return *g.when(g.guarded().front());
}

// The errors of the fraud workflow with `when` on its edge Fraud -> Review (/edges/1/3).
LoadResult with_when(const nlohmann::json& when) {
  auto doc = fraud_workflow();
  doc["edges"][1][3] = when;
  return load_doc(doc);
}

nlohmann::json context_with(const nlohmann::json& steps, const nlohmann::json& input = {}) {
  return {{"input", input.is_null() ? nlohmann::json::object() : input}, {"steps", steps}};
}

Truth decide(const nlohmann::json& when, const nlohmann::json& context) {
  return evaluate(parsed(when), context, /*look_ahead=*/false);
}

// ---- the loader ----

TEST(ConditionLoad, ArrayFourthElementAndObjectWhenBothGuardTheirEdge) {
  LoadResult r = load_doc(fraud_workflow());
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Graph& g = r.workflow->graph();
  ASSERT_EQ(g.guarded().size(), 2u);
  const Edge& review = g.edges()[g.guarded()[0]];
  const Edge& automatic = g.edges()[g.guarded()[1]];
  EXPECT_EQ(g.node(review.to).id, "Review");
  EXPECT_EQ(to_string(*g.when(g.guarded()[0])), "/steps/Fraud/output/score gt 0.8");
  EXPECT_EQ(g.node(automatic.to).id, "Auto");
  EXPECT_EQ(automatic.cost, 0.2);
  EXPECT_EQ(to_string(*g.when(g.guarded()[1])), "/steps/Fraud/output/score le 0.8");
  EXPECT_EQ(g.when(0), nullptr);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(ConditionLoad, NestedCombinatorsKeepTheirShapeAndUnescapePointers) {
  const Condition c = parsed(J(R"({"and": [{"exists": "/steps/Fraud/output/a~1b"},
      {"or": [{"ptr": "/input/tier", "in": ["gold", "silver"]},
              {"not": {"ptr": "/input/vip", "eq": false}}]}]})"));
  ASSERT_EQ(c.op, ConditionOp::kAnd);
  ASSERT_EQ(c.terms.size(), 2u);
  EXPECT_EQ(c.terms[0].tokens, (std::vector<std::string>{"steps", "Fraud", "output", "a/b"}));
  EXPECT_EQ(c.terms[0].step, "Fraud");
  EXPECT_EQ(c.terms[1].terms[0].step, "");
  EXPECT_EQ(to_string(c),
            "(exists /steps/Fraud/output/a~1b) and ((/input/tier in [\"gold\",\"silver\"]) or "
            "(not (/input/vip eq false)))");
}

TEST(ConditionLoad, EveryMalformedConditionNamesItsPointer) {
  struct Case {
    nlohmann::json when;
    std::string pointer;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"score > 0.8", "/edges/1/3", "expected a condition"},
      {J("{}"), "/edges/1/3", "got an object without one"},
      {J(R"({"ptr": "/input/x", "gte": 1})"), "/edges/1/3/gte", "unknown operator 'gte'"},
      {J(R"({"ptr": "/input/x"})"), "/edges/1/3", "expected a comparison with 'ptr'"},
      {J(R"({"ptr": "/input/x", "gt": 1, "lt": 3})"), "/edges/1/3",
       "expected exactly one operator"},
      {J(R"({"gt": 1})"), "/edges/1/3/ptr", "required field 'ptr' is missing"},
      {J(R"({"ptr": 3, "eq": 1})"), "/edges/1/3/ptr", "expected a JSON pointer"},
      {J(R"({"ptr": "input/x", "eq": 1})"), "/edges/1/3/ptr", "expected a JSON pointer into"},
      {J(R"({"ptr": "/secrets/x", "eq": 1})"), "/edges/1/3/ptr", "unknown root 'secrets'"},
      {J(R"({"ptr": "/steps", "eq": 1})"), "/edges/1/3/ptr", "it must name a step"},
      {J(R"({"ptr": "/steps/Nope/output", "eq": 1})"), "/edges/1/3/ptr", "unknown step 'Nope'"},
      {J(R"({"ptr": "/steps/Fraud/status", "eq": 1})"), "/edges/1/3/ptr",
       "holds only its `output`"},
      {J(R"({"ptr": "/input/a~2", "eq": 1})"), "/edges/1/3/ptr", "malformed JSON pointer"},
      {J(R"({"ptr": "/input/x", "lt": {"a": 1}})"), "/edges/1/3/lt", "a number or a string"},
      {J(R"({"ptr": "/input/x", "ge": true})"), "/edges/1/3/ge", "got boolean true"},
      {J(R"({"ptr": "/input/x", "in": []})"), "/edges/1/3/in", "non-empty array"},
      {J(R"({"ptr": "/input/x", "in": "gold"})"), "/edges/1/3/in", "non-empty array"},
      {J(R"({"exists": "/input/x", "ptr": "/input/y"})"), "/edges/1/3/ptr",
       "goes with a comparison"},
      {J(R"({"and": []})"), "/edges/1/3/and", "at least one condition"},
      {J(R"({"or": {"exists": "/input/x"}})"), "/edges/1/3/or", "expected an array of conditions"},
      {J(R"({"and": [{"exists": "/input/x"}, {"ptr": "/input/y", "gt": null}]})"),
       "/edges/1/3/and/1/gt", "got null"},
      {J(R"({"not": {"exists": "/steps/Ghost"}})"), "/edges/1/3/not/exists",
       "unknown step 'Ghost'"},
      {J(R"({"not": []})"), "/edges/1/3/not", "expected a condition"},
  };
  for (const auto& c : cases) {
    LoadResult r = with_when(c.when);
    EXPECT_FALSE(r.ok()) << c.when.dump();
    EXPECT_TRUE(has_error(r, c.pointer, c.fragment))
        << c.when.dump() << ": expected '" << c.fragment << "' at " << c.pointer << ", got\n"
        << all_errors(r);
  }
}

TEST(ConditionLoad, ObjectFormConditionErrorsAreUnderWhen) {
  auto doc = fraud_workflow();
  doc["edges"][2]["when"] = J(R"({"ptr": "/steps/Fraud/output/score", "lte": 0.8})");
  LoadResult r = load_doc(doc);
  EXPECT_TRUE(has_error(r, "/edges/2/when/lte", "unknown operator 'lte'")) << all_errors(r);
}

TEST(ConditionLoad, ArrayOfFiveElementsIsStillAnError) {
  auto doc = fraud_workflow();
  doc["edges"][0] = J(R"(["Start", "Fraud", 0.1, {"exists": "/input/x"}, "extra"])");
  LoadResult r = load_doc(doc);
  EXPECT_TRUE(has_error(r, "/edges/0", "got an array of 5 element(s)")) << all_errors(r);
}

TEST(ConditionLoad, ReadingAStepThatCannotRunBeforeTheEdgeIsAnErrorAtItsPointer) {
  auto doc = fraud_workflow();
  // Done runs only after Review or Auto: its output cannot exist when the run leaves Fraud.
  doc["edges"][1][3] = J(R"({"ptr": "/steps/Done/output/ok", "eq": true})");
  LoadResult r = load_doc(doc);
  EXPECT_TRUE(has_error(r, "/edges/1/3/ptr", "reads step 'Done', which no route from start"))
      << all_errors(r);
  // A tool on no edge at all cannot have run either.
  doc = fraud_workflow();
  doc["tools"]["Lonely"] = J(R"({"kind": "mock"})");
  doc["edges"][2]["when"] = J(R"({"exists": "/steps/Lonely"})");
  r = load_doc(doc);
  EXPECT_TRUE(has_error(r, "/edges/2/when/exists", "reads step 'Lonely'")) << all_errors(r);
}

TEST(ConditionLoad, StepsOnTheWayAndTheSourceItselfMayBeRead) {
  auto doc = fraud_workflow();
  doc["tools"]["Lookup"] = J(R"({"kind": "mock"})");
  doc["edges"][0] = J(R"(["Start", "Lookup", 0.1])");
  doc["edges"].push_back(J(R"(["Lookup", "Fraud", 0.1])"));
  doc["edges"][1][3] = J(R"({"and": [{"exists": "/steps/Lookup/output/id"},
                                     {"ptr": "/steps/Fraud/output/score", "gt": 0.8},
                                     {"ptr": "/input/amount", "ge": 100}]})");
  LoadResult r = load_doc(doc);
  EXPECT_TRUE(r.ok()) << all_errors(r);
}

TEST(ConditionLoad, BranchEdgesMayReadEarlierBranchStepsAndStepsBeforeTheFanout) {
  auto doc = nlohmann::json::parse(R"({
    "format": "switchyard.workflow/v1", "name": "fan", "start": "Start", "goal": "Done",
    "tools": {"Pre": {"kind": "mock"}, "Scan": {"kind": "mock"}, "Deep": {"kind": "mock"},
              "Other": {"kind": "mock"}, "Done": {"kind": "mock"}},
    "nodes": {"Fan": {"fanout": {"branches": [
      {"start": "B0", "goal": "B9", "edges": [["B0", "Scan", 0.1],
        ["Scan", "Deep", 0.1, {"and": [{"exists": "/steps/Pre"},
                                       {"ptr": "/steps/Scan/output/flag", "eq": true}]}],
        ["Scan", "B9", 0.5], ["Deep", "B9", 0]]},
      {"start": "C0", "goal": "C9", "edges": [["C0", "Other", 0.1], ["Other", "C9", 0]]}]}}},
    "edges": [["Start", "Pre", 0.1], ["Pre", "Fan", 0.1], ["Fan", "Done", 0.1]]
  })");
  LoadResult r = load_doc(doc);
  EXPECT_TRUE(r.ok()) << all_errors(r);
  // A sibling branch's step is not in this branch's context, nor is the fan-out's own output.
  doc["nodes"]["Fan"]["fanout"]["branches"][0]["edges"][1][3] = J(R"({"exists": "/steps/Other"})");
  r = load_doc(doc);
  EXPECT_TRUE(has_error(r, "/nodes/Fan/fanout/branches/0/edges/1/3/exists", "reads step 'Other'"))
      << all_errors(r);
  doc["nodes"]["Fan"]["fanout"]["branches"][0]["edges"][1][3] = J(R"({"exists": "/steps/Fan"})");
  r = load_doc(doc);
  EXPECT_TRUE(has_error(r, "/nodes/Fan/fanout/branches/0/edges/1/3/exists", "reads step 'Fan'"))
      << all_errors(r);
  // After the join, the outer edges may read the fan-out and its branches' tools.
  doc["nodes"]["Fan"]["fanout"]["branches"][0]["edges"][1].erase(3);
  doc["edges"][2] = J(R"(["Fan", "Done", 0.1, {"exists": "/steps/Deep/output"}])");
  r = load_doc(doc);
  EXPECT_TRUE(r.ok()) << all_errors(r);
}

// ---- evaluation ----

TEST(ConditionEval, ComparesNumbersByValueAndStringsByBytes) {
  const auto ctx = context_with({{"Fraud", {{"output", {{"score", 0.93}, {"n", 3}}}}}},
                                {{"tier", "gold"}, {"count", 2}});
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/score"}, {"gt", 0.8}}, ctx), Truth::kTrue);
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/score"}, {"le", 0.8}}, ctx), Truth::kFalse);
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/n"}, {"eq", 3.0}}, ctx), Truth::kTrue);
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/n"}, {"ge", 3}}, ctx), Truth::kTrue);
  EXPECT_EQ(decide({{"ptr", "/input/count"}, {"lt", 2.5}}, ctx), Truth::kTrue);
  EXPECT_EQ(decide({{"ptr", "/input/tier"}, {"lt", "silver"}}, ctx), Truth::kTrue);
  EXPECT_EQ(decide({{"ptr", "/input/tier"}, {"in", {"gold", "platinum"}}}, ctx), Truth::kTrue);
  EXPECT_EQ(decide({{"ptr", "/input/tier"}, {"in", nlohmann::json::array({"silver"})}}, ctx),
            Truth::kFalse);
  EXPECT_EQ(decide({{"ptr", "/input"}, {"eq", {{"tier", "gold"}, {"count", 2}}}}, ctx),
            Truth::kTrue);
}

TEST(ConditionEval, ATypeMismatchInAnOrderingIsFalseAndEqualityIsStrictOnTypes) {
  const auto ctx = context_with({{"Fraud", {{"output", {{"score", "0.93"}, {"flag", 1}}}}}});
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/score"}, {"gt", 0.8}}, ctx), Truth::kFalse);
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/score"}, {"le", 0.8}}, ctx), Truth::kFalse);
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/flag"}, {"eq", true}}, ctx), Truth::kFalse);
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/flag"}, {"ne", true}}, ctx), Truth::kTrue);
}

TEST(ConditionEval, AMissingValueIsFalseForEveryComparisonIncludingNe) {
  const auto ctx = context_with({{"Fraud", {{"output", {{"items", {1, 2}}}}}}});
  for (const char* op : {"eq", "ne", "lt", "le", "gt", "ge"}) {
    EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/score"}, {op, 1}}, ctx), Truth::kFalse) << op;
  }
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/score"}, {"in", nlohmann::json::array({1})}}, ctx),
            Truth::kFalse);
  EXPECT_EQ(decide({{"exists", "/steps/Fraud/output/score"}}, ctx), Truth::kFalse);
  EXPECT_EQ(decide({{"not", {{"exists", "/steps/Fraud/output/score"}}}}, ctx), Truth::kTrue);
  // Array elements by canonical index only; a step through a scalar names nothing.
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/items/1"}, {"eq", 2}}, ctx), Truth::kTrue);
  EXPECT_EQ(decide({{"exists", "/steps/Fraud/output/items/01"}}, ctx), Truth::kFalse);
  EXPECT_EQ(decide({{"exists", "/steps/Fraud/output/items/2"}}, ctx), Truth::kFalse);
  EXPECT_EQ(decide({{"exists", "/steps/Fraud/output/items/0/x"}}, ctx), Truth::kFalse);
}

TEST(ConditionEval, ExistsCountsANullValue) {
  const auto ctx = context_with({{"Fraud", {{"output", {{"id", nullptr}}}}}});
  EXPECT_EQ(decide({{"exists", "/steps/Fraud/output/id"}}, ctx), Truth::kTrue);
  EXPECT_EQ(decide({{"ptr", "/steps/Fraud/output/id"}, {"eq", nullptr}}, ctx), Truth::kTrue);
}

TEST(ConditionEval, LookingAheadAStepNotRunIsUndecidedInThreeValuedLogic) {
  const auto ran = context_with({{"Fraud", {{"output", {{"score", 0.5}}}}}});
  const auto not_yet = context_with(nlohmann::json::object(), {{"vip", true}});
  const nlohmann::json high = {{"ptr", "/steps/Fraud/output/score"}, {"gt", 0.8}};
  const nlohmann::json vip = {{"ptr", "/input/vip"}, {"eq", true}};
  auto ahead = [&](const nlohmann::json& when, const nlohmann::json& ctx) {
    return evaluate(parsed(when), ctx, /*look_ahead=*/true);
  };
  EXPECT_EQ(ahead(high, not_yet), Truth::kUndecided);
  EXPECT_EQ(ahead(high, ran), Truth::kFalse);    // the step ran: decided
  EXPECT_EQ(ahead(vip, not_yet), Truth::kTrue);  // the input is known from the start
  EXPECT_EQ(ahead({{"not", high}}, not_yet), Truth::kUndecided);
  EXPECT_EQ(ahead({{"and", {high, {{"not", vip}}}}}, not_yet), Truth::kFalse);
  EXPECT_EQ(ahead({{"and", {high, vip}}}, not_yet), Truth::kUndecided);
  EXPECT_EQ(ahead({{"or", {high, vip}}}, not_yet), Truth::kTrue);
  EXPECT_EQ(ahead({{"or", {high, {{"not", vip}}}}}, not_yet), Truth::kUndecided);
  // Deciding (at the edge's source) the same step reads as missing.
  EXPECT_EQ(decide(high, not_yet), Truth::kFalse);
  EXPECT_EQ(decide({{"not", high}}, not_yet), Truth::kTrue);
}

TEST(ConditionEval, ClosedEdgesDecideTheSourcesEdgesAndLookAheadElsewhere) {
  LoadResult r = load_doc(fraud_workflow());
  ASSERT_TRUE(r.ok());
  const Graph& g = r.workflow->graph();
  const NodeIndex fraud = g.find("Fraud");
  std::vector<Truth> values;
  // At Start, Fraud has not run: both edges out of Fraud are undecided and stay open.
  auto closed = closed_edges(g, context_with(nlohmann::json::object()), g.find("Start"), &values);
  EXPECT_EQ(values, (std::vector<Truth>{Truth::kUndecided, Truth::kUndecided}));
  EXPECT_EQ(std::count(closed.begin(), closed.end(), true), 0);
  // At Fraud, with its score: one closes.
  const auto ctx = context_with({{"Fraud", {{"output", {{"score", 0.93}}}}}});
  closed = closed_edges(g, ctx, fraud, &values);
  EXPECT_EQ(values, (std::vector<Truth>{Truth::kTrue, Truth::kFalse}));
  EXPECT_FALSE(closed[g.guarded()[0]]);
  EXPECT_TRUE(closed[g.guarded()[1]]);
  // At Fraud without a score in its output: both edges are false (missing), none is left.
  closed =
      closed_edges(g, context_with({{"Fraud", {{"output", {{"tool", "Fraud"}}}}}}), fraud, &values);
  EXPECT_EQ(values, (std::vector<Truth>{Truth::kFalse, Truth::kFalse}));
}

// ---- the router ----

TEST(ConditionRouter, AClosedEdgeIsOnNoRouteAndItsToolIsNotNamedBlocked) {
  LoadResult r = load_doc(fraud_workflow());
  ASSERT_TRUE(r.ok());
  const Workflow& w = *r.workflow;
  const Graph& g = w.graph();
  Router router(w, g);
  FixedHealth health(w.tools().size());
  // Open: the cheaper Auto branch.
  auto route = router.plan(g.find("Fraud"), g.goal(), health);
  ASSERT_TRUE(route.found());
  EXPECT_EQ(g.node(route.nodes[1]).id, "Auto");
  // The score is high: Auto's edge closes, the route goes through Review.
  std::vector<bool> closed(g.edges().size(), false);
  closed[g.guarded()[1]] = true;
  router.set_closed_edges(closed);
  route = router.plan(g.find("Fraud"), g.goal(), health);
  ASSERT_TRUE(route.found());
  EXPECT_EQ(g.node(route.nodes[1]).id, "Review");
  // Review down as well: no route; Review is blocked, Auto (behind a closed edge) is not.
  health.exclude(w.find_tool("Review"));
  router.solve(g.goal(), health);
  EXPECT_FALSE(router.reachable(g.find("Fraud")));
  EXPECT_EQ(router.blocked(g.find("Fraud")), std::vector<ToolIndex>{w.find_tool("Review")});
  // Opened again: Auto carries the run.
  router.set_closed_edges({});
  route = router.plan(g.find("Fraud"), g.goal(), health);
  ASSERT_TRUE(route.found());
  EXPECT_EQ(g.node(route.nodes[1]).id, "Auto");
}

}  // namespace
}  // namespace switchyard::graph::condition_test
