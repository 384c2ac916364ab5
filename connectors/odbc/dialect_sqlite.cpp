// SQLite's SQL and quirks, through sqliteodbc (see dialect.hpp for what each piece is for).
#include <algorithm>
#include <cstdio>

#include "connectors/odbc/dialect.hpp"
#include "connectors/odbc/session.hpp"
#include "connectors/odbc/sql_text.hpp"
#include "connectors/odbc/connection_text.hpp"

namespace erpsync::connectors::odbc {
namespace {

// The generated normalised-name column (see migrations.hpp): lower-cased, blanks removed.
constexpr std::string_view kNameKey =
    "TEXT GENERATED ALWAYS AS (lower(replace(replace(replace(replace(name, ' ', ''), char(9), ''), "
    "char(10), ''), char(13), ''))) VIRTUAL";

// `p` as a JSON value for insert_rows: null, an integer, or a string (text, timestamps and
// decimals, which the columns' affinity stores as the text bound elsewhere). Strings are escaped
// as RFC 8259 requires ('"', '\\' and the control characters); the bytes above 0x7f are the
// value's UTF-8, copied as they are. Written by hand into one buffer: a JSON library's value per
// field would cost an allocation each, on the path every inserted row takes.
void append_json_value(std::string& out, const Param& p) {
  if (p.is_null) {
    out += "null";
    return;
  }
  if (p.kind == Param::Kind::integer) {
    out += std::to_string(p.integer);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : p.text) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

class SqliteDialect final : public SqlDialect {
 public:
  std::string_view name() const override { return "sqlite"; }

  bool names_driver(std::string_view driver) const override { return icontains(driver, "sqlite"); }
  bool names_dbms(std::string_view dbms) const override { return icontains(dbms, "sqlite"); }

  // Timeout=10000: sqliteodbc's default busy wait is 100 s, doubled.
  std::string prepare_connection_string(std::string_view conn) const override {
    if (!connection_string_value(conn, "Timeout")) return append_attr(conn, "Timeout=10000");
    return std::string(conn);
  }

  // sqliteodbc: HY000 with the SQLite result code as native; no 23xxx state at all.
  std::optional<ErrorClass> classify(const Diagnostic& d) const override {
    if (d.native == 19 && (icontains(d.message, "UNIQUE constraint failed") ||
                           icontains(d.message, "PRIMARY KEY must be unique") || icontains(d.message, "is not unique")))
      return ErrorClass::unique_violation;
    if (d.native == 5 || d.native == 6) return ErrorClass::lock_timeout;  // SQLITE_BUSY / LOCKED
    return std::nullopt;
  }

  // insert_rows reads its rows with json_each and ->> (SQLite 3.38, where the JSON functions
  // became part of the core): refuse an older library at connect, saying so.
  void configure_session(Connection& conn) const override {
    // A transaction keeps up to 16 MiB of changed pages (4,096 of 4 KiB) in the page cache
    // before it spills them to the file, instead of the cache's 2 MB: spilling takes the
    // database's EXCLUSIVE lock mid-transaction, which shuts the store's second connection
    // (OdbcStore::load_state_ahead) out until COMMIT. A batch changes a few MB of pages; a
    // larger transaction still spills, so memory stays bounded.
    conn.exec_direct("PRAGMA cache_spill = 4096");
    try {
      conn.scalar("SELECT '[1]' ->> 0");
    } catch (const OdbcError& e) {
      throw OdbcError(ErrorClass::other,
                      "the SQLite library under the ODBC driver is older than 3.38 (it has no JSON ->> operator, "
                      "which erpsync's bulk inserts use): install a newer libsqlite3",
                      e.diagnostics());
    }
  }

  // Ids: INTEGER PRIMARY KEY AUTOINCREMENT, so that the id of a row the CRM deleted is never
  // handed out again. Timestamps: TEXT 'YYYY-MM-DD HH:MM:SS.mmm' (the one form the store binds;
  // it sorts). Decimals: TEXT, because NUMERIC affinity would store a double and keep only 15
  // significant digits. ADD COLUMN takes no IF NOT EXISTS (migrations run in one transaction
  // under SQLite's write lock anyway).
  const std::map<std::string_view, std::string_view>& ddl_placeholders() const override {
    static const std::map<std::string_view, std::string_view> m = {
        {"{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"},
        {"{ts}", "TEXT"},
        {"{now}", "(strftime('%Y-%m-%d %H:%M:%f', 'now'))"},
        {"{bin}", ""},
        {"{text}", "TEXT"},
        {"{opts}", ""},
        {"{name_key}", kNameKey},
        {"{dec}", "TEXT"},
        {"{cursor}", "\"cursor\""},
        {"{if_not_exists}", ""}};
    return m;
  }
  bool has_partial_indexes() const override { return true; }
  std::string_view table_exists_sql() const override {
    return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?";
  }
  std::string_view columns_sql() const override { return "SELECT name FROM pragma_table_xinfo(?)"; }
  std::string_view cursor_column() const override { return "\"cursor\""; }

  std::string_view now_sql() const override { return "strftime('%Y-%m-%d %H:%M:%f', 'now')"; }
  std::string_view now_plus_sql() const override { return "strftime('%Y-%m-%d %H:%M:%f', 'now', ?)"; }
  // A date modifier: "+30.000 seconds".
  Param interval_param(std::chrono::milliseconds d) const override {
    const long long ms = d.count();
    char buf[48];
    std::snprintf(buf, sizeof buf, "+%lld.%03lld seconds", ms / 1000, ms % 1000);
    return Param::str(buf);
  }
  // The fencing check runs after the transaction's writes: SQLite's write lock is held by then.
  std::string_view lock_row_suffix() const override { return ""; }

  // One JSON array of the rows, bound as one parameter: INSERT ... SELECT FROM json_each(?).
  // sqliteodbc compiles a statement's text afresh at every execution (its SQLExecute calls
  // sqlite3_prepare_v2) and copies each bound parameter, so a multi-row VALUES statement of
  // thousands of parameters spent much of its time being parsed and bound (perf of a SQLite
  // initial sync: a fifth of it in sqlite3_prepare_v2). json_each yields the array in order; the
  // statement's rows get consecutive rowids ending at last_insert_rowid() (one writer inside
  // this transaction), and sqliteodbc returns no rows from RETURNING. A column holding the same
  // value in every row (the batch's connector and stream, its timestamps, a flag) is bound once
  // beside the array instead of in every row of it; the first column is always in the array.
  std::vector<core::EntityId> insert_rows(Session& s, const std::string& table, const std::vector<std::string>& cols,
                                          const std::vector<std::vector<Param>>& rows, bool with_ids) const override {
    std::string head = "INSERT INTO " + table + " (";
    for (std::size_t c = 0; c < cols.size(); ++c) head += (c ? ", " : "") + cols[c];
    head += ") SELECT ";
    std::vector<core::EntityId> ids;
    std::string json;
    std::vector<bool> constant(cols.size());
    for (std::size_t start = 0; start < rows.size(); start += sql::kInChunk) {
      const std::size_t n = std::min(sql::kInChunk, rows.size() - start);
      std::string sql = head;
      std::vector<Param> params;  // the constant columns' values, then the array: markers in text order
      std::size_t in_array = 0;
      for (std::size_t c = 0; c < cols.size(); ++c) {
        constant[c] = c > 0 && sql::same_in_every_row(rows, start, n, c);
        if (c) sql += ", ";
        if (constant[c]) {
          sql += '?';
          params.push_back(rows[start][c]);
        } else {
          sql += "value ->> " + std::to_string(in_array++);
        }
      }
      sql += " FROM json_each(?)";
      json.clear();
      json += '[';
      for (std::size_t r = start; r < start + n; ++r) {
        json += r == start ? "[" : ",[";
        bool first = true;
        for (std::size_t c = 0; c < rows[r].size(); ++c) {
          if (constant[c]) continue;
          if (!first) json += ',';
          first = false;
          append_json_value(json, rows[r][c]);
        }
        json += ']';
      }
      json += ']';
      params.push_back(Param::str(json));
      s.exec(sql, params);
      if (!with_ids) continue;
      auto last = s.query("SELECT last_insert_rowid()", {});
      core::EntityId last_id = last.empty() ? 0 : to_i64(last[0][0]);
      for (std::size_t i = 0; i < n; ++i) ids.push_back(last_id - static_cast<core::EntityId>(n - 1 - i));
    }
    return ids;
  }

  // The reads ahead would be a second connection in this very process: its own page cache, read
  // again from the file, on the core the writer needs (both are CPU here, not a server's).
  // Measured (bench, 100k, one run each): initial 0.63 → 0.64 of native with it, an incremental
  // run 44,054 → 36,214 records/s.
  bool reads_ahead_pays() const override { return false; }

  // SQLite keeps no statistics. Without them it would look for the open rejection through
  // sync_rejections_open_ix (every open rejection of the stream, for each row); the unary plus
  // leaves it the unique key, which starts with (connector, stream, remote_id).
  std::string_view open_rejection_probe_hint() const override { return "+"; }
  // It would search the member_of_id index for IS NULL, nearly every row: a scan per batch. The
  // unary plus leaves it the member_of_code index.
  std::string_view pending_children_hint() const override { return "+"; }
  // It would walk accounts_member_of_id_ix (every account without a parent) instead of the
  // partial accounts_pending_ix (empty when no child waits).
  std::string_view pending_index_hint() const override { return " INDEXED BY accounts_pending_ix"; }
};

}  // namespace

const SqlDialect& sqlite_dialect() {
  static const SqliteDialect d;
  return d;
}

}  // namespace erpsync::connectors::odbc
