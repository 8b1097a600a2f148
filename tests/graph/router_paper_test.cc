// The router on the paper's 19 graphs: the cheapest route with nothing down, and the route (or the
// cut set) with each scenario's failed tools excluded.

#include <gtest/gtest.h>

#include <filesystem>

#include "graph/router.h"
#include "runtime/base/workflow_file.h"

namespace switchyard::graph {
namespace {

struct PaperCase {
  std::string file;
  std::string id() const { return std::filesystem::path(file).stem().string(); }
};

void PrintTo(const PaperCase& c, std::ostream* os) { *os << c.id(); }

std::vector<PaperCase> paper_files() {
  std::vector<PaperCase> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(SWITCHYARD_PAPER_DIR))) {
    if (e.path().extension() == ".json") out.push_back({e.path().string()});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.file < b.file; });
  return out;
}

std::vector<std::string> route_ids(const Graph& g, const Route& r) {
  std::vector<std::string> out;
  for (auto n : r.nodes) out.push_back(g.node(n).id);
  return out;
}

class RouterOnPaperGraphs : public ::testing::TestWithParam<PaperCase> {};

TEST_P(RouterOnPaperGraphs, CheapestRouteWithNothingDownIsTheHappyPath) {
  auto loaded = runtime::load_workflow_file(GetParam().file);
  ASSERT_TRUE(loaded.ok());
  const Workflow& w = *loaded.workflow;
  const std::map<std::string, std::vector<std::string>> happy = {
      {"CS", {"Start", "CRM", "Stripe", "Email", "Complete"}},
      {"TB", {"Start", "FlightAPI", "HotelAPI", "CarAPI", "Payment", "Confirm"}},
      {"CM", {"Start", "TextMod", "ToxicityScorer", "AutoApprove", "Complete"}}};
  Router router(w, w.graph());
  FixedHealth health(w.tools().size());
  Route r = router.plan(w.graph().start(), w.graph().goal(), health);
  EXPECT_EQ(route_ids(w.graph(), r), happy.at(GetParam().id().substr(0, 2)));
}

TEST_P(RouterOnPaperGraphs, ExcludingTheDownToolsGivesTheExpectedRouteOrACutSet) {
  auto loaded = runtime::load_workflow_file(GetParam().file);
  ASSERT_TRUE(loaded.ok());
  const Workflow& w = *loaded.workflow;
  const Scenario& s = *w.scenario();
  Router router(w, w.graph());
  FixedHealth health(w.tools().size());
  for (auto t : s.down) health.exclude(t);
  Route r = router.plan(w.graph().start(), w.graph().goal(), health);
  if (s.expect.status == "completed") {
    EXPECT_EQ(route_ids(w.graph(), r), *s.expect.path);
    EXPECT_TRUE(router.blocked(w.graph().start()).empty());
  } else {
    EXPECT_FALSE(r.found());
    const auto blocked = router.blocked(w.graph().start());
    EXPECT_FALSE(blocked.empty());
    for (auto t : blocked) {
      EXPECT_TRUE(health.excluded(t)) << w.tool(t).id << " is in the cut set but not down";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paper, RouterOnPaperGraphs, ::testing::ValuesIn(paper_files()),
                         [](const auto& info) {
                           std::string id = info.param.id();
                           std::replace(id.begin(), id.end(), '-', '_');
                           return id;
                         });

}  // namespace
}  // namespace switchyard::graph
