#include "connectors/odbc/admin_queries.hpp"

#include "connectors/odbc/dialect.hpp"
#include "connectors/odbc/leases.hpp"
#include "connectors/odbc/migrations.hpp"
#include "connectors/odbc/odbc_store.hpp"
#include "connectors/odbc/sql_text.hpp"
#include "core/rules/commerce.hpp"

#include <map>

namespace erpsync::connectors::odbc {
namespace {

Table run_table(Connection& conn, std::vector<std::string> columns, const std::string& sql,
                const std::vector<Param>& params) {
  return Table{std::move(columns), conn.query(sql, params)};
}

// "" or " AND connector = ?" with its parameter.
std::string connector_filter(const std::optional<std::string>& connector, std::vector<Param>& params,
                             const char* column = "connector") {
  if (!connector) return "";
  params.push_back(Param::str(*connector));
  return std::string(" AND ") + column + " = ?";
}

// COUNT(*) of `sql` with `params`.
std::int64_t count(Connection& conn, const std::string& sql, const std::vector<Param>& params) {
  return std::stoll(conn.scalar(sql, params).value_or("0"));
}

}  // namespace

Connection& AdminQueries::conn() { return store_.connection(); }

Table AdminQueries::connector_leases(const std::optional<std::string>& connector) {
  Table t{{"connector", "holder", "process", "fencing_token", "expires_at", "state"}, {}};
  for (const LeaseRow& l : list_leases(conn())) {
    if (connector && l.connector != *connector) continue;
    t.rows.push_back(Row{l.connector, l.holder, l.process, std::to_string(l.fencing_token), l.expires_at,
                         std::string(l.released ? "released" : l.expired ? "expired" : "held")});
  }
  return t;
}

Table AdminQueries::recent_runs(int last, const std::optional<std::string>& connector) {
  std::vector<Param> params;
  const std::string filter = connector_filter(connector, params, "r.connector");
  params.push_back(Param::i64(last));
  // The newest `last` runs per (connector, stream): counted with a correlated subquery, which
  // every engine supports (no window functions needed).
  return run_table(conn(),
                   {"id", "connector", "stream", "instance", "started_at", "finished_at", "status", "fetched", "created",
                    "adopted", "updated", "unchanged", "superseded", "parked", "rejected", "failed", "warnings",
                    "missing", "message"},
                   "SELECT r.id, r.connector, r.stream, r.instance, r.started_at, r.finished_at, r.status, r.fetched, "
                   "r.created, r.adopted, r.updated, r.unchanged, r.superseded, r.parked, r.rejected, r.failed, "
                   "r.warnings, r.missing, r.message FROM sync_runs r WHERE 1 = 1" +
                       filter +
                       " AND (SELECT COUNT(*) FROM sync_runs n WHERE n.connector = r.connector AND n.stream = r.stream"
                       " AND n.id > r.id) < ? ORDER BY r.connector, r.stream, r.id DESC",
                   params);
}

Table AdminQueries::open_rejections(const std::optional<std::string>& connector) {
  std::vector<Param> params;
  const std::string filter = connector_filter(connector, params);
  return run_table(conn(),
                   {"connector", "stream", "remote_id", "external_code", "reason", "existing_owner", "incoming_owner",
                    "times_seen", "first_seen", "last_seen", "message"},
                   "SELECT connector, stream, remote_id, external_code, reason, existing_owner, incoming_owner, "
                   "times_seen, first_seen, last_seen, message FROM sync_rejections WHERE resolved_at IS NULL" +
                       filter + " ORDER BY first_seen, id",
                   params);
}

Table AdminQueries::parked_records(const std::optional<std::string>& connector) {
  std::vector<Param> params;
  const std::string filter = connector_filter(connector, params);
  return run_table(conn(), {"connector", "stream", "remote_id", "waits_for", "parked_at"},
                   "SELECT connector, stream, remote_id, waits_for, parked_at FROM sync_parked WHERE 1 = 1" + filter +
                       " ORDER BY parked_at, connector, stream, remote_id",
                   params);
}

OpenCounts AdminQueries::open_counts(const std::string& connector, const std::string& stream) {
  Connection& c = conn();
  const std::vector<Param> key = {Param::str(connector), Param::str(stream)};
  OpenCounts n;
  n.rejections = count(c, "SELECT COUNT(*) FROM sync_rejections WHERE resolved_at IS NULL AND connector = ? AND stream = ?", key);
  n.parked = count(c, "SELECT COUNT(*) FROM sync_parked WHERE connector = ? AND stream = ?", key);
  return n;
}

namespace {

// The carts abandoned_carts() lists (the carts table is `c`).
constexpr const char* kAbandoned =
    " WHERE c.channel = ? AND c.is_active = 1 AND c.items_count > 0 AND c.updated_at < ?";

// "2.0000" (PostgreSQL, MariaDB) or "2" (SQLite) → "2".
std::string decimal_shown(const std::optional<std::string>& v) {
  if (!v) return "-";
  auto exact = core::exact_decimal(*v);
  return exact ? *exact : *v;
}

}  // namespace

Table AdminQueries::abandoned_carts(const std::string& connector, const std::string& updated_before) {
  Connection& c = conn();
  const std::vector<Param> params = {Param::str(connector), Param::ts(updated_before)};
  Table t{{"account_code", "account", "customer", "email", "items", "subtotal", "currency", "updated_at", "cart"}, {}};
  std::vector<std::string> ids;  // carts.id, as text for sql::chunks
  for (Row& r : c.query("SELECT a.external_code, a.name, cu.remote_id, c.customer_email, c.subtotal, c.currency, "
                        "c.updated_at, c.remote_id, c.id FROM carts c LEFT JOIN accounts a ON a.id = c.account_id "
                        "LEFT JOIN customers cu ON cu.id = c.customer_id" +
                            std::string(kAbandoned) +
                            " ORDER BY CASE WHEN c.account_id IS NULL THEN 1 ELSE 0 END, a.name, c.account_id, "
                            "c.updated_at, c.id",
                        params)) {
    ids.push_back(std::to_string(to_i64(r[8])));
    t.rows.push_back(Row{r[0], r[1], r[2], r[3], std::nullopt, decimal_shown(r[4]), r[5], r[6], r[7]});
  }
  // The items of those carts, in the order they were written.
  std::map<std::int64_t, std::string> items;
  for (const auto& part : sql::chunks(ids, 500)) {
    std::vector<Param> in;
    for (const std::string& id : part) in.push_back(Param::i64(std::stoll(id)));
    for (const Row& r : c.query("SELECT cart_id, sku, qty FROM cart_items WHERE cart_id IN (" + sql::marks(part.size()) +
                                    ") ORDER BY cart_id, id",
                                in)) {
      std::string& text = items[to_i64(r[0])];
      text += (text.empty() ? "" : ", ") + r[1].value_or("?") + " x" + decimal_shown(r[2]);
    }
  }
  for (std::size_t i = 0; i < ids.size(); ++i) t.rows[i][4] = items[std::stoll(ids[i])];
  return t;
}

std::vector<std::string> AdminQueries::cart_channels() {
  std::vector<std::string> out;
  for (const Row& r : conn().query("SELECT DISTINCT channel FROM carts ORDER BY channel")) out.push_back(r[0].value_or(""));
  return out;
}

std::int64_t AdminQueries::abandoned_cart_count(const std::string& connector, const std::string& updated_before) {
  return count(conn(), "SELECT COUNT(*) FROM carts c" + std::string(kAbandoned),
               {Param::str(connector), Param::ts(updated_before)});
}

int AdminQueries::schema_version() { return odbc::schema_version(conn()); }

std::int64_t AdminQueries::resync_cursors(const std::string& connector, const std::optional<std::string>& since) {
  Connection& c = conn();
  // CURSOR is a reserved word on MariaDB: the column name comes quoted per dialect.
  return c.exec("UPDATE sync_cursors SET " + std::string(sql_dialect(c.dialect()).cursor_column()) +
                    " = ?, content_hash = NULL WHERE connector = ?",
                   {Param::str(since.value_or("")), Param::str(connector)});
}

std::pair<std::int64_t, std::int64_t> AdminQueries::purge_retention(const std::string& runs_before,
                                                                    const std::string& rejections_before) {
  Connection& c = conn();
  const std::int64_t runs = c.exec(
      "DELETE FROM sync_runs WHERE status <> 'running' AND finished_at IS NOT NULL AND finished_at < ?",
      {Param::ts(runs_before)});
  const std::int64_t rejections = c.exec(
      "DELETE FROM sync_rejections WHERE resolved_at IS NOT NULL AND resolved_at < ?", {Param::ts(rejections_before)});
  return {runs, rejections};
}

std::int64_t AdminQueries::drop_parked(const std::optional<std::string>& connector) {
  std::vector<Param> params;
  const std::string filter = connector_filter(connector, params);
  return conn().exec("DELETE FROM sync_parked WHERE 1 = 1" + filter, params);
}

bool AdminQueries::rename_connector(const std::string& from, const std::string& to, std::string& why) {
  Connection& c = conn();
  const auto taken = c.scalar(
      "SELECT (SELECT COUNT(*) FROM sync_cursors WHERE connector = ?) + (SELECT COUNT(*) FROM bindings WHERE connector = ?)",
      {Param::str(to), Param::str(to)});
  if (taken && *taken != "0") {
    why = "connector '" + to + "' already has cursors or bindings in this database";
    return false;
  }
  c.set_autocommit(false);
  try {
    for (const char* table : {"sync_cursors", "bindings", "sync_rejections", "sync_parked", "sync_runs", "sync_leases"})
      c.exec(std::string("UPDATE ") + table + " SET connector = ? WHERE connector = ?", {Param::str(to), Param::str(from)});
    c.exec("UPDATE customers SET channel = ? WHERE channel = ?", {Param::str(to), Param::str(from)});
    c.exec("UPDATE orders SET channel = ? WHERE channel = ?", {Param::str(to), Param::str(from)});
    c.exec("UPDATE carts SET channel = ? WHERE channel = ?", {Param::str(to), Param::str(from)});
    c.commit();
  } catch (...) {
    c.rollback();
    c.set_autocommit(true);
    throw;
  }
  c.set_autocommit(true);
  return true;
}

MergeResult AdminQueries::merge_accounts(std::int64_t from, std::int64_t into, bool dry_run) {
  return odbc::merge_accounts(conn(), from, into, dry_run);
}

std::optional<AccountGroup> AdminQueries::account_group(const std::string& code) {
  return load_account_group(conn(), code);
}

}  // namespace erpsync::connectors::odbc
