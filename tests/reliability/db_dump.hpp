#pragma once
// A canonical dump of what a sync leaves in the database, for the reliability tests' oracle
// ("the database equals what an uninterrupted run gives"): per table, one text line per row,
// sorted, with database ids and timestamps left out and every id replaced by the natural key
// it stands for (an account's parent by its External Code, a customer's account by its code,
// a binding's entity by the entity's key). Multiplicity is kept, so a duplicated row shows.
//
// Left out on purpose, because an interrupted run legitimately differs there: sync_runs (a
// killed run leaves an `aborted` row), sync_rejections.times_seen / first_seen / last_seen
// (a record seen again after a restart is counted again: bookkeeping, not data),
// bindings.missing_since's value (only whether it is set).
//
// Thread-safety: free functions, no shared state.

#include <map>
#include <string>
#include <vector>

#include "reference_store/memory_store.hpp"
#include "support/odbc_query.hpp"

namespace erpsync::testing {

// One ODBC connection kept open for many queries (opening one per query costs ~100 ms on
// PostgreSQL, which the fault scenarios would pay thousands of times). Reconnects once when
// its connection was lost.
class SqlSession {
 public:
  explicit SqlSession(std::string connection);
  ~SqlSession();
  SqlSession(const SqlSession&) = delete;
  SqlSession& operator=(const SqlSession&) = delete;
  // Executes `sql` (no parameters) and returns its rows (NULL → nullopt); throws
  // std::runtime_error with the driver's diagnostics.
  std::vector<Row> query(const std::string& sql);

 private:
  void connect();
  void disconnect();
  std::vector<Row> run(const std::string& sql);
  std::string connection_;
  void* env_ = nullptr;
  void* dbc_ = nullptr;
};

// table name → sorted rows.
using Dump = std::map<std::string, std::vector<std::string>>;

// Reads the dump through plain ODBC (tests/support/odbc_query), independently of OdbcStore.
Dump dump_database(const std::string& connection);
Dump dump_database(SqlSession& session);

// The same dump, built from a MemoryStore's tables.
Dump dump_memory_store(const core::MemoryStore& store);

// Empty when equal; else a readable description of the first differences per table.
std::string dump_diff(const Dump& expected, const Dump& actual, std::size_t max_lines = 8);

// Lines (of any table) that occur more than once: duplicates that no table should have.
std::vector<std::string> duplicate_rows(const Dump& dump);

// Number of rows of `table` in the dump.
std::size_t rows_of(const Dump& dump, const std::string& table);

}  // namespace erpsync::testing
