#include "connectors/odbc/admin_queries.hpp"

#include "connectors/odbc/dialect.hpp"
#include "connectors/odbc/leases.hpp"
#include "connectors/odbc/migrations.hpp"
#include "connectors/odbc/odbc_store.hpp"

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
