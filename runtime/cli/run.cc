// switchyard run WF.json [--input JSON|@file] [--journal DB] [--budget-*] [--sync S]
//                        [--otlp-endpoint URL] [--json]

#include <ostream>

#include "graph/lint.h"
#include "runtime/base/workflow_file.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/session.h"
#include "runtime/journal/tenant_ledger.h"

namespace switchyard::cli {
namespace {

// The limits of a run's input given with --input.
constexpr std::size_t kMaxInputDepth = 128;
constexpr std::size_t kMaxInputBytes = std::size_t{16} << 20;

struct RunArgs {
  std::string workflow;
  std::string input;
  std::string journal = default_journal_path();
  std::optional<double> budget_usd;
  std::optional<std::int64_t> budget_tokens;
  std::optional<std::int64_t> budget_llm_calls;
  std::string models;
  std::string sync = "normal";
  std::string otlp_endpoint;
  std::optional<std::string> tenant;
  bool json = false;
};

// --input: a JSON document, or @file holding one. Must be an object, at most 16 MiB and 128
// levels deep (docs/cli.md).
Result<nlohmann::json> parse_input(const std::string& arg) {
  if (arg.empty()) return nlohmann::json::object();
  std::string text = arg;
  std::string where = "--input";
  if (arg[0] == '@') {
    auto read = runtime::read_file(arg.substr(1));
    if (!read.ok()) return invalid_argument("--input " + arg + ": " + read.status().message());
    text = std::move(*read);
    where = "--input " + arg;
  }
  auto doc = parse_untrusted(
      text, {.max_depth = kMaxInputDepth, .max_bytes = kMaxInputBytes, .what = where});
  if (!doc.ok()) return doc.status();
  if (Status s = JsonView(*doc).expect_object(); !s.ok()) {
    return invalid_argument(where + ": " + s.message());
  }
  return doc;
}

int run(Context& ctx, const RunArgs& args) {
  // Everything that can be wrong with the input is checked before the journal is touched, so a
  // bad invocation leaves no partial rows.
  auto input = parse_input(args.input);
  if (!input.ok()) return report_error(ctx, input.status(), args.json);
  if (args.tenant) {
    if (Status s = runtime::check_tenant_key(*args.tenant); !s.ok()) {
      return report_error(ctx, invalid_argument("--tenant: " + s.message()), args.json);
    }
  }
  auto loaded = runtime::load_workflow_file(args.workflow);
  if (!loaded.ok()) {
    report_diagnostics(ctx, loaded, args.json);
    return kExitInvalid;
  }
  for (const auto& d : loaded.warnings) *ctx.err << "warning: " << d.to_string() << "\n";
  for (const auto& d : graph::lint(*loaded.workflow, args.workflow)) {
    *ctx.err << "warning: " << d.to_string() << "\n";  // as validate warns (docs/cli.md)
  }
  auto session = make_session(ctx, loaded.workflow, args.models, args.json);
  if (!session) return ctx.exit_code;
  if (!start_journal(ctx, *session, args.journal, args.sync, args.json, args.otlp_endpoint)) {
    return ctx.exit_code;
  }
  runtime::RunRequest request;
  request.input = std::move(*input);
  request.budget.usd = args.budget_usd;
  request.budget.tokens = args.budget_tokens;
  request.budget.llm_calls = args.budget_llm_calls;
  request.tenant = args.tenant.value_or("");
  auto report = session->runner->run(std::move(request));
  if (!report.ok()) return report_error(ctx, report.status(), args.json);
  return print_report(ctx, *report, *session, args.journal, args.json);
}

}  // namespace

void add_run(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("run", "Execute one run of a workflow and journal it");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("workflow", args->workflow, "Workflow file (JSON)")->required();
  cmd->add_option("--input", args->input, "Run input: a JSON object, or @file");
  cmd->add_option("--models", args->models,
                  "Models file: the LLM tiers llm tools call (docs/models.md)");
  add_journal_option(cmd, args->journal, /*creates=*/true);
  cmd->add_option("--budget-usd", args->budget_usd, "Spend cap in USD (overrides the workflow)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--budget-tokens", args->budget_tokens, "Token cap (overrides the workflow)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--budget-llm-calls", args->budget_llm_calls,
                  "LLM call cap (overrides the workflow)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--tenant", args->tenant,
                  "Budget key: the run's calls reserve against this tenant's shared USD budget "
                  "(switchyard tenants)");
  add_sync_option(cmd, args->sync);
  add_otlp_option(cmd, args->otlp_endpoint);
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] { ctx.exit_code = run(ctx, *args); });
}

}  // namespace switchyard::cli
