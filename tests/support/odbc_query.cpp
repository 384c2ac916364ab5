#include "support/odbc_query.hpp"

#include <sql.h>
#include <sqlext.h>

#include <stdexcept>

namespace erpsync::testing {
namespace {

std::string diag(SQLSMALLINT type, SQLHANDLE h) {
  SQLCHAR state[6] = {0}, text[1024] = {0};
  SQLINTEGER native = 0;
  SQLSMALLINT len = 0;
  if (SQLGetDiagRec(type, h, 1, state, &native, text, sizeof text, &len) == SQL_SUCCESS)
    return std::string(reinterpret_cast<char*>(state)) + ": " + reinterpret_cast<char*>(text);
  return "unknown ODBC error";
}

struct Handles {
  SQLHENV env = SQL_NULL_HENV;
  SQLHDBC dbc = SQL_NULL_HDBC;
  SQLHSTMT stmt = SQL_NULL_HSTMT;
  bool connected = false;
  ~Handles() {
    if (stmt) SQLFreeHandle(SQL_HANDLE_STMT, stmt);
    if (connected) SQLDisconnect(dbc);
    if (dbc) SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    if (env) SQLFreeHandle(SQL_HANDLE_ENV, env);
  }
};

}  // namespace

std::vector<Row> odbc_query(const std::string& connection, const std::string& sql) {
  Handles h;
  SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &h.env);
  SQLSetEnvAttr(h.env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
  SQLAllocHandle(SQL_HANDLE_DBC, h.env, &h.dbc);
  std::string cs = connection;
  SQLRETURN rc = SQLDriverConnect(h.dbc, nullptr, reinterpret_cast<SQLCHAR*>(cs.data()), SQL_NTS, nullptr, 0,
                                  nullptr, SQL_DRIVER_NOPROMPT);
  if (!SQL_SUCCEEDED(rc)) throw std::runtime_error("connect failed: " + diag(SQL_HANDLE_DBC, h.dbc));
  h.connected = true;
  SQLAllocHandle(SQL_HANDLE_STMT, h.dbc, &h.stmt);
  std::string q = sql;
  rc = SQLExecDirect(h.stmt, reinterpret_cast<SQLCHAR*>(q.data()), SQL_NTS);
  if (rc == SQL_NO_DATA) return {};
  if (!SQL_SUCCEEDED(rc)) throw std::runtime_error("query failed: " + diag(SQL_HANDLE_STMT, h.stmt) + " in: " + sql);
  SQLSMALLINT cols = 0;
  SQLNumResultCols(h.stmt, &cols);
  std::vector<Row> rows;
  while (cols > 0 && SQL_SUCCEEDED(SQLFetch(h.stmt))) {
    Row row;
    for (SQLUSMALLINT c = 1; c <= static_cast<SQLUSMALLINT>(cols); ++c) {
      std::string value;
      char buf[4096];
      SQLLEN ind = 0;
      bool is_null = false;
      for (;;) {
        rc = SQLGetData(h.stmt, c, SQL_C_CHAR, buf, sizeof buf, &ind);
        if (rc == SQL_NO_DATA) break;
        if (!SQL_SUCCEEDED(rc)) throw std::runtime_error("fetch failed: " + diag(SQL_HANDLE_STMT, h.stmt));
        if (ind == SQL_NULL_DATA) { is_null = true; break; }
        const std::size_t got = (ind == SQL_NO_TOTAL || ind >= static_cast<SQLLEN>(sizeof buf)) ? sizeof buf - 1
                                                                                              : static_cast<std::size_t>(ind);
        value.append(buf, got);
        if (rc == SQL_SUCCESS) break;
      }
      row.push_back(is_null ? std::nullopt : std::optional<std::string>(value));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string odbc_scalar(const std::string& connection, const std::string& sql) {
  auto rows = odbc_query(connection, sql);
  if (rows.empty() || rows[0].empty()) throw std::runtime_error("no row from: " + sql);
  return rows[0][0].value_or("");
}

std::vector<std::string> odbc_tables(const std::string& connection, Engine engine) {
  const char* q = engine == Engine::sqlite ? "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                       "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                  : engine == Engine::mariadb
                      ? "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1"
                      : "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                        "ORDER BY 1";
  std::vector<std::string> out;
  for (const auto& row : odbc_query(connection, q)) out.push_back(row.at(0).value_or(""));
  return out;
}

}  // namespace erpsync::testing
