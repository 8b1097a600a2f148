#include "graph/condition.h"

#include <cstddef>
#include <optional>

#include "graph/workflow.h"

namespace switchyard::graph {
namespace {

// An array index token: "0" or digits without a leading zero (RFC 6901), within the array.
std::optional<std::size_t> condition_index(const std::string& token, std::size_t size) {
  if (token.empty() || token.size() > 18 || (token.size() > 1 && token[0] == '0')) return {};
  std::size_t index = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return {};
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  if (index >= size) return {};
  return index;
}

// The value the tokens name in `context`, or null when there is none (a member or element
// missing, or a step through a scalar). Never throws.
const nlohmann::json* condition_value(const Condition& c, const nlohmann::json& context) {
  const nlohmann::json* here = &context;
  for (const std::string& token : c.tokens) {
    if (here->is_object()) {
      const auto& object = here->get_ref<const nlohmann::json::object_t&>();
      auto it = object.find(token);
      if (it == object.end()) return nullptr;
      here = &it->second;
    } else if (here->is_array()) {
      auto index = condition_index(token, here->size());
      if (!index) return nullptr;
      here = &(*here)[*index];
    } else {
      return nullptr;
    }
  }
  return here;
}

// Whether the step a leaf reads has an entry in the context (a leaf on /input always has).
bool step_ran(const Condition& c, const nlohmann::json& context) {
  if (c.step.empty()) return true;
  if (!context.is_object()) return false;
  auto steps = context.find("steps");
  return steps != context.end() && steps->is_object() && steps->contains(c.step);
}

// lt / le / gt / ge on two numbers or two strings; false for any other pair.
bool ordered(ConditionOp op, const nlohmann::json& a, const nlohmann::json& b) {
  const bool numbers = a.is_number() && b.is_number();
  const bool strings = a.is_string() && b.is_string();
  if (!numbers && !strings) return false;
  switch (op) {
    case ConditionOp::kLt:
      return a < b;
    case ConditionOp::kLe:
      return a <= b;
    case ConditionOp::kGt:
      return a > b;
    case ConditionOp::kGe:
      return a >= b;
    default:
      return false;
  }
}

Truth truth(bool b) { return b ? Truth::kTrue : Truth::kFalse; }

bool leaf_holds(const Condition& c, const nlohmann::json* value) {
  if (value == nullptr) return false;  // names no value: every comparison is false, ne too
  switch (c.op) {
    case ConditionOp::kExists:
      return true;
    case ConditionOp::kEq:
      return *value == c.operand;
    case ConditionOp::kNe:
      return *value != c.operand;
    case ConditionOp::kIn:
      for (const auto& candidate : c.operand) {
        if (*value == candidate) return true;
      }
      return false;
    default:
      return ordered(c.op, *value, c.operand);
  }
}

std::string operand_text(const nlohmann::json& operand) {
  return operand.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Truth evaluate(const Condition& c, const nlohmann::json& context, bool look_ahead) {
  switch (c.op) {
    case ConditionOp::kAnd: {
      Truth out = Truth::kTrue;
      for (const auto& t : c.terms) {
        const Truth v = evaluate(t, context, look_ahead);
        if (v == Truth::kFalse) return Truth::kFalse;
        if (v == Truth::kUndecided) out = Truth::kUndecided;
      }
      return out;
    }
    case ConditionOp::kOr: {
      Truth out = Truth::kFalse;
      for (const auto& t : c.terms) {
        const Truth v = evaluate(t, context, look_ahead);
        if (v == Truth::kTrue) return Truth::kTrue;
        if (v == Truth::kUndecided) out = Truth::kUndecided;
      }
      return out;
    }
    case ConditionOp::kNot: {
      if (c.terms.empty()) return Truth::kFalse;
      const Truth v = evaluate(c.terms.front(), context, look_ahead);
      return v == Truth::kUndecided ? v : truth(v == Truth::kFalse);
    }
    default:
      break;
  }
  if (look_ahead && !step_ran(c, context)) return Truth::kUndecided;
  return truth(leaf_holds(c, condition_value(c, context)));
}

std::string to_string(const Condition& c) {
  switch (c.op) {
    case ConditionOp::kAnd:
    case ConditionOp::kOr: {
      std::string out;
      for (std::size_t i = 0; i < c.terms.size(); ++i) {
        if (i > 0) out += c.op == ConditionOp::kAnd ? " and " : " or ";
        out += "(" + to_string(c.terms[i]) + ")";
      }
      return out;
    }
    case ConditionOp::kNot:
      return "not (" + (c.terms.empty() ? std::string() : to_string(c.terms.front())) + ")";
    case ConditionOp::kExists:
      return "exists " + c.pointer;
    case ConditionOp::kEq:
      return c.pointer + " eq " + operand_text(c.operand);
    case ConditionOp::kNe:
      return c.pointer + " ne " + operand_text(c.operand);
    case ConditionOp::kLt:
      return c.pointer + " lt " + operand_text(c.operand);
    case ConditionOp::kLe:
      return c.pointer + " le " + operand_text(c.operand);
    case ConditionOp::kGt:
      return c.pointer + " gt " + operand_text(c.operand);
    case ConditionOp::kGe:
      return c.pointer + " ge " + operand_text(c.operand);
    case ConditionOp::kIn:
      return c.pointer + " in " + operand_text(c.operand);
  }
  return "?";
}

nlohmann::json to_json(Truth t) {
  if (t == Truth::kUndecided) return nullptr;
  return t == Truth::kTrue;
}

std::vector<bool> closed_edges(const Graph& graph, const nlohmann::json& context, std::uint32_t at,
                               std::vector<Truth>* values) {
  std::vector<bool> closed;
  if (values != nullptr) values->clear();
  if (graph.guarded().empty()) return closed;
  closed.assign(graph.edges().size(), false);
  for (std::uint32_t e : graph.guarded()) {
    const Truth v = evaluate(*graph.when(e), context, /*look_ahead=*/graph.edges()[e].from != at);
    closed[e] = v == Truth::kFalse;
    if (values != nullptr) values->push_back(v);
  }
  return closed;
}

}  // namespace switchyard::graph
