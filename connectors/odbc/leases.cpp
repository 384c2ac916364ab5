#include "connectors/odbc/leases.hpp"

#include "connectors/odbc/dialect.hpp"

namespace erpsync::connectors::odbc {
namespace {

// A time long past: what release writes, so that the row (and its token) stays.
constexpr const char* kReleased = "1970-01-01 00:00:00.000";

// Lease rows with `expired` judged by the server's clock; append a WHERE/ORDER BY.
std::string select_rows_sql(const SqlDialect& d) {
  return "SELECT connector, holder, fencing_token, expires_at, CASE WHEN expires_at < " + std::string(d.now_sql()) +
         " THEN 1 ELSE 0 END, process FROM sync_leases";
}

LeaseRow to_lease_row(const Row& r) {
  LeaseRow row{r[0].value_or(""), r[1].value_or(""), std::stoll(r[2].value_or("0")), r[3].value_or(""),
               r[4].value_or("0") == "1"};
  row.released = row.expires_at.rfind("1970-01-01", 0) == 0;
  row.process = r[5].value_or("");
  return row;
}

std::optional<LeaseRow> read_row(Connection& conn, const std::string& connector) {
  auto rows = conn.query(select_rows_sql(sql_dialect(conn.dialect())) + " WHERE connector = ?", {Param::str(connector)});
  if (rows.empty()) return std::nullopt;
  return to_lease_row(rows.front());
}

// Runs `fn` in one transaction on `conn` (autocommit off for its span).
template <class Fn>
auto transaction(Connection& conn, Fn&& fn) -> decltype(fn()) {
  conn.set_autocommit(false);
  try {
    auto result = fn();
    conn.commit();
    conn.set_autocommit(true);
    return result;
  } catch (...) {
    conn.rollback();
    try {
      conn.set_autocommit(true);
    } catch (...) {
    }
    throw;
  }
}

}  // namespace

AcquireResult acquire_lease(Connection& conn, const std::string& connector, const Claimant& who,
                            std::chrono::milliseconds ttl, const TakeOverCheck& may_take_over) {
  const SqlDialect& d = sql_dialect(conn.dialect());
  const std::string take = "UPDATE sync_leases SET holder = ?, process = ?, fencing_token = fencing_token + 1, "
                           "expires_at = " + std::string(d.now_plus_sql()) + " WHERE connector = ? AND ";
  // One conditional UPDATE decides atomically; the token is read back in the same transaction.
  auto take_if = [&](const std::string& condition, std::vector<Param> condition_params) {
    return transaction(conn, [&] {
      AcquireResult r;
      std::vector<Param> p = {Param::str(who.holder), Param::str_or_null(who.process), d.interval_param(ttl),
                              Param::str(connector)};
      for (auto& c : condition_params) p.push_back(std::move(c));
      if (conn.exec(take + condition, p) == 1)
        if (auto row = read_row(conn, connector)) r.lease = Lease{connector, who.holder, row->fencing_token, who.process};
      return r;
    });
  };
  // Free (expired or released), or already this very process's.
  AcquireResult taken = take_if("(expires_at < " + std::string(d.now_sql()) + " OR (holder = ? AND process = ?))",
                                {Param::str(who.holder), Param::str(who.process)});
  if (taken.lease) return taken;
  std::optional<LeaseRow> row = read_row(conn, connector);
  if (row && row->holder == who.holder && may_take_over && may_take_over(*row)) {
    // A dead process of this instance: taken back at once, unless someone else moved first
    // (the token it was seen with has changed).
    taken = take_if("holder = ? AND fencing_token = ?", {Param::str(row->holder), Param::i64(row->fencing_token)});
    if (taken.lease) return taken;
    row = read_row(conn, connector);
  }
  if (row) {
    taken.held_by = std::move(row);
    return taken;
  }
  // No row yet: the first holder inserts it with token 1. Two processes may race here; the
  // primary key lets one win, and the loser reads who did.
  try {
    conn.exec("INSERT INTO sync_leases (connector, holder, process, fencing_token, expires_at) VALUES (?, ?, ?, 1, " +
                  std::string(d.now_plus_sql()) + ")",
              {Param::str(connector), Param::str(who.holder), Param::str_or_null(who.process), d.interval_param(ttl)});
    taken.lease = Lease{connector, who.holder, 1, who.process};
    return taken;
  } catch (const OdbcError& e) {
    if (e.error_class() != ErrorClass::unique_violation) throw;
  }
  taken.held_by = read_row(conn, connector);
  return taken;
}

bool renew_lease(Connection& conn, const Lease& lease, std::chrono::milliseconds ttl) {
  const SqlDialect& d = sql_dialect(conn.dialect());
  // MariaDB reports matched rows (OPTION=2, see prepare_connection_string), like the others.
  return conn.exec("UPDATE sync_leases SET expires_at = " + std::string(d.now_plus_sql()) +
                       " WHERE connector = ? AND holder = ? AND fencing_token = ?",
                   {d.interval_param(ttl), Param::str(lease.connector), Param::str(lease.holder),
                    Param::i64(lease.fencing_token)}) == 1;
}

void release_lease(Connection& conn, const Lease& lease) {
  conn.exec("UPDATE sync_leases SET expires_at = ? WHERE connector = ? AND holder = ? AND fencing_token = ?",
            {Param::ts(kReleased), Param::str(lease.connector), Param::str(lease.holder),
             Param::i64(lease.fencing_token)});
}

bool check_fence(Connection& conn, const Lease& lease) {
  const std::string_view lock = sql_dialect(conn.dialect()).lock_row_suffix();
  auto rows = conn.query("SELECT holder, fencing_token FROM sync_leases WHERE connector = ?" + std::string(lock),
                         {Param::str(lease.connector)});
  return !rows.empty() && rows.front()[0].value_or("") == lease.holder &&
         std::stoll(rows.front()[1].value_or("0")) == lease.fencing_token;
}

std::vector<LeaseRow> list_leases(Connection& conn) {
  std::vector<LeaseRow> out;
  for (const Row& r : conn.query(select_rows_sql(sql_dialect(conn.dialect())) + " ORDER BY connector")) out.push_back(to_lease_row(r));
  return out;
}

}  // namespace erpsync::connectors::odbc
