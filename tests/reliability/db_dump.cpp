#include "db_dump.hpp"

#include <sql.h>
#include <sqlext.h>

#include <algorithm>
#include <sstream>
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

struct Statement {
  SQLHSTMT h = SQL_NULL_HSTMT;
  ~Statement() {
    if (h) SQLFreeHandle(SQL_HANDLE_STMT, h);
  }
};

const char kSep = '|';

std::string join(const Row& row, std::size_t first = 0, std::size_t count = SIZE_MAX) {
  std::string line;
  for (std::size_t i = first; i < row.size() && i - first < count; ++i) {
    if (i != first) line += kSep;
    line += row[i] ? *row[i] : std::string("<null>");
  }
  return line;
}

std::vector<std::string> lines(SqlSession& conn, const std::string& sql, std::size_t count = SIZE_MAX) {
  std::vector<std::string> out;
  for (const Row& r : conn.query(sql)) out.push_back(join(r, 0, count));
  std::sort(out.begin(), out.end());
  return out;
}

std::string text(const std::string& s) { return s.empty() ? "<null>" : s; }

}  // namespace

SqlSession::SqlSession(std::string connection) : connection_(std::move(connection)) { connect(); }

SqlSession::~SqlSession() { disconnect(); }

void SqlSession::connect() {
  SQLHENV env = SQL_NULL_HENV;
  SQLHDBC dbc = SQL_NULL_HDBC;
  SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
  SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
  SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
  env_ = env;
  dbc_ = dbc;
  std::string cs = connection_;
  const SQLRETURN rc = SQLDriverConnect(dbc, nullptr, reinterpret_cast<SQLCHAR*>(cs.data()), SQL_NTS, nullptr, 0,
                                        nullptr, SQL_DRIVER_NOPROMPT);
  if (!SQL_SUCCEEDED(rc)) {
    const std::string why = diag(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    env_ = dbc_ = nullptr;
    throw std::runtime_error("connect failed: " + why);
  }
}

void SqlSession::disconnect() {
  if (dbc_) {
    SQLDisconnect(static_cast<SQLHDBC>(dbc_));
    SQLFreeHandle(SQL_HANDLE_DBC, static_cast<SQLHDBC>(dbc_));
  }
  if (env_) SQLFreeHandle(SQL_HANDLE_ENV, static_cast<SQLHENV>(env_));
  env_ = dbc_ = nullptr;
}

std::vector<Row> SqlSession::query(const std::string& sql) {
  try {
    if (!dbc_) connect();
    return run(sql);
  } catch (const std::runtime_error&) {
    // A lost connection (the fault tests kill sessions): one reconnect, then the real error.
    disconnect();
    connect();
    return run(sql);
  }
}

std::vector<Row> SqlSession::run(const std::string& sql) {
  Statement st;
  SQLAllocHandle(SQL_HANDLE_STMT, static_cast<SQLHDBC>(dbc_), &st.h);
  std::string q = sql;
  SQLRETURN rc = SQLExecDirect(st.h, reinterpret_cast<SQLCHAR*>(q.data()), SQL_NTS);
  if (rc == SQL_NO_DATA) return {};
  if (!SQL_SUCCEEDED(rc)) throw std::runtime_error("query failed: " + diag(SQL_HANDLE_STMT, st.h) + " in: " + sql);
  SQLSMALLINT cols = 0;
  SQLNumResultCols(st.h, &cols);
  std::vector<Row> rows;
  while (cols > 0 && SQL_SUCCEEDED(SQLFetch(st.h))) {
    Row row;
    for (SQLUSMALLINT c = 1; c <= static_cast<SQLUSMALLINT>(cols); ++c) {
      std::string value;
      char buf[4096];
      SQLLEN ind = 0;
      bool is_null = false;
      for (;;) {
        rc = SQLGetData(st.h, c, SQL_C_CHAR, buf, sizeof buf, &ind);
        if (rc == SQL_NO_DATA) break;
        if (!SQL_SUCCEEDED(rc)) throw std::runtime_error("fetch failed: " + diag(SQL_HANDLE_STMT, st.h));
        if (ind == SQL_NULL_DATA) {
          is_null = true;
          break;
        }
        const std::size_t got = (ind == SQL_NO_TOTAL || ind >= static_cast<SQLLEN>(sizeof buf))
                                    ? sizeof buf - 1
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

Dump dump_database(const std::string& connection) {
  SqlSession session(connection);
  return dump_database(session);
}

Dump dump_database(SqlSession& c) {
  Dump d;
  d["accounts"] = lines(c,
                        "SELECT a.external_code, a.name, a.owner, a.relationship, a.active, p.external_code, "
                        "a.member_of_code, a.email, a.phone, a.vat, a.street, a.city, a.postcode, a.country "
                        "FROM accounts a LEFT JOIN accounts p ON p.id = a.member_of_id");
  d["contacts"] = lines(c,
                        "SELECT a.external_code, t.first_name, t.last_name, t.email, t.phone, t.is_default, t.active "
                        "FROM contacts t LEFT JOIN accounts a ON a.id = t.account_id");
  d["customers"] = lines(c,
                         "SELECT a.external_code, u.channel, u.kind, u.remote_id, u.email, u.name, t.email "
                         "FROM customers u LEFT JOIN accounts a ON a.id = u.account_id "
                         "LEFT JOIN contacts t ON t.id = u.contact_id");
  // The bound entity by its key; "<null>" there means a dangling binding.
  d["bindings"] = lines(c,
                        "SELECT b.connector, b.stream, b.remote_id, b.entity, "
                        "CASE WHEN b.entity = 'account' THEN a.external_code WHEN b.entity = 'customer' THEN u.remote_id "
                        "WHEN b.entity = 'contact' THEN t.email ELSE NULL END, "
                        "CASE WHEN a.id IS NULL AND u.id IS NULL AND t.id IS NULL THEN 'dangling' ELSE 'bound' END, "
                        "b.payload_hash, CASE WHEN b.missing_since IS NULL THEN 'present' ELSE 'missing' END "
                        "FROM bindings b "
                        "LEFT JOIN accounts a ON b.entity = 'account' AND a.id = b.entity_id "
                        "LEFT JOIN customers u ON b.entity = 'customer' AND u.id = b.entity_id "
                        "LEFT JOIN contacts t ON b.entity = 'contact' AND t.id = b.entity_id");
  // connector, stream, cursor, snapshot_size, content_hash (updated_at left out). `cursor` is
  // quoted differently per engine, so the columns are taken by position.
  d["sync_cursors"] = lines(c, "SELECT * FROM sync_cursors", 5);
  d["sync_rejections"] = lines(c,
                               "SELECT connector, stream, remote_id, external_code, reason, message, existing_owner, "
                               "incoming_owner, payload_hash, CASE WHEN resolved_at IS NULL THEN 'open' ELSE 'resolved' END "
                               "FROM sync_rejections");
  d["sync_parked"] = lines(c, "SELECT connector, stream, remote_id, waits_for, payload_hash FROM sync_parked");
  return d;
}

Dump dump_memory_store(const core::MemoryStore& s) {
  Dump d;
  auto code_of = [&](std::optional<core::EntityId> id) -> std::string {
    if (!id) return "<null>";
    auto it = s.accounts().find(*id);
    return it == s.accounts().end() ? "<dangling>" : text(it->second.external_code);
  };
  auto add = [](std::vector<std::string>& v, std::initializer_list<std::string> cols) {
    std::string line;
    bool first = true;
    for (const auto& col : cols) {
      if (!first) line += kSep;
      line += col;
      first = false;
    }
    v.push_back(line);
  };
  for (const auto& [id, a] : s.accounts())
    add(d["accounts"], {text(a.external_code), text(a.name), text(a.owner), text(a.relationship),
                        a.active ? "1" : "0", code_of(a.member_of_id), text(a.member_of_code), text(a.email),
                        text(a.phone), text(a.vat), text(a.street), text(a.city), text(a.postcode), text(a.country)});
  for (const auto& [id, t] : s.contacts())
    add(d["contacts"], {code_of(t.account_id), text(t.first_name), text(t.last_name), text(t.email), text(t.phone),
                        t.is_default ? "1" : "0", t.active ? "1" : "0"});
  for (const auto& [id, u] : s.customers()) {
    std::string contact_email = "<null>";
    if (u.contact_id) {
      auto it = s.contacts().find(*u.contact_id);
      if (it != s.contacts().end()) contact_email = text(it->second.email);
    }
    add(d["customers"], {code_of(u.account_id), text(u.channel), text(u.kind), text(u.remote_id), text(u.email),
                         text(u.name), contact_email});
  }
  for (const auto& [key, b] : s.bindings()) {
    std::string target = "<null>";
    bool bound = false;
    if (b.entity == "account") {
      bound = s.accounts().count(b.entity_id) != 0;
      if (bound) target = code_of(b.entity_id);
    } else if (b.entity == "customer") {
      auto it = s.customers().find(b.entity_id);
      bound = it != s.customers().end();
      if (bound) target = text(it->second.remote_id);
    } else if (b.entity == "contact") {
      auto it = s.contacts().find(b.entity_id);
      bound = it != s.contacts().end();
      if (bound) target = text(it->second.email);
    }
    add(d["bindings"], {b.connector, b.stream, b.remote_id, b.entity, target, bound ? "bound" : "dangling",
                        text(b.payload_hash), b.missing_since ? "missing" : "present"});
  }
  for (const auto& [key, cur] : s.cursors())
    add(d["sync_cursors"], {std::get<0>(key), std::get<1>(key), text(cur.cursor),
                            cur.snapshot_size ? std::to_string(*cur.snapshot_size) : "<null>", text(cur.content_hash)});
  for (const auto& r : s.rejections())
    add(d["sync_rejections"], {r.connector, r.stream, r.remote_id, text(r.external_code),
                               std::string(core::to_string(r.reason)), text(r.message), text(r.existing_owner),
                               text(r.incoming_owner), text(r.payload_hash), r.resolved_at ? "resolved" : "open"});
  for (const auto& [key, p] : s.parked())
    add(d["sync_parked"], {p.connector, p.stream, p.remote_id, text(p.waits_for), text(p.payload_hash)});
  for (auto& [table, rows] : d) std::sort(rows.begin(), rows.end());
  for (const char* t : {"accounts", "contacts", "customers", "bindings", "sync_cursors", "sync_rejections", "sync_parked"})
    d[t];  // every table present, even when empty
  return d;
}

std::string dump_diff(const Dump& expected, const Dump& actual, std::size_t max_lines) {
  std::ostringstream out;
  static const std::vector<std::string> kEmpty;
  std::map<std::string, bool> tables;
  for (const auto& [t, rows] : expected) tables[t] = true;
  for (const auto& [t, rows] : actual) tables[t] = true;
  for (const auto& [t, unused] : tables) {
    const auto e = expected.count(t) ? expected.at(t) : kEmpty;
    const auto a = actual.count(t) ? actual.at(t) : kEmpty;
    if (e == a) continue;
    std::vector<std::string> missing, extra;
    std::set_difference(e.begin(), e.end(), a.begin(), a.end(), std::back_inserter(missing));
    std::set_difference(a.begin(), a.end(), e.begin(), e.end(), std::back_inserter(extra));
    out << "table " << t << ": expected " << e.size() << " rows, found " << a.size() << "\n";
    for (std::size_t i = 0; i < missing.size() && i < max_lines; ++i) out << "  - " << missing[i] << "\n";
    if (missing.size() > max_lines) out << "  - ... " << missing.size() - max_lines << " more missing\n";
    for (std::size_t i = 0; i < extra.size() && i < max_lines; ++i) out << "  + " << extra[i] << "\n";
    if (extra.size() > max_lines) out << "  + ... " << extra.size() - max_lines << " more unexpected\n";
  }
  return out.str();
}

std::vector<std::string> duplicate_rows(const Dump& dump) {
  std::vector<std::string> dups;
  for (const auto& [t, rows] : dump)
    for (std::size_t i = 1; i < rows.size(); ++i)
      if (rows[i] == rows[i - 1] && (dups.empty() || dups.back() != t + ": " + rows[i])) dups.push_back(t + ": " + rows[i]);
  return dups;
}

std::size_t rows_of(const Dump& dump, const std::string& table) {
  auto it = dump.find(table);
  return it == dump.end() ? 0 : it->second.size();
}

}  // namespace erpsync::testing
