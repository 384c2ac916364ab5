#pragma once
// The persistence port (SPEC §5), owned by core/ and implemented by connectors/odbc/OdbcStore
// (and by test decorators that inject faults). The core decides; the store carries out.
//
// Thread-safety: a Store instance is used by one thread at a time (one connection), with one
// exception: its LookAhead capability (below) may read while apply() runs on another thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/key_set.hpp"
#include "core/outcome.hpp"
#include "core/state.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

struct CursorState {
  bool exists = false;  // no row yet: the first sync
  std::string cursor;   // the source's own format ("" = from the start)
  std::optional<std::int64_t> snapshot_size;
  std::string content_hash;
  // The counters of the stream's last successful run that decided records, all 0 when there
  // was none (nullopt: a store that does not say). The engine predicts from them whether the
  // quiet shortcut will pay (core/engine.cpp, likely_quiet).
  struct LastRun {
    std::int64_t fetched = 0, created = 0, unchanged = 0;
  };
  std::optional<LastRun> last_run;
};

// An open rejection read back for replay (SPEC §3 "Rejections come back").
struct StoredRejection {
  std::string stream, remote_id;
  RejectReason reason{};
  std::string payload;  // core::to_payload() JSON
  std::string payload_hash;
};

// A parked record read back for its retry (SPEC §3 rule 10).
struct StoredParked {
  std::string stream, remote_id, waits_for;
  std::string payload;  // the connector's payload JSON (e.g. core::to_customer_payload)
  std::string payload_hash;
  bool expired = false;  // parked for park_ttl or longer: becomes an account_not_found rejection
};

class QuietReads;
class LookAhead;

// The core port: what every run needs.
class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  virtual CursorState load_cursor(const std::string& connector, const std::string& stream) = 0;

  // Fills a snapshot for `keys` (see StateSnapshot for what it must hold), with a bounded
  // number of set-based queries (IN lists in chunks), never one query per record.
  virtual StateSnapshot load_state(const BatchKeys& keys) = 0;

  // The optional QuietReads capability (below), or nullptr when the store offers none (the
  // engine then decides every batch over load_state).
  virtual QuietReads* quiet_reads() { return nullptr; }

  // The optional LookAhead capability (below), or nullptr when the store offers none now (the
  // engine then reads each batch's state once the batch before it is committed).
  virtual LookAhead* look_ahead() { return nullptr; }

  // Carries out `batch` in ONE transaction, together with batch.cursor when set, in this
  // order: code changes phase 1 (from-codes → NULL), account inserts, code changes phase 2,
  // account updates, parent links (refs resolved), contacts, customers, bindings,
  // rejections (new/changed rows upserted; unchanged ones bumped set-based), resolves,
  // cursor. Timestamps are the store's UTC now.
  //
  // On success everything is committed. On any failure nothing is written and the cursor is
  // unchanged (rolled back):
  //   - a unique-constraint violation throws ConstraintViolation (the caller reloads the state
  //     and re-decides: the loser of a race becomes an update or a rejection);
  //   - a lost connection or lock timeout throws SyncError{transient} (the store reconnects on
  //     its next call; a commit whose acknowledgement was lost has an unknown outcome, so the
  //     caller re-reads the cursor);
  //   - anything else throws SyncError{permanent}.
  // In dry-run mode nothing is committed: all batches stay in one open transaction that
  // end_dry_run() rolls back.
  virtual void apply(const WriteBatch& batch) = 0;

  // sync_runs bookkeeping. begin_run inserts a `running` row and returns its id (0 and no row
  // in dry-run mode); finish_run sets status, counters, message and finished_at.
  virtual std::int64_t begin_run(const std::string& connector, const std::string& stream,
                                 const std::string& instance) = 0;
  virtual void finish_run(std::int64_t run_id, const std::string& status, const Counters& counters,
                          const std::string& message) = 0;

  // Open rejections of `connector` whose reason is_replayable(), oldest first.
  virtual std::vector<StoredRejection> replayable_rejections(const std::string& connector,
                                                             const std::string& stream) = 0;

  // Full snapshots (SPEC §4.3): bindings of (connector, stream) whose remote id is not in
  // `seen` get missing_since = now where it is NULL. Returns how many bound records the
  // snapshot lacks (the `missing` counter). Commits on its own.
  virtual std::int64_t mark_missing(const std::string& connector, const std::string& stream,
                                    const KeySet& seen) = 0;

  // --- Attached streams and parking (SPEC §4.1, §4.2, §3 rules 10 and 11) ---

  // load_state(keys.base) plus the commerce parts of CommerceState, set-based like load_state.
  virtual CommerceState load_commerce_state(const CommerceKeys& keys) = 0;
  // The parked records of (connector, stream), oldest first; `expired` when parked_at is at
  // least `park_ttl` ago.
  virtual std::vector<StoredParked> parked_records(const std::string& connector, const std::string& stream,
                                                   std::chrono::seconds park_ttl) = 0;

  // Dry run: rolls back everything done since the store was opened in dry-run mode.
  virtual void end_dry_run() {}
};

// The QuietReads capability: the re-sync shortcut for company streams (SPEC §11), offered by
// stores that can read a batch's unchanged state more cheaply than load_state (OdbcStore).
class QuietReads {
 public:
  virtual ~QuietReads() = default;

  // The quiet shortcut (a re-sync where nothing changed): a snapshot that is enough to decide
  // a batch whose every record is bound and unchanged, read with fewer and smaller queries
  // than load_state. It holds the bindings of keys.remote_ids (those it serves, below), every account bound to them or
  // holding one of keys.codes, and the ancestors of all of these (as load_state does, except
  // that an account's member_of_code, name and vat may be left empty); it leaves out open
  // rejections, pending children, contact bindings, adoption candidates, the remote ids by
  // account and default contacts. It leaves out the binding of a record it cannot serve so:
  // one not bound, bound but missing, with an open rejection, or whose account's code has a
  // pending child (accounts with that member_of_code and no member_of_id); without its binding
  // such a record is never decided `unchanged`. nullopt when it would leave out every record.
  //
  // Why that is enough: the engine keeps the decisions made over this snapshot only for
  // records decided `unchanged` that write nothing: the whole batch when all of them are (see
  // engine.cpp), or, when a few records of the batch are not, those unchanged records alone,
  // decided apart from the others (which are decided over load_state of their own keys) and
  // only when the others' writes cannot touch what they read (Batcher::split_unchanged);
  // otherwise it decides the batch again over load_state. A record is decided `unchanged` only when it is bound to
  // an existing account with its code, owner and payload hash, and then the decider consults
  // no more than the parts held here: the binding, its account's code, owner and parent, the
  // accounts by code (its parent's), the ancestors (cycle check), the open rejections and
  // pending children (none, checked above). The snapshot may come from an earlier read of
  // the whole stream (prefetch_quiet_stream, below).
  virtual std::optional<StateSnapshot> load_quiet_state(const BatchKeys& keys) = 0;

  // A hint for the quiet shortcut: the rest of this run of (connector, stream) is expected to
  // be quiet and long (a snapshot synced before is opening, or most of it is still to come and
  // the last batch was unchanged). The store may then read every binding of the stream at
  // once, with what load_quiet_state would read for it, and answer the run's further
  // load_quiet_state calls from that read until mark_missing or the next run, reading afresh
  // what the store has written since (the records an apply binds or rejects, the existing
  // accounts it changes; such a record needs load_state, such an account is read as one the
  // read never held), and its mark_missing while nothing was written. It gives the read up as soon as
  // `give_up` (if set) returns true, and does not read when the stream's bindings would take
  // more than about `memory_budget` bytes (a snapshot of millions of tiny records: SPEC §11
  // bounds a document's run at 32 MB + 3x its size). The default does nothing.
  //
  // Why a read made earlier is as good: a record decided over load_quiet_state's snapshot is
  // kept only when it writes nothing, and nothing it reads was written by this store since the
  // read. It is then decided exactly as it would have been at the moment of the read, which
  // is one order in which it, the run's writes (which do not touch what it read) and a
  // concurrent CRM edit can happen (it writes nothing, so no edit is lost; the next run sees
  // the edit). The bindings of a stream are written only by the holder of its connector's
  // lease, i.e. this run, so mark_missing finds them as they were while the run wrote none.
  virtual void prefetch_quiet_stream(const std::string& connector, const std::string& stream,
                                     std::size_t memory_budget, const std::function<bool()>& give_up) = 0;

};

// The LookAhead capability: the next batch's state read while the store applies the batch
// before it on another thread, so that the engine decides one batch while the database writes
// the other (engine.cpp, Batcher::submit). OdbcStore offers it over a second connection.
class LookAhead {
 public:
  virtual ~LookAhead() = default;

  // Store::load_state for `keys`, safe to call while Store::apply runs on another thread (and
  // never beside any other call of the store). It reads what is committed, so it may not yet
  // see the batch being applied: the caller reads ahead only a batch that batch cannot affect
  // (core/pipeline.hpp, BatchFootprint). Throws SyncError as load_state does; the engine then
  // waits for the apply and reads the state the ordinary way.
  virtual StateSnapshot load_state_ahead(const BatchKeys& keys) = 0;
};

}  // namespace erpsync::core
