#include "reference_store/memory_store.hpp"

#include <algorithm>
#include <set>

#include "core/rules/persons.hpp"
#include <stdexcept>

#include "core/errors.hpp"
#include "core/rules/normalize.hpp"

namespace erpsync::core {
namespace {

const std::string kAccount = "account";
const std::string kContact = "contact";

// Emulates the UNIQUE index on accounts.external_code (NULLs never collide).
void check_code_free(const std::map<EntityId, AccountRow>& accounts, const std::string& code, EntityId self) {
  if (code.empty()) return;
  for (const auto& [id, a] : accounts)
    if (id != self && a.external_code == code)
      throw ConstraintViolation("duplicate external_code '" + code + "' (account " + std::to_string(id) + ")");
}

AccountRow& existing_account(std::map<EntityId, AccountRow>& accounts, EntityId id) {
  auto it = accounts.find(id);
  if (it == accounts.end())
    throw ConstraintViolation("account " + std::to_string(id) + " no longer exists");
  return it->second;
}

void set_columns(AccountRow& row, FieldMask set, const AccountValues& v) {
  auto take = [&](Field f, std::string& column, const std::string& value) {
    if (set & bit(f)) column = value;
  };
  take(Field::name, row.name, v.name);
  take(Field::owner, row.owner, v.owner);
  take(Field::relationship, row.relationship, v.relationship);
  take(Field::email, row.email, v.email);
  take(Field::phone, row.phone, v.phone);
  take(Field::vat, row.vat, v.vat);
  take(Field::street, row.street, v.street);
  take(Field::city, row.city, v.city);
  take(Field::postcode, row.postcode, v.postcode);
  take(Field::country, row.country, v.country);
  if (set & bit(Field::active)) row.active = v.active;
}

}  // namespace

MemoryStore::MemoryStore(bool dry_run) : dry_run_(dry_run) {}

CursorState MemoryStore::load_cursor(const std::string& connector, const std::string& stream) {
  CursorState c;
  auto it = t_.cursors.find({connector, stream});
  if (it == t_.cursors.end()) return c;
  c.exists = true;
  c.cursor = it->second.cursor;
  c.snapshot_size = it->second.snapshot_size;
  c.content_hash = it->second.content_hash;
  return c;
}

StateSnapshot MemoryStore::load_state(const BatchKeys& keys) {
  StateSnapshot s;
  std::set<EntityId> ids;
  for (const auto& [id, a] : t_.accounts) {
    if (!a.external_code.empty() && keys.codes.contains(a.external_code)) ids.insert(id);
    if (!a.member_of_id && !a.member_of_code.empty() && keys.codes.contains(a.member_of_code)) {
      s.pending_children[a.member_of_code].push_back(id);
      ids.insert(id);
    }
    if (a.external_code.empty() && !t_.merged.contains(id)) {
      if (const auto n = normalize_name(a.name); !n.empty() && keys.adopt_names.contains(n)) {
        s.uncoded_by_name[n].push_back(id);
        ids.insert(id);
      }
      if (const auto v = normalize_code(a.vat); !v.empty() && keys.adopt_vats.contains(v)) {
        s.uncoded_by_vat[v].push_back(id);
        ids.insert(id);
      }
    }
  }
  for (const auto& rid : keys.remote_ids) {
    auto it = t_.bindings.find({keys.connector, keys.stream, rid});
    if (it == t_.bindings.end()) continue;
    const BindingRow& b = it->second;
    s.bindings[rid] = {b.entity, b.entity_id, b.payload_hash, b.missing_since.has_value()};
    if (b.entity == kAccount && t_.accounts.contains(b.entity_id)) ids.insert(b.entity_id);
  }
  for (const auto& rid : keys.contact_remote_ids) {
    auto it = t_.bindings.find({keys.connector, "contacts", rid});
    if (it == t_.bindings.end()) continue;
    const BindingRow& b = it->second;
    s.contact_bindings[rid] = {b.entity, b.entity_id, b.payload_hash, b.missing_since.has_value()};
  }
  // Ancestors, for the matcher's cycle checks.
  std::vector<EntityId> work(ids.begin(), ids.end());
  while (!work.empty()) {
    const EntityId id = work.back();
    work.pop_back();
    auto a = t_.accounts.find(id);
    if (a == t_.accounts.end() || !a->second.member_of_id) continue;
    const EntityId parent = *a->second.member_of_id;
    if (t_.accounts.contains(parent) && ids.insert(parent).second) work.push_back(parent);
  }
  std::set<EntityId> with_default;
  for (const auto& [cid, c] : t_.contacts)
    if (c.is_default) with_default.insert(c.account_id);
  for (EntityId id : ids) {
    const AccountRow& a = t_.accounts.at(id);
    AccountState st;
    st.id = id;
    st.external_code = a.external_code;
    st.owner = a.owner;
    st.member_of_id = a.member_of_id;
    st.member_of_code = a.member_of_code;
    st.name = a.name;
    st.vat = a.vat;
    st.has_default_contact = with_default.contains(id);
    s.accounts[id] = std::move(st);
    if (!a.external_code.empty()) s.account_by_code[a.external_code] = id;
  }
  add_contact_emails(s, ids, keys.contact_emails);
  for (const auto& [key, b] : t_.bindings) {
    if (b.connector != keys.connector || b.stream != keys.stream || b.entity != kAccount) continue;
    if (ids.contains(b.entity_id)) s.remote_ids_by_account[b.entity_id].push_back(b.remote_id);
  }
  for (const auto& r : t_.rejections) {
    if (r.resolved_at || r.connector != keys.connector || r.stream != keys.stream) continue;
    if (keys.remote_ids.contains(r.remote_id)) s.open_rejections[r.remote_id].push_back({r.reason, r.payload_hash});
  }
  return s;
}

void MemoryStore::apply(const WriteBatch& batch) {
  if (dry_run_ && !before_dry_run_) before_dry_run_ = t_;  // the dry run's open transaction
  Tables work = t_;
  apply_to(work, batch, now_ + 1, wall_);
  t_ = std::move(work);
  ++now_;
}

void MemoryStore::apply_to(Tables& t, const WriteBatch& batch, std::int64_t now, std::int64_t wall) {
  std::map<Ref, EntityId> new_accounts, new_contacts;
  auto account_id = [&](Ref r) -> EntityId {
    if (r > 0) {
      existing_account(t.accounts, r);
      return r;
    }
    auto it = new_accounts.find(r);
    if (it == new_accounts.end()) throw std::logic_error("unknown account ref " + std::to_string(r));
    return it->second;
  };
  auto contact_id = [&](Ref r) -> EntityId {
    if (r > 0) {
      if (!t.contacts.contains(r)) throw ConstraintViolation("contact " + std::to_string(r) + " no longer exists");
      return r;
    }
    auto it = new_contacts.find(r);
    if (it == new_contacts.end()) throw std::logic_error("unknown contact ref " + std::to_string(r));
    return it->second;
  };

  // Code changes, phase 1: every from-code is released.
  for (const auto& cc : batch.code_changes) existing_account(t.accounts, cc.account).external_code.clear();
  // Account inserts.
  for (const auto& w : batch.accounts) {
    if (w.ref >= 0) continue;
    if (new_accounts.contains(w.ref)) throw std::logic_error("account ref inserted twice");
    check_code_free(t.accounts, w.external_code, 0);
    AccountRow row;
    row.id = t.next_account++;
    row.external_code = w.external_code;
    set_columns(row, w.set, w.values);
    row.created_at = row.updated_at = now;
    new_accounts[w.ref] = row.id;
    t.accounts[row.id] = std::move(row);
  }
  // Code changes, phase 2.
  for (const auto& cc : batch.code_changes) {
    check_code_free(t.accounts, cc.to, cc.account);
    AccountRow& a = existing_account(t.accounts, cc.account);
    a.external_code = cc.to;
    a.updated_at = now;
    // Linked children name the parent's current code.
    for (auto& [id, child] : t.accounts) {
      if (child.member_of_id != cc.account) continue;
      child.member_of_code = cc.to;
      child.updated_at = now;
    }
  }
  // Account updates.
  for (const auto& w : batch.accounts) {
    if (w.ref < 0) continue;
    AccountRow& a = existing_account(t.accounts, w.ref);
    if (w.set_code) {
      check_code_free(t.accounts, w.external_code, w.ref);
      a.external_code = w.external_code;
    }
    set_columns(a, w.set, w.values);
    if (w.touched_by_source) a.updated_at = now;
  }
  // Parent links, now that every ref has an id.
  for (const auto& w : batch.accounts) {
    if (!w.set_member_of) continue;
    AccountRow& a = t.accounts.at(account_id(w.ref));
    a.member_of_id = w.member_of ? std::optional<EntityId>(account_id(*w.member_of)) : std::nullopt;
    a.member_of_code = w.member_of_code;
  }
  // Contacts.
  for (const auto& w : batch.contacts) {
    ContactRow* row;
    if (w.ref < 0) {
      if (new_contacts.contains(w.ref)) throw std::logic_error("contact ref inserted twice");
      const EntityId id = t.next_contact++;
      new_contacts[w.ref] = id;
      row = &t.contacts[id];
      row->id = id;
    } else {
      row = &t.contacts.at(contact_id(w.ref));
    }
    row->account_id = account_id(w.account);
    row->first_name = w.first_name;
    row->last_name = w.last_name;
    row->email = w.email;
    row->phone = w.phone;
    row->active = w.active;
    if (w.is_default) {
      if (*w.is_default)  // at most one default contact per account
        for (auto& [cid, c] : t.contacts)
          if (c.account_id == row->account_id) c.is_default = false;
      row->is_default = *w.is_default;
    }
  }
  // Customers, keyed by (channel, remote_id).
  for (const auto& w : batch.customers) {
    CustomerRow* row = nullptr;
    for (auto& [id, c] : t.customers)
      if (c.channel == w.channel && c.remote_id == w.remote_id) row = &c;
    if (!row) {
      const EntityId id = t.next_customer++;
      row = &t.customers[id];
      row->id = id;
      row->channel = w.channel;
      row->remote_id = w.remote_id;
    }
    row->kind = w.kind;
    const EntityId moved_from = row->account_id;
    row->account_id = account_id(w.account);
    // A customer that moves to another Account takes its orders and carts along.
    if (moved_from != 0 && moved_from != row->account_id) {
      for (auto& [oid, o] : t.orders)
        if (o.customer_id == row->id) o.account_id = row->account_id;
      for (auto& [cid, c] : t.carts)
        if (c.customer_id == row->id) c.account_id = row->account_id;
    }
    row->contact_id = w.contact ? std::optional<EntityId>(contact_id(*w.contact)) : std::nullopt;
    row->name = w.name;
    row->email = w.email;
  }
  // Bindings: inserted or replaced; missing_since cleared.
  for (const auto& w : batch.bindings) {
    EntityId id;
    if (w.entity == kAccount) {
      id = account_id(w.entity_ref);
    } else if (w.entity == kContact) {
      id = contact_id(w.entity_ref);
    } else {
      if (w.entity_ref <= 0) throw std::logic_error("binding to a new " + w.entity + " row");
      id = w.entity_ref;
    }
    t.bindings[{batch.connector, w.stream, w.remote_id}] =
        BindingRow{batch.connector, w.stream, w.remote_id, w.entity, id, w.payload_hash, std::nullopt};
  }
  // Rejections: upserts keyed by (connector, stream, remote_id, reason).
  for (const auto& w : batch.rejections) {
    auto it = std::find_if(t.rejections.begin(), t.rejections.end(), [&](const RejectionRow& r) {
      return r.connector == batch.connector && r.stream == w.stream && r.remote_id == w.remote_id &&
             r.reason == w.reason;
    });
    if (it == t.rejections.end()) {
      RejectionRow r;
      r.id = t.next_rejection++;
      r.connector = batch.connector;
      r.stream = w.stream;
      r.remote_id = w.remote_id;
      r.reason = w.reason;
      r.first_seen = now;
      t.rejections.push_back(std::move(r));
      it = std::prev(t.rejections.end());
    }
    RejectionRow& r = *it;
    if (r.times_seen == 0 || r.payload_hash != w.payload_hash) {
      r.external_code = w.external_code;
      r.message = w.message;
      r.existing_owner = w.existing_owner;
      r.incoming_owner = w.incoming_owner;
      r.payload = w.payload;
      r.payload_hash = w.payload_hash;
    }
    r.last_seen = now;
    ++r.times_seen;
    r.resolved_at.reset();
  }
  // Resolves.
  for (const auto& w : batch.resolves) {
    for (auto& r : t.rejections) {
      if (r.resolved_at || r.connector != batch.connector || r.stream != w.stream || r.remote_id != w.remote_id)
        continue;
      if (std::find(w.keep.begin(), w.keep.end(), r.reason) != w.keep.end()) continue;
      r.resolved_at = now;
    }
  }
  // Orders, keyed by (channel, remote_id), with their bindings.
  for (const auto& w : batch.orders) {
    OrderRow* row = nullptr;
    for (auto& [id, o] : t.orders)
      if (o.channel == batch.connector && o.remote_id == w.remote_id) row = &o;
    if (!row) {
      const EntityId id = t.next_order++;
      row = &t.orders[id];
      row->id = id;
      row->channel = batch.connector;
      row->remote_id = w.remote_id;
    }
    auto ref_id = [&](const std::optional<Ref>& r) -> std::optional<EntityId> {
      if (!r) return std::nullopt;
      if (*r <= 0) throw std::logic_error("order names a new row ref");
      return *r;
    };
    if (w.customer) {
      bool found = false;
      for (const auto& [id, c] : t.customers) found = found || id == *w.customer;
      if (!found) throw ConstraintViolation("customer " + std::to_string(*w.customer) + " no longer exists");
    }
    row->customer_id = ref_id(w.customer);
    row->account_id = ref_id(w.account);
    row->customer_email = w.customer_email;
    row->increment_id = w.increment_id;
    row->status = w.status;
    row->state = w.state;
    row->grand_total = w.grand_total;
    row->currency = w.currency;
    row->ordered_at = w.ordered_at;
    row->updated_at = w.updated_at;
    t.bindings[{batch.connector, w.stream, w.remote_id}] =
        BindingRow{batch.connector, w.stream, w.remote_id, "order", row->id, w.payload_hash, std::nullopt};
  }
  // Carts reserved for an order of their channel and not linked yet are linked to it
  // (reserved_order_id = increment_id), after the orders and again after the carts.
  auto link_carts = [&t, &batch] {
    for (auto& [cid, cart] : t.carts) {
      if (cart.channel != batch.connector || cart.order_id || cart.reserved_order_id.empty()) continue;
      for (const auto& [oid, o] : t.orders)
        if (o.channel == cart.channel && o.increment_id == cart.reserved_order_id) {
          cart.order_id = oid;
          break;
        }
    }
  };
  link_carts();
  // Carts, keyed by (channel, remote_id), their items replaced, with their bindings.
  for (const auto& w : batch.carts) {
    CartRow* row = nullptr;
    for (auto& [id, c] : t.carts)
      if (c.channel == batch.connector && c.remote_id == w.remote_id) row = &c;
    if (!row) {
      const EntityId id = t.next_cart++;
      row = &t.carts[id];
      row->id = id;
      row->channel = batch.connector;
      row->remote_id = w.remote_id;
    }
    if (w.customer) {
      if (*w.customer <= 0) throw std::logic_error("cart names a new row ref");
      if (!t.customers.contains(*w.customer))
        throw ConstraintViolation("customer " + std::to_string(*w.customer) + " no longer exists");
    }
    row->customer_id = w.customer;
    row->account_id = w.account;
    row->order_id.reset();
    row->customer_email = w.customer_email;
    row->is_active = w.is_active;
    row->items_count = w.items_count;
    row->items_qty = w.items_qty;
    row->subtotal = w.subtotal;
    row->currency = w.currency;
    row->reserved_order_id = w.reserved_order_id;
    row->created_at = w.created_at;
    row->updated_at = w.updated_at;
    row->converted_at = w.converted_at;
    row->items.clear();
    for (const auto& i : w.items) row->items.push_back({i.remote_id, i.sku, i.name, i.qty, i.price});
    t.bindings[{batch.connector, w.stream, w.remote_id}] =
        BindingRow{batch.connector, w.stream, w.remote_id, "cart", row->id, w.payload_hash, std::nullopt};
  }
  link_carts();
  // Parks (parked_at kept on existing rows) and unparks.
  for (const auto& w : batch.parks) {
    auto [it, inserted] = t.parked.try_emplace(Key3{batch.connector, w.stream, w.remote_id});
    ParkedRow& r = it->second;
    if (inserted) r.parked_at = wall;
    r.connector = batch.connector;
    r.stream = w.stream;
    r.remote_id = w.remote_id;
    r.waits_for = w.waits_for;
    r.payload = w.payload;
    r.payload_hash = w.payload_hash;
  }
  for (const auto& w : batch.unparks) t.parked.erase(Key3{batch.connector, w.stream, w.remote_id});
  if (batch.cursor) {
    CursorRow& c = t.cursors[{batch.connector, batch.cursor->stream}];
    c.cursor = batch.cursor->cursor;
    c.snapshot_size = batch.cursor->snapshot_size;
    if (batch.cursor->content_hash) c.content_hash = *batch.cursor->content_hash;
    c.updated_at = now;
  }
}

std::int64_t MemoryStore::begin_run(const std::string& connector, const std::string& stream,
                                    const std::string& instance) {
  ++now_;
  if (dry_run_) return 0;
  RunRow r;
  r.id = t_.next_run++;
  r.connector = connector;
  r.stream = stream;
  r.instance = instance;
  r.status = "running";
  r.started_at = now_;
  t_.runs[r.id] = r;
  return r.id;
}

void MemoryStore::finish_run(std::int64_t run_id, const std::string& status, const Counters& counters,
                             const std::string& message) {
  ++now_;
  auto it = t_.runs.find(run_id);
  if (it == t_.runs.end()) return;  // run 0 (dry run): nothing to finish
  it->second.status = status;
  it->second.counters = counters;
  it->second.message = message;
  it->second.finished_at = now_;
}

std::vector<StoredRejection> MemoryStore::replayable_rejections(const std::string& connector,
                                                                const std::string& stream) {
  std::vector<const RejectionRow*> rows;
  for (const auto& r : t_.rejections)
    if (!r.resolved_at && r.connector == connector && r.stream == stream && is_replayable(r.reason))
      rows.push_back(&r);
  std::stable_sort(rows.begin(), rows.end(), [](const RejectionRow* a, const RejectionRow* b) {
    return std::tie(a->first_seen, a->id) < std::tie(b->first_seen, b->id);
  });
  std::vector<StoredRejection> out;
  for (const RejectionRow* r : rows) out.push_back({r->stream, r->remote_id, r->reason, r->payload, r->payload_hash});
  return out;
}

std::int64_t MemoryStore::mark_missing(const std::string& connector, const std::string& stream,
                                       const core::KeySet& seen) {
  ++now_;
  if (dry_run_ && !before_dry_run_) before_dry_run_ = t_;
  std::int64_t missing = 0;
  for (auto& [key, b] : t_.bindings) {
    if (b.connector != connector || b.stream != stream || seen.contains(b.remote_id)) continue;
    if (!b.missing_since) b.missing_since = now_;
    ++missing;
  }
  return missing;
}

void MemoryStore::end_dry_run() {
  if (!dry_run_) return;
  if (before_dry_run_) t_ = std::move(*before_dry_run_);
  before_dry_run_.reset();
}

void MemoryStore::add_contact_emails(StateSnapshot& s, const std::set<EntityId>& accounts,
                                     const std::set<std::string>& emails) const {
  if (emails.empty()) return;
  for (const auto& [id, c] : t_.contacts)
    if (accounts.contains(c.account_id) && emails.contains(normalize_email(c.email)))
      note_person(s, c.account_id, c.email, id);
}

CommerceState MemoryStore::load_commerce_state(const CommerceKeys& keys) {
  CommerceState s;
  s.base = load_state(keys.base);
  for (const auto& rid : keys.customer_remote_ids) {
    auto b = t_.bindings.find({keys.base.connector, "accounts", rid});
    if (b != t_.bindings.end() && b->second.entity == kAccount && t_.accounts.contains(b->second.entity_id)) {
      s.own_accounts[rid] = b->second.entity_id;
      if (!t_.accounts.at(b->second.entity_id).external_code.empty()) s.own_accounts_coded.insert(rid);
    }
    for (const auto& [id, c] : t_.customers)
      if (c.channel == keys.base.connector && c.remote_id == rid) s.customers[rid] = {id, c.account_id, c.contact_id};
  }
  for (const auto& rid : keys.base.remote_ids) {
    auto p = t_.parked.find({keys.base.connector, keys.base.stream, rid});
    if (p != t_.parked.end()) s.parked[rid] = {p->second.waits_for, p->second.payload_hash};
  }
  // Odoo contacts: the company's account (and whether it has a default contact), the contact's row.
  for (const auto& rid : keys.company_remote_ids) {
    auto b = t_.bindings.find({keys.base.connector, keys.company_stream, rid});
    if (b == t_.bindings.end() || b->second.entity != kAccount || !t_.accounts.contains(b->second.entity_id)) continue;
    const EntityId account = b->second.entity_id;
    const bool has_default = std::any_of(t_.contacts.begin(), t_.contacts.end(), [&](const auto& kv) {
      return kv.second.account_id == account && kv.second.is_default;
    });
    s.companies[rid] = {account, has_default};
  }
  std::set<EntityId> company_accounts;
  for (const auto& [rid, company] : s.companies)
    if (!s.base.accounts.contains(company.account_id)) company_accounts.insert(company.account_id);
  add_contact_emails(s.base, company_accounts, keys.base.contact_emails);
  for (const auto& rid : keys.contact_row_remote_ids) {
    auto b = t_.bindings.find({keys.base.connector, "contacts", rid});
    if (b == t_.bindings.end() || b->second.entity != kContact) continue;
    auto c = t_.contacts.find(b->second.entity_id);
    if (c == t_.contacts.end()) continue;
    s.contact_rows[rid] = {c->first, c->second.account_id, c->second.is_default};
  }
  return s;
}

std::vector<StoredParked> MemoryStore::parked_records(const std::string& connector, const std::string& stream,
                                                      std::chrono::seconds park_ttl) {
  std::vector<const ParkedRow*> rows;
  for (const auto& [key, p] : t_.parked)
    if (p.connector == connector && p.stream == stream) rows.push_back(&p);
  std::stable_sort(rows.begin(), rows.end(),
                   [](const ParkedRow* a, const ParkedRow* b) { return a->parked_at < b->parked_at; });
  std::vector<StoredParked> out;
  for (const ParkedRow* p : rows)
    out.push_back({p->stream, p->remote_id, p->waits_for, p->payload, p->payload_hash,
                   wall_ - p->parked_at >= park_ttl.count()});
  return out;
}

const CartRow* MemoryStore::cart(const std::string& channel, const std::string& remote_id) const {
  for (const auto& [id, c] : t_.carts)
    if (c.channel == channel && c.remote_id == remote_id) return &c;
  return nullptr;
}

const OrderRow* MemoryStore::order(const std::string& channel, const std::string& remote_id) const {
  for (const auto& [id, o] : t_.orders)
    if (o.channel == channel && o.remote_id == remote_id) return &o;
  return nullptr;
}

const ParkedRow* MemoryStore::parked_row(const std::string& connector, const std::string& stream,
                                         const std::string& remote_id) const {
  auto it = t_.parked.find({connector, stream, remote_id});
  return it == t_.parked.end() ? nullptr : &it->second;
}

EntityId MemoryStore::insert_account(AccountRow row) {
  if (row.id == 0) row.id = t_.next_account;
  t_.next_account = std::max(t_.next_account, row.id + 1);
  const EntityId id = row.id;
  t_.accounts[id] = std::move(row);
  return id;
}

EntityId MemoryStore::insert_contact(ContactRow row) {
  if (row.id == 0) row.id = t_.next_contact;
  t_.next_contact = std::max(t_.next_contact, row.id + 1);
  const EntityId id = row.id;
  t_.contacts[id] = std::move(row);
  return id;
}

void MemoryStore::insert_binding(BindingRow row) {
  Key3 key{row.connector, row.stream, row.remote_id};
  t_.bindings[key] = std::move(row);
}

AccountRow* MemoryStore::account(EntityId id) {
  auto it = t_.accounts.find(id);
  return it == t_.accounts.end() ? nullptr : &it->second;
}

const AccountRow* MemoryStore::account_by_code(const std::string& code) const {
  for (const auto& [id, a] : t_.accounts)
    if (!code.empty() && a.external_code == code) return &a;
  return nullptr;
}

const BindingRow* MemoryStore::binding(const std::string& connector, const std::string& stream,
                                       const std::string& remote_id) const {
  auto it = t_.bindings.find({connector, stream, remote_id});
  return it == t_.bindings.end() ? nullptr : &it->second;
}

const RejectionRow* MemoryStore::rejection(const std::string& connector, const std::string& stream,
                                           const std::string& remote_id, RejectReason reason) const {
  for (const auto& r : t_.rejections)
    if (r.connector == connector && r.stream == stream && r.remote_id == remote_id && r.reason == reason) return &r;
  return nullptr;
}

const CustomerRow* MemoryStore::customer(const std::string& channel, const std::string& remote_id) const {
  for (const auto& [id, c] : t_.customers)
    if (c.channel == channel && c.remote_id == remote_id) return &c;
  return nullptr;
}

}  // namespace erpsync::core
