// switchyard health [--journal DB] [--window-minutes N] [--json]

#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "monitors/health_table.h"
#include "runtime/cli/cli.h"
#include "runtime/health_rebuild.h"
#include "runtime/journal.h"
#include "runtime/system_clock.h"

namespace switchyard::cli {
namespace {

struct HealthArgs {
  std::string journal = default_journal_path();
  int window_minutes = static_cast<int>(runtime::kDefaultHealthWindow.count());
  bool json = false;
};

nlohmann::json factor_json(double f) {
  return std::isinf(f) ? nlohmann::json("inf") : nlohmann::json(f);
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

int health(Context& ctx, const HealthArgs& args) {
  auto journal = runtime::open_sqlite_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);
  runtime::SystemClock clock;
  monitors::HealthTable table(clock);
  auto replayed =
      runtime::rebuild_health(**journal, table, std::chrono::minutes(args.window_minutes));
  if (!replayed.ok()) return report_error(ctx, replayed.status(), args.json);
  const auto tools = table.snapshot();
  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& h : tools) {
      list.push_back({{"tool", h.tool},
                      {"breaker", std::string(monitors::to_string(h.breaker))},
                      {"factor", factor_json(h.factor)},
                      {"latency_ms", h.latency_ms},
                      {"reliability", h.reliability},
                      {"rate_limit_proximity", h.rate_limit_proximity},
                      {"samples", h.samples},
                      {"consecutive_failures", h.consecutive_failures},
                      {"failures", h.failures},
                      {"last_failure", h.last_failure.empty() ? nlohmann::json(nullptr)
                                                              : nlohmann::json(h.last_failure)}});
    }
    *ctx.out << nlohmann::json{{"journal", args.journal},
                               {"window_minutes", args.window_minutes},
                               {"outcomes", *replayed},
                               {"tools", list}}
                    .dump(2)
             << "\n";
    return kExitOk;
  }
  auto& out = *ctx.out;
  out << "health from " << args.journal << " (last " << args.window_minutes << " min, "
      << *replayed << " outcome(s))\n";
  if (tools.empty()) {
    out << "no tool has been called in that window\n";
    return kExitOk;
  }
  out << std::left << std::setw(20) << "tool" << std::setw(11) << "breaker" << std::right
      << std::setw(9) << "factor" << std::setw(12) << "latency_ms" << std::setw(13)
      << "reliability" << std::setw(11) << "rate_limit" << std::setw(9) << "samples"
      << "  last failure\n";
  for (const auto& h : tools) {
    out << std::left << std::setw(20) << h.tool << std::setw(11)
        << monitors::to_string(h.breaker) << std::right << std::setw(9)
        << (std::isinf(h.factor) ? std::string("inf") : fixed(h.factor, 2)) << std::setw(12)
        << fixed(h.latency_ms, 1) << std::setw(13) << fixed(h.reliability, 2) << std::setw(11)
        << fixed(h.rate_limit_proximity, 2) << std::setw(9) << h.samples << "  "
        << (h.last_failure.empty() ? "-" : h.last_failure) << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_health(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "health", "Every tool's health (breaker, Eq. 1 factor, telemetry), rebuilt from the journal");
  auto args = std::make_shared<HealthArgs>();
  cmd->add_option("--journal", args->journal, "The journal (SQLite file)")->capture_default_str();
  cmd->add_option("--window-minutes", args->window_minutes,
                  "How far back the journal is read")
      ->capture_default_str()
      ->check(CLI::Range(1, 60 * 24 * 365));
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->callback([&ctx, args] { ctx.exit_code = health(ctx, *args); });
}

}  // namespace switchyard::cli
