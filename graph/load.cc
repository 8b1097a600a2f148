// graph::load: parse, validate (load_tools.cc, load_graph.cc, load_sections.cc), build.

#include "graph/load.h"

#include "graph/load_internal.h"

namespace switchyard::graph {
namespace {

// 1-based line and column of byte `offset` in `text`.
std::pair<int, int> line_column(std::string_view text, std::size_t offset) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

std::optional<nlohmann::json> parse(std::string_view text, const std::string& file,
                                    std::vector<Diagnostic>& errors) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based: the position of the character that broke the parse.
    const auto [line, column] = line_column(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    const auto colon = what.find("syntax error");
    Diagnostic d;
    d.file = file;
    d.message = "invalid JSON: " + (colon != std::string::npos ? what.substr(colon) : what);
    d.line = line;
    d.column = column;
    errors.push_back(std::move(d));
  } catch (const nlohmann::json::exception& e) {
    // Not a syntax error with a position: a number too large for a double (1e999), say.
    std::string what = e.what();
    if (auto bracket = what.find("] "); bracket != std::string::npos) what = what.substr(bracket + 2);
    errors.push_back({Diagnostic::Severity::kError, file, "", "invalid JSON: " + what, 0, 0});
  }
  return std::nullopt;
}

void load_header(LoadState& s) {
  s.check.warn_unknown(
      s.doc, "",
      {"$schema", "format", "name", "description", "start", "goal", "demote_to", "tools", "nodes",
       "edges", "escalation", "budget", "policy", "limits", "scenario"});
  if (auto format = s.check.string(s.doc, "", "format", true, true)) {
    if (*format != kFormatV1) {
      s.check.error("/format", "expected \"" + std::string(kFormatV1) + "\", got \"" + *format +
                                   "\"");
    }
  }
  s.check.string(s.doc, "", "name", true);
  s.check.string(s.doc, "", "description", false, true);
}

std::shared_ptr<const Workflow> build(const LoadState& s) {
  WorkflowBuilder b;
  b.set_name(s.doc["name"].get<std::string>());
  if (s.doc.contains("description")) b.set_description(s.doc["description"].get<std::string>());
  std::vector<Tool> tools;
  std::map<std::string, ToolIndex> tool_index;
  for (const auto& [id, tool] : s.tools) {  // std::map: id order
    tool_index[id] = static_cast<ToolIndex>(tools.size());
    tools.push_back(tool);
  }
  for (const auto& [id, comp] : s.compensate) tools[tool_index[id]].compensate = tool_index[comp];
  for (const auto& [id, probe] : s.probes) tools[tool_index[id]].probe_tool = tool_index[probe];
  b.set_tools(std::move(tools));

  std::map<std::string, std::uint32_t> fanout_index;
  for (std::uint32_t f = 0; f < s.fanouts.size(); ++f) fanout_index[s.fanouts[f].node] = f;
  std::vector<Fanout> fanouts;
  for (const auto& spec : s.fanouts) {
    Fanout f;
    f.join = spec.join;
    f.quorum = spec.quorum;
    for (const auto& branch : spec.branches) {
      f.branches.push_back(build_graph(branch.edges, branch.start, branch.goal, tool_index, {}));
    }
    fanouts.push_back(std::move(f));
  }
  b.set_fanouts(std::move(fanouts));
  Graph g = build_graph(s.edges, s.start, s.goal, tool_index, fanout_index);
  std::vector<NodeIndex> demote;
  for (const auto& d : s.demote_to) demote.push_back(g.find(d));
  b.set_graph(std::move(g));
  b.set_demote_to(std::move(demote));
  if (!s.advisor.empty()) b.set_advisor(tool_index[s.advisor]);
  b.set_budget(s.budget);
  b.set_policy(s.policy);
  b.set_limits(s.limits);
  if (s.scenario) {
    Scenario scenario = *s.scenario;
    for (const auto& id : s.scenario_down) scenario.down.push_back(tool_index.at(id));
    for (const auto& [id, calls] : s.scenario_fail_calls) {
      scenario.fail_calls[tool_index.at(id)] = calls;
    }
    b.set_scenario(std::move(scenario));
  }
  b.set_source(s.doc);
  return b.finish();
}

}  // namespace

LoadResult load(std::string_view text, std::string_view file_name, const LoadOptions& options) {
  LoadResult result;
  const std::string file(file_name);
  auto doc = parse(text, file, result.errors);
  if (!doc) return result;
  Checker check(file, result.errors, result.warnings);
  if (!check.expect_object(*doc, "")) return result;
  LoadState s(check, *doc);
  load_header(s);
  load_tools(s);
  load_graph(s);
  load_sections(s, options.allow_scenario);
  if (!result.errors.empty()) return result;
  result.workflow = build(s);
  return result;
}

}  // namespace switchyard::graph
