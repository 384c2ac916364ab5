#pragma once
// The decisions for one batch, as plain data (leveldb's WriteBatch idea): the matcher fills
// it, Store::apply carries it out in one transaction together with the cursor.
//
// Rows created in this batch do not have a database id yet: they are named by a negative
// Ref (-1, -2, ...) unique within the batch; a positive Ref is an existing database id. The
// store maps new refs to the ids the database assigns and resolves every Ref it meets.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/outcome.hpp"
#include "core/record.hpp"

namespace erpsync::core {

using Ref = std::int64_t;  // > 0: existing row id; < 0: row inserted by this batch

// The account columns the sync writes, besides the code and the parent link.
struct AccountValues {
  std::string name, owner, relationship, email, phone, vat, street, city, postcode, country;
  bool active = true;
};

// Insert a new account, or update an existing one. One entry per account per batch, holding
// its final state after all of the batch's decisions.
struct AccountWrite {
  Ref ref = 0;
  // Insert: the columns to fill (others default: NULL text, relationship 'customer', active
  // true). Update: the columns to set; nothing else is touched.
  FieldMask set = 0;  // bits of Field: name, owner, relationship, email, phone, vat, street, city, postcode, country, active
  AccountValues values;
  // Insert: the external code (empty → NULL). Code changes of bound accounts go through
  // `code_changes` (two phases).
  std::string external_code;
  // Update only (rule 9 adoption of an account without a code): when true, external_code :=
  // `external_code`, applied with the account updates (after code changes phase 2). The code
  // was free in the matcher's view; a clash throws ConstraintViolation like any duplicate.
  bool set_code = false;
  // Parent link. When `set_member_of` is true, member_of_id := member_of (nullopt → NULL)
  // and member_of_code := member_of_code (empty → NULL).
  bool set_member_of = false;
  std::optional<Ref> member_of;
  std::string member_of_code;
  // Set the account's default contact flag on this contact ref (first contact, rule of §4.2).
  bool touched_by_source = true;  // updated_at := now
};

// Rule 8: an existing account's code changes. Applied in two phases so that swaps succeed:
// (1) every `from` code of the batch is set to NULL, (2) every account gets its `to` code.
// Phase 1 runs before account inserts, phase 2 after them. In phase 2 the account's children
// (member_of_id = account) get member_of_code := `to` as well, on every store and target, so
// that member_of_code always names the parent's current code (SPEC §4.2) whatever connector
// changed it — a from-scratch sync writes the same. (An AccountWrite of the batch that sets a
// child's link is applied after this and wins.)
struct CodeChange {
  Ref account = 0;  // always an existing account (> 0)
  std::string from, to;
};

// A `b2b` (or `magento`) Customer row keyed by (channel, remote_id): inserted when absent,
// else its account/contact/name/email are updated.
struct CustomerWrite {
  std::string channel, remote_id, kind;  // kind: "b2b" | "magento"
  Ref account = 0;
  std::optional<Ref> contact;
  std::string name, email;
};

// A contact: insert (ref < 0) or update (ref > 0).
struct ContactWrite {
  Ref ref = 0;
  Ref account = 0;
  std::string first_name, last_name, email, phone;
  bool active = true;
  std::optional<bool> is_default;  // set only when decided (first contact of an account without one)
};

// bindings(connector, stream, remote_id) → entity: inserted or replaced. payload_hash empty →
// NULL (adoption). missing_since is cleared.
struct BindingWrite {
  std::string stream, remote_id, entity;
  Ref entity_ref = 0;
  std::string payload_hash;
};

// An upsert into sync_rejections keyed by (connector, stream, remote_id, reason).
// New: first_seen = last_seen = now, times_seen = 1. Existing with the same payload_hash:
// last_seen = now, times_seen + 1, resolved_at = NULL. Existing with another hash: payload,
// message, owners, hash replaced, last_seen = now, times_seen + 1, resolved_at = NULL.
struct RejectionWrite {
  std::string stream, remote_id, external_code;
  RejectReason reason{};
  std::string message, existing_owner, incoming_owner;
  std::string payload, payload_hash;
  bool is_new_or_changed = true;  // the engine logs these once; the others are only counted
};

// Open rejections of (connector, stream, remote_id) to mark resolved, except the reasons
// listed in `keep` (raised again by this batch).
struct RejectionResolve {
  std::string stream, remote_id;
  std::vector<RejectReason> keep;
};

struct CursorWrite {
  std::string stream;
  std::string cursor;
  std::optional<std::int64_t> snapshot_size;
  std::optional<std::string> content_hash;
};

// One record's outcome, in arrival order, for the report and for dry-run listings.
struct Decision {
  std::string remote_id, external_code;
  Outcome outcome{};
  std::optional<RejectReason> reason;  // when rejected, or the warning reason when written with a warning
  std::string message;                  // human-readable why (names both owners, the candidates ...)
  // Set by the rules: the record ended exactly as the store already holds it — rejected again
  // for a reason it has open with the same payload, or parked again with the same payload and
  // the same wait. The engine counts such a record of an incremental stream `unchanged` (a
  // re-read of the cursor overlap is no new rejection or parking, SPEC §4 "re-read rows are
  // unchanged"), turning `outcome` into `unchanged` (the reason stays); a snapshot's records
  // keep their outcome (SPEC Appendix A: rejected again, counted); a replay counts nothing.
  bool as_before = false;
};

// --- Commerce streams (SPEC §4.1 Magento orders, §3 rule 10 parking) ---

// An order row keyed by (channel = batch connector, remote_id): inserted when absent, else every
// column below is replaced. The store also writes the binding (connector, stream, remote_id) →
// entity "order" with `payload_hash` (missing_since cleared), so re-read orders are `unchanged`.
struct OrderWrite {
  std::string stream, remote_id;
  std::optional<Ref> customer;  // existing customer row id (> 0); nullopt: guest order (NULL)
  std::optional<Ref> account;   // the customer's account (> 0); nullopt: NULL
  std::string customer_email, increment_id, status, state;
  std::string grand_total;  // exact decimal text ("1249.5", "165", "-0.0001"); empty → NULL
  std::string currency;
  std::string ordered_at, updated_at;  // UTC 'YYYY-MM-DD HH:MM:SS'; empty → NULL
  std::string payload_hash;
};

// One line of a cart, as cart_items stores it (qty, price: exact decimal text).
struct CartItemWrite {
  std::string remote_id, sku, name, qty, price;
};

// A carts row keyed by (channel = batch connector, remote_id): inserted when absent, else every
// column below is replaced and its cart_items rows are replaced by `items`. The store also
// writes the binding (connector, stream, remote_id) → entity "cart" with `payload_hash`
// (missing_since cleared), and links the cart to the order of its channel whose increment_id is
// `reserved_order_id` (order_id NULL while there is none; OrderWrite links it later).
struct CartWrite {
  std::string stream, remote_id;
  std::optional<Ref> customer;  // existing customer row id (> 0); nullopt: guest cart (NULL)
  std::optional<Ref> account;   // the customer's account (> 0); nullopt: NULL
  std::string customer_email;
  bool is_active = true;
  std::string items_count;                 // integer text; empty → NULL
  std::string items_qty, subtotal;         // exact decimal text; empty → NULL
  std::string currency, reserved_order_id;  // empty → NULL
  std::string created_at, updated_at, converted_at;  // UTC 'YYYY-MM-DD HH:MM:SS'; empty → NULL
  std::vector<CartItemWrite> items;
  std::string payload_hash;
};

// rule 10: sync_parked(connector, stream, remote_id) upserted. A new row gets parked_at = now;
// an existing one keeps its parked_at (park_ttl counts from the first parking) and gets the new
// waits_for, payload and payload_hash.
struct ParkWrite {
  std::string stream, remote_id, waits_for, payload, payload_hash;
};

// rule 10: the parked record (connector, stream, remote_id) is deleted (it synced, was rejected
// after park_ttl, or now waits for nothing). Absent rows are not an error.
struct UnparkWrite {
  std::string stream, remote_id;
};

// What a store noted while reading the state a batch was decided from, for the apply of that
// batch (OdbcStore: the bindings it found absent, inserted then without a lookup). Opaque to the
// core, which only carries it from StateSnapshot::store_note to WriteBatch::store_note; a batch
// without one is carried out as if nothing had been noted.
struct StoreNote {
  virtual ~StoreNote() = default;
};

struct WriteBatch {
  std::string connector;
  std::vector<CodeChange> code_changes;
  std::vector<AccountWrite> accounts;
  std::vector<ContactWrite> contacts;
  std::vector<CustomerWrite> customers;
  std::vector<BindingWrite> bindings;
  std::vector<RejectionWrite> rejections;
  std::vector<RejectionResolve> resolves;
  // Commerce parts, applied after resolves and before the cursor, in this order: orders (with
  // their bindings; carts reserved for them are linked), carts (with their items and
  // bindings), parks, unparks.
  std::vector<OrderWrite> orders;
  std::vector<CartWrite> carts;
  std::vector<ParkWrite> parks;
  std::vector<UnparkWrite> unparks;
  std::optional<CursorWrite> cursor;

  std::vector<Decision> decisions;  // not written; the report's material
  Counters counters;
  std::shared_ptr<const StoreNote> store_note;  // from the snapshot it was decided over, if any

  bool writes_nothing() const {
    return code_changes.empty() && accounts.empty() && contacts.empty() && customers.empty() &&
           bindings.empty() && rejections.empty() && resolves.empty() && orders.empty() &&
           carts.empty() && parks.empty() && unparks.empty() && !cursor;
  }
};

}  // namespace erpsync::core
