// switchyard budget [--journal DB] [--workflow NAME] [--json]
// Spend by workflow, by step and by model tier, from the journal.

#include <iomanip>
#include <map>
#include <ostream>

#include "graph/json_read.h"
#include "runtime/base/money.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/session.h"
#include "runtime/journal/journal.h"

namespace switchyard::cli {
namespace {

struct BudgetArgs {
  std::string journal = default_journal_path();
  std::string workflow;
  bool json = false;
};

struct Line {
  int runs = 0;
  int calls = 0;
  int usable = 0;
  std::int64_t tokens = 0;
  double usd = 0;
};

int budget(Context& ctx, const BudgetArgs& args) {
  auto journal = runtime::open_sqlite_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);
  runtime::RunFilter filter;
  filter.limit = 100000;
  if (!args.workflow.empty()) filter.workflow = args.workflow;
  auto runs = (*journal)->list_runs(filter);
  if (!runs.ok()) return report_error(ctx, runs.status(), args.json);
  std::map<std::string, Line> by_workflow;
  std::map<std::tuple<std::string, std::string, std::string>, Line> by_step_tier;
  std::vector<std::string> skipped;  // runs with a row that cannot be decoded
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
    *ctx.out << nlohmann::json{{"journal", args.journal},
                               {"workflows", workflows},
                               {"steps", steps}}
                    .dump(2)
             << "\n";
    return kExitOk;
  }
  auto& out = *ctx.out;
  out << "spend in " << args.journal << "\n\n";
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
  cmd->add_option("--workflow", args->workflow, "Only this workflow's runs");
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] { ctx.exit_code = budget(ctx, *args); });
}

}  // namespace switchyard::cli
