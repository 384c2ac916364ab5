#pragma once
// MemoryStore: an in-memory core::Store (leveldb's memenv idea). Tables are ordered maps;
// `apply` works on a copy of all tables and swaps it in only when every step succeeded, so a
// failure leaves nothing written, as a rolled-back transaction would. It is the reference
// the ODBC store is compared against: it follows the contracts of store.hpp, state.hpp and
// write_batch.hpp to the letter, and the tests read its tables through the accessors below.
//
// Time is a logical clock: every writing call (apply, begin_run, finish_run, mark_missing)
// advances `now()` by one tick and stamps its rows with it, so tests can order events
// without sleeping.
//
// Thread-safety: like every Store, one thread at a time.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "core/ports/store.hpp"

namespace erpsync::core {

// Text columns: an empty string stands for NULL.
struct AccountRow {
  EntityId id = 0;
  std::string external_code;
  std::string name, owner;
  std::string relationship = "customer";
  bool active = true;
  std::optional<EntityId> member_of_id;
  std::string member_of_code;
  std::string email, phone, vat, street, city, postcode, country;
  std::int64_t created_at = 0, updated_at = 0;
};

struct ContactRow {
  EntityId id = 0;
  EntityId account_id = 0;
  std::string first_name, last_name, email, phone;
  bool is_default = false;
  bool active = true;
};

struct CustomerRow {
  EntityId id = 0;
  EntityId account_id = 0;
  std::optional<EntityId> contact_id;
  std::string channel, kind, remote_id, email, name;
};

struct BindingRow {
  std::string connector, stream, remote_id, entity;
  EntityId entity_id = 0;
  std::string payload_hash;  // empty: NULL
  std::optional<std::int64_t> missing_since;
};

struct RejectionRow {
  std::int64_t id = 0;
  std::string connector, stream, remote_id, external_code;
  RejectReason reason{};
  std::string message, existing_owner, incoming_owner, payload, payload_hash;
  std::int64_t first_seen = 0, last_seen = 0, times_seen = 0;
  std::optional<std::int64_t> resolved_at;
};

struct OrderRow {
  EntityId id = 0;
  std::string channel, remote_id;
  std::optional<EntityId> customer_id, account_id;
  std::string customer_email, increment_id, status, state, grand_total, currency, ordered_at, updated_at;
};

struct ParkedRow {
  std::string connector, stream, remote_id, waits_for, payload, payload_hash;
  std::int64_t parked_at = 0;  // wall clock seconds (set_wall_clock)
};

struct CursorRow {
  std::string cursor;
  std::optional<std::int64_t> snapshot_size;
  std::string content_hash;
  std::int64_t updated_at = 0;
};

struct RunRow {
  std::int64_t id = 0;
  std::string connector, stream, instance, status, message;
  std::int64_t started_at = 0;
  std::optional<std::int64_t> finished_at;
  Counters counters;
};

class MemoryStore final : public Store {
 public:
  using Key2 = std::tuple<std::string, std::string>;               // connector, stream
  using Key3 = std::tuple<std::string, std::string, std::string>;  // connector, stream, remote id

  // In dry-run mode every change is undone by end_dry_run() and runs get no row (id 0).
  explicit MemoryStore(bool dry_run = false);

  CursorState load_cursor(const std::string& connector, const std::string& stream) override;
  StateSnapshot load_state(const BatchKeys& keys) override;
  // Throws ConstraintViolation (nothing written) on a duplicate external code and when a row
  // the batch updates by id no longer exists (deleted since load_state: re-decide). An
  // unknown negative Ref is a bug in the batch: std::logic_error, nothing written.
  void apply(const WriteBatch& batch) override;
  std::int64_t begin_run(const std::string& connector, const std::string& stream,
                         const std::string& instance) override;
  void finish_run(std::int64_t run_id, const std::string& status, const Counters& counters,
                  const std::string& message) override;
  std::vector<StoredRejection> replayable_rejections(const std::string& connector,
                                                     const std::string& stream) override;
  // Marks every absent binding (missing_since set once, kept when already set) and returns
  // how many bound records the snapshot lacks, including those missing since an earlier run.
  std::int64_t mark_missing(const std::string& connector, const std::string& stream,
                            const core::KeySet& seen) override;
  void end_dry_run() override;
  CommerceState load_commerce_state(const CommerceKeys& keys) override;
  std::vector<StoredParked> parked_records(const std::string& connector, const std::string& stream,
                                           std::chrono::seconds park_ttl) override;

  // --- Test set-up and inspection (not part of Store) ---
  // Inserts an account as the CRM would (id assigned when 0). Returns its id.
  EntityId insert_account(AccountRow row);
  EntityId insert_contact(ContactRow row);
  void insert_binding(BindingRow row);
  // The row, or nullptr.
  AccountRow* account(EntityId id);
  const AccountRow* account_by_code(const std::string& code) const;
  const BindingRow* binding(const std::string& connector, const std::string& stream,
                            const std::string& remote_id) const;
  const RejectionRow* rejection(const std::string& connector, const std::string& stream,
                                const std::string& remote_id, RejectReason reason) const;
  const CustomerRow* customer(const std::string& channel, const std::string& remote_id) const;

  const std::map<EntityId, AccountRow>& accounts() const { return t_.accounts; }
  const std::map<EntityId, ContactRow>& contacts() const { return t_.contacts; }
  const std::map<EntityId, CustomerRow>& customers() const { return t_.customers; }
  const std::map<Key3, BindingRow>& bindings() const { return t_.bindings; }
  const std::vector<RejectionRow>& rejections() const { return t_.rejections; }
  const std::map<Key2, CursorRow>& cursors() const { return t_.cursors; }
  const std::map<std::int64_t, RunRow>& runs() const { return t_.runs; }
  std::int64_t now() const { return now_; }
  const std::map<EntityId, OrderRow>& orders() const { return t_.orders; }
  const std::map<Key3, ParkedRow>& parked() const { return t_.parked; }
  const OrderRow* order(const std::string& channel, const std::string& remote_id) const;
  const ParkedRow* parked_row(const std::string& connector, const std::string& stream,
                              const std::string& remote_id) const;
  // A wall clock in seconds for parked_at and park_ttl (the logical clock counts calls, not
  // time). Starts at 0; tests move it forward to let parked records expire.
  void set_wall_clock(std::int64_t seconds) { wall_ = seconds; }

 private:
  struct Tables {
    std::map<EntityId, AccountRow> accounts;
    std::map<EntityId, ContactRow> contacts;
    std::map<EntityId, CustomerRow> customers;
    std::map<Key3, BindingRow> bindings;
    std::vector<RejectionRow> rejections;  // in insertion (id) order
    std::map<Key2, CursorRow> cursors;
    std::map<std::int64_t, RunRow> runs;
    std::map<EntityId, OrderRow> orders;
    std::map<Key3, ParkedRow> parked;
    EntityId next_account = 1, next_contact = 1, next_customer = 1, next_order = 1;
    std::int64_t next_rejection = 1, next_run = 1;
  };

  static void apply_to(Tables& t, const WriteBatch& batch, std::int64_t now, std::int64_t wall);

  bool dry_run_;
  Tables t_;
  std::optional<Tables> before_dry_run_;
  std::int64_t now_ = 0;
  std::int64_t wall_ = 0;
};

}  // namespace erpsync::core
