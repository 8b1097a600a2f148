// switchyard journal check [--journal DB] [--json]
// Reads the whole journal as the runtime would and lists every problem, one line each: SQLite's
// PRAGMA integrity_check, every run's hash chain and head, every row that cannot be decoded
// (events, runs, stored workflow copies) (docs/journal.md#checking-a-journal).

#include "runtime/journal/journal.h"

#include <ostream>

#include "runtime/cli/cli.h"

namespace switchyard::cli {
namespace {

struct JournalArgs {
  std::string journal = default_journal_path();
  bool json = false;
};

// Exit 0 when the journal is sound, 1 when it has problems (each printed), else the error's.
int check(Context& ctx, const JournalArgs& args) {
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);
  auto checked = (*journal)->check();
  if (!checked.ok()) return report_error(ctx, checked.status(), args.json);
  const runtime::JournalCheck& c = *checked;
  if (args.json) {
    *ctx.out << nlohmann::json{{"journal", runtime::printable_location(args.journal)},
                               {"ok", c.problems.empty()},
                               {"runs", c.runs},
                               {"events", c.events},
                               {"workflows", c.workflows},
                               {"queued_resolutions", c.queued_resolutions},
                               {"problems", c.problems}}
                    .dump(2)
             << "\n";
  } else if (c.problems.empty()) {
    *ctx.out << "ok: " << c.runs << " runs, " << c.events << " events";
    // The wait inbox is named when it holds rows (docs/waits.md).
    if (c.queued_resolutions > 0) *ctx.out << ", " << c.queued_resolutions << " queued resolutions";
    *ctx.out << " checked\n";
  } else {
    for (const auto& line : c.problems) *ctx.out << line << "\n";
    *ctx.err << c.problems.size() << " problem(s) in " << runtime::printable_location(args.journal)
             << " (" << c.runs << " runs, " << c.events << " events checked)\n";
  }
  return c.problems.empty() ? kExitOk : kExitNotCompleted;
}

}  // namespace

void add_journal(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("journal", "Examine the journal file itself");
  cmd->require_subcommand(1);
  auto* check_cmd = cmd->add_subcommand(
      "check",
      "Check the whole journal: SQLite's integrity check, every run's hash chain, every row's "
      "decoding; one line per problem, exit 1 if any");
  auto args = std::make_shared<JournalArgs>();
  add_journal_option(check_cmd, args->journal);
  check_cmd->add_flag("--json", args->json, "Print one JSON document");
  check_cmd->callback([&ctx, args] { ctx.exit_code = check(ctx, *args); });
}

}  // namespace switchyard::cli
