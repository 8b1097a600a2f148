#include "runtime/cli/session.h"

#include "runtime/base/money.h"
#include "runtime/engine/startup.h"

namespace switchyard::cli {
namespace {

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
  out << "  spend:    " << res.llm_calls << " LLM call(s), " << runtime::usd_text(res.spent_usd)
      << ", " << res.tokens << " token(s)\n";
  // The output on one line, cut at 200 bytes (all of it: `switchyard output RUN`).
  out << "  output:   "
      << (res.output_truncated ? std::string("(over limits.max_output_bytes: left out)")
          : res.output.is_null()
              ? std::string("-")
              : excerpt(res.output.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)))
      << "\n";
  if (!res.outputs_dropped.empty()) {
    out << "  outputs:  left out (over limits.max_output_bytes): "
        << joined(res.outputs_dropped, ", ") << "\n";
  }
  if (res.status == runtime::RunStatus::kEscalated || res.status == runtime::RunStatus::kFailed) {
    out << "  blocked:  " << (res.blocked.empty() ? "-" : joined(res.blocked, ", ")) << "\n";
    out << "  message:  " << res.message << "\n";
  }
  out << "  journal:  " << journal << "  (switchyard replay " << r.run_id << " --journal "
      << journal << ")\n";
}

}  // namespace

runtime::JournalSync parse_sync(const std::string& sync) {
  return sync == "full" ? runtime::JournalSync::kFull : runtime::JournalSync::kNormal;
}

void warn_skipped(Context& ctx, const std::vector<std::string>& skipped, const std::string& path) {
  if (skipped.empty() || ctx.skipped_said) return;
  ctx.skipped_said = true;
  *ctx.err << "warning: " << runtime::skipped_summary(skipped, path) << "\n";
}

std::unique_ptr<RunSession> make_session(Context& ctx,
                                         std::shared_ptr<const graph::Workflow> workflow,
                                         const std::string& models_path, bool json) {
  auto s = std::make_unique<RunSession>();
  s->workflow = std::move(workflow);
  const bool scenario = s->workflow->scenario().has_value();
  if (!models_path.empty()) {
    auto loaded = tools::load_models_file(models_path);
    if (!loaded.ok()) {
      if (json) {
        nlohmann::json errors = nlohmann::json::array();
        for (const auto& d : loaded.errors) errors.push_back(to_json(d));
        *ctx.out << json_text(nlohmann::json{{"errors", errors}}) << "\n";
      } else {
        for (const auto& d : loaded.errors) *ctx.err << "error: " << d.to_string() << "\n";
      }
      ctx.exit_code = kExitInvalid;
      return nullptr;
    }
    s->models = std::move(loaded.models);
  }
  auto tools = tools::make_tool_set(*s->workflow, {.scenario = scenario, .models = &s->models});
  if (!tools.ok()) {
    ctx.exit_code = report_error(ctx, tools.status(), json);
    return nullptr;
  }
  s->tools = *tools;
  return s;
}

bool start_journal(Context& ctx, RunSession& session, const std::string& path,
                   const std::string& sync, bool json) {
  RunSession* s = &session;
  const bool scenario = s->workflow->scenario().has_value();
  // A real run starts from what the journal knows of the tools' health (a restart loses nothing)
  // and, with several model tiers, from how each did (learned escalation); a scenario starts
  // from its own `known` tools only.
  auto started =
      runtime::start_up(s->clock, {.journal_path = path,
                                   .journal = {.sync = parse_sync(sync)},
                                   .rebuild_health = !scenario,
                                   .rebuild_history = !scenario && s->models.tiers.size() > 1});
  if (!started.ok()) {
    ctx.exit_code = report_error(ctx, started.status(), json);
    return false;
  }
  warn_skipped(ctx, started->report.skipped, path);
  s->journal = std::move(started->journal);
  s->health = std::move(started->health);
  s->history = std::move(started->history);
  if (scenario && s->workflow->scenario()->known) {
    for (auto t : s->workflow->scenario()->down) {
      s->health->mark_down(s->workflow->tool(t).id, "scenario: known down");
    }
  }
  s->runner = std::make_unique<runtime::Runner>(
      s->workflow, s->tools, *s->journal, s->clock, *s->health,
      runtime::RunnerOptions{.models = &s->models, .history = s->history.get()});
  return true;
}

int print_report(Context& ctx, const runtime::RunReport& report, const RunSession& session,
                 const std::string& journal_path, bool json) {
  if (json) {
    nlohmann::json j = report.to_json();
    j["journal"] = journal_path;
    if (session.workflow->scenario()) j["scenario"] = session.workflow->scenario()->id;
    *ctx.out << json_text(j) << "\n";
  } else {
    print_human(*ctx.out, report, journal_path);
  }
  return exit_code_of(report);
}

int exit_code_of(const runtime::RunReport& report) {
  const auto status = report.result.status;
  return status == runtime::RunStatus::kCompleted || status == runtime::RunStatus::kDemoted
             ? kExitOk
             : kExitNotCompleted;
}

}  // namespace switchyard::cli
