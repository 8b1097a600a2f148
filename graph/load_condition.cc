// Loading edge conditions (`when`, graph/condition.h): syntax, pointers and operands, with the
// JSON pointer of every problem; and whether each step a condition reads can have run before
// the run leaves the edge's source.

#include <deque>

#include "graph/load_internal.h"

namespace switchyard::graph {
namespace {

constexpr const char* kConditionShape =
    "expected a condition: {\"ptr\": \"/steps/<id>/output/...\", \"eq\": value} (or ne, lt, le, "
    "gt, ge, in), {\"exists\": pointer}, {\"and\": [...]}, {\"or\": [...]} or {\"not\": {...}}";

struct OpName {
  const char* key;
  ConditionOp op;
};
constexpr OpName kComparisons[] = {{"eq", ConditionOp::kEq}, {"ne", ConditionOp::kNe},
                                   {"lt", ConditionOp::kLt}, {"le", ConditionOp::kLe},
                                   {"gt", ConditionOp::kGt}, {"ge", ConditionOp::kGe},
                                   {"in", ConditionOp::kIn}};
constexpr OpName kOthers[] = {{"exists", ConditionOp::kExists},
                              {"and", ConditionOp::kAnd},
                              {"or", ConditionOp::kOr},
                              {"not", ConditionOp::kNot}};

// The reference tokens of an RFC 6901 pointer, unescaped; nullopt when an escape is malformed
// ("~" not followed by 0 or 1).
std::optional<std::vector<std::string>> pointer_tokens(const std::string& pointer) {
  std::vector<std::string> tokens;
  std::size_t pos = 1;
  while (pos <= pointer.size()) {
    const std::size_t end = std::min(pointer.find('/', pos), pointer.size());
    std::string token;
    for (std::size_t i = pos; i < end; ++i) {
      if (pointer[i] != '~') {
        token += pointer[i];
        continue;
      }
      if (i + 1 >= end || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) return std::nullopt;
      token += pointer[i + 1] == '0' ? '~' : '/';
      ++i;
    }
    tokens.push_back(std::move(token));
    pos = end + 1;
  }
  return tokens;
}

// A leaf's pointer (the string at `p`) into the run's context: /input..., /steps/<id>,
// /steps/<id>/output... Fills the leaf's pointer, tokens and step; false after an error.
bool load_pointer(LoadState& s, const nlohmann::json& value, const std::string& p, Condition& c) {
  if (!value.is_string()) {
    s.check.error(p,
                  "expected a JSON pointer (a string such as \"/steps/Fraud/output/score\"), "
                  "got " +
                      describe(value));
    return false;
  }
  c.pointer = value.get<std::string>();
  const std::string expected =
      "expected a JSON pointer into the run's context: /input... or /steps/<id>/output...";
  if (c.pointer.empty() || c.pointer[0] != '/') {
    s.check.error(p, expected + ", got \"" + c.pointer + "\"");
    return false;
  }
  auto tokens = pointer_tokens(c.pointer);
  if (!tokens) {
    s.check.error(p, "malformed JSON pointer \"" + c.pointer +
                         "\": '~' must be followed by 0 or 1 (RFC 6901)");
    return false;
  }
  c.tokens = std::move(*tokens);
  const std::string& root = c.tokens[0];
  if (root == "input") return true;
  if (root != "steps") {
    s.check.error(p, expected + ", got \"" + c.pointer + "\" (unknown root '" + root + "')");
    return false;
  }
  if (c.tokens.size() < 2) {
    s.check.error(p, expected + ", got \"" + c.pointer + "\" (it must name a step)");
    return false;
  }
  c.step = c.tokens[1];
  if (!is_step_id(s, c.step)) {
    s.check.error(p, "\"" + c.pointer + "\" refers to unknown step '" + c.step +
                         "': expected a tool id or a fan-out node id");
    return false;
  }
  if (constexpr std::string_view kGate = ":approval";
      !s.tool_ids.count(c.step) && c.step.ends_with(kGate)) {
    // An approval gate's output: the gate must exist once they are added (add_approval_gates).
    s.gate_reads.push_back({c.step.substr(0, c.step.size() - kGate.size()), p});
  }
  if (c.tokens.size() >= 3 && c.tokens[2] != "output") {
    s.check.error(p, expected + ", got \"" + c.pointer +
                         "\" (a step's entry holds only its "
                         "`output`)");
    return false;
  }
  return true;
}

}  // namespace

bool is_step_id(const LoadState& s, const std::string& id) {
  if (s.tool_ids.count(id)) return true;
  // An approval gate's step "<tool>:approval" (checked once the gates are known).
  static constexpr std::string_view kGate = ":approval";
  if (id.size() > kGate.size() && id.ends_with(kGate) &&
      s.tool_ids.count(id.substr(0, id.size() - kGate.size())) != 0) {
    return true;
  }
  auto nodes = s.doc.find("nodes");
  if (nodes == s.doc.end() || !nodes->is_object()) return false;
  auto node = nodes->find(id);
  return node != nodes->end() && node->is_object() && node->contains("fanout");
}

std::optional<Condition> load_condition(LoadState& s, const nlohmann::json& when,
                                        const std::string& p, std::vector<StepRead>& reads) {
  if (!when.is_object()) {
    s.check.error(p, std::string(kConditionShape) + ", got " + describe(when));
    return std::nullopt;
  }
  // Exactly one operator; every key is one this language knows (an unknown key is an error, not a
  // warning: ignoring it would change what the condition means).
  std::vector<std::string> ops;
  bool has_ptr = false;
  for (const auto& [key, value] : when.items()) {
    if (key == "ptr") {
      has_ptr = true;
      continue;
    }
    bool known = false;
    for (const auto& o : kComparisons) known = known || key == o.key;
    for (const auto& o : kOthers) known = known || key == o.key;
    if (!known) {
      s.check.error(pointer_join(p, key),
                    "unknown operator '" + key +
                        "': expected eq, ne, lt, le, gt, ge or in (with ptr), exists, and, or, "
                        "not");
      return std::nullopt;
    }
    ops.push_back(key);
  }
  if (ops.empty()) {
    s.check.error(p, has_ptr ? "expected a comparison with 'ptr': eq, ne, lt, le, gt, ge or in"
                             : std::string(kConditionShape) + ", got an object without one");
    return std::nullopt;
  }
  if (ops.size() > 1) {
    s.check.error(p, "expected exactly one operator, got '" + ops[0] + "' and '" + ops[1] +
                         "' (combine conditions with and/or)");
    return std::nullopt;
  }
  const std::string& key = ops[0];
  const std::string vp = pointer_join(p, key);
  const nlohmann::json& value = when[key];
  Condition c;
  for (const auto& o : kComparisons) {
    if (key != o.key) continue;
    c.op = o.op;
    if (!has_ptr) {
      s.check.error(pointer_join(p, "ptr"), "required field 'ptr' is missing: '" + key +
                                                "' compares the value at a JSON pointer");
      return std::nullopt;
    }
    const std::string pp = pointer_join(p, "ptr");
    if (!load_pointer(s, when["ptr"], pp, c)) return std::nullopt;
    if ((c.op == ConditionOp::kLt || c.op == ConditionOp::kLe || c.op == ConditionOp::kGt ||
         c.op == ConditionOp::kGe) &&
        !value.is_number() && !value.is_string()) {
      s.check.error(vp, "expected a number or a string to compare with, got " + describe(value));
      return std::nullopt;
    }
    if (c.op == ConditionOp::kIn && (!value.is_array() || value.empty())) {
      s.check.error(vp, "expected a non-empty array of values, got " + describe(value));
      return std::nullopt;
    }
    c.operand = value;
    if (!c.step.empty()) reads.push_back({c.step, pp});
    return c;
  }
  if (has_ptr) {
    s.check.error(
        pointer_join(p, "ptr"),
        "'ptr' goes with a comparison (eq, ne, lt, le, gt, ge, in), not with '" + key + "'");
    return std::nullopt;
  }
  for (const auto& o : kOthers) {
    if (key == o.key) c.op = o.op;
  }
  if (c.op == ConditionOp::kExists) {
    if (!load_pointer(s, value, vp, c)) return std::nullopt;
    if (!c.step.empty()) reads.push_back({c.step, vp});
    return c;
  }
  if (c.op == ConditionOp::kNot) {
    auto inner = load_condition(s, value, vp, reads);
    if (!inner) return std::nullopt;
    c.terms.push_back(std::move(*inner));
    return c;
  }
  // and / or
  if (!value.is_array()) {
    s.check.error(vp, "expected an array of conditions, got " + describe(value));
    return std::nullopt;
  }
  if (value.empty()) {
    s.check.error(vp, "expected at least one condition");
    return std::nullopt;
  }
  bool ok = true;
  for (std::size_t i = 0; i < value.size(); ++i) {
    auto term = load_condition(s, value[i], pointer_join(vp, i), reads);
    if (!term) {
      ok = false;
      continue;
    }
    c.terms.push_back(std::move(*term));
  }
  if (!ok) return std::nullopt;
  return c;
}

std::set<std::string> reach_from(const std::vector<EdgeSpec>& edges, const std::string& from) {
  std::map<std::string, std::vector<std::string>> next;
  for (const auto& e : edges) next[e.from].push_back(e.to);
  std::set<std::string> seen{from};
  std::deque<std::string> queue{from};
  while (!queue.empty()) {
    const std::string at = queue.front();
    queue.pop_front();
    for (const auto& n : next[at]) {
      if (seen.insert(n).second) queue.push_back(n);
    }
  }
  return seen;
}

namespace {

// Whether a route of `edges` from `start` can pass `step` and then reach `to`.
bool can_precede(const std::vector<EdgeSpec>& edges, const std::string& start,
                 const std::string& step, const std::string& to) {
  return reach_from(edges, start).count(step) && reach_from(edges, step).count(to);
}

}  // namespace

void check_condition_reads(LoadState& s) {
  // Fan-out node -> the tools its branches name (their outputs join the context after it).
  std::map<std::string, std::set<std::string>> in_branches;
  for (const auto& f : s.fanouts) {
    for (const auto& b : f.branches) {
      for (const auto& e : b.edges) {
        in_branches[f.node].insert(e.from);
        in_branches[f.node].insert(e.to);
      }
    }
  }
  // Whether step `id` can have run (on the outer graph) when the run leaves `from`: itself a node
  // on a route through `from`, or a tool of a branch of a fan-out node that is. Inside a branch
  // of fan-out `within` (from == within), neither that node nor its branches' tools count: their
  // outputs join the context only after the join.
  auto outer_precedes = [&](const std::string& id, const std::string& from,
                            const std::string& within) {
    if (id != within && can_precede(s.edges, s.start, id, from)) return true;
    for (const auto& [node, tools] : in_branches) {
      if (node != within && tools.count(id) && can_precede(s.edges, s.start, node, from)) {
        return true;
      }
    }
    return false;
  };
  const std::set<std::string> from_start = reach_from(s.edges, s.start);
  for (const auto& e : s.edges) {
    if (!from_start.count(e.from)) continue;  // an edge no run reaches (lint's concern)
    for (const auto& r : e.reads) {
      if (outer_precedes(r.step, e.from, "")) continue;
      s.check.error(r.pointer, "the condition of edge " + e.from + " -> " + e.to + " reads step '" +
                                   r.step + "', which no route from start '" + s.start +
                                   "' runs before " + e.from +
                                   ": the value would always be missing");
    }
  }
  for (const auto& f : s.fanouts) {
    for (const auto& b : f.branches) {
      const std::set<std::string> in_branch = reach_from(b.edges, b.start);
      for (const auto& e : b.edges) {
        if (!in_branch.count(e.from)) continue;
        for (const auto& r : e.reads) {
          if (can_precede(b.edges, b.start, r.step, e.from) ||
              outer_precedes(r.step, f.node, f.node)) {
            continue;
          }
          s.check.error(r.pointer, "the condition of edge " + e.from + " -> " + e.to +
                                       " reads step '" + r.step + "', which runs neither before " +
                                       e.from + " in its branch nor before the fan-out node '" +
                                       f.node + "': the value would always be missing");
        }
      }
    }
  }
}

}  // namespace switchyard::graph
