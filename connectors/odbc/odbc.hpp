#pragma once
// The ODBC layer under OdbcStore: RAII handles (environment, connection, statement),
// diagnostics turned into errors that carry SQLSTATE, native code and message and are
// classified per dialect, connection-string preparation and redaction, and a small
// parameter/row model (every value is bound as a parameter; no SQL is built from data).
//
// Thread-safety: a Connection and its Statements are used by one thread at a time.
// Ownership: a Statement must not outlive the Connection it was made from.

#include <sql.h>
#include <sqlext.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/odbc/table_names.hpp"
#include "core/errors.hpp"

namespace erpsync::connectors::odbc {

// The SQL dialects the store speaks. Detected from SQLGetInfo(SQL_DBMS_NAME) after connecting,
// never configured. What differs between them is in dialect.hpp (one file per dialect).
enum class Dialect { sqlite, postgresql, mariadb };
std::string_view to_string(Dialect d);

// What a failure means to the caller (see classify()).
enum class ErrorClass {
  unique_violation,  // PG 23505; MariaDB 23000 + native 1062/1586; SQLite native 19 "UNIQUE constraint failed"
  connection_lost,   // SQLSTATE 08xxx, PG 57P0x, MariaDB 2002/2003/2006/2013/1053/1927: reconnect
  lock_timeout,      // lock wait / deadlock / serialization / SQLite busy: retry the transaction
  other,
};

struct Diagnostic {
  std::string sqlstate;  // 5 characters
  std::int64_t native = 0;
  std::string message;
};

// Classifies diagnostics of `dialect` (nullopt: not connected yet, e.g. a failed connect).
// Rules come from measuring the three drivers: SQLite has no 23xxx state for constraint
// failures, psqlODBC always reports native 1, MariaDB says 23000 for every integrity error.
ErrorClass classify(std::optional<Dialect> dialect, const std::vector<Diagnostic>& diags);

// A failed ODBC call. It is a core::SyncError (transient for lost connections and lock
// timeouts, permanent otherwise), so nothing above the store sees an ODBC code; the SQLSTATE,
// native code and message stay available for logs and tests. The message never holds a
// password (connection strings are redacted).
class OdbcError : public core::SyncError {
 public:
  OdbcError(ErrorClass cls, const std::string& context, std::vector<Diagnostic> diags);
  ErrorClass error_class() const { return class_; }
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  std::string sqlstate() const { return diags_.empty() ? std::string() : diags_.front().sqlstate; }
  std::int64_t native_code() const { return diags_.empty() ? 0 : diags_.front().native; }

 private:
  ErrorClass class_;
  std::vector<Diagnostic> diags_;
};

// Hides the values of Pwd= and Password= (any case, braced values included): "Pwd=***".
std::string redact_connection_string(std::string_view conn);

// The value of `key` (case-insensitive) in an ODBC connection string, braces removed.
std::optional<std::string> connection_string_value(std::string_view conn, std::string_view key);

// Adds the settings the store relies on for `dialect` when the string does not set them:
//   PostgreSQL: CommLog=0 (Debian's odbcinst.ini turns psqlODBC's /tmp log on) and
//               Protocol=7.4-0 (no per-statement savepoints: half the round trips; an error
//               aborts the transaction, which the store rolls back anyway);
//   SQLite:     Timeout=10000 (sqliteodbc's default busy wait is 100 s, doubled);
//   MariaDB:    OPTION=2 (CLIENT_FOUND_ROWS: an UPDATE reports matched rows, as PG and SQLite do).
std::string prepare_connection_string(std::string_view conn, Dialect dialect);

// The dialect a `Driver=` names (PostgreSQL / MariaDB / MySQL / SQLite in the driver name),
// nullopt for a DSN or an unknown driver.
std::optional<Dialect> dialect_from_driver(std::string_view conn);

// The dialect of the database `conn` reaches: dialect_from_driver's when it names one, else
// the server's, asked over a short connection. Throws OdbcError when it cannot connect.
Dialect detect_dialect(const std::string& conn);

// One bound parameter. Strings are bound as SQL_C_CHAR (UTF-8), integers as SQL_C_SBIGINT.
struct Param {
  enum class Kind { text, integer, timestamp, decimal };
  Kind kind = Kind::text;
  bool is_null = false;
  std::string text;
  std::int64_t integer = 0;

  static Param str(std::string s) { return {Kind::text, false, std::move(s), 0}; }
  // Empty string → NULL.
  static Param str_or_null(std::string s) {
    bool n = s.empty();
    return {Kind::text, n, std::move(s), 0};
  }
  static Param null_str() { return {Kind::text, true, {}, 0}; }
  static Param i64(std::int64_t v) { return {Kind::integer, false, {}, v}; }
  static Param opt_i64(std::optional<std::int64_t> v) {
    return {Kind::integer, !v.has_value(), {}, v.value_or(0)};
  }
  // 'YYYY-MM-DD HH:MM:SS.mmm' UTC, the one timestamp form the store binds.
  static Param ts(std::string s) { return {Kind::timestamp, false, std::move(s), 0}; }
  static Param null_ts() { return {Kind::timestamp, true, {}, 0}; }
  // An exact decimal as text ("1234567.89").
  static Param dec(std::string s) { return {Kind::decimal, s.empty(), std::move(s), 0}; }
};

using Row = std::vector<std::optional<std::string>>;  // one fetched row; nullopt = NULL

// A fetched value as an integer (0 for NULL) and as text ("" for NULL).
inline std::int64_t to_i64(const std::optional<std::string>& v) { return v ? std::stoll(*v) : 0; }
inline std::string str(const std::optional<std::string>& v) { return v.value_or(std::string()); }

class Environment {
 public:
  Environment();
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  SQLHENV handle() const { return h_; }

 private:
  SQLHENV h_ = SQL_NULL_HENV;
};

class Statement;

// Statements a connection has executed (prepared executions and SQLExecDirect calls), for the
// benchmark's "statements per record"; `writes` counts INSERT, UPDATE and DELETE among them.
struct StatementStats {
  std::uint64_t executed = 0;
  std::uint64_t writes = 0;
  // Only with Connection::set_profiling(true): executions and the time spent in the driver
  // (execute and fetch; "COMMIT" for commits) by the shape of each statement's text
  // (statement_shape), for the benchmark's --profile. Texts hold no data: values are bound.
  struct Time {
    std::uint64_t executed = 0;
    double seconds = 0;
  };
  std::map<std::string, Time> by_shape;
  StatementStats& operator+=(const StatementStats& o) {
    executed += o.executed;
    writes += o.writes;
    for (const auto& [shape, t] : o.by_shape) {
      by_shape[shape].executed += t.executed;
      by_shape[shape].seconds += t.seconds;
    }
    return *this;
  }
};

// A statement text shortened for a profile: every list of parameter markers "(?, ?, ...)" or
// "(?, ?), (?, ?), ..." collapsed to "(?...)", at most 100 characters.
std::string statement_shape(std::string_view sql);

// One ODBC connection. Autocommit is on after connect(); begin()/commit()/rollback() switch
// it off for the span of a transaction.
class Connection {
 public:
  explicit Connection(std::shared_ptr<Environment> env);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects with `conn` (DSN= or Driver=), detects the dialect and, when the driver needs
  // settings the string lacks (see prepare_connection_string), reconnects with them.
  // Throws OdbcError (message redacted).
  void connect(const std::string& conn);
  void disconnect() noexcept;
  bool connected() const { return connected_; }
  Dialect dialect() const { return dialect_; }
  std::string dbms_name() const { return dbms_name_; }
  // The server's version as the driver reports it (SQL_DBMS_VER), e.g. "10.11.6-MariaDB-0+deb12u1".
  std::string dbms_version() const { return dbms_version_; }
  // Whether inserts go through Statement::execute_array on this connection: set by the dialect
  // when the server runs a parameter array as one command (SqlDialect::configure_session; off
  // everywhere else), and turned off for the connection's life when the driver refuses one.
  bool parameter_arrays() const { return parameter_arrays_; }
  void set_parameter_arrays(bool on) { parameter_arrays_ = on; }
  // The names of erpsync's objects on this connection (database.table_prefix): every statement
  // text run here is rendered by them once, when it is prepared (table_names.hpp).
  void set_table_names(TableNames names) { tables_ = std::move(names); }
  const TableNames& tables() const { return tables_; }

  void set_autocommit(bool on);
  bool autocommit() const { return autocommit_; }
  void commit();
  void rollback() noexcept;  // best effort; a dead connection has nothing to roll back

  // Runs `sql` with `params`; returns the affected row count (SQLRowCount, -1 if unknown).
  std::int64_t exec(const std::string& sql, const std::vector<Param>& params = {});
  // Runs a parameterless control statement (SAVEPOINT, ROLLBACK TO ...) with SQLExecDirect:
  // no prepared plan, so it works inside a transaction PostgreSQL has marked aborted.
  void exec_direct(const std::string& sql);
  // Runs `sql` with `params` and fetches every row, each column as text.
  std::vector<Row> query(const std::string& sql, const std::vector<Param>& params = {});
  // Single value of the first row, nullopt when no row or NULL.
  std::optional<std::string> scalar(const std::string& sql, const std::vector<Param>& params = {});

  SQLHDBC handle() const { return h_; }
  const StatementStats& stats() const { return stats_; }
  // Called by Statement for every execution.
  void count_statement(bool write) {
    ++stats_.executed;
    if (write) ++stats_.writes;
  }
  // Times every execution, fetch and commit by statement shape (StatementStats::by_shape).
  void set_profiling(bool on) { profiling_ = on; }
  bool profiling() const { return profiling_; }
  void add_time(const std::string& shape, double seconds, bool execution) {
    auto& t = stats_.by_shape[shape];
    t.seconds += seconds;
    if (execution) ++t.executed;
  }
  // Builds an OdbcError from the diagnostics of `handle` and throws it.
  [[noreturn]] void raise(SQLSMALLINT type, SQLHANDLE handle, const std::string& context) const;

 private:
  // `may_be_postgresql`: the driver may be psqlODBC (named so, or not named: a DSN).
  void connect_raw(const std::string& conn, bool may_be_postgresql);
  std::shared_ptr<Environment> env_;
  SQLHDBC h_ = SQL_NULL_HDBC;
  bool connected_ = false;
  bool autocommit_ = true;
  Dialect dialect_ = Dialect::sqlite;
  bool dialect_known_ = false;
  std::string dbms_name_;
  std::string dbms_version_;
  bool parameter_arrays_ = false;
  std::string target_;  // the connection string, redacted: named in storage errors
  TableNames tables_;
  StatementStats stats_;
  bool profiling_ = false;
};

// A statement handle; binds parameters from a caller-owned vector that must stay alive and
// unchanged until execute() returns.
class Statement {
 public:
  explicit Statement(Connection& conn);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Prepares `sql` (unless it is the text prepared last), binds `params` and executes.
  void execute(const std::string& sql, const std::vector<Param>& params);
  // Executes `sql` (an INSERT, UPDATE or DELETE with one row of `?` markers) once for every row
  // of `rows` (each holding one value per marker), in one call: each parameter is bound as an
  // array of all rows' values (column-wise, SQL_ATTR_PARAMSET_SIZE = rows.size()), which
  // MariaDB Connector/ODBC sends to a MariaDB server as one bulk command. A parameter is bound
  // as integers when every row holds an integer there, else as text, typed as a timestamp or a
  // decimal when every row's value is one (as execute() binds them).
  // Counted as one (write) execution and timed as "<shape> [array]" when the connection profiles.
  // Returns false, having executed nothing, when the driver refuses parameter arrays. Throws
  // OdbcError with the driver's diagnostics when the execution or any row of it fails; rows
  // before the failing one may then be written, so the caller rolls its transaction back.
  // Afterwards the statement is back to one parameter set with nothing bound, whatever happened.
  bool execute_array(const std::string& sql, std::span<const std::vector<Param>> rows);
  std::int64_t row_count();
  // Next row, or nullopt at the end of the result set.
  std::optional<Row> fetch();
  // The same into `row`, reusing its strings' storage (long reads); false at the end.
  bool fetch_into(Row& row);
  void close_cursor() noexcept;

 private:
  [[noreturn]] void raise(const std::string& context) const;
  void prepare(const std::string& sql);  // unless `sql` is the text prepared last
  Connection& conn_;
  SQLHSTMT h_ = SQL_NULL_HSTMT;
  SQLSMALLINT columns_ = 0;
  std::vector<SQLLEN> indicators_;
  std::string sql_;
  std::string shape_;  // statement_shape(sql_) when the connection profiles
  bool prepared_ = false;
  bool write_ = false;  // sql_ is an INSERT, UPDATE or DELETE
};

// True when `sql` starts with INSERT, UPDATE or DELETE (any case, leading blanks skipped).
bool is_write_statement(std::string_view sql);

// The store's clock: UTC now as 'YYYY-MM-DD HH:MM:SS.mmm' (the one timestamp form it binds).
std::string utc_timestamp_now();

// Collects the diagnostic records of an ODBC handle.
std::vector<Diagnostic> diagnostics_of(SQLSMALLINT type, SQLHANDLE handle);

}  // namespace erpsync::connectors::odbc
