// switchyard run WF.json [--input JSON|@file] [--journal DB] [--budget-*] [--json]

#include <ostream>

#include "monitors/health_table.h"
#include "runtime/cli/cli.h"
#include "runtime/health_rebuild.h"
#include "runtime/llm_history.h"
#include "runtime/runner.h"
#include "runtime/system_clock.h"
#include "runtime/workflow_file.h"
#include "tools/models.h"

namespace switchyard::cli {
namespace {

struct RunArgs {
  std::string workflow;
  std::string input;
  std::string journal = default_journal_path();
  std::optional<double> budget_usd;
  std::optional<std::int64_t> budget_tokens;
  std::optional<std::int64_t> budget_llm_calls;
  std::string models;
  bool json = false;
};

// --input: a JSON document, or @file holding one. Must be an object.
Result<nlohmann::json> parse_input(const std::string& arg) {
  if (arg.empty()) return nlohmann::json::object();
  std::string text = arg;
  std::string where = "--input";
  if (arg[0] == '@') {
    auto read = runtime::read_file(arg.substr(1));
    if (!read.ok()) return invalid_argument("--input " + arg + ": " + read.status().message());
    text = *read;
    where = arg.substr(1);
  }
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid_argument(where + ": not valid JSON");
  if (!doc.is_object()) return invalid_argument(where + ": expected a JSON object");
  return doc;
}

std::string joined(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

void print_human(std::ostream& out, const runtime::RunReport& r, const std::string& journal) {
  const auto& res = r.result;
  out << "run " << r.run_id << ": " << runtime::to_string(res.status) << "\n";
  out << "  goal:     " << res.goal << "\n";
  out << "  path:     " << joined(res.path, " -> ") << "\n";
  out << "  healing:  " << res.reroutes << " reroute(s), " << res.backtracks << " backtrack(s)\n";
  out << "  spend:    " << res.llm_calls << " LLM call(s), $" << res.spent_usd << ", " << res.tokens
      << " token(s)\n";
  if (res.status == runtime::RunStatus::kEscalated || res.status == runtime::RunStatus::kFailed) {
    out << "  blocked:  " << (res.blocked.empty() ? "-" : joined(res.blocked, ", ")) << "\n";
    out << "  message:  " << res.message << "\n";
  }
  out << "  journal:  " << journal << "  (switchyard replay " << r.run_id << " --journal "
      << journal << ")\n";
}

int run(Context& ctx, const RunArgs& args) {
  // Everything that can be wrong with the input is checked before the journal is touched, so a
  // bad invocation leaves no partial rows.
  auto input = parse_input(args.input);
  if (!input.ok()) return report_error(ctx, input.status(), args.json);
  auto loaded = runtime::load_workflow_file(args.workflow);
  if (!loaded.ok()) {
    report_diagnostics(ctx, loaded, args.json);
    return kExitInvalid;
  }
  for (const auto& d : loaded.warnings) *ctx.err << "warning: " << d.to_string() << "\n";
  const auto& workflow = loaded.workflow;
  const bool scenario = workflow->scenario().has_value();
  tools::Models models;
  if (!args.models.empty()) {
    auto loaded_models = tools::load_models_file(args.models);
    if (!loaded_models.ok()) {
      if (args.json) {
        nlohmann::json errors = nlohmann::json::array();
        for (const auto& d : loaded_models.errors) errors.push_back(to_json(d));
        *ctx.out << nlohmann::json{{"errors", errors}}.dump(2) << "\n";
      } else {
        for (const auto& d : loaded_models.errors) *ctx.err << "error: " << d.to_string() << "\n";
      }
      return kExitInvalid;
    }
    models = std::move(loaded_models.models);
  }
  auto tools = tools::make_tool_set(*workflow, {.scenario = scenario, .models = &models});
  if (!tools.ok()) return report_error(ctx, tools.status(), args.json);

  auto journal = runtime::open_sqlite_journal(args.journal);
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);

  runtime::SystemClock clock;
  monitors::HealthTable health(clock);
  // A real run starts from what the journal knows of the tools' health (a restart loses nothing);
  // a scenario starts from its own `known` tools only.
  if (!scenario) {
    auto rebuilt = runtime::rebuild_health(**journal, health);
    if (!rebuilt.ok()) return report_error(ctx, rebuilt.status(), args.json);
  }
  if (scenario && workflow->scenario()->known) {
    for (auto t : workflow->scenario()->down) {
      health.mark_down(workflow->tool(t).id, "scenario: known down");
    }
  }
  // Learned escalation remembers, across processes, how each tier did on each llm step.
  runtime::LlmHistory history;
  if (!scenario && models.tiers.size() > 1) {
    if (Status s = history.rebuild(**journal); !s.ok()) return report_error(ctx, s, args.json);
  }
  runtime::Runner runner(workflow, *tools, **journal, clock, health,
                         {.models = &models, .history = &history});
  runtime::RunRequest request;
  request.input = std::move(*input);
  request.budget.usd = args.budget_usd;
  request.budget.tokens = args.budget_tokens;
  request.budget.llm_calls = args.budget_llm_calls;
  auto report = runner.run(std::move(request));
  if (!report.ok()) return report_error(ctx, report.status(), args.json);

  if (args.json) {
    nlohmann::json j = report->to_json();
    j["journal"] = args.journal;
    if (scenario) j["scenario"] = workflow->scenario()->id;
    *ctx.out << j.dump(2) << "\n";
  } else {
    print_human(*ctx.out, *report, args.journal);
  }
  const auto status = report->result.status;
  return status == runtime::RunStatus::kCompleted || status == runtime::RunStatus::kDemoted
             ? kExitOk
             : kExitNotCompleted;
}

}  // namespace

void add_run(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("run", "Execute one run of a workflow and journal it");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("workflow", args->workflow, "Workflow file (JSON)")->required();
  cmd->add_option("--input", args->input, "Run input: a JSON object, or @file");
  cmd->add_option("--models", args->models,
                  "Models file: the LLM tiers llm tools call (docs/models.md)");
  cmd->add_option("--journal", args->journal, "SQLite journal file")->capture_default_str();
  cmd->add_option("--budget-usd", args->budget_usd, "Spend cap in USD (overrides the workflow)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--budget-tokens", args->budget_tokens, "Token cap (overrides the workflow)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--budget-llm-calls", args->budget_llm_calls,
                  "LLM call cap (overrides the workflow)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] { ctx.exit_code = run(ctx, *args); });
}

}  // namespace switchyard::cli
