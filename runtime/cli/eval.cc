// switchyard eval PATH... [--baselines] [--json]

#include "runtime/eval/eval.h"

#include <iomanip>
#include <ostream>

#include "runtime/cli/cli.h"

namespace switchyard::cli {
namespace {

struct EvalArgs {
  std::vector<std::string> paths;
  bool baselines = false;
  bool json = false;
};

std::string path_text(const std::vector<std::string>& path) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) out += (i ? " > " : "") + path[i];
  return out;
}

void print_table(std::ostream& out, const std::vector<runtime::ScenarioResult>& rows) {
  out << std::left << std::setw(10) << "scenario" << std::setw(11) << "status" << std::setw(11)
      << "expected" << std::setw(4) << "ok" << std::right << std::setw(5) << "llm" << std::setw(9)
      << "reroutes" << std::setw(8) << "silent" << std::setw(11) << "abandoned" << std::setw(10)
      << "route_ns"
      << "  path\n";
  for (const auto& r : rows) {
    out << std::left << std::setw(10) << r.id << std::setw(11) << r.status << std::setw(11)
        << r.expected_status << std::setw(4) << (r.correct ? "yes" : "NO") << std::right
        << std::setw(5) << r.llm_calls << std::setw(9) << r.reroutes << std::setw(8)
        << r.silent_failures << std::setw(11) << r.side_effects_abandoned << std::setw(10)
        << r.route_ns << "  " << path_text(r.path) << "\n";
    for (const auto& f : r.findings) out << "          ! " << f << "\n";
  }
}

void print_totals(std::ostream& out, const char* label, const runtime::EvalTotals& t) {
  out << label << t.correct << "/" << t.scenarios << " correct, " << t.llm_calls << " LLM call(s), "
      << t.reroutes << " reroute(s), " << t.silent_failures << " silent failure(s), "
      << t.side_effects_abandoned << " side effect(s) abandoned\n";
}

int eval(Context& ctx, const EvalArgs& args) {
  runtime::EvalOptions options;
  options.baselines = args.baselines;
  auto report = runtime::evaluate(args.paths, options);
  if (!report.ok()) return report_error(ctx, report.status(), args.json);
  if (args.json) {
    *ctx.out << json_text(report->to_json()) << "\n";
  } else {
    auto& out = *ctx.out;
    print_table(out, report->scenarios);
    out << "\n";
    print_totals(out, "switchyard: ", report->totals);
    if (report->with_baselines) {
      print_totals(out, "react:      ", report->react_totals);
      print_totals(out, "static:     ", report->static_totals);
    }
  }
  return report->totals.correct == report->totals.scenarios ? kExitOk : kExitNotCompleted;
}

}  // namespace

void add_eval(CLI::App& app, Context& ctx) {
  auto* cmd =
      app.add_subcommand("eval", "Run scenario files and report outcomes against expectations");
  auto args = std::make_shared<EvalArgs>();
  cmd->add_option("paths", args->paths, "Scenario files, or folders of *.json scenario files")
      ->required();
  cmd->add_flag("--baselines", args->baselines,
                "Also run the ReAct and static-workflow baselines of the paper");
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] { ctx.exit_code = eval(ctx, *args); });
}

}  // namespace switchyard::cli
