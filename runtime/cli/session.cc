#include "runtime/cli/session.h"

#include <set>

#include "runtime/base/money.h"
#include "runtime/engine/health_json.h"
#include "runtime/engine/startup.h"
#include "runtime/journal/text.h"

namespace switchyard::cli {
namespace {

std::string joined(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// Why a known-down tool was down when the run started, from the health the run used: "breaker
// open since T", "held down: why", "Retry-After until T"; "down" when the table no longer says.
std::string down_why(const monitors::HealthTable& health, const std::string& tool) {
  for (const auto& h : health.snapshot()) {
    if (h.tool != tool) continue;
    std::string why;
    if (h.held_down) why = "held down: " + excerpt(h.held_reason);
    if (h.opened_at) {
      why += (why.empty() ? "" : "; ") + std::string("breaker opened ") +
             runtime::iso8601(runtime::unix_ms_of(*h.opened_at));
    }
    if (h.retry_after_until) {
      why += (why.empty() ? "" : "; ") + std::string("Retry-After until ") +
             runtime::iso8601(runtime::unix_ms_of(*h.retry_after_until));
    }
    if (!h.last_failure.empty()) why += (why.empty() ? "" : "; ") + excerpt(h.last_failure, 120);
    return why.empty() ? "down" : why;
  }
  return "down";
}

// What the summary says beyond the result, read from the run's events: the tools the run
// avoided because earlier runs left them down, and why the goal was demoted or the run
// escalated (the failure that led there). One line each, outside text cut by excerpt().
struct Explanation {
  std::vector<std::string> avoided;  // "Stripe (breaker opened 2026-...; timeout: ...)"
  std::string demoted;               // "Complete -> Partial (by rule) after Stripe: ..."
  std::string escalated;             // "budget_exhausted, after Stripe: budget_exhausted: ..."
};

Explanation explain(const RunSession& session, const std::string& run_id) {
  Explanation x;
  auto events = session.journal->events(run_id);
  if (!events.ok()) return x;  // the summary stands without it
  std::set<std::string> avoided;
  std::string last_failure;  // "TOOL: KIND: REASON" of the last failed step so far
  for (const auto& e : *events) {
    const nlohmann::json& p = e.payload;
    if (e.type == "plan") {
      for (const auto& t : runtime::payload_strings(p, "avoided")) avoided.insert(t);
    } else if (e.type == "step_failed") {
      last_failure = lenient_string(p, "tool", "-") + ": " + lenient_string(p, "failure", "-") +
                     ": " + lenient_string(p, "reason");
    } else if (e.type == "advisor_skipped") {
      last_failure = "advisor " + lenient_string(p, "tool", "-") +
                     " not asked: " + lenient_string(p, "reason");
    } else if (e.type == "goal_demoted") {
      x.demoted = lenient_string(p, "from_goal", "-") + " -> " + lenient_string(p, "to_goal", "-") +
                  " (decided by " + lenient_string(p, "decided_by", "-") + ")";
      if (!last_failure.empty()) x.demoted += ", after " + last_failure;
      x.demoted = excerpt(x.demoted, 300);
    } else if (e.type == "escalated") {
      x.escalated = lenient_string(p, "reason", "-");
      if (!last_failure.empty()) x.escalated += ", after " + last_failure;
      x.escalated = excerpt(x.escalated, 300);
    }
  }
  for (const auto& t : avoided) x.avoided.push_back(t + " (" + down_why(*session.health, t) + ")");
  return x;
}

void print_human(std::ostream& out, const runtime::RunReport& r, const RunSession& session,
                 const std::string& journal) {
  const auto& res = r.result;
  out << "run " << r.run_id << ": " << runtime::to_string(res.status) << "\n";
  out << "  goal:     " << res.goal << "\n";
  out << "  path:     " << joined(res.path, " -> ") << "\n";
  const Explanation why = explain(session, r.run_id);
  out << "  healing:  " << res.reroutes << " reroute(s), " << res.backtracks << " backtrack(s)\n";
  if (!why.avoided.empty()) {
    out << "  avoided:  " << joined(why.avoided, ", ")
        << ": down from earlier runs (switchyard health; --reset TOOL once fixed)\n";
  }
  if (!why.demoted.empty()) out << "  demoted:  " << why.demoted << "\n";
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
    if (!why.escalated.empty()) out << "  reason:   " << why.escalated << "\n";
    out << "  message:  " << excerpt(res.message, 300) << "\n";
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
    j["journal"] = runtime::printable_location(journal_path);
    if (session.workflow->scenario()) j["scenario"] = session.workflow->scenario()->id;
    *ctx.out << json_text(j) << "\n";
  } else {
    print_human(*ctx.out, report, session, runtime::printable_location(journal_path));
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
