// graph::load: parse, validate (load_tools.cc, load_graph.cc, load_sections.cc), build.

#include "graph/load.h"

#include <set>

#include "graph/json_read.h"
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

// One pass of nlohmann's SAX parser over the text (iterative: no recursion on the document) that
// finds what the DOM parse does not say: where a syntax error is (byte offset) and which JSON
// objects name a key twice (the DOM keeps the last one silently, so a second tool with the id of
// the first would replace it). It stops deeper than `max_depth`, where parse_untrusted stops too.
class TextScan {
 public:
  using json = nlohmann::json;
  explicit TextScan(std::size_t max_depth) : max_depth_(max_depth) {}

  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const json::string_t&) { return value(); }
  bool string(json::string_t&) { return value(); }
  bool binary(json::binary_t&) { return value(); }
  bool start_object(std::size_t) { return open(true); }
  bool start_array(std::size_t) { return open(false); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& k) {
    Frame& f = stack_.back();
    f.token = k;
    if (!f.keys.insert(k).second) {
      std::string pointer;
      for (const auto& frame : stack_) pointer = pointer_join(pointer, frame.token);
      duplicates.push_back({pointer, k});
    }
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    syntax_error = {position, e.what()};
    return false;
  }

  struct Duplicate {
    std::string pointer;
    std::string key;
  };
  std::vector<Duplicate> duplicates;
  std::optional<std::pair<std::size_t, std::string>> syntax_error;  // byte (1-based), what()

 private:
  struct Frame {
    bool object = false;
    std::size_t next_index = 0;
    std::string token;  // the key or index of the value being read
    std::set<std::string> keys;
  };
  // A value starts: in an array, its token is its index.
  bool value() {
    if (!stack_.empty() && !stack_.back().object) {
      stack_.back().token = std::to_string(stack_.back().next_index++);
    }
    return true;
  }
  bool open(bool object) {
    value();
    if (stack_.size() >= max_depth_) return false;  // parse_untrusted refused it: no deeper
    stack_.push_back({object, 0, {}, {}});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  std::size_t max_depth_;
  std::vector<Frame> stack_;
};

// nlohmann's message without its "[json.exception...] parse error at line 1, column 2: " prefix.
std::string json_error_text(const std::string& what) {
  if (auto at = what.find("syntax error"); at != std::string::npos) return what.substr(at);
  if (auto bracket = what.find("] "); bracket != std::string::npos) return what.substr(bracket + 2);
  return what;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::optional<nlohmann::json> parse(std::string_view text, const std::string& file,
                                    const LoadOptions& options, std::vector<Diagnostic>& errors) {
  const auto error = [&](std::string message, int line = 0, int column = 0) {
    errors.push_back({Diagnostic::Severity::kError, file, "", valid_utf8(message), line, column});
  };
  if (starts_with(text, "\xFF\xFE") || starts_with(text, "\xFE\xFF")) {
    error(
        "the file is UTF-16 (it starts with a UTF-16 byte order mark): a workflow file must be "
        "UTF-8");
    return std::nullopt;
  }
  std::string_view body = starts_with(text, "\xEF\xBB\xBF") ? text.substr(3) : text;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    error("the file is empty: expected a workflow (a JSON object)");
    return std::nullopt;
  }
  const JsonLimits limits{
      .max_depth = options.max_depth, .max_bytes = options.max_bytes, .what = "workflow"};
  auto parsed = parse_untrusted(text, limits);
  if (!parsed.ok() && text.size() > limits.max_bytes) {
    error(parsed.status().message());  // names the size limit
    return std::nullopt;
  }
  // Where the text stops being JSON, and keys named twice: a scan as deep as the parse goes.
  TextScan scan(limits.max_depth);
  try {
    nlohmann::json::sax_parse(text.begin(), text.end(), &scan);
  } catch (const nlohmann::json::exception& e) {  // not expected: the scan's handler never throws
    error("invalid JSON: " + json_error_text(e.what()));
    return std::nullopt;
  }
  if (scan.syntax_error) {
    // The byte is 1-based: the position of the character that broke the parse.
    const auto [line, column] =
        line_column(text, scan.syntax_error->first > 0 ? scan.syntax_error->first - 1 : 0);
    std::string message = "invalid JSON: " + json_error_text(scan.syntax_error->second);
    if (message.find("ill-formed UTF-8") != std::string::npos) {
      message += " (a workflow file must be UTF-8)";
    }
    error(std::move(message), line, column);
    return std::nullopt;
  }
  if (!parsed.ok()) {
    error(parsed.status().message());  // names the depth limit
    return std::nullopt;
  }
  for (const auto& d : scan.duplicates) {
    errors.push_back(
        {Diagnostic::Severity::kError, file, d.pointer,
         "duplicate key '" + d.key + "': this object names it twice and only the last would count",
         0, 0});
  }
  return std::move(parsed).value();
}

void load_header(LoadState& s) {
  s.check.warn_unknown(
      s.doc, "",
      {"$schema", "format", "name", "description", "start", "goal", "demote_to", "tools", "nodes",
       "edges", "escalation", "budget", "policy", "limits", "scenario", "mcp_servers"});
  if (auto format = s.check.string(s.doc, "", "format", true, true)) {
    if (*format != kFormatV1) {
      s.check.error("/format",
                    "expected \"" + std::string(kFormatV1) + "\", got \"" + *format + "\"");
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
    for (const auto& [id, script] : s.scenario_waits) scenario.waits[tool_index.at(id)] = script;
    b.set_scenario(std::move(scenario));
  }
  b.set_source(s.doc);
  return b.finish();
}

}  // namespace

LoadResult load(std::string_view text, std::string_view file_name, const LoadOptions& options) {
  LoadResult result;
  const std::string file(file_name);
  auto doc = parse(text, file, options, result.errors);
  if (!doc) return result;
  Checker check(file, result.errors, result.warnings);
  if (!check.expect_object(*doc, "")) return result;
  LoadState s(check, *doc);
  load_header(s);
  load_tools(s);
  load_graph(s);
  load_sections(s);
  add_approval_gates(s);
  if (s.graph_loaded) check_condition_reads(s);
  load_scenario(s, options.allow_scenario);
  if (!result.errors.empty()) return result;
  result.workflow = build(s);
  return result;
}

}  // namespace switchyard::graph
