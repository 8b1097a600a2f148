#include "runtime/journal/sqlite_tenants.h"

#include <functional>
#include <mutex>
#include <variant>

#include "runtime/journal/sqlite_util.h"

namespace switchyard::runtime {
namespace {

using sqlite::bind_value;
using sqlite::column_is_null;
using sqlite::column_utf8;

class SqliteTenantLedger final : public TenantLedger {
 public:
  SqliteTenantLedger(std::string path, std::chrono::milliseconds busy)
      : path_(std::move(path)), busy_(busy) {}
  ~SqliteTenantLedger() override { sqlite3_close_v2(db_); }

  Result<TenantDecision> reserve(const std::string& tenant, const std::string& run_id,
                                 std::int64_t call, std::int64_t usd) override {
    TenantDecision d;
    Status s = write("cannot reserve against tenant '" + tenant + "'", [&]() -> Status {
      if (Status s = ensure_row(tenant); !s.ok()) return s;
      auto row = read_row(tenant);
      if (!row.ok()) return row.status();
      d.cap = row->cap;
      d.spent = row->spent;
      d.reserved = row->reserved;
      d.granted = !d.cap || d.spent + d.reserved + usd <= *d.cap;
      if (!d.granted) return Status();
      if (Status s = step("INSERT INTO tenant_reservations (run_id, call, tenant, usd_micros) "
                          "VALUES (?1, ?2, ?3, ?4)",
                          {run_id, call, tenant, usd});
          !s.ok()) {
        return s;
      }
      return step(
          "UPDATE tenant_budgets SET reserved_micros = reserved_micros + ?2 "
          "WHERE tenant = ?1",
          {tenant, usd});
    });
    if (!s.ok()) return s;
    return d;
  }

  Result<bool> settle(const std::string& run_id, std::int64_t call, std::int64_t charged) override {
    bool found = false;
    Status s =
        write("cannot settle call " + std::to_string(call) + " of run " + run_id, [&]() -> Status {
          sqlite::Stmt owned;
          if (Status s = query("SELECT tenant, usd_micros FROM tenant_reservations "
                               "WHERE run_id = ?1 AND call = ?2",
                               {run_id, call}, owned);
              !s.ok()) {
            return s;
          }
          sqlite3_stmt* q = owned.get();
          const int rc = sqlite3_step(q);
          if (rc == SQLITE_DONE) return Status();
          if (rc != SQLITE_ROW) return fail("cannot read a reservation");
          const std::string holder = column_utf8(q, 0);
          const std::int64_t usd = sqlite3_column_int64(q, 1);
          found = true;
          if (Status s = step("DELETE FROM tenant_reservations WHERE run_id = ?1 AND call = ?2",
                              {run_id, call});
              !s.ok()) {
            return s;
          }
          return step(
              "UPDATE tenant_budgets SET reserved_micros = reserved_micros - ?2, "
              "spent_micros = spent_micros + ?3 WHERE tenant = ?1",
              {holder, usd, charged});
        });
    if (!s.ok()) return s;
    return found;
  }

  Status charge(const std::string& tenant, std::int64_t usd) override {
    return write("cannot charge tenant '" + tenant + "'", [&]() -> Status {
      if (Status s = ensure_row(tenant); !s.ok()) return s;
      return step("UPDATE tenant_budgets SET spent_micros = spent_micros + ?2 WHERE tenant = ?1",
                  {tenant, usd});
    });
  }

  Result<std::vector<AbandonedReservation>> settle_abandoned(const std::string& run_id) override {
    std::vector<AbandonedReservation> out;
    Status s = write("cannot settle the open reservations of run " + run_id, [&]() -> Status {
      out.clear();
      std::vector<std::string> holders;
      {
        sqlite::Stmt owned;
        if (Status s = query("SELECT call, usd_micros, tenant FROM tenant_reservations "
                             "WHERE run_id = ?1 ORDER BY call",
                             {run_id}, owned);
            !s.ok()) {
          return s;
        }
        sqlite3_stmt* q = owned.get();
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
          out.push_back({sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1)});
          holders.push_back(column_utf8(q, 2));
        }
        if (rc != SQLITE_DONE) return fail("cannot read the open reservations");
      }
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (Status s = step("UPDATE tenant_budgets SET reserved_micros = reserved_micros - ?2, "
                            "spent_micros = spent_micros + ?2 WHERE tenant = ?1",
                            {holders[i], out[i].usd});
            !s.ok()) {
          return s;
        }
      }
      return step("DELETE FROM tenant_reservations WHERE run_id = ?1", {run_id});
    });
    if (!s.ok()) return s;
    return out;
  }

  Status set_cap(const std::string& tenant, std::int64_t cap) override {
    return write("cannot set tenant '" + tenant + "''s cap", [&]() -> Status {
      if (Status s = ensure_row(tenant); !s.ok()) return s;
      return step("UPDATE tenant_budgets SET cap_micros = ?2 WHERE tenant = ?1", {tenant, cap});
    });
  }

  Result<std::vector<TenantBudget>> list() override {
    std::lock_guard lock(mu_);
    if (Status s = ready(); !s.ok()) return s;
    sqlite::Stmt owned;
    if (Status s = query("SELECT tenant, cap_micros, spent_micros, reserved_micros "
                         "FROM tenant_budgets ORDER BY tenant",
                         {}, owned);
        !s.ok()) {
      return s;
    }
    sqlite3_stmt* q = owned.get();
    std::vector<TenantBudget> out;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) out.push_back(row_of(q));
    if (rc != SQLITE_DONE) return fail("cannot read the tenants' budgets");
    return out;
  }

 private:
  using Value = std::variant<std::string, std::int64_t>;

  static TenantBudget row_of(sqlite3_stmt* q) {
    TenantBudget t;
    t.key = column_utf8(q, 0);
    if (!column_is_null(q, 1)) t.cap = sqlite3_column_int64(q, 1);
    t.spent = sqlite3_column_int64(q, 2);
    t.reserved = sqlite3_column_int64(q, 3);
    return t;
  }

  Status fail(const std::string& what) const { return sqlite::error_status(db_, path_, what); }

  // REQUIRES: mu_ held.
  Status ready() {
    if (db_ != nullptr) return Status();
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      Status s = fail("cannot open the tenants' budgets");
      sqlite3_close_v2(db_);
      db_ = nullptr;
      return s;
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(busy_.count()));
    return Status();
  }

  // Prepares `sql` into `out` with `values` bound in order (?1, ?2, ...).
  Status query(const char* sql, std::initializer_list<Value> values, sqlite::Stmt& out) {
    if (sqlite3_prepare_v2(db_, sql, -1, out.out(), nullptr) != SQLITE_OK) {
      return fail("cannot prepare a statement on the tenants' budgets");
    }
    int i = 1;
    for (const Value& v : values) {
      if (const auto* text = std::get_if<std::string>(&v)) {
        bind_value(out.get(), i++, *text);
      } else {
        bind_value(out.get(), i++, std::get<std::int64_t>(v));
      }
    }
    return Status();
  }

  // Runs `sql` with `values` bound in order (no result rows).
  Status step(const char* sql, std::initializer_list<Value> values) {
    sqlite::Stmt owned;
    if (Status s = query(sql, values, owned); !s.ok()) return s;
    if (sqlite3_step(owned.get()) != SQLITE_DONE) return fail("cannot write the tenants' budgets");
    return Status();
  }

  Status ensure_row(const std::string& tenant) {
    return step("INSERT OR IGNORE INTO tenant_budgets (tenant) VALUES (?1)", {tenant});
  }

  Result<TenantBudget> read_row(const std::string& tenant) {
    sqlite::Stmt owned;
    if (Status s = query("SELECT tenant, cap_micros, spent_micros, reserved_micros "
                         "FROM tenant_budgets WHERE tenant = ?1",
                         {tenant}, owned);
        !s.ok()) {
      return s;
    }
    sqlite3_stmt* q = owned.get();
    if (sqlite3_step(q) != SQLITE_ROW) return fail("cannot read tenant '" + tenant + "'");
    return row_of(q);
  }

  // `body` in one write transaction (BEGIN IMMEDIATE: the file's write lock is taken first, so
  // what is read is what is then written over); rolled back on error.
  Status write(const std::string& what, const std::function<Status()>& body) {
    std::lock_guard lock(mu_);
    if (Status s = ready(); !s.ok()) return s;
    if (Status s = sqlite::exec(db_, path_, "BEGIN IMMEDIATE"); !s.ok()) {
      return Status(s.code(), what + ": " + s.message());
    }
    Status s = body();
    if (s.ok()) s = sqlite::exec(db_, path_, "COMMIT");
    if (!s.ok()) {
      (void)sqlite::exec(db_, path_, "ROLLBACK");
      return Status(s.code(), what + ": " + s.message());
    }
    return Status();
  }

  std::string path_;
  std::chrono::milliseconds busy_;
  std::mutex mu_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<TenantLedger> sqlite_tenant_ledger(std::string path,
                                                   std::chrono::milliseconds busy) {
  return std::make_unique<SqliteTenantLedger>(std::move(path), busy);
}

}  // namespace switchyard::runtime
