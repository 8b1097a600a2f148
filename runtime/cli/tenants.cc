// switchyard tenants [--journal DB] [--json]
// switchyard tenants set KEY --usd X [--journal DB] [--json]
// The tenants' shared USD budgets (docs/budgets.md#tenant-budgets), in the journal's database.

#include <cmath>
#include <iomanip>
#include <ostream>

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

}  // namespace

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
  cmd->callback([&ctx, args, cmd, set] {
    if (set->parsed()) return;
    (void)cmd;
    ctx.exit_code = list_tenants(ctx, *args);
  });
}

}  // namespace switchyard::cli
