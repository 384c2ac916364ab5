#pragma once
// SqlDialect: everything that differs between the SQL engines the store speaks, one
// implementation per engine, each in its own file with that engine's SQL text and quirks:
//
//   dialect_sqlite.cpp      SQLite through sqliteodbc
//   dialect_postgresql.cpp  PostgreSQL through psqlODBC
//   dialect_mariadb.cpp     MariaDB (and MySQL) through Connector/ODBC
//
// The rest of connectors/odbc writes portable SQL and asks sql_dialect(conn.dialect()) for the
// parts that are not: how a connection string is completed and a diagnostic classified, session
// settings, the DDL types of the schema, the server's clock and row locks (leases), how rows are
// inserted in bulk and how a list of keys is bound, and the planner hints of a few reads.
//
// Dialects are stateless singletons: safe from any thread.

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/odbc/odbc.hpp"
#include "core/state.hpp"

namespace erpsync::connectors::odbc {

class Session;  // session.hpp

class SqlDialect {
 public:
  virtual ~SqlDialect() = default;
  SqlDialect() = default;
  SqlDialect(const SqlDialect&) = delete;
  SqlDialect& operator=(const SqlDialect&) = delete;

  virtual std::string_view name() const = 0;  // "sqlite", "postgresql", "mariadb"

  // --- Connecting -------------------------------------------------------------------------
  // True when a Driver= value names this engine's driver.
  virtual bool names_driver(std::string_view driver) const = 0;
  // True when SQLGetInfo(SQL_DBMS_NAME) names this engine.
  virtual bool names_dbms(std::string_view dbms_name) const = 0;
  // `conn` with the settings the store relies on added where it does not set them (see
  // odbc.hpp's prepare_connection_string).
  virtual std::string prepare_connection_string(std::string_view conn) const = 0;
  // This engine's reading of one diagnostic, after the SQLSTATE rules every engine shares
  // (classify() in odbc.cpp); nullopt when it has none.
  virtual std::optional<ErrorClass> classify(const Diagnostic& d) const = 0;
  // Settings of every new connection of the store.
  virtual void configure_session(Connection& /*conn*/) const {}

  // --- Schema (migrations.cpp) ------------------------------------------------------------
  // The values of the DDL placeholders ({id}, {ts}, {now}, {bin}, {text}, {opts}, {name_key},
  // {dec}, {cursor}, {if_not_exists}; see migrations.cpp).
  virtual const std::map<std::string_view, std::string_view>& ddl_placeholders() const = 0;
  // Partial indexes (CREATE INDEX ... WHERE ...).
  virtual bool has_partial_indexes() const = 0;
  // "SELECT 1 ... WHERE <table named by the one parameter exists in the current schema>".
  virtual std::string_view table_exists_sql() const = 0;
  // The names of the columns of the table (or view) named by the one parameter, one row each
  // (none when it does not exist), generated columns included.
  virtual std::string_view columns_sql() const = 0;
  // sync_cursors.cursor, quoted (CURSOR is a reserved word in MariaDB).
  virtual std::string_view cursor_column() const = 0;

  // --- The server's clock and row locks (leases.cpp) ---------------------------------------
  // The server's UTC now, in the form timestamps are stored in.
  virtual std::string_view now_sql() const = 0;
  // The server's UTC now plus one bound parameter, interval_param(d).
  virtual std::string_view now_plus_sql() const = 0;
  virtual Param interval_param(std::chrono::milliseconds d) const = 0;
  // Appended to a SELECT of one row inside a transaction to lock it until COMMIT ("" where the
  // transaction's write lock covers it already).
  virtual std::string_view lock_row_suffix() const = 0;

  // --- Binding in bulk ---------------------------------------------------------------------
  // Inserts `rows` (each holding one value per column of `cols`) into `table` with as few
  // statements as this engine takes well; returns the generated ids in row order when
  // `with_ids`. Throws OdbcError.
  virtual std::vector<core::EntityId> insert_rows(Session& s, const std::string& table,
                                                  const std::vector<std::string>& cols,
                                                  const std::vector<std::vector<Param>>& rows,
                                                  bool with_ids) const = 0;
  // The statement for `sql_head` (ending in "column IN ") and the keys in params[fixed..]
  // (integers when `as_int`, text otherwise); may rewrite params[fixed..]. Unless a dialect
  // binds them otherwise: an IN list padded to one of a few lengths (sql::padded_in_list).
  virtual std::string key_list(std::string_view sql_head, std::vector<Param>& params, std::size_t fixed,
                               bool as_int) const;

  // --- Transactions and statistics -----------------------------------------------------------
  // Whether the dry run releases its per-batch savepoint after a batch succeeded.
  virtual bool releases_batch_savepoint() const { return true; }
  // Whether the planner needs fresh statistics while a first sync fills the tables, and the
  // refresh itself, outside a transaction (see OdbcStore::analyze_grown_tables). Throws OdbcError.
  virtual bool analyzes_grown_tables() const { return false; }
  virtual void analyze_grown_tables(Connection& /*conn*/) const {}
  // Whether reading the next batch's state over a second connection while a batch is written
  // (OdbcStore::look_ahead) pays on this engine, unless the store's options say otherwise.
  virtual bool reads_ahead_pays() const { return true; }

  // --- Planner hints of the erpsync schema's reads ----------------------------------------------
  // Put before `r.resolved_at IS NULL` in quiet_select()'s open-rejection probe.
  virtual std::string_view open_rejection_probe_hint() const { return {}; }
  // Put before `member_of_id IS NULL` when load_state asks for accounts waiting for codes.
  virtual std::string_view pending_children_hint() const { return {}; }
  // Put after `FROM accounts c` when QuietStream asks which accounts a child waits for.
  virtual std::string_view pending_index_hint() const { return {}; }
};

// The dialect's implementation (one static instance each).
const SqlDialect& sql_dialect(Dialect d);

// The implementations, defined in their files.
const SqlDialect& sqlite_dialect();
const SqlDialect& postgresql_dialect();
const SqlDialect& mariadb_dialect();

}  // namespace erpsync::connectors::odbc
