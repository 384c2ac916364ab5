#include "connectors/odbc/odbc.hpp"

#include "connectors/odbc/connection_text.hpp"
#include "connectors/odbc/dialect.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <span>

namespace erpsync::connectors::odbc {
namespace {

// The time from its construction to its destruction, added to `conn`'s statement profile under
// `shape` (StatementStats::by_shape); with no shape (the connection does not profile) it reads no
// clock at all.
class DriverTimer {
 public:
  DriverTimer(Connection& conn, const std::string* shape, bool execution)
      : conn_(conn), shape_(shape), execution_(execution) {
    if (shape_) t0_ = std::chrono::steady_clock::now();
  }
  ~DriverTimer() {
    if (shape_)
      conn_.add_time(*shape_, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(),
                     execution_);
  }
  DriverTimer(const DriverTimer&) = delete;
  DriverTimer& operator=(const DriverTimer&) = delete;

 private:
  Connection& conn_;
  const std::string* shape_;
  bool execution_;
  std::chrono::steady_clock::time_point t0_;
};

// How a text-bound parameter of `kind` is described to the driver (SQL type, column size,
// decimal digits), `longest` being its longest value: timestamps as 'YYYY-MM-DD HH:MM:SS.mmm',
// decimals as DECIMAL(20,4), other text as VARCHAR. One place for single and array executions.
struct TextBinding {
  SQLSMALLINT sql_type = SQL_VARCHAR;
  SQLULEN size = 1;
  SQLSMALLINT digits = 0;
};
TextBinding text_binding(Param::Kind kind, std::size_t longest) {
  if (kind == Param::Kind::timestamp) return {SQL_TYPE_TIMESTAMP, 23, 3};
  if (kind == Param::Kind::decimal) return {SQL_DECIMAL, 20, 4};
  return {SQL_VARCHAR, std::max<SQLULEN>(longest, 1), 0};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

namespace {

// One `key=value` attribute of a connection string, as positions in the string.
struct Attr {
  std::string key;             // trimmed
  std::size_t value_begin = 0;  // raw value (with braces when braced)
  std::size_t value_end = 0;
};

// Splits "k1=v1;k2={v;2};..." into attributes. A braced value may hold ';' and '}}' for '}'.
std::vector<Attr> parse_attrs(std::string_view s) {
  std::vector<Attr> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t eq = s.find('=', i);
    std::size_t semi = s.find(';', i);
    if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
      // a token without '=': skip it
      if (semi == std::string_view::npos) break;
      i = semi + 1;
      continue;
    }
    Attr a;
    a.key = core::trimmed(s.substr(i, eq - i));
    std::size_t v = eq + 1;
    while (v < s.size() && s[v] == ' ') ++v;
    a.value_begin = v;
    if (v < s.size() && s[v] == '{') {
      std::size_t j = v + 1;
      while (j < s.size()) {
        if (s[j] == '}') {
          if (j + 1 < s.size() && s[j + 1] == '}') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      a.value_end = std::min(j + 1, s.size());
      std::size_t next = s.find(';', a.value_end);
      i = next == std::string_view::npos ? s.size() : next + 1;
    } else {
      std::size_t next = s.find(';', v);
      a.value_end = next == std::string_view::npos ? s.size() : next;
      i = next == std::string_view::npos ? s.size() : next + 1;
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string unbrace(std::string_view raw) {
  std::string v = core::trimmed(raw);
  if (v.size() >= 2 && v.front() == '{' && v.back() == '}') {
    std::string inner = v.substr(1, v.size() - 2);
    std::string out;
    for (std::size_t i = 0; i < inner.size(); ++i) {
      out += inner[i];
      if (inner[i] == '}' && i + 1 < inner.size() && inner[i + 1] == '}') ++i;
    }
    return out;
  }
  return v;
}

}  // namespace

std::string append_attr(std::string_view conn, std::string_view attr) {
  std::string s(conn);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
  if (!s.empty() && s.back() != ';') s += ';';
  s += attr;
  s += ';';
  return s;
}

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

std::string_view to_string(Dialect d) { return sql_dialect(d).name(); }

ErrorClass classify(std::optional<Dialect> dialect, const std::vector<Diagnostic>& diags) {
  for (const auto& d : diags) {
    const std::string& st = d.sqlstate;
    if (st == "23505") return ErrorClass::unique_violation;
    if (starts_with(st, "08")) return ErrorClass::connection_lost;
    if (st == "57P01" || st == "57P02" || st == "57P03") return ErrorClass::connection_lost;
    if (st == "40001" || st == "40P01" || st == "55P03" || st == "HYT00" || st == "HYT01")
      return ErrorClass::lock_timeout;
    // Each engine's own rules; all of them, in this order, before the dialect is known.
    for (Dialect x : {Dialect::mariadb, Dialect::postgresql, Dialect::sqlite})
      if (!dialect || *dialect == x)
        if (auto cls = sql_dialect(x).classify(d)) return *cls;
  }
  return ErrorClass::other;
}

namespace {
std::string describe(const std::string& context, const std::vector<Diagnostic>& diags) {
  std::string s = context;
  if (diags.empty()) return s + ": (no diagnostics)";
  for (std::size_t i = 0; i < diags.size() && i < 3; ++i) {
    s += i == 0 ? ": " : "; ";
    s += "[" + diags[i].sqlstate + "] (native " + std::to_string(diags[i].native) + ") " +
         diags[i].message;
  }
  return s;
}

core::SyncError::Kind kind_of(ErrorClass c) {
  return c == ErrorClass::connection_lost || c == ErrorClass::lock_timeout
             ? core::SyncError::Kind::transient
             : core::SyncError::Kind::permanent;
}
}  // namespace

OdbcError::OdbcError(ErrorClass cls, const std::string& context, std::vector<Diagnostic> diags)
    : core::SyncError(kind_of(cls), describe(context, diags)), class_(cls), diags_(std::move(diags)) {}

std::string redact_connection_string(std::string_view conn) {
  std::string out;
  std::size_t pos = 0;
  for (const Attr& a : parse_attrs(conn)) {
    if (iequals(a.key, "pwd") || iequals(a.key, "password")) {
      out.append(conn.substr(pos, a.value_begin - pos));
      out += "***";
      pos = a.value_end;
    }
  }
  out.append(conn.substr(pos));
  return out;
}

std::optional<std::string> connection_string_value(std::string_view conn, std::string_view key) {
  std::optional<std::string> found;
  for (const Attr& a : parse_attrs(conn))
    if (iequals(a.key, key)) found = unbrace(conn.substr(a.value_begin, a.value_end - a.value_begin));
  return found;
}

std::string prepare_connection_string(std::string_view conn, Dialect dialect) {
  return sql_dialect(dialect).prepare_connection_string(conn);
}

// Engines in the order their names are matched (a driver or server name may mention several).
constexpr Dialect kNameOrder[] = {Dialect::postgresql, Dialect::mariadb, Dialect::sqlite};

std::optional<Dialect> dialect_from_driver(std::string_view conn) {
  auto drv = connection_string_value(conn, "Driver");
  if (!drv) return std::nullopt;
  for (Dialect d : kNameOrder)
    if (sql_dialect(d).names_driver(*drv)) return d;
  return std::nullopt;
}

Dialect detect_dialect(const std::string& conn) {
  if (auto d = dialect_from_driver(conn)) return *d;
  Connection c(std::make_shared<Environment>());
  c.connect(conn);
  return c.dialect();
}

bool is_write_statement(std::string_view sql) {
  std::size_t i = sql.find_first_not_of(" \t\r\n(");
  if (i == std::string_view::npos) return false;
  sql = sql.substr(i);
  return icontains(sql.substr(0, 6), "insert") || icontains(sql.substr(0, 6), "update") ||
         icontains(sql.substr(0, 6), "delete");
}

std::string utc_timestamp_now() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms));
  return core::utc_text(now) + frac;
}

std::vector<Diagnostic> diagnostics_of(SQLSMALLINT type, SQLHANDLE handle) {
  std::vector<Diagnostic> out;
  if (handle == SQL_NULL_HANDLE) return out;
  for (SQLSMALLINT i = 1; i <= 10; ++i) {
    SQLCHAR state[6] = {0};
    SQLINTEGER native = 0;
    std::array<SQLCHAR, 2048> msg{};
    SQLSMALLINT len = 0;
    SQLRETURN rc = SQLGetDiagRec(type, handle, i, state, &native, msg.data(),
                                 static_cast<SQLSMALLINT>(msg.size()), &len);
    if (rc == SQL_NO_DATA || !SQL_SUCCEEDED(rc)) break;
    Diagnostic d;
    d.sqlstate = reinterpret_cast<char*>(state);
    d.native = native;
    d.message = reinterpret_cast<char*>(msg.data());
    while (!d.message.empty() && (d.message.back() == '\n' || d.message.back() == ' '))
      d.message.pop_back();
    out.push_back(std::move(d));
  }
  return out;
}

// ------------------------------------------------------------------ Environment

Environment::Environment() {
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &h_)))
    throw OdbcError(ErrorClass::other, "SQLAllocHandle(ENV) failed", {});
  SQLRETURN rc = SQLSetEnvAttr(h_, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
  if (!SQL_SUCCEEDED(rc)) {
    auto d = diagnostics_of(SQL_HANDLE_ENV, h_);
    SQLFreeHandle(SQL_HANDLE_ENV, h_);
    throw OdbcError(ErrorClass::other, "SQLSetEnvAttr(ODBC3) failed", std::move(d));
  }
}

Environment::~Environment() {
  if (h_ != SQL_NULL_HENV) SQLFreeHandle(SQL_HANDLE_ENV, h_);
}

// ------------------------------------------------------------------ Connection

Connection::Connection(std::shared_ptr<Environment> env) : env_(std::move(env)) {
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, env_->handle(), &h_)))
    throw OdbcError(ErrorClass::other, "SQLAllocHandle(DBC) failed",
                    diagnostics_of(SQL_HANDLE_ENV, env_->handle()));
}

Connection::~Connection() {
  disconnect();
  if (h_ != SQL_NULL_HDBC) SQLFreeHandle(SQL_HANDLE_DBC, h_);
}

namespace {
// What an administrator can do when the database refuses to store data: it is read-only to
// this process, its disk is full, or it cannot write (SQLite reports a file-size limit or a
// failing disk as an I/O error). Empty for any other failure.
std::string storage_advice(const std::vector<Diagnostic>& diags) {
  for (const auto& d : diags) {
    if (icontains(d.message, "readonly database") || icontains(d.message, "read-only") || d.sqlstate == "25006")
      return "the database is read-only for this process: give the service user write access to the database "
             "(for SQLite, the file and its folder) and run again";
    if (icontains(d.message, "disk is full") || icontains(d.message, "disk full") || d.sqlstate == "53100")
      return "the disk holding the database is full: free space and run again";
    if (icontains(d.message, "disk I/O error"))
      return "the database file could not be written (disk full, a file-size limit or a failing disk): check the "
             "file system holding it and run again";
  }
  return "";
}
}  // namespace

void Connection::raise(SQLSMALLINT type, SQLHANDLE handle, const std::string& context) const {
  auto diags = diagnostics_of(type, handle);
  if (const std::string advice = storage_advice(diags); !advice.empty()) {
    std::optional<Dialect> d;
    if (dialect_known_) d = dialect_;
    const ErrorClass cls = classify(d, diags);
    throw OdbcError(cls, context + " on " + target_ + " (" + advice + ")", std::move(diags));
  }
  std::optional<Dialect> d;
  if (dialect_known_) d = dialect_;
  ErrorClass cls = classify(d, diags);  // before the move below: argument order is unspecified
  if (cls == ErrorClass::other && connected_) {
    // Whatever the driver said, a dead connection means reconnect.
    SQLUINTEGER dead = SQL_CD_FALSE;
    if (SQL_SUCCEEDED(SQLGetConnectAttr(h_, SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr)) && dead == SQL_CD_TRUE)
      cls = ErrorClass::connection_lost;
  }
  throw OdbcError(cls, context, std::move(diags));
}

void Connection::connect_raw(const std::string& conn, bool may_be_postgresql) {
  target_ = redact_connection_string(conn);
  SQLSetConnectAttr(h_, SQL_ATTR_LOGIN_TIMEOUT, reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(15)), 0);
  SQLCHAR out[1024];
  SQLSMALLINT out_len = 0;
  // One PostgreSQL connect at a time in the process: psqlODBC calls setlocale() while it
  // connects, which is not thread-safe (glibc frees the locale name one thread is reading when
  // another sets it: ASan caught two daemon workers connecting at once). SQLite and MariaDB
  // connects, named by their driver, are not held up by it.
  static std::mutex psqlodbc_connecting;
  std::unique_lock<std::mutex> one_at_a_time(psqlodbc_connecting, std::defer_lock);
  if (may_be_postgresql) one_at_a_time.lock();
  SQLRETURN rc = SQLDriverConnect(h_, nullptr, reinterpret_cast<SQLCHAR*>(const_cast<char*>(conn.c_str())),
                                  SQL_NTS, out, sizeof out, &out_len, SQL_DRIVER_NOPROMPT);
  if (one_at_a_time.owns_lock()) one_at_a_time.unlock();
  if (!SQL_SUCCEEDED(rc)) {
    auto diags = diagnostics_of(SQL_HANDLE_DBC, h_);
    ErrorClass cls = classify(std::nullopt, diags);
    // A refused or unreachable server is worth retrying; a bad driver name or login is not,
    // but both surface as 08001/28000/IM002 and the caller backs off either way.
    if (cls == ErrorClass::other && !diags.empty() &&
        (starts_with(diags.front().sqlstate, "08") || diags.front().sqlstate == "HYT00"))
      cls = ErrorClass::connection_lost;
    throw OdbcError(cls, "cannot connect to " + redact_connection_string(conn), std::move(diags));
  }
  connected_ = true;
  autocommit_ = true;
  char name[256] = {0};
  SQLSMALLINT len = 0;
  if (SQL_SUCCEEDED(SQLGetInfo(h_, SQL_DBMS_NAME, name, sizeof name, &len))) dbms_name_ = name;
  char version[256] = {0};
  if (SQL_SUCCEEDED(SQLGetInfo(h_, SQL_DBMS_VER, version, sizeof version, &len))) dbms_version_ = version;
  std::string n = dbms_name_;
  const Dialect* found = std::find_if(std::begin(kNameOrder), std::end(kNameOrder),
                                      [&](Dialect d) { return sql_dialect(d).names_dbms(n); });
  if (found == std::end(kNameOrder)) {
    disconnect();
    throw OdbcError(ErrorClass::other,
                    "unsupported database '" + n + "' (supported: SQLite, PostgreSQL, MariaDB/MySQL)", {});
  }
  dialect_ = *found;
  dialect_known_ = true;
}

void Connection::connect(const std::string& conn) {
  disconnect();
  std::string first = conn;
  const std::optional<Dialect> guess = dialect_from_driver(conn);
  if (guess) first = prepare_connection_string(conn, *guess);
  connect_raw(first, !guess || *guess == Dialect::postgresql);
  std::string wanted = prepare_connection_string(first, dialect_);
  if (wanted != first) {  // a DSN, or a driver name that did not say what it is
    disconnect();
    connect_raw(wanted, dialect_ == Dialect::postgresql);
  }
}

void Connection::disconnect() noexcept {
  if (connected_) {
    if (!autocommit_) SQLEndTran(SQL_HANDLE_DBC, h_, SQL_ROLLBACK);
    SQLDisconnect(h_);
    connected_ = false;
  }
}

void Connection::set_autocommit(bool on) {
  if (on == autocommit_) return;
  SQLRETURN rc = SQLSetConnectAttr(h_, SQL_ATTR_AUTOCOMMIT,
                                   reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(on ? SQL_AUTOCOMMIT_ON : SQL_AUTOCOMMIT_OFF)),
                                   SQL_IS_UINTEGER);
  if (!SQL_SUCCEEDED(rc)) raise(SQL_HANDLE_DBC, h_, "cannot set autocommit");
  autocommit_ = on;
}

void Connection::commit() {
  static const std::string kCommit = "COMMIT";
  SQLRETURN rc;
  {
    DriverTimer timer(*this, profiling_ ? &kCommit : nullptr, true);
    rc = SQLEndTran(SQL_HANDLE_DBC, h_, SQL_COMMIT);
  }
  if (!SQL_SUCCEEDED(rc)) raise(SQL_HANDLE_DBC, h_, "commit failed");
}

void Connection::rollback() noexcept {
  if (connected_) SQLEndTran(SQL_HANDLE_DBC, h_, SQL_ROLLBACK);
}

std::int64_t Connection::exec(const std::string& sql, const std::vector<Param>& params) {
  Statement st(*this);
  st.execute(sql, params);
  return st.row_count();
}

void Connection::exec_direct(const std::string& text) {
  const std::string sql = tables_.render(text);
  SQLHSTMT h = SQL_NULL_HSTMT;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, h_, &h))) raise(SQL_HANDLE_DBC, h_, "SQLAllocHandle(STMT) failed");
  count_statement(is_write_statement(sql));
  const std::string shape = profiling_ ? statement_shape(text) : std::string();
  SQLRETURN rc;
  {
    DriverTimer timer(*this, profiling_ ? &shape : nullptr, true);
    rc = SQLExecDirect(h, reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql.c_str())), SQL_NTS);
  }
  if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) {
    auto diags = diagnostics_of(SQL_HANDLE_STMT, h);
    SQLFreeHandle(SQL_HANDLE_STMT, h);
    ErrorClass cls = classify(dialect_, diags);
    throw OdbcError(cls, sql + " failed", std::move(diags));
  }
  SQLFreeHandle(SQL_HANDLE_STMT, h);
}

std::vector<Row> Connection::query(const std::string& sql, const std::vector<Param>& params) {
  Statement st(*this);
  st.execute(sql, params);
  std::vector<Row> rows;
  while (auto r = st.fetch()) rows.push_back(std::move(*r));
  return rows;
}

std::optional<std::string> Connection::scalar(const std::string& sql, const std::vector<Param>& params) {
  Statement st(*this);
  st.execute(sql, params);
  auto r = st.fetch();
  if (!r || r->empty()) return std::nullopt;
  return (*r)[0];
}

// ------------------------------------------------------------------ Statement

Statement::Statement(Connection& conn) : conn_(conn) {
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, conn_.handle(), &h_)))
    conn_.raise(SQL_HANDLE_DBC, conn_.handle(), "SQLAllocHandle(STMT) failed");
}

Statement::~Statement() {
  if (h_ != SQL_NULL_HSTMT) SQLFreeHandle(SQL_HANDLE_STMT, h_);
}

void Statement::raise(const std::string& context) const {
  // The statement's text says what failed; it holds no data (every value is a parameter).
  std::string sql = conn_.tables().render(sql_);
  if (sql.size() > 160) sql = sql.substr(0, 160) + "...";
  conn_.raise(SQL_HANDLE_STMT, h_, context + " (" + sql + ")");
}

void Statement::prepare(const std::string& sql) {
  if (prepared_ && sql == sql_) return;  // the same text again: reuse the prepared statement
  sql_ = sql;
  prepared_ = false;
  const std::string text = conn_.tables().render(sql);
  if (!SQL_SUCCEEDED(SQLPrepare(h_, reinterpret_cast<SQLCHAR*>(const_cast<char*>(text.c_str())), SQL_NTS)))
    raise("prepare failed");
  prepared_ = true;
  write_ = is_write_statement(sql);
  shape_ = conn_.profiling() ? statement_shape(sql) : std::string();
}

void Statement::execute(const std::string& sql, const std::vector<Param>& params) {
  SQLFreeStmt(h_, SQL_CLOSE);
  SQLFreeStmt(h_, SQL_RESET_PARAMS);
  prepare(sql);
  indicators_.assign(params.size(), 0);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Param& p = params[i];
    SQLUSMALLINT n = static_cast<SQLUSMALLINT>(i + 1);
    SQLRETURN rc;
    if (p.kind == Param::Kind::integer) {
      indicators_[i] = p.is_null ? SQL_NULL_DATA : 0;
      rc = SQLBindParameter(h_, n, SQL_PARAM_INPUT, SQL_C_SBIGINT, SQL_BIGINT, 0, 0,
                            const_cast<std::int64_t*>(&p.integer), 0, &indicators_[i]);
    } else {
      const TextBinding b = text_binding(p.kind, p.text.size());
      indicators_[i] = p.is_null ? SQL_NULL_DATA : static_cast<SQLLEN>(p.text.size());
      rc = SQLBindParameter(h_, n, SQL_PARAM_INPUT, SQL_C_CHAR, b.sql_type, b.size, b.digits,
                            const_cast<char*>(p.text.data()), static_cast<SQLLEN>(p.text.size()),
                            &indicators_[i]);
    }
    if (!SQL_SUCCEEDED(rc)) raise("bind of parameter " + std::to_string(n) + " failed");
  }
  conn_.count_statement(write_);
  SQLRETURN rc;
  {
    DriverTimer timer(conn_, shape_.empty() ? nullptr : &shape_, true);
    rc = SQLExecute(h_);
  }
  if (rc == SQL_NO_DATA) {  // an UPDATE/DELETE that matched no row
    columns_ = 0;
    return;
  }
  if (!SQL_SUCCEEDED(rc)) raise("execute failed");
  columns_ = 0;
  SQLNumResultCols(h_, &columns_);
}

namespace {

// One parameter of an array execution: every row's value, laid out as SQLBindParameter reads a
// column-wise bound array (`width` bytes a row of `text`, or one integer a row), with one
// length or SQL_NULL_DATA a row.
struct ParamArray {
  bool integer = false;
  SQLSMALLINT sql_type = SQL_VARCHAR;
  SQLULEN column_size = 1;
  SQLSMALLINT digits = 0;
  SQLLEN width = 1;  // bytes a row in `text`: the longest value and a terminating NUL
  std::vector<char> text;
  std::vector<std::int64_t> integers;
  std::vector<SQLLEN> lengths;
};

// The kind every row holds at `col`, or text when they differ (integers are then bound as
// their decimal text).
Param::Kind common_kind(std::span<const std::vector<Param>> rows, std::size_t col) {
  const Param::Kind kind = rows.front()[col].kind;
  for (const auto& row : rows)
    if (row[col].kind != kind) return Param::Kind::text;
  return kind;
}

ParamArray integer_array(std::span<const std::vector<Param>> rows, std::size_t col) {
  ParamArray a;
  a.integer = true;
  a.sql_type = SQL_BIGINT;
  a.column_size = 0;
  a.integers.reserve(rows.size());
  a.lengths.reserve(rows.size());
  for (const auto& row : rows) {
    a.integers.push_back(row[col].integer);
    a.lengths.push_back(row[col].is_null ? SQL_NULL_DATA : 0);
  }
  return a;
}

// Text values with explicit lengths (a value may hold any byte, NUL included). An integer in a
// column of mixed kinds is bound as its decimal digits.
ParamArray text_array(std::span<const std::vector<Param>> rows, std::size_t col, Param::Kind kind) {
  std::vector<std::string> digits;
  digits.reserve(rows.size());  // never reallocated: the views below stay valid
  std::vector<std::optional<std::string_view>> values;
  values.reserve(rows.size());
  std::size_t longest = 0;
  for (const auto& row : rows) {
    const Param& p = row[col];
    if (p.is_null) {
      values.emplace_back();
      continue;
    }
    const std::string_view v = p.kind == Param::Kind::integer ? digits.emplace_back(std::to_string(p.integer))
                                                              : std::string_view(p.text);
    values.emplace_back(v);
    longest = std::max(longest, v.size());
  }
  ParamArray a;
  a.width = static_cast<SQLLEN>(longest + 1);
  const TextBinding b = text_binding(kind, longest);
  a.sql_type = b.sql_type;
  a.column_size = b.size;
  a.digits = b.digits;
  a.text.assign(rows.size() * static_cast<std::size_t>(a.width), '\0');
  a.lengths.reserve(rows.size());
  for (std::size_t r = 0; r < values.size(); ++r) {
    if (!values[r]) {
      a.lengths.push_back(SQL_NULL_DATA);
      continue;
    }
    std::memcpy(a.text.data() + r * static_cast<std::size_t>(a.width), values[r]->data(), values[r]->size());
    a.lengths.push_back(static_cast<SQLLEN>(values[r]->size()));
  }
  return a;
}

ParamArray param_array(std::span<const std::vector<Param>> rows, std::size_t col) {
  const Param::Kind kind = common_kind(rows, col);
  return kind == Param::Kind::integer ? integer_array(rows, col) : text_array(rows, col, kind);
}

// Puts a statement back to one parameter set with nothing bound when it goes out of scope (the
// statement stays cached and is executed singly again).
class SingleParamSetOnExit {
 public:
  explicit SingleParamSetOnExit(SQLHSTMT h) : h_(h) {}
  ~SingleParamSetOnExit() {
    SQLFreeStmt(h_, SQL_RESET_PARAMS);
    SQLSetStmtAttr(h_, SQL_ATTR_PARAMSET_SIZE, reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(1)), 0);
    SQLSetStmtAttr(h_, SQL_ATTR_PARAM_STATUS_PTR, nullptr, 0);
    SQLSetStmtAttr(h_, SQL_ATTR_PARAMS_PROCESSED_PTR, nullptr, 0);
  }
  SingleParamSetOnExit(const SingleParamSetOnExit&) = delete;
  SingleParamSetOnExit& operator=(const SingleParamSetOnExit&) = delete;

 private:
  SQLHSTMT h_;
};

}  // namespace

bool Statement::execute_array(const std::string& sql, std::span<const std::vector<Param>> rows) {
  if (rows.empty()) return true;
  const std::size_t width = rows.front().size();
  for (const auto& row : rows)
    if (row.size() != width)
      throw OdbcError(ErrorClass::other, "array execution with rows of different widths: " + sql, {});
  SQLFreeStmt(h_, SQL_CLOSE);
  SQLFreeStmt(h_, SQL_RESET_PARAMS);
  prepare(sql);
  columns_ = 0;
  SingleParamSetOnExit reset(h_);

  const SQLULEN n = rows.size();
  std::vector<SQLUSMALLINT> status(n, SQL_PARAM_UNUSED);
  SQLULEN processed = 0;
  SQLULEN granted = 0;
  if (!SQL_SUCCEEDED(SQLSetStmtAttr(h_, SQL_ATTR_PARAM_BIND_TYPE,
                                    reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(SQL_PARAM_BIND_BY_COLUMN)), 0)) ||
      !SQL_SUCCEEDED(SQLSetStmtAttr(h_, SQL_ATTR_PARAMSET_SIZE, reinterpret_cast<SQLPOINTER>(n), 0)) ||
      !SQL_SUCCEEDED(SQLGetStmtAttr(h_, SQL_ATTR_PARAMSET_SIZE, &granted, 0, nullptr)) || granted != n ||
      !SQL_SUCCEEDED(SQLSetStmtAttr(h_, SQL_ATTR_PARAM_STATUS_PTR, status.data(), 0)) ||
      !SQL_SUCCEEDED(SQLSetStmtAttr(h_, SQL_ATTR_PARAMS_PROCESSED_PTR, &processed, 0)))
    return false;  // the driver takes no arrays (or not this many rows): nothing ran

  std::vector<ParamArray> arrays;
  arrays.reserve(width);
  for (std::size_t c = 0; c < width; ++c) {
    ParamArray& a = arrays.emplace_back(param_array(rows, c));
    const SQLUSMALLINT number = static_cast<SQLUSMALLINT>(c + 1);
    const SQLRETURN rc =
        a.integer ? SQLBindParameter(h_, number, SQL_PARAM_INPUT, SQL_C_SBIGINT, SQL_BIGINT, 0, 0,
                                     a.integers.data(), 0, a.lengths.data())
                  : SQLBindParameter(h_, number, SQL_PARAM_INPUT, SQL_C_CHAR, a.sql_type, a.column_size, a.digits,
                                     a.text.data(), a.width, a.lengths.data());
    if (!SQL_SUCCEEDED(rc)) raise("bind of parameter array " + std::to_string(number) + " failed");
  }

  conn_.count_statement(write_);
  const std::string shape = shape_.empty() ? std::string() : shape_ + " [array]";
  SQLRETURN rc;
  {
    DriverTimer timer(conn_, shape.empty() ? nullptr : &shape, true);
    rc = SQLExecute(h_);
  }
  if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) raise("array execute of " + std::to_string(n) + " rows failed");
  if (processed != n) raise("array execute processed " + std::to_string(processed) + " of " + std::to_string(n) + " rows");
  for (SQLULEN r = 0; r < n; ++r)
    if (status[r] != SQL_PARAM_SUCCESS && status[r] != SQL_PARAM_SUCCESS_WITH_INFO)
      raise("array execute failed at row " + std::to_string(r + 1) + " of " + std::to_string(n));
  return true;
}

std::int64_t Statement::row_count() {
  SQLLEN n = -1;
  if (!SQL_SUCCEEDED(SQLRowCount(h_, &n))) return -1;
  return n;
}

std::optional<Row> Statement::fetch() {
  Row row;
  if (!fetch_into(row)) return std::nullopt;
  return row;
}

bool Statement::fetch_into(Row& row) {
  if (columns_ <= 0) return false;
  DriverTimer timer(conn_, shape_.empty() ? nullptr : &shape_, false);  // the whole row, however it returns
  SQLRETURN rc = SQLFetch(h_);
  if (rc == SQL_NO_DATA) return false;
  if (!SQL_SUCCEEDED(rc)) raise("fetch failed");
  row.resize(static_cast<std::size_t>(columns_));
  char buf[4096];
  for (SQLSMALLINT c = 1; c <= columns_; ++c) {
    std::optional<std::string>& cell = row[static_cast<std::size_t>(c - 1)];
    // The cell's string is reused (its capacity kept from the previous row) until a NULL.
    if (!cell) cell.emplace();
    cell->clear();
    for (;;) {
      SQLLEN ind = 0;
      rc = SQLGetData(h_, static_cast<SQLUSMALLINT>(c), SQL_C_CHAR, buf, sizeof buf, &ind);
      if (rc == SQL_NO_DATA) break;
      if (!SQL_SUCCEEDED(rc)) raise("reading column " + std::to_string(c) + " failed");
      if (ind == SQL_NULL_DATA) {
        cell.reset();
        break;
      }
      if (rc == SQL_SUCCESS_WITH_INFO && (ind == SQL_NO_TOTAL || ind >= static_cast<SQLLEN>(sizeof buf))) {
        cell->append(buf, sizeof buf - 1);  // truncated: the rest comes with the next call
        continue;
      }
      cell->append(buf, static_cast<std::size_t>(ind));
      break;
    }
  }
  return true;
}

void Statement::close_cursor() noexcept { SQLFreeStmt(h_, SQL_CLOSE); }

std::string statement_shape(std::string_view sql) {
  std::string out;
  for (std::size_t i = 0; i < sql.size() && out.size() < 100;) {
    // A parenthesised list of markers, or several in a row separated by ", ".
    if (sql[i] == '(' && i + 1 < sql.size() && sql[i + 1] == '?') {
      std::size_t j = i;
      while (j < sql.size() && sql[j] == '(') {
        std::size_t close = sql.find(')', j);
        if (close == std::string_view::npos) break;
        if (sql.substr(j + 1, close - j - 1).find_first_not_of("?, ") != std::string_view::npos) break;
        j = close + 1;
        if (sql.substr(j, 3) == ", (") j += 2;
      }
      if (j > i) {
        out += "(?...)";
        i = j;
        continue;
      }
    }
    out += sql[i++];
  }
  return out;
}

}  // namespace erpsync::connectors::odbc
