// switchyard chaos WF.json [--max-down K] [--unknown] [--threads N] [--json]

#include "runtime/eval/chaos.h"

#include <iomanip>
#include <ostream>

#include "runtime/base/workflow_file.h"
#include "runtime/cli/cli.h"

namespace switchyard::cli {
namespace {

struct ChaosArgs {
  std::string file;
  int max_down = 1;
  bool unknown = false;
  int threads = 0;
  bool json = false;
};

std::string joined(const std::vector<std::string>& items, const char* sep, const char* empty) {
  if (items.empty()) return empty;
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

int chaos(Context& ctx, const ChaosArgs& args) {
  auto loaded = runtime::load_workflow_file(args.file);
  if (!loaded.ok()) {
    report_diagnostics(ctx, loaded, args.json);
    return kExitInvalid;
  }
  auto report = runtime::run_chaos(
      *loaded.workflow,
      {.max_down = args.max_down, .unknown = args.unknown, .threads = args.threads});
  if (!report.ok()) return report_error(ctx, report.status(), args.json);
  return print_chaos(ctx, *report, args.json);
}

}  // namespace

int print_chaos(Context& ctx, const runtime::ChaosReport& report, bool json) {
  const int max_down = report.options.max_down;
  if (json) {
    *ctx.out << json_text(report.to_json()) << "\n";
  } else {
    auto& out = *ctx.out;
    out << "chaos: " << report.workflow << ", every set of at most " << max_down << " of "
        << report.tools.size() << " tools down ("
        << (report.options.unknown ? "discovered mid-run" : "known before the run")
        << "): " << report.rows.size() << " runs\n\n";
    out << std::left << std::setw(34) << "down" << std::setw(11) << "status" << std::right
        << std::setw(9) << "reroutes" << std::setw(5) << "llm" << std::setw(8) << "silent"
        << std::setw(11) << "abandoned"
        << "  path\n";
    for (const auto& r : report.rows) {
      out << std::left << std::setw(34) << joined(r.down, ",", "(none)") << std::setw(11)
          << r.status << std::right << std::setw(9) << r.reroutes << std::setw(5) << r.llm_calls
          << std::setw(8) << r.silent_failures << std::setw(11) << r.side_effects_abandoned << "  "
          << joined(r.path, " > ", "-") << "\n";
      for (const auto& f : r.findings) out << "    ! " << f << "\n";
    }
    out << "\nminimal cut sets (at most " << max_down << " tools):";
    if (report.minimal_cut_sets.empty()) out << " none";
    out << "\n";
    for (const auto& cut : report.minimal_cut_sets) out << "  {" << joined(cut, ", ", "") << "}\n";
    out << "\n"
        << report.silent_failures << " silent failure(s), " << report.side_effects_abandoned
        << " side effect(s) abandoned\n";
  }
  return report.silent_failures == 0 ? kExitOk : kExitNotCompleted;
}

void add_chaos(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("chaos",
                                 "Run a workflow under every set of at most K tools down; report "
                                 "silent failures and minimal cut sets");
  auto args = std::make_shared<ChaosArgs>();
  cmd->add_option("workflow", args->file, "The workflow file")->required();
  cmd->add_option("--max-down", args->max_down, "K: the largest set of tools taken down (0-8)")
      ->capture_default_str();
  cmd->add_flag("--unknown", args->unknown,
                "Failures are discovered mid-run (default: known before the run)");
  cmd->add_option("--threads", args->threads, "Worker threads (default: all cores)");
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] { ctx.exit_code = chaos(ctx, *args); });
}

}  // namespace switchyard::cli
