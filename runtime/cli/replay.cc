// switchyard replay RUN_ID [--journal DB] [--format text|json|dot|html] [--verify]

#include <ostream>

#include "runtime/cli/cli.h"
#include "runtime/cli/format.h"
#include "runtime/cli/replay_picture.h"
#include "runtime/journal/journal.h"
#include "runtime/replay/verify.h"

namespace switchyard::cli {
namespace {

struct ReplayArgs {
  std::string run_id;
  std::string journal = default_journal_path();
  std::string format = "text";
  bool verify = false;
};

// --verify: the hash chain and every decision re-driven; exit 1 when either fails.
int verify(Context& ctx, const runtime::Journal& journal, const ReplayArgs& args, bool json) {
  auto report = runtime::verify_run(journal, args.run_id);
  if (!report.ok()) return report_error(ctx, report.status(), json);
  if (json) {
    *ctx.out << nlohmann::json{{"verify", report->to_json()}}.dump(2) << "\n";
  } else {
    auto& out = *ctx.out;
    if (!report->rows.ok()) {
      // A row that cannot be decoded: nothing else can be checked.
      out << "run " << args.run_id << ":\n";
      out << "  rows:       UNDECODABLE: " << report->rows.message() << "\n";
      out << "  hash chain: not checked\n";
      out << "  decisions:  not checked\n";
      out << "verification FAILED\n";
      return kExitNotCompleted;
    }
    out << "run " << args.run_id << ": " << report->events << " event(s)\n";
    out << "  hash chain: "
        << (report->chain.ok() ? std::string("intact") : "BROKEN: " + report->chain.message())
        << "\n";
    out << "  decisions:  "
        << (report->decisions.ok()
                ? std::to_string(report->verified) + " re-driven, every one as journaled"
                : "DIFFER: " + report->decisions.message())
        << "\n";
    if (report->interrupted_at > 0) {
      out << "  interrupted by a service shutdown at event #" << report->interrupted_at
          << ": verified up to there; `switchyard resume` continues it\n";
    }
    out << (report->ok() ? "verified\n" : "verification FAILED\n");
  }
  return report->ok() ? kExitOk : kExitNotCompleted;
}

int replay(Context& ctx, ReplayArgs args) {
  const bool json = args.format == "json";
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), json);
  auto run_id = resolve_run_id(**journal, args.run_id);
  if (!run_id.ok()) return report_error(ctx, run_id.status(), json);
  args.run_id = *run_id;
  if (args.verify) return verify(ctx, **journal, args, json);
  auto run = (*journal)->get_run(args.run_id);
  if (!run.ok()) return report_error(ctx, journal_error(run.status()), json);
  auto events = (*journal)->events(args.run_id);
  if (!events.ok()) return report_error(ctx, journal_error(events.status()), json);

  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : *events) list.push_back(runtime::event_json(e));
    *ctx.out << nlohmann::json{{"run", run_json(*run)}, {"events", list}}.dump(2) << "\n";
    return kExitOk;
  }
  if (args.format == "dot" || args.format == "html") {
    return print_replay_picture(ctx, **journal, *run, *events, args.format);
  }
  *ctx.out << runtime::timeline_text(*run, *events);
  return kExitOk;
}

}  // namespace

void add_replay(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("replay", "Show a run's timeline from the journal");
  auto args = std::make_shared<ReplayArgs>();
  add_run_id_argument(cmd, args->run_id)->required();
  add_journal_option(cmd, args->journal);
  cmd->add_option("--format", args->format,
                  "text (a timeline), json (every event), dot (the graph, marked, for Graphviz) "
                  "or html (one self-contained page: graph and timeline)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json", "dot", "html"}));
  cmd->add_flag_callback(
      "--json", [args] { args->format = "json"; }, "Same as --format json");
  cmd->add_flag("--verify", args->verify,
                "Check the hash chain and re-drive every decision from the recorded outcomes "
                "(no tool or model is called); exit 1 if anything differs");
  cmd->callback([&ctx, args] { ctx.exit_code = replay(ctx, *args); });
}

}  // namespace switchyard::cli
