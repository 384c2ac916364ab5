#include "support/test_databases.hpp"

#include <sql.h>
#include <sqlext.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace erpsync::testing {
namespace {

std::string diag(SQLSMALLINT type, SQLHANDLE h) {
  SQLCHAR state[6] = {0}, msg[1024] = {0};
  SQLINTEGER native = 0;
  SQLSMALLINT len = 0;
  if (SQL_SUCCEEDED(SQLGetDiagRec(type, h, 1, state, &native, msg, sizeof msg, &len)))
    return std::string(reinterpret_cast<char*>(state)) + " " + reinterpret_cast<char*>(msg);
  return "unknown ODBC error";
}

// Replaces the value of Database= in an ODBC connection string (appends it when absent).
std::string with_database(const std::string& conn, const std::string& db) {
  std::string out;
  bool done = false;
  std::size_t i = 0;
  while (i < conn.size()) {
    std::size_t semi = conn.find(';', i);
    std::string part = conn.substr(i, semi == std::string::npos ? std::string::npos : semi - i);
    std::string key = part.substr(0, part.find('='));
    std::string lower;
    for (char c : key) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "database") {
      part = key + "=" + db;
      done = true;
    }
    if (!part.empty()) out += part + ";";
    if (semi == std::string::npos) break;
    i = semi + 1;
  }
  if (!done) out += "Database=" + db + ";";
  return out;
}

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d_%d_%04x", static_cast<int>(getpid()), counter++, rd() & 0xffff);
  return buf;
}

bool driver_installed(const std::string& name) {
  SQLHENV env = SQL_NULL_HENV;
  SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
  SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
  SQLCHAR desc[256], attrs[1024];
  SQLSMALLINT dl = 0, al = 0;
  bool found = false;
  SQLUSMALLINT dir = SQL_FETCH_FIRST;
  while (SQL_SUCCEEDED(SQLDrivers(env, dir, desc, sizeof desc, &dl, attrs, sizeof attrs, &al))) {
    if (name == reinterpret_cast<char*>(desc)) found = true;
    dir = SQL_FETCH_NEXT;
  }
  SQLFreeHandle(SQL_HANDLE_ENV, env);
  return found;
}

}  // namespace

std::string_view engine_name(Engine e) {
  switch (e) {
    case Engine::sqlite: return "SQLite";
    case Engine::postgresql: return "PostgreSQL";
    case Engine::mariadb: return "MariaDB";
  }
  return "?";
}

std::string run_sql(const std::string& conn, const std::string& sql) {
  SQLHENV env = SQL_NULL_HENV;
  SQLHDBC dbc = SQL_NULL_HDBC;
  SQLHSTMT st = SQL_NULL_HSTMT;
  std::string err;
  SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
  SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
  SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
  std::string c = conn;
  if (!SQL_SUCCEEDED(SQLDriverConnect(dbc, nullptr, reinterpret_cast<SQLCHAR*>(c.data()), SQL_NTS, nullptr, 0,
                                      nullptr, SQL_DRIVER_NOPROMPT))) {
    err = "connect: " + diag(SQL_HANDLE_DBC, dbc);
  } else {
    SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st);
    std::string s = sql;
    SQLRETURN rc = SQLExecDirect(st, reinterpret_cast<SQLCHAR*>(s.data()), SQL_NTS);
    if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) err = diag(SQL_HANDLE_STMT, st);
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    SQLDisconnect(dbc);
  }
  SQLFreeHandle(SQL_HANDLE_DBC, dbc);
  SQLFreeHandle(SQL_HANDLE_ENV, env);
  return err;
}

std::unique_ptr<TempDatabase> TempDatabase::create(Engine engine, std::string& skip_reason) {
  const char* hint = " (start servers with scripts/test-dbs-start.sh and source its env file)";
  if (engine == Engine::sqlite) {
    if (!driver_installed("SQLite3")) {
      skip_reason = "ODBC driver SQLite3 is not installed (Debian: libsqliteodbc)";
      return nullptr;
    }
    const char* dir_env = std::getenv("ODBC_SQLITE_DIR");
    std::filesystem::path dir = dir_env && *dir_env ? dir_env : std::filesystem::temp_directory_path();
    std::filesystem::create_directories(dir);
    std::string path = (dir / ("erpsync_t_" + unique_suffix() + ".db")).string();
    return std::unique_ptr<TempDatabase>(
        new TempDatabase(engine, "Driver=SQLite3;Database=" + path + ";Timeout=10000;", "", path));
  }
  const char* var = engine == Engine::postgresql ? "ODBC_PG" : "ODBC_MARIADB";
  const char* admin_env = std::getenv(var);
  std::string admin = admin_env ? admin_env : "";
  // Debian's odbcinst.ini turns psqlODBC's CommLog on: keep /tmp clean.
  if (engine == Engine::postgresql && !admin.empty() && admin.find("CommLog") == std::string::npos)
    admin += (admin.back() == ';' ? "" : ";") + std::string("CommLog=0;");
  if (admin.empty()) {
    skip_reason = std::string(var) + " is not set" + hint;
    return nullptr;
  }
  std::string name = "erp_t_" + unique_suffix();
  std::string sql = engine == Engine::postgresql ? "CREATE DATABASE " + name + " ENCODING 'UTF8' TEMPLATE template0"
                                                 : "CREATE DATABASE " + name + " CHARACTER SET utf8mb4";
  std::string err = run_sql(admin, sql);
  if (!err.empty()) {
    skip_reason = std::string("cannot create a test database through ") + var + ": " + err + hint;
    return nullptr;
  }
  return std::unique_ptr<TempDatabase>(new TempDatabase(engine, with_database(admin, name), admin, name));
}

TempDatabase::~TempDatabase() {
  if (engine_ == Engine::sqlite) {
    std::error_code ec;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) std::filesystem::remove(name_ + suffix, ec);
    return;
  }
  run_sql(admin_, engine_ == Engine::postgresql ? "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"
                                                : "DROP DATABASE IF EXISTS " + name_);
}

}  // namespace erpsync::testing
