// MariaDB's (and MySQL's) SQL and quirks, through Connector/ODBC (see dialect.hpp for what each
// piece is for).
#include <cstdio>
#include <span>
#include <tuple>

#include "connectors/odbc/connection_text.hpp"
#include "connectors/odbc/dialect.hpp"
#include "connectors/odbc/session.hpp"
#include "connectors/odbc/sql_text.hpp"

namespace erpsync::connectors::odbc {
namespace {

// The first MariaDB server version with COM_STMT_BULK_EXECUTE.
constexpr unsigned kBulkSince[] = {10, 2, 7};

// The generated normalised-name column (see migrations.hpp): lower-cased, blanks removed.
constexpr std::string_view kNameKey =
    "VARCHAR(255) AS (LOWER(REPLACE(REPLACE(REPLACE(REPLACE(name, ' ', ''), CHAR(9 USING utf8mb4), ''), "
    "CHAR(10 USING utf8mb4), ''), CHAR(13 USING utf8mb4), ''))) STORED";

// Whether the server runs a parameter array as one bulk command (MariaDB 10.2.7 and later).
// Connector/ODBC executes an array row by row on any other server (MySQL), slower than one
// multi-row VALUES statement.
bool runs_bulk_commands(const Connection& conn) {
  if (!icontains(conn.dbms_name(), "mariadb") && !icontains(conn.dbms_version(), "mariadb")) return false;
  unsigned major = 0, minor = 0, patch = 0;
  if (std::sscanf(conn.dbms_version().c_str(), "%u.%u.%u", &major, &minor, &patch) < 2) return false;
  return std::tie(major, minor, patch) >= std::tie(kBulkSince[0], kBulkSince[1], kBulkSince[2]);
}

class MariadbDialect final : public SqlDialect {
 public:
  std::string_view name() const override { return "mariadb"; }

  bool names_driver(std::string_view driver) const override {
    return icontains(driver, "mariadb") || icontains(driver, "mysql") || icontains(driver, "maodbc");
  }
  bool names_dbms(std::string_view dbms) const override {
    return icontains(dbms, "mariadb") || icontains(dbms, "mysql");
  }

  // OPTION=2 (CLIENT_FOUND_ROWS): an UPDATE reports matched rows, as PostgreSQL and SQLite do;
  // the cursor upsert and lease renewal count on it.
  std::string prepare_connection_string(std::string_view conn) const override {
    if (!connection_string_value(conn, "OPTION") && !connection_string_value(conn, "OPTIONS"))
      return append_attr(conn, "OPTION=2");
    return std::string(conn);
  }

  // MariaDB says 23000 for every integrity error: the native code tells a duplicate key.
  std::optional<ErrorClass> classify(const Diagnostic& d) const override {
    const std::string& st = d.sqlstate;
    if ((st == "23000" || st == "HY000") && (d.native == 1062 || d.native == 1586 || d.native == 1022))
      return ErrorClass::unique_violation;
    if (d.native == 2002 || d.native == 2003 || d.native == 2006 || d.native == 2013 || d.native == 1053 ||
        d.native == 1927 || d.native == 4031)
      return ErrorClass::connection_lost;
    if (d.native == 1205 || d.native == 1213) return ErrorClass::lock_timeout;
    return std::nullopt;
  }

  // The store's reads bind up to sql::kInChunk (1,000) keys in an IN list. MariaDB then turns a
  // list of 1,000 values or more into a subquery over a table of values
  // (in_predicate_conversion_threshold), and estimates a list of more than 200 from index
  // statistics instead of looking (eq_range_index_dive_limit): during a first sync those
  // estimates chose the index of accounts without a parent (half the table) for the pending
  // children's lookup, 50-80 ms a batch instead of under 1 ms (bench --profile, 100k records).
  // Looking up every value keeps each lookup on the index it names. A server without the first
  // setting (MySQL) keeps its default.
  void configure_session(Connection& conn) const override {
    conn.set_parameter_arrays(runs_bulk_commands(conn));
    conn.exec_direct("SET SESSION eq_range_index_dive_limit = 0");
    try {
      conn.exec_direct("SET SESSION in_predicate_conversion_threshold = 0");
    } catch (const OdbcError&) {
    }
  }

  // Ids: BIGINT AUTO_INCREMENT (InnoDB persists the counter since 10.2.4). Codes, remote ids,
  // names and owners compare exactly: utf8mb4_bin. Timestamps: DATETIME(3), UTC.
  const std::map<std::string_view, std::string_view>& ddl_placeholders() const override {
    static const std::map<std::string_view, std::string_view> m = {
        {"{id}", "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY"},
        {"{ts}", "DATETIME(3)"},
        {"{now}", "(UTC_TIMESTAMP(3))"},
        {"{bin}", " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"},
        {"{text}", "MEDIUMTEXT"},
        {"{opts}", " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"},
        {"{name_key}", kNameKey},
        {"{dec}", "DECIMAL(20,4)"},
        {"{cursor}", "`cursor`"},
        {"{if_not_exists}", " IF NOT EXISTS"}};
    return m;
  }
  bool has_partial_indexes() const override { return false; }
  std::string_view table_exists_sql() const override {
    return "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?";
  }
  std::string_view columns_sql() const override {
    return "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?";
  }
  std::string_view cursor_column() const override { return "`cursor`"; }

  std::string_view now_sql() const override { return "UTC_TIMESTAMP(3)"; }
  std::string_view now_plus_sql() const override { return "(UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND)"; }
  Param interval_param(std::chrono::milliseconds d) const override { return Param::i64(d.count() * 1000); }
  std::string_view lock_row_suffix() const override { return " FOR UPDATE"; }

  // Rows whose ids are needed: multi-row VALUES with RETURNING id (10.5+), ids in VALUES order.
  // Rows without: parameter arrays of one row of markers (insert_by_arrays), where the
  // connection takes them; multi-row VALUES otherwise.
  std::vector<core::EntityId> insert_rows(Session& s, const std::string& table, const std::vector<std::string>& cols,
                                          const std::vector<std::vector<Param>>& rows, bool with_ids) const override {
    if (with_ids) return insert_returning_ids(s, table, cols, rows);
    std::size_t done = 0;
    if (s.connection().parameter_arrays()) done = insert_by_arrays(s, table, cols, rows);
    if (done < rows.size()) insert_values(s, table, cols, rows, done);
    return {};
  }

 private:
  static std::vector<core::EntityId> insert_returning_ids(Session& s, const std::string& table,
                                                          const std::vector<std::string>& cols,
                                                          const std::vector<std::vector<Param>>& rows) {
    std::vector<core::EntityId> ids;
    sql::each_values_insert(table, cols, rows, sql::kMaxParamsPerStatement,
                            [&](const std::string& sql, const std::vector<Param>& params, std::size_t n) {
                              for (core::EntityId id : s.returning_ids(table, sql, params, n)) ids.push_back(id);
                            });
    return ids;
  }

  // rows[from..] as multi-row VALUES statements of up to sql::kMaxParamsPerStatement parameters.
  static void insert_values(Session& s, const std::string& table, const std::vector<std::string>& cols,
                            const std::vector<std::vector<Param>>& rows, std::size_t from) {
    auto run = [&](const std::string& sql, const std::vector<Param>& params, std::size_t) { s.exec(sql, params); };
    if (from == 0) return sql::each_values_insert(table, cols, rows, sql::kMaxParamsPerStatement, run);
    const std::vector<std::vector<Param>> rest(rows.begin() + static_cast<std::ptrdiff_t>(from), rows.end());
    sql::each_values_insert(table, cols, rest, sql::kMaxParamsPerStatement, run);
  }

  // Inserts rows in array executions of up to sql::kInChunk rows (and sql::kMaxArrayBytes) and
  // returns how many it inserted: all of them, or, when the driver refuses an array (then the
  // connection stops trying), those before the refused one. Connector/ODBC sends each array to
  // a MariaDB server as one bulk command (COM_STMT_BULK_EXECUTE): one statement of a few
  // markers to bind and parse instead of one of up to 3,000 markers.
  static std::size_t insert_by_arrays(Session& s, const std::string& table, const std::vector<std::string>& cols,
                                      const std::vector<std::vector<Param>>& rows) {
    const std::string sql = sql::single_row_insert(table, cols);
    const std::size_t done = sql::each_array(
        rows, sql::kInChunk, [&](std::span<const std::vector<Param>> part) { return s.exec_array(sql, part); });
    if (done < rows.size()) s.connection().set_parameter_arrays(false);
    return done;
  }
};

}  // namespace

const SqlDialect& mariadb_dialect() {
  static const MariadbDialect d;
  return d;
}

}  // namespace erpsync::connectors::odbc
