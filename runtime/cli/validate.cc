// switchyard validate WF.json [--json]: load, validate and summarize a workflow.

#include <iomanip>
#include <map>
#include <ostream>

#include "graph/json_read.h"
#include "graph/lint.h"
#include "graph/router.h"
#include "runtime/base/workflow_file.h"
#include "runtime/cli/cli.h"

namespace switchyard::cli {
namespace {

std::vector<std::string> node_names(const graph::Graph& g, const graph::Route& r) {
  std::vector<std::string> out;
  for (auto n : r.nodes) out.push_back(g.node(n).id);
  return out;
}

int validate(Context& ctx, const std::string& file, bool json) {
  auto loaded = runtime::load_workflow_file(file);
  if (!loaded.ok()) {
    report_diagnostics(ctx, loaded, json);
    return kExitInvalid;
  }
  const graph::Workflow& w = *loaded.workflow;
  const graph::Graph& g = w.graph();
  // The loader's warnings (unknown fields), then likely mistakes that are valid by the format
  // (graph/lint.h): dead-end junctions, tools no route calls. Warnings never fail validation.
  std::vector<graph::Diagnostic> warnings = loaded.warnings;
  for (auto& d : graph::lint(w, file)) warnings.push_back(std::move(d));
  std::map<std::string, int> kinds;
  for (const auto& t : w.tools()) kinds[std::string(graph::to_string(t.kind))]++;
  graph::Router router(w, g);
  graph::FixedHealth health(w.tools().size());
  // Conditions depend on the input and on outputs: the summary's route ignores them (every
  // guarded edge open), and lists them.
  const graph::Route route = router.plan(g.start(), g.goal(), health);
  const auto names = node_names(g, route);
  nlohmann::json conditions = nlohmann::json::array();
  for (std::uint32_t e : g.guarded()) {
    conditions.push_back({{"from", g.node(g.edges()[e].from).id},
                          {"to", g.node(g.edges()[e].to).id},
                          {"when", graph::to_string(*g.when(e))}});
  }

  if (json) {
    nlohmann::json warnings_json = nlohmann::json::array();
    for (const auto& d : warnings) warnings_json.push_back(to_json(d));
    *ctx.out << nlohmann::json{{"valid", true},
                               {"file", file},
                               {"name", w.name()},
                               {"start", g.node(g.start()).id},
                               {"goal", g.node(g.goal()).id},
                               {"nodes", g.nodes().size()},
                               {"edges", g.edges().size()},
                               {"tools", kinds},
                               {"fanouts", w.fanouts().size()},
                               {"conditions", conditions},
                               {"route", names},
                               {"cost", route.cost},
                               {"warnings", warnings_json}}
                    .dump(2)
             << "\n";
    return kExitOk;
  }
  for (const auto& d : warnings) *ctx.err << "warning: " << d.to_string() << "\n";
  auto& out = *ctx.out;
  out << file << ": valid workflow '" << w.name() << "'\n";
  out << "  nodes: " << g.nodes().size() << ", edges: " << g.edges().size()
      << ", fan-outs: " << w.fanouts().size() << "\n";
  out << "  tools: " << w.tools().size() << " (";
  bool first = true;
  for (const auto& [kind, count] : kinds) {
    out << (first ? "" : ", ") << kind << " " << count;
    first = false;
  }
  out << ")\n";
  if (!conditions.empty()) {
    out << "  conditions: " << conditions.size() << " guarded edge(s), decided as the run goes\n";
    for (const auto& c : conditions) {
      out << "    " << lenient_string(c, "from") << " -> " << lenient_string(c, "to") << " when "
          << lenient_string(c, "when") << "\n";
    }
  }
  out << (conditions.empty() ? "  cheapest route: "
                             : "  cheapest route (every condition holding): ");
  for (std::size_t i = 0; i < names.size(); ++i) out << (i ? " -> " : "") << names[i];
  out << "\n  cost: " << std::setprecision(6) << route.cost << "\n";
  return kExitOk;
}

}  // namespace

void add_validate(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("validate", "Load and validate a workflow; print its summary");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("workflow", *file, "Workflow file (JSON)")->required();
  cmd->add_flag("--json", *json, "Print one JSON document");
  cmd->callback([&ctx, file, json] { ctx.exit_code = validate(ctx, *file, *json); });
}

}  // namespace switchyard::cli
