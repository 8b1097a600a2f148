// switchyard tenants [--journal DB] [--json]
// switchyard tenants set KEY --usd X [--journal DB] [--json]
// switchyard budget --tenant KEY [--journal DB] [--name NAME] [--json] (tenant_budget)
// The tenants' shared USD budgets (docs/budgets.md#tenant-budgets), in the journal's database.

#include <cmath>
#include <iomanip>
#include <map>
#include <ostream>

#include "graph/json_read.h"
#include "runtime/base/money.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/session.h"
#include "runtime/journal/journal.h"
#include "runtime/journal/tenant_ledger.h"

namespace switchyard::cli {
namespace {

struct TenantsArgs {
  std::string journal = default_journal_path();
  bool json = false;
  std::string key;  // set
  double usd = std::nan("");
};

nlohmann::json tenant_json(const runtime::TenantBudget& t) {
  using runtime::micros_usd;
  return {{"key", t.key},
          {"cap_usd", t.cap ? nlohmann::json(micros_usd(*t.cap)) : nlohmann::json(nullptr)},
          {"spent_usd", micros_usd(t.spent)},
          {"reserved_usd", micros_usd(t.reserved)},
          {"left_usd", t.cap ? nlohmann::json(micros_usd(*t.cap - t.spent - t.reserved))
                             : nlohmann::json(nullptr)}};
}

int list_tenants(Context& ctx, const TenantsArgs& args) {
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);
  auto tenants = (*journal)->tenant_ledger().list();
  if (!tenants.ok()) return report_error(ctx, tenants.status(), args.json);
  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : *tenants) list.push_back(tenant_json(t));
    *ctx.out << nlohmann::json{{"journal", runtime::printable_location(args.journal)},
                               {"tenants", list}}
                    .dump(2)
             << "\n";
    return kExitOk;
  }
  auto& out = *ctx.out;
  out << "tenants in " << runtime::printable_location(args.journal) << "\n\n";
  out << std::left << std::setw(24) << "tenant" << std::right << std::setw(14) << "cap"
      << std::setw(14) << "spent" << std::setw(14) << "reserved" << std::setw(14) << "left"
      << "\n";
  for (const auto& t : *tenants) {
    using runtime::micros_usd;
    using runtime::usd_text;
    out << std::left << std::setw(24) << t.key << std::right << std::setw(14)
        << (t.cap ? usd_text(micros_usd(*t.cap)) : "none") << std::setw(14)
        << usd_text(micros_usd(t.spent)) << std::setw(14) << usd_text(micros_usd(t.reserved))
        << std::setw(14) << (t.cap ? usd_text(micros_usd(*t.cap - t.spent - t.reserved)) : "-")
        << "\n";
  }
  if (tenants->empty()) out << "(no tenant yet: `switchyard tenants set KEY --usd X`)\n";
  return kExitOk;
}

int set_tenant(Context& ctx, const TenantsArgs& args) {
  if (Status s = runtime::check_tenant_key(args.key); !s.ok()) {
    return report_error(ctx, s, args.json);
  }
  if (Status s = runtime::check_tenant_cap(args.usd); !s.ok()) {
    return report_error(ctx, Status(s.code(), "--usd: " + s.message()), args.json);
  }
  // A deployment sets its tenants' caps before their first runs: the journal is made if missing.
  auto journal = runtime::open_journal(args.journal, {.create_if_missing = true});
  if (!journal.ok()) return report_error(ctx, journal.status(), args.json);
  runtime::TenantLedger& ledger = (*journal)->tenant_ledger();
  if (Status s = ledger.set_cap(args.key, runtime::usd_micros(args.usd)); !s.ok()) {
    return report_error(ctx, s, args.json);
  }
  auto tenants = ledger.list();
  if (!tenants.ok()) return report_error(ctx, tenants.status(), args.json);
  for (const auto& t : *tenants) {
    if (t.key != args.key) continue;
    if (args.json) {
      *ctx.out << tenant_json(t).dump(2) << "\n";
    } else {
      *ctx.out << "tenant " << t.key << ": cap " << runtime::usd_text(args.usd) << ", spent "
               << runtime::usd_text(runtime::micros_usd(t.spent)) << "\n";
    }
  }
  return kExitOk;
}

// One run of a tenant, from its tenant_reserved and tenant_settled events (amounts in micros).
struct TenantRunLine {
  const runtime::RunRecord* run = nullptr;
  int calls = 0;      // reservations granted
  int refused = 0;    // reservations refused (the call not sent)
  int left_open = 0;  // reservations a resume or take-over charged their worst case
  std::int64_t reserved = 0;
  std::int64_t charged = 0;
  std::map<std::int64_t, std::int64_t> open;  // granted, not settled in the journal: by call

  std::int64_t open_micros() const {
    std::int64_t sum = 0;
    for (const auto& [call, usd] : open) sum += usd;
    return sum;
  }
};

// Adds `events` (one run's, journaled: read leniently) of tenant `key` to `line`.
void add_tenant_events(const std::vector<runtime::Event>& events, const std::string& key,
                       TenantRunLine& line) {
  using runtime::usd_micros;
  for (const runtime::Event& e : events) {
    if (e.type != "tenant_reserved" && e.type != "tenant_settled") continue;
    if (lenient_string(e.payload, "tenant") != key) continue;
    const std::int64_t call = lenient_integer(e.payload, "call");
    if (e.type == "tenant_reserved") {
      if (!lenient_boolean(e.payload, "granted")) {
        ++line.refused;
        continue;
      }
      const std::int64_t usd = usd_micros(lenient_number(e.payload, "usd"));
      ++line.calls;
      line.reserved += usd;
      line.open[call] = usd;
      continue;
    }
    line.charged += usd_micros(lenient_number(e.payload, "charged_usd"));
    if (lenient_boolean(e.payload, "left_open")) ++line.left_open;
    if (call != 0) line.open.erase(call);
  }
}

nlohmann::json tenant_run_json(const TenantRunLine& l) {
  using runtime::micros_usd;
  return {{"run_id", l.run->run_id},
          {"workflow", l.run->workflow},
          {"status", l.run->status},
          {"started_ms", l.run->started_ms},
          {"calls", l.calls},
          {"refused", l.refused},
          {"left_open", l.left_open},
          {"reserved_usd", micros_usd(l.reserved)},
          {"charged_usd", micros_usd(l.charged)},
          {"open_usd", micros_usd(l.open_micros())}};
}

}  // namespace

int tenant_budget(Context& ctx, const std::string& journal_path, const std::string& key,
                  const std::optional<std::string>& workflow, bool json) {
  using runtime::micros_usd;
  using runtime::usd_text;
  if (Status s = runtime::check_tenant_key(key); !s.ok()) {
    return report_error(ctx, Status(s.code(), "--tenant: " + s.message()), json);
  }
  auto journal = runtime::open_journal(journal_path, {.create_if_missing = false});
  if (!journal.ok()) return report_error(ctx, journal.status(), json);
  auto tenants = (*journal)->tenant_ledger().list();
  if (!tenants.ok()) return report_error(ctx, tenants.status(), json);
  std::optional<runtime::TenantBudget> row;
  for (const auto& t : *tenants) {
    if (t.key == key) row = t;
  }
  runtime::RunFilter filter;
  filter.limit = 100000;
  filter.workflow = workflow;
  auto runs = (*journal)->list_runs(filter);
  if (!runs.ok()) return report_error(ctx, runs.status(), json);
  std::vector<TenantRunLine> lines;
  std::vector<std::string> skipped;  // runs with a row that cannot be decoded
  for (const auto& run : *runs) {
    auto events = (*journal)->events(run.run_id);
    if (!events.ok()) {
      if (events.status().code() != StatusCode::kInvalidArgument) {
        return report_error(ctx, events.status(), json);
      }
      skipped.push_back(events.status().message());
      continue;
    }
    if (events->empty() || events->front().type != "run_started" ||
        lenient_string(events->front().payload, "tenant") != key) {
      continue;
    }
    TenantRunLine line;
    line.run = &run;
    add_tenant_events(*events, key, line);
    lines.push_back(std::move(line));
  }
  warn_skipped(ctx, skipped, journal_path);
  if (!row && lines.empty()) {
    return report_error(
        ctx,
        Status(StatusCode::kNotFound, "no tenant '" + key + "' in " +
                                          runtime::printable_location(journal_path) +
                                          ": no cap is set for it and no run names it"),
        json);
  }
  if (!row) {  // named by runs that never reserved: no cap, nothing spent
    row.emplace();
    row->key = key;
  }
  std::int64_t charged = 0;
  for (const auto& l : lines) charged += l.charged;
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& l : lines) list.push_back(tenant_run_json(l));
    *ctx.out << nlohmann::json{{"journal", runtime::printable_location(journal_path)},
                               {"tenant", tenant_json(*row)},
                               {"runs", list},
                               {"charged_usd", micros_usd(charged)}}
                    .dump(2)
             << "\n";
    return kExitOk;
  }
  auto& out = *ctx.out;
  const runtime::TenantBudget& t = *row;
  out << "tenant " << t.key << " in " << runtime::printable_location(journal_path) << ": cap "
      << (t.cap ? usd_text(micros_usd(*t.cap)) : "none") << ", spent "
      << usd_text(micros_usd(t.spent)) << ", reserved " << usd_text(micros_usd(t.reserved))
      << ", left " << (t.cap ? usd_text(micros_usd(*t.cap - t.spent - t.reserved)) : "-") << "\n\n";
  out << std::left << std::setw(30) << "run" << std::setw(20) << "workflow" << std::setw(11)
      << "status" << std::right << std::setw(7) << "calls" << std::setw(9) << "refused"
      << std::setw(12) << "charged" << std::setw(12) << "open"
      << "\n";
  for (const auto& l : lines) {
    out << std::left << std::setw(30) << l.run->run_id << std::setw(20) << l.run->workflow
        << std::setw(11) << l.run->status << std::right << std::setw(7) << l.calls << std::setw(9)
        << l.refused << std::setw(12) << usd_text(micros_usd(l.charged)) << std::setw(12)
        << usd_text(micros_usd(l.open_micros())) << "\n";
  }
  if (lines.empty()) out << "(no run names it)\n";
  out << "\ncharged by these runs: " << usd_text(micros_usd(charged)) << "\n";
  return kExitOk;
}

void add_tenants(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "tenants", "The tenants' shared USD budgets (cap, spent, reserved, left), from the journal");
  auto args = std::make_shared<TenantsArgs>();
  add_journal_option(cmd, args->journal);
  cmd->add_flag("--json", args->json, "Print one JSON document");
  auto* set = cmd->add_subcommand("set", "Set a tenant's USD cap (creating the tenant)");
  set->add_option("KEY", args->key, "The tenant's key (what `run --tenant` names)")->required();
  set->add_option("--usd", args->usd, "The cap in USD (>= 0)")->required();
  add_journal_option(set, args->journal, /*creates=*/true);
  set->add_flag("--json", args->json, "Print the tenant's row as one JSON document");
  set->callback([&ctx, args] { ctx.exit_code = set_tenant(ctx, *args); });
  cmd->callback([&ctx, args, set] {
    if (set->parsed()) return;
    ctx.exit_code = list_tenants(ctx, *args);
  });
}

}  // namespace switchyard::cli
