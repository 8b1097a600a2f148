// switchyard health [--journal DB] [--window DURATION] [--reset TOOL] [--json]

#include <chrono>
#include <cmath>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include "monitors/health_table.h"
#include "runtime/base/system_clock.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/format.h"
#include "runtime/cli/session.h"
#include "runtime/engine/health_json.h"
#include "runtime/engine/health_rebuild.h"
#include "runtime/engine/probe_record.h"
#include "runtime/engine/runner.h"
#include "runtime/engine/startup.h"
#include "runtime/journal/journal.h"

namespace switchyard::cli {
namespace {

struct HealthArgs {
  std::string journal = default_journal_path();
  std::string window = "15m";
  std::optional<int> window_minutes;  // deprecated spelling of --window
  std::string reset;                  // --reset TOOL
  bool json = false;
};

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::int64_t ms_of(Clock::TimePoint t) { return runtime::unix_ms_of(t); }

// What keeps the tool out, besides an open breaker: "held down: why", "Retry-After until ...".
std::string hold_text(const monitors::ToolHealth& h, Clock::TimePoint now) {
  std::string out;
  if (h.held_down) out = "held down: " + excerpt(h.held_reason);
  if (h.retry_after_until) {
    if (!out.empty()) out += "; ";
    out += "Retry-After until " + iso8601(ms_of(*h.retry_after_until)) + " (in " +
           duration(ms_of(*h.retry_after_until) - ms_of(now)) + ")";
  }
  return out;
}

std::string failures_text(const std::map<std::string, int>& failures) {
  std::string out;
  for (const auto& [kind, count] : failures) {
    if (!out.empty()) out += ", ";
    out += kind + " " + std::to_string(count);
  }
  return out.empty() ? "-" : out;
}

void print_table(std::ostream& out, const std::vector<monitors::ToolHealth>& tools,
                 Clock::TimePoint now) {
  out << std::left << std::setw(20) << "tool" << std::setw(11) << "breaker" << std::right
      << std::setw(8) << "factor" << std::setw(9) << "latency" << std::setw(9) << "reliab"
      << std::setw(7) << "rate" << std::setw(12) << "latency_ms" << std::setw(13) << "reliability"
      << std::setw(11) << "proximity" << std::setw(9) << "samples" << std::setw(8) << "consec"
      << "  failures by kind\n";
  for (const auto& h : tools) {
    out << std::left << std::setw(20) << h.tool << std::setw(11) << monitors::to_string(h.breaker)
        << std::right << std::setw(8)
        << (std::isinf(h.factor) ? std::string("inf") : fixed(h.factor, 2)) << std::setw(9)
        << fixed(h.factors.latency, 2) << std::setw(9) << fixed(h.factors.reliability, 2)
        << std::setw(7) << fixed(h.factors.rate_limit, 2) << std::setw(12) << fixed(h.latency_ms, 1)
        << std::setw(13) << fixed(h.reliability, 2) << std::setw(11)
        << fixed(h.rate_limit_proximity, 2) << std::setw(9) << h.samples << std::setw(8)
        << h.consecutive_failures << "  " << failures_text(h.failures) << "\n";
    if (h.warming_up && !std::isinf(h.factor)) {
      out << "    warming up: factor 1 until enough samples\n";
    }
    if (h.opened_at) out << "    breaker opened " << iso8601(ms_of(*h.opened_at)) << "\n";
    if (std::string hold = hold_text(h, now); !hold.empty()) out << "    " << hold << "\n";
    // An error page quoted in a reason: one line, cut (whole in --json).
    if (!h.last_failure.empty()) out << "    last failure: " << excerpt(h.last_failure) << "\n";
  }
  out << "factor = latency x reliab x rate (Eq. 1; 1 while warming up, inf when down)\n";
}

// --reset TOOL: the tool's health forgotten, journaled where the rebuild reads it
// (runtime/engine/probe_record.h), so every later process (run, health, serve) starts it afresh.
int reset(Context& ctx, const HealthArgs& args, runtime::Startup& started,
          runtime::SystemClock& clock, std::chrono::milliseconds window) {
  const auto tools = started.health->snapshot();
  const monitors::ToolHealth* found = nullptr;
  std::vector<std::string> names;
  for (const auto& h : tools) {
    names.push_back(h.tool);
    if (h.tool == args.reset) found = &h;
  }
  if (found == nullptr) {
    std::string message = "--reset " + args.reset + ": no health to reset: the journal has no " +
                          "call of that tool in the last " + duration(window.count());
    if (auto near = did_you_mean(args.reset, names); !near.empty()) message += near;
    return report_error(ctx, not_found(message), args.json);
  }
  const monitors::BreakerState from = found->breaker;
  const std::string run_id = runtime::new_run_id(clock);
  std::vector<runtime::Journal::Write> writes = {[&](runtime::Journal& j) {
    return runtime::journal_health_reset(j, clock, run_id, args.reset, from,
                                         "operator: switchyard health --reset");
  }};
  if (Status s = started.journal->write_group(writes).front(); !s.ok()) {
    return report_error(ctx, s, args.json);
  }
  if (args.json) {
    *ctx.out << json_text({{"journal", runtime::printable_location(args.journal)},
                           {"reset", args.reset},
                           {"from", std::string(monitors::to_string(from))},
                           {"run_id", run_id}})
             << "\n";
  } else {
    *ctx.out << "reset " << args.reset << ": breaker " << monitors::to_string(from)
             << " -> closed, its failures and telemetry forgotten (journaled as run " << run_id
             << " in " << runtime::printable_location(args.journal) << ")\n";
  }
  return kExitOk;
}

int health(Context& ctx, const HealthArgs& args) {
  std::string window_text = args.window;
  if (args.window_minutes) {
    *ctx.err << "warning: --window-minutes is deprecated: use --window " << *args.window_minutes
             << "m\n";
    window_text = std::to_string(*args.window_minutes) + "m";
  }
  auto window = duration_arg("--window", window_text);
  if (!window.ok()) return report_error(ctx, window.status(), args.json);
  if (window->count() <= 0) {
    return report_error(ctx, invalid_argument("--window " + window_text + ": must be over 0"),
                        args.json);
  }
  runtime::SystemClock clock;
  auto started = runtime::start_up(clock, {.journal_path = args.journal,
                                           .journal = {.create_if_missing = false},
                                           .health_window = *window});
  if (!started.ok()) return report_error(ctx, started.status(), args.json);
  warn_skipped(ctx, started->report.skipped, args.journal);
  if (!args.reset.empty()) return reset(ctx, args, *started, clock, *window);
  const int replayed = started->report.outcomes;
  const auto now = clock.now();
  const auto tools = started->health->snapshot();
  const std::int64_t window_minutes =
      std::chrono::duration_cast<std::chrono::minutes>(*window).count();
  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& h : tools) list.push_back(runtime::tool_health_json(h));
    *ctx.out << nlohmann::json{{"journal", runtime::printable_location(args.journal)},
                               {"now_ms", ms_of(now)},
                               {"window_minutes", window_minutes},
                               {"window_ms", window->count()},
                               {"outcomes", replayed},
                               {"skipped", started->report.to_json()},
                               {"tools", list}}
                    .dump(2)
             << "\n";
    return kExitOk;
  }
  auto& out = *ctx.out;
  out << "health from " << runtime::printable_location(args.journal) << " (last " << window_text
      << ", " << replayed << " outcome(s))\n";
  if (tools.empty()) {
    out << "no tool has been called in that window\n";
    return kExitOk;
  }
  print_table(out, tools, now);
  return kExitOk;
}

}  // namespace

void add_health(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "health", "Every tool's health (breaker, Eq. 1 factor, telemetry), rebuilt from the journal");
  auto args = std::make_shared<HealthArgs>();
  add_journal_option(cmd, args->journal);
  cmd->add_option("--window", args->window,
                  "How far back the journal is read: a duration (500ms 45s 10m 2h 7d)")
      ->capture_default_str();
  cmd->add_option("--window-minutes", args->window_minutes, "Deprecated: --window Nm")
      ->check(CLI::Range(1, 60 * 24 * 365));
  cmd->add_option("--reset", args->reset,
                  "Forget TOOL's health (breaker closed, failures dropped) once it is fixed; "
                  "journaled, so later runs start it afresh")
      ->type_name("TOOL");
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] { ctx.exit_code = health(ctx, *args); });
}

}  // namespace switchyard::cli
