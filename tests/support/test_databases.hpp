#pragma once
// Throwaway databases for the ODBC integration tests: one fresh, empty database per test on
// SQLite (a temp file), PostgreSQL and MariaDB (a new database on the server named by
// ODBC_PG / ODBC_MARIADB, as scripts/test-dbs-start.sh writes them to its env file).
// An engine that is not configured, or whose ODBC driver is missing, is reported as a skip
// reason, never as a pass.
//
// Thread-safety: one test at a time per object.

#include <memory>
#include <string>
#include <string_view>

namespace erpsync::testing {

enum class Engine { sqlite, postgresql, mariadb };
std::string_view engine_name(Engine e);

class TempDatabase {
 public:
  // A fresh database, or nullptr with `skip_reason` set (variable unset, driver missing,
  // server unreachable).
  static std::unique_ptr<TempDatabase> create(Engine engine, std::string& skip_reason);
  ~TempDatabase();  // drops the database (removes the file)
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  Engine engine() const { return engine_; }
  // Connection string of the fresh database (holds the test password: never log it unredacted).
  const std::string& connection_string() const { return conn_; }
  const std::string& name() const { return name_; }

 private:
  TempDatabase(Engine e, std::string conn, std::string admin, std::string name)
      : engine_(e), conn_(std::move(conn)), admin_(std::move(admin)), name_(std::move(name)) {}
  Engine engine_;
  std::string conn_;   // the fresh database
  std::string admin_;  // the configured one, used to create and drop (PG, MariaDB)
  std::string name_;   // database name, or the SQLite file path
};

// Runs one statement on a connection string with the raw ODBC API (no erpsync code involved).
// Returns an error text, empty on success.
std::string run_sql(const std::string& conn, const std::string& sql);

}  // namespace erpsync::testing
