#include "connectors/odbc/account_merge.hpp"

#include <set>

#include "connectors/odbc/dialect.hpp"

namespace erpsync::connectors::odbc {
namespace {

// What moves from the duplicate to the target: rows of `table` whose `column` holds the
// duplicate's id (and that satisfy `filter`) get the target's id. Adding a table is one line.
struct MoveSpec {
  const char* what;
  const char* table;
  const char* column;
  const char* filter = "";     // more of the WHERE clause, after "column = ?"
  const char* also_set = "";   // more of the SET clause, bound to the target's code
  bool optional_table = false;  // moved only where the table exists (a table of a later schema)
};

const MoveSpec kMergeMoves[] = {
    {"contacts", "contacts", "account_id"},
    {"customers", "customers", "account_id"},
    {"orders", "orders", "account_id"},
    {"carts", "carts", "account_id", "", "", /*optional_table=*/true},
    {"bindings", "bindings", "entity_id", " AND entity = 'account'"},
    // A child names its parent by code too: it gets the target's.
    {"member-of children", "accounts", "member_of_id", "", ", member_of_code = ?"},
};

// How far up a Member-of chain the descendant check looks; deeper chains than this are not
// built by the sync (rule 6 refuses cycles, so a chain ends).
constexpr int kMaxDepth = 256;

std::optional<MergeAccount> read_account(Connection& c, std::int64_t id, std::string_view lock) {
  const auto rows = c.query(
      "SELECT id, external_code, name, owner, active FROM accounts WHERE id = ?" + std::string(lock), {Param::i64(id)});
  if (rows.empty()) return std::nullopt;
  const Row& r = rows.front();
  MergeAccount a;
  a.id = to_i64(r[0]);
  a.code = str(r[1]);
  a.name = str(r[2]);
  a.owner = r[3];
  a.active = str(r[4]) != "0";
  return a;
}

std::string describe(const MergeAccount& a) {
  std::string s = "account " + std::to_string(a.id);
  if (!a.code.empty()) s += " " + a.code;
  return s + " \"" + a.name + "\"";
}

std::string owner_text(const std::optional<std::string>& owner) { return owner ? *owner : "nobody"; }

// The Account `id` was merged into, if it was.
std::optional<std::int64_t> merged_into(Connection& c, std::int64_t id) {
  auto v = c.scalar("SELECT MAX(into_id) FROM sync_merges WHERE from_id = ?", {Param::i64(id)});
  if (!v) return std::nullopt;
  return std::stoll(*v);
}

// True when `into` is a Member-of descendant of `from` (walking up from `into`).
bool descends_from(Connection& c, std::int64_t into, std::int64_t from) {
  std::set<std::int64_t> seen;
  std::int64_t at = into;
  for (int depth = 0; depth < kMaxDepth && seen.insert(at).second; ++depth) {
    auto parent = c.scalar("SELECT member_of_id FROM accounts WHERE id = ?", {Param::i64(at)});
    if (!parent) return false;
    at = std::stoll(*parent);
    if (at == from) return true;
  }
  return false;
}

// An authoritative connector's record bound to Account `id` (its binding and the connector's b2b
// Customer of that remote id, rule 3): "connector remote id", or nullopt.
std::optional<std::string> erp_record_of(Connection& c, std::int64_t id) {
  const auto rows = c.query(
      "SELECT b.connector, b.remote_id FROM bindings b JOIN customers u ON u.channel = b.connector AND "
      "u.remote_id = b.remote_id AND u.kind = 'b2b' WHERE b.entity = 'account' AND b.entity_id = ?",
      {Param::i64(id)});
  if (rows.empty()) return std::nullopt;
  return "record " + str(rows.front()[1]) + " of connector " + str(rows.front()[0]);
}

bool table_exists(Connection& c, const std::string& base) {
  return c.scalar(std::string(sql_dialect(c.dialect()).table_exists_sql()), {Param::str(c.tables()(base))})
      .has_value();
}

std::optional<std::string> refusal(Connection& c, const MergeResult& r) {
  const MergeAccount& from = r.from;
  const MergeAccount& into = r.into;
  if (from.owner != into.owner)
    return "There is already an account with the same code assigned to other users. So you can't merge it: " +
           describe(from) + " is assigned to " + owner_text(from.owner) + ", " + describe(into) + " to " +
           owner_text(into.owner);
  if (!from.code.empty() && !into.code.empty())
    return "both accounts have an External Code (" + from.code + " and " + into.code +
           "): two coded accounts are two companies of the ERP, not a duplicate";
  if (!from.code.empty())
    return describe(from) + " has the External Code and " + describe(into) +
           " has none: the account that keeps the code is the one merged into (merge --account " +
           std::to_string(into.id) + " --into " + std::to_string(from.id) + ")";
  if (auto done = merged_into(c, from.id))
    return describe(from) + " was merged into account " + std::to_string(*done) + " already";
  if (auto done = merged_into(c, into.id))
    return describe(into) + " was merged into account " + std::to_string(*done) +
           " itself: merge into that account instead";
  // Its ERP record would follow it to the target and, bringing another code, change the
  // target's (rule 8): an ERP company whose code was removed in the CRM is not a duplicate.
  if (auto erp = erp_record_of(c, from.id))
    return describe(from) + " is the ERP's " + *erp +
           " (its code was removed in the CRM): not a duplicate typed in by hand; give it its code back";
  if (descends_from(c, into.id, from.id))
    return describe(into) + " is a member (Member of) of " + describe(from) +
           ": moving the duplicate's children to it would make a cycle; change its parent first";
  return std::nullopt;
}

std::string where_of(const MoveSpec& m) { return std::string(" WHERE ") + m.column + " = ?" + m.filter; }

}  // namespace

std::string moved_json(const std::vector<MergeMove>& moves) {
  std::string out = "{";
  for (const auto& m : moves) {
    if (out.size() > 1) out += ",";
    out += "\"" + m.what + "\":" + std::to_string(m.rows);
  }
  return out + "}";
}

MergeResult merge_accounts(Connection& c, std::int64_t from_id, std::int64_t into_id, bool dry_run) {
  MergeResult r;
  const std::string_view lock = sql_dialect(c.dialect()).lock_row_suffix();
  c.set_autocommit(false);
  try {
    auto from = read_account(c, from_id, lock);
    auto into = read_account(c, into_id, lock);
    if (!from || !into || from_id == into_id) {
      r.refusal = !from ? "no account has id " + std::to_string(from_id)
                  : !into ? "no account has id " + std::to_string(into_id)
                          : "an account cannot be merged into itself";
    } else {
      r.from = *from;
      r.into = *into;
      r.refusal = refusal(c, r);
    }
    if (r.refusal) {
      c.rollback();
      c.set_autocommit(true);
      return r;
    }
    for (const MoveSpec& m : kMergeMoves) {
      if (m.optional_table && !table_exists(c, m.table)) continue;
      r.moves.push_back({m.what, std::stoll(c.scalar(std::string("SELECT COUNT(*) FROM ") + m.table + where_of(m),
                                                     {Param::i64(from_id)})
                                                 .value_or("0"))});
    }
    if (dry_run) {
      c.rollback();
      c.set_autocommit(true);
      return r;
    }
    const std::string now = utc_timestamp_now();
    // One default contact per Account: the target's stays; the duplicate's comes along only
    // when the target has none.
    if (c.scalar("SELECT 1 FROM contacts WHERE account_id = ? AND is_default = 1", {Param::i64(into_id)}))
      c.exec("UPDATE contacts SET is_default = 0 WHERE account_id = ? AND is_default = 1", {Param::i64(from_id)});
    for (const MoveSpec& m : kMergeMoves) {
      if (m.optional_table && !table_exists(c, m.table)) continue;
      std::vector<Param> params = {Param::i64(into_id)};
      if (*m.also_set) params.push_back(Param::str_or_null(r.into.code));
      params.push_back(Param::i64(from_id));
      c.exec(std::string("UPDATE ") + m.table + " SET " + m.column + " = ?" + m.also_set + where_of(m), params);
    }
    c.exec("UPDATE accounts SET active = 0, updated_at = ? WHERE id = ?", {Param::ts(now), Param::i64(from_id)});
    c.exec("INSERT INTO sync_merges (from_id, into_id, moved, at) VALUES (?, ?, ?, ?)",
           {Param::i64(from_id), Param::i64(into_id), Param::str(moved_json(r.moves)), Param::ts(now)});
    r.merge_id = std::stoll(c.scalar("SELECT MAX(id) FROM sync_merges WHERE from_id = ?", {Param::i64(from_id)})
                                .value_or("0"));
    c.commit();
    c.set_autocommit(true);
    r.from.active = false;
    return r;
  } catch (...) {
    c.rollback();
    if (c.connected()) c.set_autocommit(true);
    throw;
  }
}

}  // namespace erpsync::connectors::odbc
