#include "runtime/machine/budget_controller.h"

#include "graph/template.h"
#include "tools/llm_tool.h"

namespace switchyard::runtime {

using graph::ToolIndex;

BudgetController::BudgetController(
    const graph::Workflow& workflow, graph::Budget caps, std::vector<TierPrice> tiers,
    std::map<graph::ToolIndex, std::pair<int, std::string>> learned_start)
    : workflow_(&workflow),
      tiers_(std::move(tiers)),
      learned_start_(std::move(learned_start)),
      ledger_(std::move(caps)) {}

std::int64_t BudgetController::prompt_tokens(ToolIndex tool, const nlohmann::json& context) const {
  const auto* spec = std::get_if<graph::LlmTool>(&workflow_->tool(tool).spec);
  if (spec == nullptr) return 0;
  // The text as the tool will render it (a template that cannot render fails the call unsent).
  auto render = [&](const std::string& text) {
    auto parsed = graph::parse_template(text);
    auto rendered =
        parsed.ok() ? graph::render_template(*parsed, context) : Result<std::string>(text);
    return rendered.ok() ? *rendered : text;
  };
  return tools::prompt_token_bound(*spec, spec->system.empty() ? "" : render(spec->system),
                                   render(spec->prompt));
}

std::optional<BudgetController::TierChoice> BudgetController::plan_call(
    ToolIndex tool, int above, const nlohmann::json& context, std::string* why) const {
  const graph::Tool& t = workflow_->tool(tool);
  if (t.kind == graph::ToolKind::kLlm && !tiers_.empty()) {
    return choose_tier(tool, above, context, why);
  }
  TierChoice choice{-1, worst_case(t, prompt_tokens(tool, context), nullptr)};
  if (auto short_of = ledger_.shortfall(choice.worst)) {
    if (why != nullptr) *why = "budget: " + t.id + ": " + *short_of;
    return std::nullopt;
  }
  return choice;
}

std::optional<BudgetController::TierChoice> BudgetController::choose_tier(
    ToolIndex tool, int above, const nlohmann::json& context, std::string* why) const {
  const graph::Tool& t = workflow_->tool(tool);
  const auto& spec = std::get<graph::LlmTool>(t.spec);
  const std::int64_t prompt = prompt_tokens(tool, context);
  std::vector<int> order;
  const int n = static_cast<int>(tiers_.size());
  if (!spec.tier.empty()) {
    for (int i = 0; i < n; ++i) {
      if (tiers_[static_cast<std::size_t>(i)].name == spec.tier && i > above) order.push_back(i);
    }
  } else if (spec.difficulty == graph::Difficulty::kHard && above < 0) {
    for (int i = n - 1; i >= 0; --i) order.push_back(i);  // strongest first, downgrade to fit
  } else if (auto learned = learned_start_.find(tool);
             learned != learned_start_.end() && above < 0) {
    // The learned start tier, then up; cheaper ones only when the budget forces a downgrade.
    for (int i = learned->second.first; i < n; ++i) order.push_back(i);
    for (int i = learned->second.first - 1; i >= 0; --i) order.push_back(i);
  } else {
    for (int i = above + 1; i < n; ++i) order.push_back(i);  // cheapest that fits, upward
  }
  std::string short_of = "no tier left";
  for (int i : order) {
    const Spend worst = worst_case(t, prompt, &tiers_[static_cast<std::size_t>(i)]);
    auto s = ledger_.shortfall(worst);
    if (!s) return TierChoice{i, worst};
    short_of = tiers_[static_cast<std::size_t>(i)].name + ": " + *s;
  }
  if (why != nullptr) {
    *why = "budget: no tier can cover " + t.id + "'s worst case (" +
           std::to_string(prompt + spec.max_tokens) + " tokens) within what is left (" + short_of +
           ")";
  }
  return std::nullopt;
}

}  // namespace switchyard::runtime
