// switchyard budget [--journal DB] [--name NAME] [--json]
// switchyard budget --tenant KEY [--journal DB] [--name NAME] [--json]
// Spend by workflow, by step and by model tier, from the journal; or one tenant's budget and the
// runs that name it (tenants.cc).

#include "runtime/machine/budget.h"

#include <iomanip>
#include <map>
#include <ostream>

#include "graph/json_read.h"
#include "graph/load.h"
#include "runtime/base/money.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/session.h"
#include "runtime/journal/journal.h"

namespace switchyard::cli {
namespace {

struct BudgetArgs {
  std::string journal = default_journal_path();
  std::string name;
  std::string workflow;  // deprecated spelling of --name
  std::optional<std::string> tenant;
  bool json = false;
};

struct Line {
  int runs = 0;
  int calls = 0;
  int usable = 0;
  std::int64_t tokens = 0;
  double usd = 0;
};

// The tools' own prices (price_usd, charged per call sent: docs/budgets.md) of the workflows the
// runs used, by workflow hash, read from the journal's stored copies; a copy that is missing or
// does not load prices nothing (its calls still count in the runs' totals).
class Prices {
 public:
  explicit Prices(const runtime::Journal& journal) : journal_(journal) {}

  // The price per call of `tool` in the workflow stored under `hash`; 0 when unknown.
  double of(const std::string& hash, const std::string& tool) {
    auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) {
      std::map<std::string, double> prices;
      if (auto source = journal_.workflow_source(hash); source.ok()) {
        auto loaded = graph::load(*source, "journal:" + hash);
        if (loaded.ok()) {
          for (const auto& t : loaded.workflow->tools()) {
            if (t.price_usd > 0) prices[t.id] = t.price_usd;
          }
        }
      }
      it = by_hash_.emplace(hash, std::move(prices)).first;
    }
    auto price = it->second.find(tool);
    return price == it->second.end() ? 0 : price->second;
  }

 private:
  const runtime::Journal& journal_;
  std::map<std::string, std::map<std::string, double>> by_hash_;
};

// Whether event `e` journals a call of its tool that was sent (and so charged the tool's price):
// a step's attempt, a compensation, the advisor's answer; not a call the monitor refused or whose
// template could not be filled (never sent).
bool sent_call(const runtime::Event& e) {
  if (e.type != "step_succeeded" && e.type != "step_retry" && e.type != "step_failed" &&
      e.type != "compensation" && e.type != "advisor_answered") {
    return false;
  }
  const std::string failure = lenient_string(e.payload, "failure");
  // (Nor one its throttle gave no turn, nor one its tenant's budget refused.)
  return failure != "unavailable" && failure != "template" && failure != "throttled" &&
         !(failure == "budget_exhausted" &&
           lenient_string(e.payload, "reason").starts_with(runtime::kTenantRefusal));
}

// The tier column of the spend a tool's own price_usd makes (no model tier).
constexpr const char* kPriceTier = "-";

int budget(Context& ctx, const BudgetArgs& args) {
  runtime::RunFilter filter;
  filter.limit = 100000;
  if (!args.workflow.empty()) {
    warn_deprecated(ctx, "budget --workflow NAME", "budget --name NAME (--workflow is a file)");
    filter.workflow = args.workflow;
  }
  if (!args.name.empty()) filter.workflow = args.name;
  if (args.tenant)
    return tenant_budget(ctx, args.journal, *args.tenant, filter.workflow, args.json);
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);
  auto runs = (*journal)->list_runs(filter);
  if (!runs.ok()) return report_error(ctx, runs.status(), args.json);
  std::map<std::string, Line> by_workflow;
  std::map<std::tuple<std::string, std::string, std::string>, Line> by_step_tier;
  std::vector<std::string> skipped;  // runs with a row that cannot be decoded
  Prices prices(**journal);
  for (const auto& run : *runs) {
    auto events = (*journal)->events(run.run_id);
    if (!events.ok()) {
      if (events.status().code() != StatusCode::kInvalidArgument) {
        return report_error(ctx, events.status(), args.json);
      }
      skipped.push_back(events.status().message());
      continue;
    }
    Line& w = by_workflow[run.workflow];
    ++w.runs;
    if (run.result.is_object()) {
      w.usd += lenient_number(run.result, "spent_usd");
      w.tokens += lenient_integer(run.result, "tokens");
      w.calls += static_cast<int>(lenient_integer(run.result, "llm_calls"));
    }
    for (const auto& e : *events) {
      if (sent_call(e)) {
        const std::string tool = lenient_string(e.payload, "tool");
        if (const double price = prices.of(run.workflow_hash, tool); price > 0) {
          Line& l = by_step_tier[{run.workflow, tool, kPriceTier}];
          ++l.calls;
          l.usable += e.type == "step_succeeded" || lenient_boolean(e.payload, "ok") ? 1 : 0;
          l.usd += price;
        }
        continue;
      }
      if (e.type != "llm_settled") continue;
      Line& l = by_step_tier[{run.workflow, lenient_string(e.payload, "tool"),
                              lenient_string(e.payload, "tier")}];
      ++l.calls;
      auto ok = JsonView(e.payload).boolean_or("ok", false);
      l.usable += ok.ok() && *ok ? 1 : 0;
      l.tokens += lenient_integer(e.payload, "tokens");
      l.usd += lenient_number(e.payload, "cost_usd");
    }
  }
  warn_skipped(ctx, skipped, args.journal);
  if (args.json) {
    nlohmann::json workflows = nlohmann::json::array(), steps = nlohmann::json::array();
    for (const auto& [name, l] : by_workflow) {
      workflows.push_back({{"workflow", name},
                           {"runs", l.runs},
                           {"spent_usd", l.usd},
                           {"tokens", l.tokens},
                           {"llm_calls", l.calls}});
    }
    for (const auto& [key, l] : by_step_tier) {
      steps.push_back({{"workflow", std::get<0>(key)},
                       {"step", std::get<1>(key)},
                       {"tier", std::get<2>(key)},
                       {"calls", l.calls},
                       {"usable", l.usable},
                       {"tokens", l.tokens},
                       {"cost_usd", l.usd}});
    }
    *ctx.out << nlohmann::json{{"journal", runtime::printable_location(args.journal)},
                               {"workflows", workflows},
                               {"steps", steps}}
                    .dump(2)
             << "\n";
    return kExitOk;
  }
  auto& out = *ctx.out;
  out << "spend in " << runtime::printable_location(args.journal) << "\n\n";
  out << std::left << std::setw(28) << "workflow" << std::right << std::setw(7) << "runs"
      << std::setw(14) << "spent" << std::setw(10) << "tokens" << std::setw(11) << "llm calls\n";
  for (const auto& [name, l] : by_workflow) {
    out << std::left << std::setw(28) << name << std::right << std::setw(7) << l.runs
        << std::setw(14) << runtime::usd_text(l.usd) << std::setw(10) << l.tokens << std::setw(10)
        << l.calls << "\n";
  }
  if (!by_step_tier.empty()) {
    out << "\n"
        << std::left << std::setw(28) << "workflow / step" << std::setw(10) << "tier" << std::right
        << std::setw(7) << "calls" << std::setw(8) << "usable" << std::setw(10) << "tokens"
        << std::setw(14) << "cost"
        << "\n";
    for (const auto& [key, l] : by_step_tier) {
      out << std::left << std::setw(28) << (std::get<0>(key) + " / " + std::get<1>(key))
          << std::setw(10) << std::get<2>(key) << std::right << std::setw(7) << l.calls
          << std::setw(8) << l.usable << std::setw(10) << l.tokens << std::setw(14)
          << runtime::usd_text(l.usd) << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

void add_budget(CLI::App& app, Context& ctx) {
  auto* cmd =
      app.add_subcommand("budget", "Spend by workflow, step and model tier, from the journal");
  auto args = std::make_shared<BudgetArgs>();
  add_journal_option(cmd, args->journal);
  cmd->add_option("--name", args->name, "Only the runs of the workflow of this name");
  cmd->add_option("--workflow", args->workflow, "Deprecated: --name");
  cmd->add_option("--tenant", args->tenant,
                  "One tenant's budget (cap, spent, reserved, left) and the runs that name it");
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] { ctx.exit_code = budget(ctx, *args); });
}

}  // namespace switchyard::cli
