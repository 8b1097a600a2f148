// switchyard output RUN_ID [--journal DB] [--json]

#include <ostream>

#include "runtime/cli/cli.h"
#include "runtime/journal/journal.h"

namespace switchyard::cli {
namespace {

struct OutputArgs {
  std::string run_id;
  std::string journal = default_journal_path();
  bool json = false;
};

// What a finished run returned, read from its result (the run_finished payload) through JsonView.
struct RunOutput {
  std::string status;
  nlohmann::json output;
  bool output_truncated = false;
  nlohmann::json outputs;
  nlohmann::json outputs_dropped;
};

// The result's output fields. kNotFound when it has none: the run was journaled by a version
// before results carried them. A field of the wrong type is the journal's fault (kIo).
Result<RunOutput> read_output(const std::string& run_id, const nlohmann::json& result) {
  const JsonView r(result, "/result");
  auto bad = [&](const Status& s) { return io_error("run " + run_id + ": " + s.message()); };
  if (Status s = r.expect_object(); !s.ok()) return bad(s);
  auto outputs = r.optional_field("outputs");
  if (!outputs.ok()) return bad(outputs.status());
  if (!*outputs) {
    return not_found("run " + run_id +
                     ": its result has no outputs: it was journaled by a version of switchyard "
                     "before results carried them; each step's output is in its events "
                     "(switchyard replay " +
                     run_id + " --json)");
  }
  if (Status s = (*outputs)->expect_object(); !s.ok()) return bad(s);
  RunOutput out;
  out.outputs = (*outputs)->json();
  auto status = r.string_or("status", "");
  if (!status.ok()) return bad(status.status());
  out.status = *status;
  auto output = r.optional_field("output");
  if (!output.ok()) return bad(output.status());
  out.output = *output ? (*output)->json() : nlohmann::json(nullptr);
  auto truncated = r.boolean_or("output_truncated", false);
  if (!truncated.ok()) return bad(truncated.status());
  out.output_truncated = *truncated;
  out.outputs_dropped = nlohmann::json::array();
  auto dropped = r.optional_field("outputs_dropped");
  if (!dropped.ok()) return bad(dropped.status());
  if (*dropped) {
    if (Status s = (*dropped)->expect_array(); !s.ok()) return bad(s);
    out.outputs_dropped = (*dropped)->json();
  }
  return out;
}

int output(Context& ctx, OutputArgs args) {
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);
  auto run_id = resolve_run_id(**journal, args.run_id);
  if (!run_id.ok()) return report_error(ctx, run_id.status(), args.json);
  args.run_id = *run_id;
  auto run = (*journal)->get_run(args.run_id);
  if (!run.ok()) return report_error(ctx, journal_error(run.status()), args.json);
  if (run->result.is_null()) {
    report_error(ctx,
                 failed_precondition("run " + args.run_id +
                                     " has not finished: no output yet (a run whose process "
                                     "died is continued by `switchyard resume`)"),
                 args.json);
    return kExitNotCompleted;
  }
  auto out = read_output(args.run_id, run->result);
  if (!out.ok()) return report_error(ctx, out.status(), args.json);
  const bool reached = out->status == "completed" || out->status == "demoted";
  const int code = reached && !out->output_truncated ? kExitOk : kExitNotCompleted;
  if (args.json) {
    *ctx.out << json_text(nlohmann::json{{"run_id", args.run_id},
                                         {"status", out->status},
                                         {"output", out->output},
                                         {"output_truncated", out->output_truncated},
                                         {"outputs", out->outputs},
                                         {"outputs_dropped", out->outputs_dropped},
                                         {"outputs_truncated", !out->outputs_dropped.empty()}})
             << "\n";
    return code;
  }
  if (!reached) {
    *ctx.err << "error: run " << args.run_id << " " << out->status
             << ": it has no output (what its steps returned: switchyard output " << args.run_id
             << " --json)\n";
    return code;
  }
  if (out->output_truncated) {
    *ctx.err << "error: run " << args.run_id
             << ": its output was over the workflow's limits.max_output_bytes and was left out "
                "of the result; it is in the goal step's step_succeeded event (switchyard replay "
             << args.run_id << " --json)\n";
    return code;
  }
  // A string as it is (for $(...) in a shell); anything else as JSON.
  if (auto text = JsonView(out->output).string(); text.ok()) {
    *ctx.out << valid_utf8(*text) << "\n";
  } else {
    *ctx.out << json_text(out->output) << "\n";
  }
  return code;
}

}  // namespace

void add_output(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("output", "Print what a journaled run returned");
  auto args = std::make_shared<OutputArgs>();
  add_run_id_argument(cmd, args->run_id)->required();
  add_journal_option(cmd, args->journal);
  cmd->add_flag("--json", args->json,
                "Print one JSON document: the output and every step's output (outputs)");
  cmd->callback([&ctx, args] { ctx.exit_code = output(ctx, *args); });
}

}  // namespace switchyard::cli
