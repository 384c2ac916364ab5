#pragma once
// The quiet shortcut's reads (core::Store::load_quiet_state and prefetch_quiet_stream): what
// the decision of an unchanged record reads — its binding, its account's identity and that
// account's ancestors — and whether the record needs the full snapshot instead (an open
// rejection, a child waiting for its account's code). Only those columns: every value costs a
// driver call.
//
// Two ways to read it:
//   - per batch: quiet_select() joins the batch's bindings (an IN list) with their accounts and
//     those accounts' parents, one QuietRow each (read_quiet_snapshot);
//   - per stream: QuietStream reads every binding of the stream and every account in keyset
//     pages (two range scans, no join: a join costs an index lookup per row, and 10,000 of
//     those took PostgreSQL longer than the scans), joins them in memory and serves the rest of
//     the run's batches.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/odbc/odbc.hpp"
#include "core/key_set.hpp"
#include "core/state.hpp"
#include "core/write_batch.hpp"

namespace erpsync::connectors::odbc {

class Session;  // session.hpp

// The columns of an account the quiet decision reads.
struct AccountIdentity {
  core::EntityId id = 0;
  std::string external_code;
  std::string owner;
  std::optional<core::EntityId> member_of_id;
};

// The identity columns (id, external_code, owner, member_of_id) of a row starting at `at`;
// nullopt when the id is NULL (a LEFT JOIN found no account).
std::optional<AccountIdentity> account_identity_at(const Row& r, std::size_t at);

// Adds `a` to the snapshot's accounts (and account_by_code) unless it holds that id already;
// returns the snapshot's account and whether it was added.
std::pair<core::AccountState&, bool> add_account_identity(core::StateSnapshot& st, AccountIdentity a);

// One row of quiet_select().
struct QuietRow {
  std::string remote_id;
  std::string payload_hash;
  bool missing = false;  // missing_since is set
  // The record cannot be decided from the quiet snapshot: the binding has no account (not an
  // account binding, or the account was deleted), the record has an open rejection, or a child
  // waits for its account's code (accounts_pending_ix).
  bool needs_full = false;
  std::optional<AccountIdentity> account, parent;

  static QuietRow from(const Row& r);
};

// "SELECT <QuietRow's columns> FROM bindings b ... WHERE b.connector = ? AND b.stream = ? AND "
// — the caller appends its condition on b.remote_id.
std::string quiet_select(Dialect dialect);

// Every binding of one (connector, stream) and every account, read at one moment of a run.
class QuietStream {
 public:
  // Rows per keyset page: bounds what a driver that buffers whole results (psqlODBC, sqliteodbc)
  // holds at once.
  static constexpr int kPageRows = 10000;
  // Reading every account pays while the stream's bindings are at least this share of them
  // (a range scan row costs a fraction of a per-batch lookup); below it read() declines.
  static constexpr std::int64_t kMaxAccountsPerBinding = 8;

  // Reads the stream: its bindings and all accounts in pages of kPageRows, then the records
  // with an open rejection and the accounts a child waits for (one statement each). nullptr
  // when the database holds more than kMaxAccountsPerBinding accounts per binding of the
  // stream (by the span of account ids), or none, when its entries would take more than
  // `memory_budget` bytes, and when `give_up` (if set) returns true before a page. With
  // `beside` (a second connection to the same database, the store's read-ahead one), the
  // accounts are read over it on another thread while `conn` reads the bindings. Throws
  // OdbcError.
  static std::unique_ptr<QuietStream> read(Connection& conn, Connection* beside, const std::string& connector,
                                           const std::string& stream,
                                           std::size_t memory_budget, const std::function<bool()>& give_up);

  bool serves(const std::string& connector, const std::string& stream) const {
    return connector == connector_ && stream == stream_;
  }

  // What `batch`, applied by the store after this read, changed: its records of the stream
  // (bound, rejected, rejections resolved) need the full snapshot from now on, and the existing
  // accounts it writes (values, owner, code, parent link) are no longer held: an ancestor of
  // them is read from the database as one this read never held, and a record bound to one
  // needs the full snapshot. So the read keeps serving the rest of a run whose batches change
  // a few records each. Once anything is forgotten, missing() is no longer what the stream holds.
  void forget(const core::WriteBatch& batch);
  // Whether missing() still says what the stream's bindings are: nothing was forgotten.
  bool as_read() const { return !written_; }

  // Fills `st` as load_quiet_state does from its per-batch select: the bindings of
  // keys.remote_ids, their accounts and all their ancestors (up to max_ancestor_depth levels;
  // the caller reads accounts of codes not found from the database), leaving out a record
  // without a binding, with a missing one, or needing the full snapshot. False when it leaves
  // out every record.
  bool fill(const core::BatchKeys& keys, core::StateSnapshot& st, int max_ancestor_depth) const;

  // What mark_missing finds for a snapshot that held `seen`: the remote ids to mark missing
  // (bound, not seen, not missing yet), to clear (seen again while missing), and how many bound
  // records the snapshot lacks. Only while as_read().
  struct Missing {
    std::vector<std::string> to_mark, to_clear;
    std::int64_t missing = 0;
    // Counts one binding of the stream (missing_since set or not) against `seen`.
    void count(const std::string& remote_id, bool was_missing, const core::KeySet& seen);
  };
  Missing missing(const core::KeySet& seen) const;

 private:
  // Compact entries: a 1M-record snapshot's run holds 1M of each.
  struct Bound {
    core::EntityId account_id = 0;  // 0: not an account binding
    std::array<char, 64> hash{};    // the payload hash (SHA-256 hex); a longer one needs the full snapshot
    std::uint8_t hash_size = 0;
    bool missing = false;
    bool needs_full = false;
  };
  struct Identity {
    std::string external_code;
    std::string owner;
    std::optional<core::EntityId> member_of_id;
    bool waited_for = false;  // a child waits for this account's code
    bool forgotten = false;   // written since the read (forget)
  };
  using BoundEntry = std::pair<std::string, Bound>;
  using AccountEntry = std::pair<core::EntityId, Identity>;

  const Bound* find(const std::string& remote_id) const;
  Bound* find(const std::string& remote_id);
  const Identity* account(core::EntityId id) const;
  Identity* account(core::EntityId id);
  // Adds account `id` to `st` unless it is there; false when this read does not hold it.
  bool add_known(core::EntityId id, core::StateSnapshot& st) const;

  std::string connector_, stream_;
  // Sorted vectors, not hash maps: the pages arrive in key order, so building them is a
  // push_back (a sort only when the database's collation orders remote ids differently),
  // without a node allocation per entry.
  std::vector<BoundEntry> bindings_;    // by remote id
  std::vector<AccountEntry> accounts_;  // by id
  bool written_ = false;                // forget() was called
};

// load_quiet_state's snapshot of `keys`: from `prefetched` when it serves the keys' stream, else
// with quiet_select() per chunk of remote ids; then the accounts of codes not loaded that way
// and further ancestors (SnapshotReader). The binding of a record that needs the full snapshot
// (none, a missing one, an open rejection, a child waiting for its account) is left out: without
// it the record is never decided unchanged, so the engine reads it in full. nullopt when every
// record is left out. Throws OdbcError.
std::optional<core::StateSnapshot> read_quiet_snapshot(Session& s, const core::BatchKeys& keys,
                                                       const QuietStream* prefetched);

}  // namespace erpsync::connectors::odbc
