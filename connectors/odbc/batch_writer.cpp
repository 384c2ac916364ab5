#include "connectors/odbc/batch_writer.hpp"

#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "connectors/odbc/commerce_sql.hpp"
#include "connectors/odbc/sql_text.hpp"

namespace erpsync::connectors::odbc {

KnownAbsent KnownAbsent::of(const core::BatchKeys& keys, const core::StateSnapshot& st) {
  KnownAbsent absent;
  absent.connector = keys.connector;
  absent.stream = keys.stream;
  for (const auto& rid : keys.remote_ids)
    if (!st.bindings.count(rid)) absent.remote_ids.insert(rid);
  for (const auto& rid : keys.contact_remote_ids)
    if (!st.contact_bindings.count(rid)) absent.contact_remote_ids.insert(rid);
  return absent;
}

namespace {

using core::EntityId;
using core::Field;
using core::Ref;
using sql::chunks;
using sql::kInChunk;
using sql::marks;

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

// Carries out one WriteBatch (write_batch).
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

  // The id of `r`: itself when positive (an existing row), else the id its insert got.
  static EntityId resolve(const std::unordered_map<Ref, EntityId>& inserted, Ref r, const char* entity) {
    if (r > 0) return r;
    auto it = inserted.find(r);
    if (it == inserted.end())
      throw std::logic_error(std::string("WriteBatch names ") + entity + " ref " + std::to_string(r) +
                             " that it does not insert");
    return it->second;
  }
  EntityId account_id(Ref r) const { return resolve(account_ids_, r, "account"); }
  EntityId contact_id(Ref r) const { return resolve(contact_ids_, r, "contact"); }
  EntityId entity_id(const std::string& entity, Ref r) const {
    if (r > 0) return r;
    if (entity == "account") return account_id(r);
    if (entity == "contact") return contact_id(r);
    throw std::logic_error("WriteBatch binds a new " + entity + " by ref; only accounts and contacts have refs");
  }

  void code_changes_phase1() {
    std::vector<std::string> ids;
    for (const auto& cc : b_.code_changes) ids.push_back(std::to_string(cc.account));
    for (const auto& chunk : chunks(ids, kInChunk)) {
      std::vector<Param> p;
      for (const auto& id : chunk) p.push_back(Param::i64(std::stoll(id)));
      s_.exec("UPDATE accounts SET external_code = NULL WHERE id IN (" + marks(chunk.size()) + ")", p);
    }
  }

  void code_changes_phase2() {
    for (const auto& cc : b_.code_changes) {
      s_.exec("UPDATE accounts SET external_code = ?, updated_at = ? WHERE id = ?",
              {Param::str_or_null(cc.to), Param::ts(now_), Param::i64(cc.account)});
      // Linked children name the parent's current code (CodeChange).
      s_.exec("UPDATE accounts SET member_of_code = ?, updated_at = ? WHERE member_of_id = ?",
              {Param::str_or_null(cc.to), Param::ts(now_), Param::i64(cc.account)});
    }
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
      for (const auto& chunk : chunks(rids, kInChunk)) {
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
      for (const auto& chunk : chunks(rids, kInChunk)) {
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
      for (const auto& chunk : chunks(rid_set, kInChunk)) {
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
    for (const auto& chunk : chunks(bump_ids, kInChunk)) {
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
      for (const auto& chunk : chunks(rids, kInChunk)) {
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
    const std::string col(s_.dialect().cursor_column());
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

}  // namespace

void write_batch(Session& s, const core::WriteBatch& batch, const KnownAbsent* absent, bool* skipped) {
  BatchWriter(s, batch, absent, skipped).run();
}

}  // namespace erpsync::connectors::odbc
