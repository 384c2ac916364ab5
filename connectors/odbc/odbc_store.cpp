#include "connectors/odbc/odbc_store.hpp"

#include "connectors/odbc/commerce_sql.hpp"
#include "connectors/odbc/quiet_read.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "core/normalize.hpp"

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
  Statement& get(const std::string& sql) {
    auto& st = map_[sql];
    if (!st) st = std::make_unique<Statement>(c_);
    return *st;
  }
  void clear() noexcept { map_.clear(); }
  void trim() noexcept {
    if (map_.size() > kMaxStatements) map_.clear();
  }

 private:
  Connection& c_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> map_;
};

// The remote ids whose bindings the last load_state found absent. apply() inserts the bindings
// (and b2b Customer rows) of those records without looking them up first; should such a row
// exist after all (another writer, a Customer row left without its binding), the unique key
// refuses the insert and apply() carries the batch out again, looking every row up.
struct KnownAbsent {
  std::string connector, stream;
  std::unordered_set<std::string> remote_ids;          // bindings of (connector, stream)
  std::unordered_set<std::string> contact_remote_ids;  // bindings of (connector, "contacts")

  bool binding(const std::string& conn, const std::string& strm, const std::string& rid) const {
    if (conn != connector) return false;
    if (strm == stream) return remote_ids.count(rid) > 0;
    if (strm == "contacts") return contact_remote_ids.count(rid) > 0;
    return false;
  }
};

namespace {

using core::EntityId;
using core::Field;
using core::Ref;

// The accounts.name_key form of a normalised name: blanks removed (the database lower-cases).
std::string name_key(std::string_view normalized) {
  std::string out;
  for (char ch : normalized)
    if (ch != ' ') out += ch;
  return out;
}

std::string marks(std::size_t n, std::string_view each = "?") {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += each;
  }
  return s;
}

// PostgreSQL array types for the parameter kinds (every value of a column has one kind).
std::string_view pg_array_type(Param::Kind k) {
  switch (k) {
    case Param::Kind::integer: return "bigint[]";
    case Param::Kind::timestamp: return "timestamp[]";
    case Param::Kind::decimal: return "numeric[]";
    case Param::Kind::text: break;
  }
  return "text[]";
}

// A PostgreSQL array literal of `values`, bound as one parameter: every element is quoted
// (backslash before '"' and '\\'), NULL is the bare word. The data stays a parameter value; no
// SQL is built from it.
std::string pg_array_literal(const std::vector<const Param*>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Param& p = *values[i];
    if (i) out += ',';
    if (p.is_null) {
      out += "NULL";
      continue;
    }
    if (p.kind == Param::Kind::integer) {
      out += std::to_string(p.integer);
      continue;
    }
    out += '"';
    for (char ch : p.text) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// The IN-list length a chunk of `n` keys is padded to (n ≤ OdbcStore::kInChunk).
std::size_t padded_length(std::size_t n) {
  for (std::size_t len : {std::size_t{4}, std::size_t{16}, std::size_t{64}, std::size_t{256}, std::size_t{512}})
    if (n <= len) return len;
  return std::max(n, OdbcStore::kInChunk);
}

template <class Container>
std::vector<std::vector<std::string>> chunks(const Container& keys, std::size_t size) {
  std::vector<std::vector<std::string>> out;
  for (const auto& k : keys) {
    if (out.empty() || out.back().size() >= size) out.emplace_back();
    out.back().push_back(k);
  }
  return out;
}

std::string_view account_column(Field f) {
  switch (f) {
    case Field::name: return "name";
    case Field::owner: return "owner";
    case Field::relationship: return "relationship";
    case Field::email: return "email";
    case Field::phone: return "phone";
    case Field::vat: return "vat";
    case Field::street: return "street";
    case Field::city: return "city";
    case Field::postcode: return "postcode";
    case Field::country: return "country";
    case Field::active: return "active";
    default: return {};
  }
}

const std::string& account_value(const core::AccountValues& v, Field f) {
  static const std::string empty;
  switch (f) {
    case Field::name: return v.name;
    case Field::owner: return v.owner;
    case Field::relationship: return v.relationship;
    case Field::email: return v.email;
    case Field::phone: return v.phone;
    case Field::vat: return v.vat;
    case Field::street: return v.street;
    case Field::city: return v.city;
    case Field::postcode: return v.postcode;
    case Field::country: return v.country;
    default: return empty;
  }
}

constexpr Field kAccountFields[] = {Field::name,  Field::owner,  Field::relationship, Field::email,
                                    Field::phone, Field::vat,    Field::street,       Field::city,
                                    Field::postcode, Field::country, Field::active};

// The store's statements go through its StatementCache (prepared once per distinct text and
// connection); a Session is the view of one transaction or one read.
class Session {
 public:
  Session(Connection& c, StatementCache& cache) : c_(c), cache_(cache) {}
  Connection& connection() { return c_; }

  Statement& run(const std::string& sql, const std::vector<Param>& params) {
    Statement& st = cache_.get(sql);
    st.execute(sql, params);
    return st;
  }
  std::int64_t exec(const std::string& sql, const std::vector<Param>& params) {
    return run(sql, params).row_count();
  }
  std::vector<Row> query(const std::string& sql, const std::vector<Param>& params) {
    auto& st = run(sql, params);
    std::vector<Row> rows;
    while (auto r = st.fetch()) rows.push_back(std::move(*r));
    st.close_cursor();
    return rows;
  }

  // Inserts `rows` (each holding one value per column) with multi-row VALUES statements and
  // returns the generated ids in row order when `with_ids`.
  std::vector<EntityId> insert(const std::string& table, const std::vector<std::string>& cols,
                               const std::vector<std::vector<Param>>& rows, bool with_ids) {
    std::vector<EntityId> ids;
    if (rows.empty()) return ids;
    std::string col_list, tuple = "(" + marks(cols.size()) + ")";
    for (std::size_t i = 0; i < cols.size(); ++i) col_list += (i ? ", " : "") + cols[i];
    if (c_.dialect() == Dialect::postgresql) return insert_unnest(table, col_list, cols.size(), rows, with_ids);
    // SQLite binds in-process and takes larger statements well (its limit is 32,766
    // parameters): 16,000 loaded 10-20% faster than 3,000 there, and slower on MariaDB.
    const std::size_t cap =
        c_.dialect() == Dialect::sqlite ? OdbcStore::kMaxParamsSqlite : OdbcStore::kMaxParamsPerStatement;
    std::size_t per = std::max<std::size_t>(1, std::min<std::size_t>(OdbcStore::kInChunk, cap / cols.size()));
    for (std::size_t start = 0; start < rows.size(); start += per) {
      std::size_t n = std::min(per, rows.size() - start);
      std::string sql = "INSERT INTO " + table + " (" + col_list + ") VALUES " + marks(n, tuple);
      std::vector<Param> params;
      params.reserve(n * cols.size());
      for (std::size_t r = start; r < start + n; ++r)
        for (const auto& p : rows[r]) params.push_back(p);
      if (!with_ids) {
        exec(sql, params);
        continue;
      }
      if (c_.dialect() == Dialect::sqlite) {
        // sqliteodbc returns no rows from RETURNING: the statement's rows got consecutive
        // rowids ending at last_insert_rowid() (one writer inside this transaction).
        exec(sql, params);
        auto last = query("SELECT last_insert_rowid()", {});
        EntityId last_id = last.empty() ? 0 : to_i64(last[0][0]);
        for (std::size_t i = 0; i < n; ++i) ids.push_back(last_id - static_cast<EntityId>(n - 1 - i));
      } else {
        auto got = query(sql + " RETURNING id", params);
        if (got.size() != n)
          throw OdbcError(ErrorClass::other,
                          "INSERT INTO " + table + " returned " + std::to_string(got.size()) +
                              " ids for " + std::to_string(n) + " rows",
                          {});
        for (const auto& r : got) ids.push_back(to_i64(r[0]));
      }
    }
    return ids;
  }

 private:
  // PostgreSQL: one array parameter per column, INSERT ... SELECT FROM unnest(...). psqlODBC's
  // cost per parameter grows with their number, so a few long arrays beat thousands of
  // scalars; rows come back from RETURNING in array order, as they do from VALUES.
  std::vector<EntityId> insert_unnest(const std::string& table, const std::string& col_list, std::size_t ncols,
                                      const std::vector<std::vector<Param>>& rows, bool with_ids) {
    std::vector<EntityId> ids;
    for (std::size_t start = 0; start < rows.size(); start += OdbcStore::kInChunk) {
      const std::size_t n = std::min(OdbcStore::kInChunk, rows.size() - start);
      std::string sql = "INSERT INTO " + table + " (" + col_list + ") SELECT * FROM unnest(";
      std::vector<Param> params;
      for (std::size_t c = 0; c < ncols; ++c) {
        std::vector<const Param*> column;
        column.reserve(n);
        for (std::size_t r = start; r < start + n; ++r) column.push_back(&rows[r][c]);
        sql += std::string(c ? ", " : "") + "?::" + std::string(pg_array_type(rows[start][c].kind));
        params.push_back(Param::str(pg_array_literal(column)));
      }
      sql += ")";
      if (!with_ids) {
        exec(sql, params);
        continue;
      }
      auto got = query(sql + " RETURNING id", params);
      if (got.size() != n)
        throw OdbcError(ErrorClass::other,
                        "INSERT INTO " + table + " returned " + std::to_string(got.size()) + " ids for " +
                            std::to_string(n) + " rows",
                        {});
      for (const auto& r : got) ids.push_back(to_i64(r[0]));
    }
    return ids;
  }

  Connection& c_;
  StatementCache& cache_;
};

// Carries out one WriteBatch inside an open transaction (see Store::apply for the order).
class BatchWriter {
 public:
  // `absent`: rows known not to exist (nullptr: look every row up); `skipped` is set when a
  // lookup was left out because of it.
  BatchWriter(Session& s, const core::WriteBatch& b, const KnownAbsent* absent = nullptr, bool* skipped = nullptr)
      : s_(s), b_(b), now_(utc_timestamp_now()), absent_(absent), skipped_(skipped) {}

  void run() {
    code_changes_phase1();
    insert_accounts();
    code_changes_phase2();
    update_accounts();
    link_new_parents();
    write_contacts();
    write_customers();
    write_bindings();
    write_rejections();
    write_resolves();
    // Magento orders and parked records (connectors/odbc/commerce_sql), in the same transaction.
    commerce_sql::write_commerce(s_.connection(), b_, now_);
    write_cursor();
  }

 private:
  bool known_absent(const std::string& connector, const std::string& stream, const std::string& rid) {
    if (!absent_ || !absent_->binding(connector, stream, rid)) return false;
    if (skipped_) *skipped_ = true;
    return true;
  }

  EntityId account_id(Ref r) const {
    if (r > 0) return r;
    auto it = account_ids_.find(r);
    if (it == account_ids_.end())
      throw std::logic_error("WriteBatch names account ref " + std::to_string(r) + " that it does not insert");
    return it->second;
  }
  EntityId contact_id(Ref r) const {
    if (r > 0) return r;
    auto it = contact_ids_.find(r);
    if (it == contact_ids_.end())
      throw std::logic_error("WriteBatch names contact ref " + std::to_string(r) + " that it does not insert");
    return it->second;
  }
  EntityId entity_id(const std::string& entity, Ref r) const {
    if (r > 0) return r;
    if (entity == "account") return account_id(r);
    if (entity == "contact") return contact_id(r);
    throw std::logic_error("WriteBatch binds a new " + entity + " by ref; only accounts and contacts have refs");
  }

  void code_changes_phase1() {
    std::vector<std::string> ids;
    for (const auto& cc : b_.code_changes) ids.push_back(std::to_string(cc.account));
    for (const auto& chunk : chunks(ids, OdbcStore::kInChunk)) {
      std::vector<Param> p;
      for (const auto& id : chunk) p.push_back(Param::i64(std::stoll(id)));
      s_.exec("UPDATE accounts SET external_code = NULL WHERE id IN (" + marks(chunk.size()) + ")", p);
    }
  }

  void code_changes_phase2() {
    for (const auto& cc : b_.code_changes)
      s_.exec("UPDATE accounts SET external_code = ?, updated_at = ? WHERE id = ?",
              {Param::str_or_null(cc.to), Param::ts(now_), Param::i64(cc.account)});
  }

  void insert_accounts() {
    static const std::vector<std::string> cols = {
        "external_code", "name",  "owner", "relationship", "active",   "member_of_id",
        "member_of_code", "email", "phone", "vat",          "street",   "city",
        "postcode",       "country", "created_at", "updated_at"};
    std::vector<std::vector<Param>> rows;
    std::vector<Ref> refs;
    for (const auto& a : b_.accounts) {
      if (a.ref >= 0) continue;
      auto text = [&](Field f) {
        return (a.set & core::bit(f)) ? Param::str_or_null(account_value(a.values, f)) : Param::null_str();
      };
      std::vector<Param> r;
      r.push_back(Param::str_or_null(a.external_code));
      r.push_back(text(Field::name));
      r.push_back(text(Field::owner));
      r.push_back((a.set & core::bit(Field::relationship)) ? Param::str_or_null(a.values.relationship)
                                                             : Param::str("customer"));
      r.push_back(Param::i64((a.set & core::bit(Field::active)) ? (a.values.active ? 1 : 0) : 1));
      if (a.set_member_of && a.member_of && *a.member_of > 0) r.push_back(Param::i64(*a.member_of));
      else r.push_back(Param::opt_i64(std::nullopt));
      r.push_back(a.set_member_of ? Param::str_or_null(a.member_of_code) : Param::null_str());
      for (Field f : {Field::email, Field::phone, Field::vat, Field::street, Field::city, Field::postcode,
                      Field::country})
        r.push_back(text(f));
      r.push_back(Param::ts(now_));
      r.push_back(Param::ts(now_));
      rows.push_back(std::move(r));
      refs.push_back(a.ref);
      if (a.set_member_of && a.member_of && *a.member_of < 0) new_parent_links_.push_back(&a);
    }
    auto ids = s_.insert("accounts", cols, rows, true);
    for (std::size_t i = 0; i < refs.size(); ++i) account_ids_[refs[i]] = ids[i];
  }

  void update_accounts() {
    for (const auto& a : b_.accounts) {
      if (a.ref <= 0) continue;
      std::string sets;
      std::vector<Param> p;
      auto add = [&](std::string_view col, Param v) {
        if (!sets.empty()) sets += ", ";
        sets += std::string(col) + " = ?";
        p.push_back(std::move(v));
      };
      // Rule 9 adoption: the account gets the record's code (a clash is a unique violation).
      if (a.set_code) add("external_code", Param::str_or_null(a.external_code));
      for (Field f : kAccountFields) {
        if (!(a.set & core::bit(f))) continue;
        if (f == Field::active) add("active", Param::i64(a.values.active ? 1 : 0));
        else add(account_column(f), Param::str_or_null(account_value(a.values, f)));
      }
      if (a.set_member_of) {
        add("member_of_id", Param::opt_i64(a.member_of ? std::optional<EntityId>(account_id(*a.member_of))
                                                        : std::nullopt));
        add("member_of_code", Param::str_or_null(a.member_of_code));
      }
      if (sets.empty()) continue;  // nothing of the row changes
      if (a.touched_by_source) add("updated_at", Param::ts(now_));
      p.push_back(Param::i64(a.ref));
      s_.exec("UPDATE accounts SET " + sets + " WHERE id = ?", p);
    }
  }

  void link_new_parents() {
    for (const auto* a : new_parent_links_)
      s_.exec("UPDATE accounts SET member_of_id = ? WHERE id = ?",
              {Param::i64(account_id(*a->member_of)), Param::i64(account_id(a->ref))});
  }

  void write_contacts() {
    static const std::vector<std::string> cols = {"account_id", "first_name", "last_name", "email",
                                                  "phone",      "is_default", "active",    "created_at",
                                                  "updated_at"};
    std::vector<std::vector<Param>> rows;
    std::vector<Ref> refs;
    for (const auto& c : b_.contacts) {
      if (c.ref >= 0) continue;
      rows.push_back({Param::i64(account_id(c.account)), Param::str_or_null(c.first_name),
                      Param::str_or_null(c.last_name), Param::str_or_null(c.email), Param::str_or_null(c.phone),
                      Param::i64(c.is_default.value_or(false) ? 1 : 0), Param::i64(c.active ? 1 : 0),
                      Param::ts(now_), Param::ts(now_)});
      refs.push_back(c.ref);
    }
    auto ids = s_.insert("contacts", cols, rows, true);
    for (std::size_t i = 0; i < refs.size(); ++i) contact_ids_[refs[i]] = ids[i];
    for (const auto& c : b_.contacts) {
      if (c.ref <= 0) continue;
      std::vector<Param> p = {Param::i64(account_id(c.account)), Param::str_or_null(c.first_name),
                              Param::str_or_null(c.last_name),   Param::str_or_null(c.email),
                              Param::str_or_null(c.phone),       Param::i64(c.active ? 1 : 0),
                              Param::ts(now_)};
      std::string sql =
          "UPDATE contacts SET account_id = ?, first_name = ?, last_name = ?, email = ?, phone = ?, "
          "active = ?, updated_at = ?";
      if (c.is_default) {
        sql += ", is_default = ?";
        p.push_back(Param::i64(*c.is_default ? 1 : 0));
      }
      p.push_back(Param::i64(c.ref));
      s_.exec(sql + " WHERE id = ?", p);
    }
  }

  void write_customers() {
    // channel → remote id → the batch's last write for it
    std::map<std::string, std::map<std::string, const core::CustomerWrite*>> by_channel;
    for (const auto& cw : b_.customers) by_channel[cw.channel][cw.remote_id] = &cw;
    static const std::vector<std::string> cols = {"account_id", "contact_id", "channel", "kind", "remote_id",
                                                  "email",      "name",       "created_at", "updated_at"};
    std::vector<std::vector<Param>> inserts;
    for (const auto& [channel, writes] : by_channel) {
      struct Existing {
        EntityId id, account;
        std::optional<EntityId> contact;
        std::string kind, email, name;
      };
      std::unordered_map<std::string, Existing> existing;
      std::vector<std::string> rids;
      for (const auto& [rid, w] : writes)
        if (!(w->kind == "b2b" && known_absent(channel, absent_ ? absent_->stream : std::string(), rid)))
          rids.push_back(rid);
      for (const auto& chunk : chunks(rids, OdbcStore::kInChunk)) {
        std::vector<Param> p = {Param::str(channel)};
        for (const auto& r : chunk) p.push_back(Param::str(r));
        for (const auto& row : s_.query("SELECT id, remote_id, account_id, contact_id, kind, email, name FROM "
                                         "customers WHERE channel = ? AND remote_id IN (" +
                                             marks(chunk.size()) + ")",
                                         p)) {
          Existing e{to_i64(row[0]), to_i64(row[2]),
                     row[3] ? std::optional<EntityId>(to_i64(row[3])) : std::nullopt, str(row[4]), str(row[5]),
                     str(row[6])};
          existing.emplace(str(row[1]), e);
        }
      }
      for (const auto& [rid, w] : writes) {
        EntityId acc = account_id(w->account);
        std::optional<EntityId> con = w->contact ? std::optional<EntityId>(contact_id(*w->contact)) : std::nullopt;
        auto it = existing.find(rid);
        if (it == existing.end()) {
          inserts.push_back({Param::i64(acc), Param::opt_i64(con), Param::str(channel), Param::str(w->kind),
                             Param::str(rid), Param::str_or_null(w->email), Param::str_or_null(w->name),
                             Param::ts(now_), Param::ts(now_)});
          continue;
        }
        const Existing& e = it->second;
        if (e.account == acc && e.contact == con && e.kind == w->kind && e.email == w->email && e.name == w->name)
          continue;  // only changed rows are written
        s_.exec("UPDATE customers SET account_id = ?, contact_id = ?, kind = ?, email = ?, name = ?, "
                "updated_at = ? WHERE id = ?",
                {Param::i64(acc), Param::opt_i64(con), Param::str(w->kind), Param::str_or_null(w->email),
                 Param::str_or_null(w->name), Param::ts(now_), Param::i64(e.id)});
      }
    }
    s_.insert("customers", cols, inserts, false);
  }

  void write_bindings() {
    std::map<std::string, std::map<std::string, const core::BindingWrite*>> by_stream;
    for (const auto& bw : b_.bindings) by_stream[bw.stream][bw.remote_id] = &bw;
    static const std::vector<std::string> cols = {"connector", "stream",       "remote_id", "entity",
                                                  "entity_id", "payload_hash", "updated_at"};
    std::vector<std::vector<Param>> inserts;
    for (const auto& [stream, writes] : by_stream) {
      struct Existing {
        std::string entity;
        EntityId id;
        std::string hash;
        bool missing;
      };
      std::unordered_map<std::string, Existing> existing;
      std::vector<std::string> rids;
      for (const auto& [rid, w] : writes)
        if (!known_absent(b_.connector, stream, rid)) rids.push_back(rid);
      for (const auto& chunk : chunks(rids, OdbcStore::kInChunk)) {
        std::vector<Param> p = {Param::str(b_.connector), Param::str(stream)};
        for (const auto& r : chunk) p.push_back(Param::str(r));
        for (const auto& row :
             s_.query("SELECT remote_id, entity, entity_id, payload_hash, missing_since FROM bindings "
                      "WHERE connector = ? AND stream = ? AND remote_id IN (" + marks(chunk.size()) + ")",
                      p))
          existing.emplace(str(row[0]), Existing{str(row[1]), to_i64(row[2]), str(row[3]), row[4].has_value()});
      }
      for (const auto& [rid, w] : writes) {
        EntityId id = entity_id(w->entity, w->entity_ref);
        auto it = existing.find(rid);
        if (it == existing.end()) {
          inserts.push_back({Param::str(b_.connector), Param::str(stream), Param::str(rid), Param::str(w->entity),
                             Param::i64(id), Param::str_or_null(w->payload_hash), Param::ts(now_)});
          continue;
        }
        const Existing& e = it->second;
        if (e.entity == w->entity && e.id == id && e.hash == w->payload_hash && !e.missing) continue;
        s_.exec("UPDATE bindings SET entity = ?, entity_id = ?, payload_hash = ?, missing_since = NULL, "
                "updated_at = ? WHERE connector = ? AND stream = ? AND remote_id = ?",
                {Param::str(w->entity), Param::i64(id), Param::str_or_null(w->payload_hash), Param::ts(now_),
                 Param::str(b_.connector), Param::str(stream), Param::str(rid)});
      }
    }
    s_.insert("bindings", cols, inserts, false);
  }

  void write_rejections() {
    std::map<std::string, std::vector<const core::RejectionWrite*>> by_stream;
    for (const auto& rw : b_.rejections) by_stream[rw.stream].push_back(&rw);
    static const std::vector<std::string> cols = {
        "connector",      "stream",  "remote_id",    "external_code", "reason",    "message",   "existing_owner",
        "incoming_owner", "payload", "payload_hash", "first_seen",    "last_seen", "times_seen"};
    std::vector<std::vector<Param>> inserts;
    std::vector<std::string> bump_ids;
    for (const auto& [stream, writes] : by_stream) {
      std::map<std::pair<std::string, std::string>, std::pair<EntityId, std::string>> existing;
      std::set<std::string> rid_set;
      for (const auto* w : writes) rid_set.insert(w->remote_id);
      for (const auto& chunk : chunks(rid_set, OdbcStore::kInChunk)) {
        std::vector<Param> p = {Param::str(b_.connector), Param::str(stream)};
        for (const auto& r : chunk) p.push_back(Param::str(r));
        for (const auto& row : s_.query("SELECT id, remote_id, reason, payload_hash FROM sync_rejections "
                                        "WHERE connector = ? AND stream = ? AND remote_id IN (" +
                                            marks(chunk.size()) + ")",
                                        p))
          existing[{str(row[1]), str(row[2])}] = {to_i64(row[0]), str(row[3])};
      }
      std::set<std::pair<std::string, std::string>> seen_in_batch;
      for (const auto* w : writes) {
        std::string reason(core::to_string(w->reason));
        auto key = std::make_pair(w->remote_id, reason);
        auto it = existing.find(key);
        if (it == existing.end()) {
          if (!seen_in_batch.insert(key).second) continue;  // one row per key; the first decides
          inserts.push_back({Param::str(b_.connector), Param::str(stream), Param::str(w->remote_id),
                             Param::str_or_null(w->external_code), Param::str(reason), Param::str(w->message),
                             Param::str_or_null(w->existing_owner), Param::str_or_null(w->incoming_owner),
                             Param::str(w->payload), Param::str_or_null(w->payload_hash), Param::ts(now_),
                             Param::ts(now_), Param::i64(1)});
          continue;
        }
        if (it->second.second == w->payload_hash) {
          bump_ids.push_back(std::to_string(it->second.first));
          continue;
        }
        s_.exec("UPDATE sync_rejections SET external_code = ?, message = ?, existing_owner = ?, "
                "incoming_owner = ?, payload = ?, payload_hash = ?, last_seen = ?, times_seen = times_seen + 1, "
                "resolved_at = NULL WHERE id = ?",
                {Param::str_or_null(w->external_code), Param::str(w->message), Param::str_or_null(w->existing_owner),
                 Param::str_or_null(w->incoming_owner), Param::str(w->payload), Param::str_or_null(w->payload_hash),
                 Param::ts(now_), Param::i64(it->second.first)});
      }
    }
    s_.insert("sync_rejections", cols, inserts, false);
    // Unchanged rejections seen again: one set-based statement per chunk, not one per row.
    for (const auto& chunk : chunks(bump_ids, OdbcStore::kInChunk)) {
      std::vector<Param> p = {Param::ts(now_)};
      for (const auto& id : chunk) p.push_back(Param::i64(std::stoll(id)));
      s_.exec("UPDATE sync_rejections SET last_seen = ?, times_seen = times_seen + 1, resolved_at = NULL "
              "WHERE id IN (" + marks(chunk.size()) + ")",
              p);
    }
  }

  void write_resolves() {
    std::map<std::string, std::vector<std::string>> plain;  // stream → remote ids (no reason kept)
    for (const auto& r : b_.resolves) {
      if (r.keep.empty()) {
        plain[r.stream].push_back(r.remote_id);
        continue;
      }
      std::vector<Param> p = {Param::ts(now_), Param::str(b_.connector), Param::str(r.stream),
                              Param::str(r.remote_id)};
      for (auto k : r.keep) p.push_back(Param::str(std::string(core::to_string(k))));
      s_.exec("UPDATE sync_rejections SET resolved_at = ? WHERE connector = ? AND stream = ? AND remote_id = ? "
              "AND resolved_at IS NULL AND reason NOT IN (" + marks(r.keep.size()) + ")",
              p);
    }
    for (const auto& [stream, rids] : plain)
      for (const auto& chunk : chunks(rids, OdbcStore::kInChunk)) {
        std::vector<Param> p = {Param::ts(now_), Param::str(b_.connector), Param::str(stream)};
        for (const auto& r : chunk) p.push_back(Param::str(r));
        s_.exec("UPDATE sync_rejections SET resolved_at = ? WHERE connector = ? AND stream = ? "
                "AND resolved_at IS NULL AND remote_id IN (" + marks(chunk.size()) + ")",
                p);
      }
  }

  void write_cursor() {
    if (!b_.cursor) return;
    const auto& cw = *b_.cursor;
    const std::string col = cursor_column(s_.connection().dialect());
    std::string sets = col + " = ?, updated_at = ?";
    std::vector<Param> p = {Param::str(cw.cursor), Param::ts(now_)};
    if (cw.snapshot_size) {
      sets += ", snapshot_size = ?";
      p.push_back(Param::i64(*cw.snapshot_size));
    }
    if (cw.content_hash) {
      sets += ", content_hash = ?";
      p.push_back(Param::str_or_null(*cw.content_hash));
    }
    p.push_back(Param::str(b_.connector));
    p.push_back(Param::str(cw.stream));
    // MariaDB reports matched rows here thanks to OPTION=2 (CLIENT_FOUND_ROWS).
    if (s_.exec("UPDATE sync_cursors SET " + sets + " WHERE connector = ? AND stream = ?", p) > 0) return;
    s_.exec("INSERT INTO sync_cursors (connector, stream, " + col + ", snapshot_size, content_hash, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            {Param::str(b_.connector), Param::str(cw.stream), Param::str(cw.cursor), Param::opt_i64(cw.snapshot_size),
             cw.content_hash ? Param::str_or_null(*cw.content_hash) : Param::null_str(), Param::ts(now_)});
  }

  Session& s_;
  const core::WriteBatch& b_;
  std::string now_;
  std::unordered_map<Ref, EntityId> account_ids_, contact_ids_;
  std::vector<const core::AccountWrite*> new_parent_links_;
  const KnownAbsent* absent_;
  bool* skipped_;
};

// Reads the rows of a core::StateSnapshot (load_state, load_quiet_state) through `s`.
class SnapshotReader {
 public:
  // The account columns, in the order add_account reads them.
  static inline const std::string kAccounts =
      "SELECT id, external_code, owner, member_of_id, member_of_code, name, vat FROM accounts WHERE ";
  static inline const std::string kBindings =
      "SELECT remote_id, entity, entity_id, payload_hash, missing_since FROM bindings "
      "WHERE connector = ? AND stream = ? AND remote_id IN ";

  SnapshotReader(Session& s, Dialect dialect, core::StateSnapshot& st)
      : s_(s), pg_(dialect == Dialect::postgresql), st_(st) {}

  // A binding from the columns of kBindings.
  static core::BindingState binding(const Row& r) {
    core::BindingState b;
    b.entity = str(r[1]);
    b.entity_id = to_i64(r[2]);
    b.payload_hash = str(r[3]);
    b.missing = r[4].has_value();
    return b;
  }

  // Adds the account of kAccounts' columns starting at `at` (once) and returns its id.
  EntityId add_account(const Row& r, std::size_t at = 0) {
    auto [a, fresh] = add_account_identity(st_, *account_identity_at(r, at));  // id: never NULL here
    if (fresh) {
      a.member_of_code = str(r[at + 4]);
      a.name = str(r[at + 5]);
      a.vat = str(r[at + 6]);
    }
    return a.id;
  }

  // Runs `sql_head` (ending in "IN ") + "(?, ...)" with `fixed` params and each chunk of
  // `keys`, calling on_row for every row.
  template <class Keys, class OnRow>
  void each_chunk(const std::string& sql_head, const std::vector<Param>& fixed, const Keys& keys, OnRow&& on_row,
                  bool as_int = false) {
    for (const auto& chunk : chunks(keys, OdbcStore::kInChunk)) {
      std::vector<Param> p = fixed;
      for (const auto& k : chunk) p.push_back(as_int ? Param::i64(std::stoll(k)) : Param::str(k));
      if (pg_) {
        // PostgreSQL: the keys as one array parameter (see Session::insert_unnest).
        std::vector<const Param*> values;
        for (std::size_t i = fixed.size(); i < p.size(); ++i) values.push_back(&p[i]);
        Param array = Param::str(pg_array_literal(values));
        p.resize(fixed.size());
        p.push_back(std::move(array));
        std::string head = sql_head.substr(0, sql_head.rfind("IN "));
        for (const auto& row : s_.query(head + (as_int ? "= ANY(?::bigint[])" : "= ANY(?::text[])"), p)) on_row(row);
        continue;
      }
      // The list is padded (its last key repeated) to one of a few lengths, so that batches
      // of any size reuse the same prepared statements.
      const std::size_t n = padded_length(chunk.size());
      while (p.size() < fixed.size() + n) p.push_back(p.back());
      for (const auto& row : s_.query(sql_head + "(" + marks(n) + ")", p)) on_row(row);
    }
  }

  void load_accounts_by_code(const std::set<std::string>& codes) {
    each_chunk(kAccounts + "external_code IN ", {}, codes, [&](const Row& r) { add_account(r); });
  }

  // The ancestors of every loaded account, level by level, for cycle checks (rule 6).
  void load_ancestors() {
    for (int depth = 0; depth < OdbcStore::kMaxAncestorDepth; ++depth) {
      std::set<std::string> parents;
      for (const auto& [id, a] : st_.accounts)
        if (a.member_of_id && !st_.accounts.count(*a.member_of_id)) parents.insert(std::to_string(*a.member_of_id));
      if (parents.empty()) break;
      std::size_t before = st_.accounts.size();
      each_chunk(kAccounts + "id IN ", {}, parents, [&](const Row& r) { add_account(r); }, true);
      if (st_.accounts.size() == before) break;  // dangling parents (deleted in the CRM)
    }
  }

 private:
  Session& s_;
  bool pg_;
  core::StateSnapshot& st_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

OdbcStore::OdbcStore(OdbcStoreOptions options)
    : options_(std::move(options)), env_(std::make_shared<Environment>()) {
  conn_ = std::make_unique<Connection>(env_);
  conn_->connect(options_.connection);
  on_connect();
  migrate(*conn_, options_.dry_run ? MigrateMode::check : options_.migrate);
  if (options_.dry_run) conn_->set_autocommit(false);
}

OdbcStore::~OdbcStore() {
  if (options_.dry_run && conn_) conn_->rollback();
}

Connection& OdbcStore::connection() {
  ensure_connected();
  return *conn_;
}

void OdbcStore::on_connect() {
  statements_ = std::make_unique<StatementCache>(*conn_);
  // Statements are prepared once and executed batch after batch. A generic plan, which
  // PostgreSQL would adopt after five executions, is made for the tables' sizes of that moment:
  // during a first sync the tables grow from empty and a plan made then (a sequential scan)
  // turns every later lookup into a scan. Custom plans keep the parse and plan with the sizes
  // of each execution.
  if (conn_->dialect() == Dialect::postgresql) {
    conn_->exec_direct("SET plan_cache_mode = force_custom_plan");
    // JIT compilation pays for queries that run for seconds; a 100,000-row quiet read (bindings
    // joined with their accounts, measured while the prefetch was being designed) was costed
    // above jit_above_cost and spent 0.3 s of 0.5 s compiling (PostgreSQL 15). Every statement
    // here is short.
    try {
      conn_->exec_direct("SET jit = off");
    } catch (const OdbcError&) {  // a server before PostgreSQL 11 has no JIT to turn off
    }
  }
}

StatementStats OdbcStore::statement_stats() const {
  StatementStats s = closed_stats_;
  if (conn_) s += conn_->stats();
  return s;
}

void OdbcStore::ensure_connected() {
  if (!broken_ && conn_ && conn_->connected()) return;
  if (options_.dry_run)
    throw core::SyncError(core::SyncError::Kind::permanent,
                          "the dry run lost its database connection and with it its transaction");
  if (conn_) closed_stats_ += conn_->stats();
  statements_.reset();
  conn_ = std::make_unique<Connection>(env_);
  conn_->connect(options_.connection);
  on_connect();
  broken_ = false;
}

namespace {
core::SyncError lease_lost(const Lease& lease) {
  return core::SyncError(core::SyncError::Kind::lease_lost,
                         "connector " + lease.connector + ": the lease of holder " + lease.holder +
                             " (fencing token " + std::to_string(lease.fencing_token) +
                             ") was taken over by another process; this transaction was rolled back and the "
                             "connector stops here (it runs again once this process holds the lease anew)");
}
}  // namespace

template <class Fn>
void OdbcStore::in_transaction(const char* what, Fn&& fn) {
  ensure_connected();
  Connection& c = *conn_;
  // After a failure the cached statements are freed only after the rollback: psqlODBC cannot
  // deallocate its server-side prepared statements inside an aborted transaction, and a later
  // statement allocated at the same address would then collide with the stale plan name (42P05).
  Session session(c, *statements_);
  try {
    if (options_.dry_run) {
      // One transaction for the whole dry run; a savepoint undoes just this batch on failure.
      c.exec_direct("SAVEPOINT erpsync_batch");
      try {
        fn(session);
        // psqlODBC keeps its own per-statement savepoints open; releasing ours would release
        // them too and break its next statement. An unreleased savepoint is harmless: the
        // next batch's SAVEPOINT of the same name shadows it, and the dry run ends in a rollback.
        if (c.dialect() != Dialect::postgresql) c.exec_direct("RELEASE SAVEPOINT erpsync_batch");
      } catch (const OdbcError& e) {
        if (e.error_class() != ErrorClass::connection_lost) {
          try {
            c.exec_direct("ROLLBACK TO SAVEPOINT erpsync_batch");
          } catch (...) {
          }
        }
        statements_->clear();
        throw;
      } catch (...) {
        try {
          c.exec_direct("ROLLBACK TO SAVEPOINT erpsync_batch");
        } catch (...) {
        }
        statements_->clear();
        throw;
      }
      statements_->trim();
      return;
    }
    c.set_autocommit(false);
    try {
      fn(session);
      if (fence_ && !check_fence(c, *fence_)) throw lease_lost(*fence_);
      c.commit();
    } catch (...) {
      c.rollback();
      statements_->clear();
      try {
        c.set_autocommit(true);
      } catch (...) {
        broken_ = true;
      }
      throw;
    }
    c.set_autocommit(true);
    statements_->trim();
  } catch (const OdbcError& e) {
    if (e.error_class() == ErrorClass::connection_lost) broken_ = true;
    if (e.error_class() == ErrorClass::unique_violation)
      throw core::ConstraintViolation(std::string(what) + ": " + e.what());
    throw;
  }
}

namespace {
// Runs a read or a standalone write; a lost connection marks the store for reconnection.
template <class Fn>
auto guarded(bool& broken, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const OdbcError& e) {
    if (e.error_class() == ErrorClass::connection_lost) broken = true;
    throw;
  }
}
}  // namespace

core::CursorState OdbcStore::load_cursor(const std::string& connector, const std::string& stream) {
  ensure_connected();
  return guarded(broken_, [&] {
    core::CursorState cs;
    auto rows = conn_->query(
        "SELECT " + cursor_column(conn_->dialect()) +
            ", snapshot_size, content_hash FROM sync_cursors WHERE connector = ? AND stream = ?",
        {Param::str(connector), Param::str(stream)});
    if (rows.empty()) return cs;
    cs.exists = true;
    cs.cursor = str(rows[0][0]);
    if (rows[0][1]) cs.snapshot_size = to_i64(rows[0][1]);
    cs.content_hash = str(rows[0][2]);
    return cs;
  });
}

core::StateSnapshot OdbcStore::load_state(const core::BatchKeys& keys) {
  ensure_connected();
  absent_.reset();
  try {
    return load_state_once(keys);
  } catch (...) {
    statements_->clear();  // a failed read leaves no half-used statement behind
    throw;
  }
}

core::StateSnapshot OdbcStore::load_state_once(const core::BatchKeys& keys) {
  return guarded(broken_, [&] {
    Session s(*conn_, *statements_);
    core::StateSnapshot st;
    SnapshotReader rd(s, conn_->dialect(), st);

    // Bindings of the batch's remote ids, and of its contacts.
    std::set<std::string> bound_accounts;
    rd.each_chunk(SnapshotReader::kBindings, {Param::str(keys.connector), Param::str(keys.stream)}, keys.remote_ids,
                  [&](const Row& r) {
                    auto b = SnapshotReader::binding(r);
                    if (b.entity == "account") bound_accounts.insert(std::to_string(b.entity_id));
                    st.bindings[str(r[0])] = b;
                  });
    rd.each_chunk(SnapshotReader::kBindings, {Param::str(keys.connector), Param::str("contacts")},
                  keys.contact_remote_ids,
                  [&](const Row& r) { st.contact_bindings[str(r[0])] = SnapshotReader::binding(r); });

    // Open rejections of the batch's remote ids.
    rd.each_chunk("SELECT remote_id, reason, payload_hash FROM sync_rejections WHERE connector = ? AND stream = ? "
                  "AND resolved_at IS NULL AND remote_id IN ",
                  {Param::str(keys.connector), Param::str(keys.stream)}, keys.remote_ids, [&](const Row& r) {
                    auto reason = core::reject_reason_from_string(str(r[1]));
                    if (!reason) return;  // a reason this binary does not know: not its business
                    st.open_rejections[str(r[0])].push_back(core::OpenRejection{*reason, str(r[2])});
                  });

    // Accounts holding one of the codes, and accounts bound to one of the remote ids.
    rd.load_accounts_by_code(keys.codes);
    std::set<std::string> missing_ids;
    for (const auto& id : bound_accounts)
      if (!st.accounts.count(std::stoll(id))) missing_ids.insert(id);
    rd.each_chunk(SnapshotReader::kAccounts + "id IN ", {}, missing_ids, [&](const Row& r) { rd.add_account(r); },
                  true);

    // Accounts waiting for one of the codes as their parent (rule 6).
    // SQLite (no statistics) and PostgreSQL (before its first ANALYZE of a growing table)
    // would search the member_of_id index for IS NULL, nearly every row: a scan per batch. The
    // unary plus leaves them the member_of_code index (an IN list of codes; the quiet read's
    // single-code probe gets accounts_pending_ix, see load_quiet_state).
    const std::string pending_head = conn_->dialect() == Dialect::mariadb
                                         ? SnapshotReader::kAccounts + "member_of_id IS NULL AND member_of_code IN "
                                         : SnapshotReader::kAccounts + "+member_of_id IS NULL AND member_of_code IN ";
    rd.each_chunk(pending_head, {}, keys.codes, [&](const Row& r) {
      EntityId id = rd.add_account(r);
      st.pending_children[str(r[4])].push_back(id);
    });

    // Adoption candidates (rule 9): accounts without a code, by name_key then exact normalised name.
    if (!keys.adopt_names.empty()) {
      std::map<std::string, std::set<std::string>> by_key;  // name_key → normalised names asked
      for (const auto& n : keys.adopt_names) by_key[name_key(n)].insert(n);
      std::set<std::string> key_set;
      for (const auto& [k, _] : by_key) key_set.insert(k);
      for (const auto& chunk : chunks(key_set, kInChunk)) {
        std::vector<Param> p;
        for (const auto& k : chunk) p.push_back(Param::str(k));
        // `COALESCE(external_code, '') = ''` rather than `IS NULL`: no index can serve it, so the
        // planner uses name_key's (SQLite otherwise walks the unique code index over every
        // uncoded account: 4x slower with 100k of them). Codes are never stored empty.
        for (const auto& r : s.query(SnapshotReader::kAccounts + "COALESCE(external_code, '') = '' AND name_key IN (" +
                                         marks(chunk.size(), "lower(?)") + ")",
                                     p)) {
          std::string norm = core::normalize_name(str(r[5]));
          if (!keys.adopt_names.count(norm)) continue;
          EntityId id = rd.add_account(r);
          st.uncoded_by_name[norm].push_back(id);
        }
      }
    }
    if (!keys.adopt_vats.empty()) {
      rd.each_chunk(SnapshotReader::kAccounts + "COALESCE(external_code, '') = '' AND vat IN ", {}, keys.adopt_vats,
                    [&](const Row& r) {
                      std::string vat = str(r[6]);
                      if (!keys.adopt_vats.count(vat)) return;  // MariaDB compares vat case-insensitively
                      EntityId id = rd.add_account(r);
                      st.uncoded_by_vat[vat].push_back(id);
                    });
    }

    rd.load_ancestors();

    // Remote ids of (connector, stream) bound to the loaded accounts (rule 8), default contacts.
    std::set<std::string> all_ids;
    for (const auto& [id, a] : st.accounts) all_ids.insert(std::to_string(id));
    rd.each_chunk("SELECT entity_id, remote_id FROM bindings WHERE connector = ? AND stream = ? AND entity = 'account' "
                  "AND entity_id IN ",
                  {Param::str(keys.connector), Param::str(keys.stream)}, all_ids,
                  [&](const Row& r) { st.remote_ids_by_account[to_i64(r[0])].push_back(str(r[1])); }, true);
    rd.each_chunk("SELECT DISTINCT account_id FROM contacts WHERE is_default = 1 AND account_id IN ", {}, all_ids,
                  [&](const Row& r) {
                    auto it = st.accounts.find(to_i64(r[0]));
                    if (it != st.accounts.end()) it->second.has_default_contact = true;
                  },
                  true);
    for (auto& [id, rids] : st.remote_ids_by_account) std::sort(rids.begin(), rids.end());
    auto absent = std::make_unique<KnownAbsent>();
    absent->connector = keys.connector;
    absent->stream = keys.stream;
    for (const auto& rid : keys.remote_ids)
      if (!st.bindings.count(rid)) absent->remote_ids.insert(rid);
    for (const auto& rid : keys.contact_remote_ids)
      if (!st.contact_bindings.count(rid)) absent->contact_remote_ids.insert(rid);
    absent_ = std::move(absent);
    return st;
  });
}

std::optional<core::StateSnapshot> OdbcStore::load_quiet_state(const core::BatchKeys& keys) {
  if (!options_.quiet_shortcut || keys.remote_ids.empty()) return std::nullopt;
  ensure_connected();
  absent_.reset();
  try {
    return guarded(broken_, [&]() -> std::optional<core::StateSnapshot> {
      Session s(*conn_, *statements_);
      core::StateSnapshot st;
      SnapshotReader rd(s, conn_->dialect(), st);
      if (quiet_stream_ && quiet_stream_->serves(keys.connector, keys.stream)) {
        if (!quiet_stream_->fill(keys, st, kMaxAncestorDepth)) return std::nullopt;
      } else {
        // One row per binding (QuietRow): the binding, its account and that account's parent
        // (usually the account holding the record's member_of code, so that no query by code
        // is needed for it).
        bool needs_full = false;
        rd.each_chunk(quiet_select(conn_->dialect()) + "b.remote_id IN ",
                      {Param::str(keys.connector), Param::str(keys.stream)}, keys.remote_ids, [&](const Row& r) {
                        QuietRow q = QuietRow::from(r);
                        if (q.needs_full || q.missing) needs_full = true;
                        if (needs_full) return;
                        core::BindingState& b = st.bindings[q.remote_id];
                        b.entity = "account";
                        b.entity_id = q.account->id;
                        b.payload_hash = std::move(q.payload_hash);
                        add_account_identity(st, std::move(*q.account));
                        if (q.parent) add_account_identity(st, std::move(*q.parent));
                      });
        // A record without a binding is never unchanged (and an initial sync stops here).
        if (needs_full || st.bindings.size() < keys.remote_ids.size()) return std::nullopt;
      }
      std::set<std::string> codes;  // held by accounts not loaded yet (when a parent link was edited)
      for (const auto& code : keys.codes)
        if (!st.account_by_code.count(code)) codes.insert(code);
      rd.load_accounts_by_code(codes);
      rd.load_ancestors();
      return st;
    });
  } catch (...) {
    statements_->clear();  // a failed read leaves no half-used statement behind
    throw;
  }
}

void OdbcStore::prefetch_quiet_stream(const std::string& connector, const std::string& stream,
                                      const std::function<bool()>& give_up) {
  if (!options_.quiet_shortcut) return;
  ensure_connected();
  quiet_stream_.reset();
  quiet_stream_ = guarded(broken_, [&] { return QuietStream::read(*conn_, connector, stream, give_up); });
}

void OdbcStore::apply(const core::WriteBatch& batch) {
  if (batch.writes_nothing()) return;
  quiet_stream_.reset();  // what it read no longer holds once this store writes
  // What load_state saw holds for the batch decided from it, once.
  std::unique_ptr<KnownAbsent> absent = std::move(absent_);
  bool skipped = false;
  try {
    in_transaction("apply", [&](Session& s) { BatchWriter(s, batch, absent.get(), &skipped).run(); });
  } catch (const core::ConstraintViolation&) {
    if (!skipped) throw;
    // A row load_state had not seen exists: again, looking every row up (see KnownAbsent).
    in_transaction("apply", [&](Session& s) { BatchWriter(s, batch).run(); });
  }
  analyze_grown_tables(batch.counters.created);
}

// PostgreSQL plans every lookup with the tables' statistics. A first sync fills tables that have
// none until autovacuum's first ANALYZE of them, which a busy server postpones for minutes; with
// none, the bindings lookup by (connector, stream, remote_id) = ANY(...) filters every binding of
// the stream instead of seeking (28 ms instead of 0.9 ms per batch of 500 at 100k bindings;
// bench PostgreSQL 100k: load_state 17-24 s instead of ~2 s). So the store analyzes them itself
// each time it has created as many records as it had at its previous ANALYZE (1,000 at least):
// about log2(N / 1,000) ANALYZEs over a first sync of N records, none once it only updates.
// Statistics are an optimisation: an ANALYZE that fails leaves planning to autovacuum.
void OdbcStore::analyze_grown_tables(std::int64_t created) {
  constexpr std::int64_t kFirstAnalyze = 1000;
  if (options_.dry_run || created <= 0 || !conn_ || conn_->dialect() != Dialect::postgresql) return;
  created_since_analyze_ += created;
  if (created_since_analyze_ < std::max(kFirstAnalyze, created_at_analyze_)) return;
  created_at_analyze_ += created_since_analyze_;
  created_since_analyze_ = 0;
  try {
    guarded(broken_, [&] { conn_->exec_direct("ANALYZE accounts, customers, contacts, bindings, orders"); });
  } catch (const OdbcError&) {
  }
}

std::int64_t OdbcStore::begin_run(const std::string& connector, const std::string& stream,
                                  const std::string& instance) {
  quiet_stream_.reset();  // a prefetch serves one run
  if (options_.dry_run) return 0;
  ensure_connected();
  return guarded(broken_, [&]() -> std::int64_t {
    StatementCache once(*conn_);
    Session s(*conn_, once);
    auto ids = s.insert("sync_runs", {"connector", "stream", "instance", "started_at", "status"},
                        {{Param::str(connector), Param::str(stream), Param::str_or_null(instance),
                          Param::ts(utc_timestamp_now()), Param::str("running")}},
                        true);
    return ids.at(0);
  });
}

void OdbcStore::finish_run(std::int64_t run_id, const std::string& status, const core::Counters& c,
                           const std::string& message) {
  quiet_stream_.reset();
  if (options_.dry_run || run_id == 0) return;
  ensure_connected();
  const std::string sql =
      "UPDATE sync_runs SET status = ?, finished_at = ?, fetched = ?, created = ?, adopted = ?, updated = ?, "
      "unchanged = ?, superseded = ?, parked = ?, rejected = ?, failed = ?, warnings = ?, missing = ?, "
      "message = ? WHERE id = ?";
  auto params = [&](const std::string& st, const std::string& msg) {
    return std::vector<Param>{Param::str(st), Param::ts(utc_timestamp_now()), Param::i64(c.fetched),
                              Param::i64(c.created), Param::i64(c.adopted), Param::i64(c.updated),
                              Param::i64(c.unchanged), Param::i64(c.superseded), Param::i64(c.parked),
                              Param::i64(c.rejected), Param::i64(c.failed), Param::i64(c.warnings),
                              Param::i64(c.missing), Param::str_or_null(msg), Param::i64(run_id)};
  };
  if (fence_ && status == "ok") {
    // An `ok` run ends while this process still holds the lease, or not at all: a process
    // paused past its lease must not leave an `ok` run that overlaps its successor's.
    try {
      in_transaction("finish_run", [&](Session& s) { s.exec(sql, params(status, message)); });
      return;
    } catch (const core::SyncError& e) {
      if (e.kind() != core::SyncError::Kind::lease_lost) throw;
      guarded(broken_, [&] { conn_->exec(sql, params("error", e.what())); });
      throw;
    }
  }
  guarded(broken_, [&] { conn_->exec(sql, params(status, message)); });
}

std::int64_t OdbcStore::abort_abandoned_runs(const std::string& connector) {
  if (options_.dry_run) return 0;
  ensure_connected();
  return guarded(broken_, [&] {
    return conn_->exec(
        "UPDATE sync_runs SET status = 'aborted', finished_at = ?, message = ? WHERE connector = ? AND status = 'running'",
        {Param::ts(utc_timestamp_now()),
         Param::str("the process ended (or lost the connector's lease) before the run finished"),
         Param::str(connector)});
  });
}

std::vector<core::StoredRejection> OdbcStore::replayable_rejections(const std::string& connector,
                                                                    const std::string& stream) {
  ensure_connected();
  return guarded(broken_, [&] {
    std::vector<Param> p = {Param::str(connector), Param::str(stream)};
    std::size_t n = 0;
    for (int i = 0; i <= static_cast<int>(core::RejectReason::invalid_field); ++i) {
      auto r = static_cast<core::RejectReason>(i);
      if (!core::is_replayable(r)) continue;
      p.push_back(Param::str(std::string(core::to_string(r))));
      ++n;
    }
    std::vector<core::StoredRejection> out;
    for (const auto& row : conn_->query(
             "SELECT stream, remote_id, reason, payload, payload_hash FROM sync_rejections WHERE connector = ? "
             "AND stream = ? AND resolved_at IS NULL AND reason IN (" + marks(n) + ") ORDER BY first_seen, id",
             p)) {
      auto reason = core::reject_reason_from_string(str(row[2]));
      if (!reason) continue;
      out.push_back(core::StoredRejection{str(row[0]), str(row[1]), *reason, str(row[3]), str(row[4])});
    }
    return out;
  });
}

std::int64_t OdbcStore::mark_missing(const std::string& connector, const std::string& stream,
                                     const std::unordered_set<std::string>& seen) {
  ensure_connected();
  QuietStream::Missing m;
  if (quiet_stream_ && quiet_stream_->serves(connector, stream)) {
    // The prefetched bindings, as they still are: nothing was written since (apply drops it).
    m = quiet_stream_->missing(seen);
  } else {
    guarded(broken_, [&] {
      Statement st(*conn_);
      st.execute("SELECT remote_id, missing_since FROM bindings WHERE connector = ? AND stream = ?",
                 {Param::str(connector), Param::str(stream)});
      Row r;
      while (st.fetch_into(r)) m.count(str(r[0]), r[1].has_value(), seen);
    });
  }
  quiet_stream_.reset();
  const std::vector<std::string>& to_mark = m.to_mark;
  const std::vector<std::string>& to_clear = m.to_clear;
  const std::int64_t missing = m.missing;
  if (to_mark.empty() && to_clear.empty()) return missing;
  std::string now = utc_timestamp_now();
  in_transaction("mark_missing", [&](Session& s) {
    for (const auto& chunk : chunks(to_mark, kInChunk)) {
      std::vector<Param> p = {Param::ts(now), Param::str(connector), Param::str(stream)};
      for (const auto& r : chunk) p.push_back(Param::str(r));
      s.exec("UPDATE bindings SET missing_since = ? WHERE connector = ? AND stream = ? AND missing_since IS NULL "
             "AND remote_id IN (" + marks(chunk.size()) + ")",
             p);
    }
    for (const auto& chunk : chunks(to_clear, kInChunk)) {
      std::vector<Param> p = {Param::str(connector), Param::str(stream)};
      for (const auto& r : chunk) p.push_back(Param::str(r));
      s.exec("UPDATE bindings SET missing_since = NULL WHERE connector = ? AND stream = ? AND remote_id IN (" +
                 marks(chunk.size()) + ")",
             p);
    }
  });
  return missing;
}

void OdbcStore::end_dry_run() {
  if (!options_.dry_run || !conn_ || !conn_->connected()) return;
  conn_->rollback();
}

core::CommerceState OdbcStore::load_commerce_state(const core::CommerceKeys& keys) {
  core::CommerceState state;
  state.base = load_state(keys.base);
  commerce_sql::load_commerce_extras(connection(), keys, state, kInChunk);
  return state;
}

std::vector<core::StoredParked> OdbcStore::parked_records(const std::string& connector, const std::string& stream,
                                                          std::chrono::seconds park_ttl) {
  return commerce_sql::parked_records(connection(), connector, stream, park_ttl);
}

}  // namespace erpsync::connectors::odbc
