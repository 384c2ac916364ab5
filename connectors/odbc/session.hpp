#pragma once
// Session: the view of one transaction or one read of OdbcStore. Its statements go through the
// store's StatementCache (prepared once per distinct text and connection); bulk inserts and key
// lists follow the connection's dialect (dialect.hpp).
//
// Thread-safety: the Connection's (one thread at a time). Ownership: a Session borrows the
// connection and the cache, which outlive it.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/odbc/dialect.hpp"
#include "connectors/odbc/odbc.hpp"
#include "core/state.hpp"

namespace erpsync::connectors::odbc {

// Prepared statements by SQL text, kept across batches: PostgreSQL then parses and plans each
// text once per connection (it switches to a generic plan after five executions) instead of
// once per batch, and SQLite compiles it once. Statements are dropped after a failed
// transaction (after its rollback: psqlODBC cannot deallocate a server-side statement in an
// aborted transaction), and all at once when more than kMaxStatements texts accumulate.
class StatementCache {
 public:
  static constexpr std::size_t kMaxStatements = 128;
  explicit StatementCache(Connection& c) : c_(c) {}
  Statement& get(const std::string& sql);
  void clear() noexcept { map_.clear(); }
  void trim() noexcept {
    if (map_.size() > kMaxStatements) map_.clear();
  }

 private:
  Connection& c_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> map_;
};

class Session {
 public:
  Session(Connection& c, StatementCache& cache) : c_(c), cache_(cache), dialect_(sql_dialect(c.dialect())) {}
  Connection& connection() { return c_; }
  const SqlDialect& dialect() const { return dialect_; }

  // Executes `sql` with `params` on its cached statement and returns that statement.
  Statement& run(const std::string& sql, const std::vector<Param>& params);
  // The affected row count.
  std::int64_t exec(const std::string& sql, const std::vector<Param>& params);
  // Every row.
  std::vector<Row> query(const std::string& sql, const std::vector<Param>& params);
  // Statement::execute_array on `sql`'s cached statement: false when the driver refuses
  // parameter arrays (nothing ran).
  bool exec_array(const std::string& sql, std::span<const std::vector<Param>> rows) {
    return cache_.get(sql).execute_array(sql, rows);
  }
  // `sql` + " RETURNING id" for an INSERT of `n` rows into `table`: the ids in row order.
  // Throws OdbcError when it returns another number of ids.
  std::vector<core::EntityId> returning_ids(const std::string& table, const std::string& sql,
                                            const std::vector<Param>& params, std::size_t n);

  // Inserts `rows` (each holding one value per column) the dialect's way and returns the
  // generated ids in row order when `with_ids`.
  std::vector<core::EntityId> insert(const std::string& table, const std::vector<std::string>& cols,
                                     const std::vector<std::vector<Param>>& rows, bool with_ids) {
    if (rows.empty()) return {};
    return dialect_.insert_rows(*this, table, cols, rows, with_ids);
  }

 private:
  Connection& c_;
  StatementCache& cache_;
  const SqlDialect& dialect_;
};

}  // namespace erpsync::connectors::odbc
