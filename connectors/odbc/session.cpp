#include "connectors/odbc/session.hpp"

namespace erpsync::connectors::odbc {

Statement& StatementCache::get(const std::string& sql) {
  auto& st = map_[sql];
  if (!st) st = std::make_unique<Statement>(c_);
  return *st;
}

Statement& Session::run(const std::string& sql, const std::vector<Param>& params) {
  Statement& st = cache_.get(sql);
  st.execute(sql, params);
  return st;
}

std::int64_t Session::exec(const std::string& sql, const std::vector<Param>& params) {
  return run(sql, params).row_count();
}

std::vector<Row> Session::query(const std::string& sql, const std::vector<Param>& params) {
  auto& st = run(sql, params);
  std::vector<Row> rows;
  while (auto r = st.fetch()) rows.push_back(std::move(*r));
  st.close_cursor();
  return rows;
}

std::vector<core::EntityId> Session::returning_ids(const std::string& table, const std::string& sql,
                                                   const std::vector<Param>& params, std::size_t n) {
  auto got = query(sql + " RETURNING id", params);
  if (got.size() != n)
    throw OdbcError(ErrorClass::other,
                    "INSERT INTO " + table + " returned " + std::to_string(got.size()) + " ids for " +
                        std::to_string(n) + " rows",
                    {});
  std::vector<core::EntityId> ids;
  ids.reserve(n);
  for (const auto& r : got) ids.push_back(to_i64(r[0]));
  return ids;
}

}  // namespace erpsync::connectors::odbc
