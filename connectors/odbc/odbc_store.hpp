#pragma once
// OdbcStore: core::Store over one ODBC connection (SPEC §5), for SQLite (sqliteodbc),
// PostgreSQL (psqlODBC) and MariaDB (Connector/ODBC). The dialect is detected from the
// connection, never configured. See migrations.hpp for the schema and the id strategy.
//
// Where each part lives (the SQL of each engine's quirks is in its dialect file, dialect.hpp):
//   - odbc_store.cpp: connection, transactions, fencing, dry runs; the Store entry points;
//   - snapshot_reader.cpp: load_state — set-based queries with IN lists of at most
//     sql::kInChunk keys (bindings, open rejections, accounts by code, accounts by bound id,
//     pending children, adoption candidates (not the Accounts `merge` merged away), bound remote
//     ids by account, default contacts, and the loaded accounts' Contacts of the batch's
//     e-mails (rule 12)) plus
//     ancestors level by level up to SnapshotReader::kMaxAncestorDepth levels: a bounded number
//     of statements per batch;
//   - quiet_read.cpp: load_quiet_state and prefetch_quiet_stream (the re-sync shortcut);
//   - batch_writer.cpp: apply — one transaction. New rows go in bulk inserts (the dialect's:
//     multi-row VALUES, or PostgreSQL's unnest of arrays; ids from RETURNING, or
//     last_insert_rowid() on SQLite). Customers, bindings and rejections are upserts: the
//     existing rows of the batch are read with one query per chunk, and only new or changed
//     rows are written. Bindings (and b2b Customers) of remote ids whose binding the preceding
//     load_state found absent are inserted without that read; a unique violation then re-runs
//     the batch with every read. Unchanged rejections are bumped with one
//     UPDATE ... WHERE id IN (...) per chunk;
//   - commerce_sql.cpp: Magento orders and parked records, read and written;
//   - run_bookkeeping.cpp: cursors, runs, replayable rejections, parked records, missing marks;
//   - admin_queries.cpp: what the admin commands and the daemon's gauges and retention ask
//     (admin()), with account_merge.cpp (`merge`) and account_tree.cpp (`tree`);
//     migrations.cpp: the schema; leases.cpp: connector leases.
// Every value is bound as a parameter; timestamps are bound as 'YYYY-MM-DD HH:MM:SS.mmm' UTC.
//
// The batch writer and the snapshot reader speak the erpsync schema (SPEC §5). With a CRM target
// (options.suitecrm) erpsync's accounts and contacts are its index of the CRM's rows, kept in step
// by crm_suitecrm.cpp: refreshed from the CRM at every run's start, projected into it by apply.
//
// Failures: a unique violation in apply throws core::ConstraintViolation; a lost connection
// or a lock timeout throws a transient OdbcError (a core::SyncError) and the store reconnects
// at its next call; other database errors throw a permanent OdbcError. In every case the
// transaction is rolled back first.
//
// Look-ahead (core::LookAhead): load_state_ahead reads over a second connection of its own, so
// that the engine decides the next batch while apply writes the current one (by default on
// PostgreSQL and MariaDB; on SQLite, when options.look_ahead turns it on, the two are a reader
// and a writer of one file: the writer's COMMIT waits out a read under the driver's busy
// timeout).
//
// Thread-safety: one thread at a time (one connection), except that load_state_ahead may run
// on one thread while apply runs on another (core::LookAhead).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "connectors/odbc/admin_queries.hpp"
#include "connectors/odbc/crm_suitecrm.hpp"
#include "connectors/odbc/leases.hpp"
#include "connectors/odbc/migrations.hpp"
#include "connectors/odbc/odbc.hpp"
#include "core/ports/store.hpp"

namespace erpsync::connectors::odbc {

class QuietStream;     // a stream's bindings read at once for the quiet shortcut (quiet_read.hpp)
class Session;         // one transaction's or read's statements (session.hpp)
class StatementCache;  // prepared statements kept across batches (session.hpp)
struct KnownAbsent;    // bindings the last load_state found absent (batch_writer.hpp)
struct UnboundStreams;  // streams whose bindings load_state leaves unread (snapshot_reader.hpp)

struct OdbcStoreOptions {
  std::string connection;  // DSN=... or Driver=...; logged only redacted
  MigrateMode migrate = MigrateMode::auto_apply;
  // database.table_prefix: the start of the name of every table, index and constraint of
  // erpsync's (table_names.hpp). Letters, digits and '_'; "" for none.
  std::string table_prefix;
  // Dry run: everything in one transaction that end_dry_run() (or the destructor) rolls back;
  // no sync_runs row. The schema must exist and be current (migrate is forced to `check`).
  bool dry_run = false;
  // Store::load_quiet_state: the shortcut for batches that change nothing. Off only to
  // compare both ways of deciding (tests).
  bool quiet_shortcut = true;
  // Time every statement by its shape (StatementStats::by_shape): the benchmark's --profile.
  bool profile_statements = false;
  // Store::look_ahead: the next batch's state read over a second connection while a batch is
  // applied (see load_state_ahead). nullopt: where the engine's dialect says it pays (not on
  // SQLite, SqlDialect::reads_ahead_pays); set to compare both ways of running (tests, bench).
  std::optional<bool> look_ahead;
  // database.crm "suitecrm": the Accounts and Contacts are SuiteCRM's rows (crm_suitecrm.hpp);
  // nullopt: erpsync's own tables.
  std::optional<SuiteCrmOptions> suitecrm;
};

class OdbcStore final : public core::Store, public core::QuietReads, public core::LookAhead {
 public:
  // Connects and migrates (per options.migrate). Throws OdbcError (connection), SchemaError
  // (schema refused).
  explicit OdbcStore(OdbcStoreOptions options);
  ~OdbcStore() override;

  core::CursorState load_cursor(const std::string& connector, const std::string& stream) override;
  core::StateSnapshot load_state(const core::BatchKeys& keys) override;
  core::QuietReads* quiet_reads() override { return this; }
  // One query per chunk of remote ids (bindings joined with their accounts and those accounts'
  // parents, and whether the batch needs the full snapshot); then, only where needed, the
  // accounts of codes not loaded that way and further ancestors.
  std::optional<core::StateSnapshot> load_quiet_state(const core::BatchKeys& keys) override;
  // Reads the stream with QuietStream (keyset pages of its bindings and of all accounts) and
  // answers load_quiet_state from it until mark_missing runs or a run begins or finishes
  // (apply tells it what it wrote: QuietStream::forget), and mark_missing while nothing was
  // written.
  void prefetch_quiet_stream(const std::string& connector, const std::string& stream, std::size_t memory_budget,
                             const std::function<bool()>& give_up) override;
  // Offered on erpsync's own tables outside a dry run (whose writes a second connection would
  // not see), not on an in-memory SQLite database (which a second connection does not share),
  // and where options.look_ahead (or else the dialect) says so.
  core::LookAhead* look_ahead() override;
  // load_state over the store's second connection (opened at the first call, on the calling
  // thread), which only this reads through; it may run while apply() runs on another thread.
  // The snapshot's note gives apply what load_state would have kept for it (the bindings found
  // absent, whether bindings were left unread). On a failure the second connection is dropped
  // (a new one is opened next time) and the error thrown.
  core::StateSnapshot load_state_ahead(const core::BatchKeys& keys) override;
  void apply(const core::WriteBatch& batch) override;
  std::int64_t begin_run(const std::string& connector, const std::string& stream,
                         const std::string& instance) override;
  void finish_run(std::int64_t run_id, const std::string& status, const core::Counters& counters,
                  const std::string& message) override;
  std::vector<core::StoredRejection> replayable_rejections(const std::string& connector,
                                                           const std::string& stream) override;
  // Besides the core contract: bindings of the snapshot that were missing get missing_since
  // cleared (they came back).
  std::int64_t mark_missing(const std::string& connector, const std::string& stream,
                            const core::KeySet& seen) override;
  void end_dry_run() override;
  // Magento orders and parked records (SQL in commerce_sql.cpp).
  core::CommerceState load_commerce_state(const core::CommerceKeys& keys) override;
  std::vector<core::StoredParked> parked_records(const std::string& connector, const std::string& stream,
                                                 std::chrono::seconds park_ttl) override;

  // Fencing (SPEC §10): while a lease is set, every transaction that writes a connector's
  // data (apply, mark_missing) and the `ok` end of a run check, as their last statement before
  // COMMIT, that the lease still carries this token (see leases.hpp). When it does not, the
  // transaction is rolled back and core::SyncError{lease_lost} is thrown; finish_run then
  // records the run as `error` instead of `ok`. nullopt: no fencing (dry runs, admin commands).
  void set_fence(std::optional<Lease> lease) { fence_ = std::move(lease); }

  // Marks the connector's runs still `running` as `aborted`. Call it right after taking the
  // connector's lease, before its run begins: only the lease holder runs a connector, so a run
  // left `running` then belongs to a process that died or lost the lease (whose late end is
  // refused by the fencing check). Returns how many. A no-op in dry-run mode.
  std::int64_t abort_abandoned_runs(const std::string& connector);
  const std::optional<Lease>& fence() const { return fence_; }

  Dialect dialect() const { return conn_->dialect(); }
  bool dry_run() const { return options_.dry_run; }
  // Statements executed by this store since it was opened, over every connection it had
  // (migrations included).
  StatementStats statement_stats() const;
  // The admin commands' queries, the daemon's gauges and retention (admin_queries.hpp), over this
  // store's connection.
  AdminQueries admin();

  // With a CRM target (options.suitecrm): brings erpsync's index of the CRM's Accounts and
  // Contacts in step with the CRM (SuiteCrm::refresh), in its own transaction. begin_run does
  // it before every run; a no-op without a CRM target.
  void refresh_from_crm();

 private:
  friend class AdminQueries;
  friend Connection& raw_connection(OdbcStore& store);  // odbc_store_internal.hpp

  void ensure_connected();
  // A connection as every one of the store's: table names, profiling, the dialect's session
  // settings (the caller gives it its statement cache).
  std::unique_ptr<Connection> open_connection();
  // The read-ahead connection, opened (again) when there is none or it was lost; and dropped.
  Connection& ahead_connection();
  void drop_ahead_connection() noexcept;
  // Which of the batch's streams the store knows hold no binding (unbound_streams_).
  UnboundStreams unbound_for(const core::BatchKeys& keys) const;
  // The live connection; reconnects if it was lost.
  Connection& connection();
  core::StateSnapshot load_state_once(const core::BatchKeys& keys);
  // Runs `fn(Session&)` inside a transaction (a savepoint in dry-run mode): commit on success,
  // roll back and classify on failure.
  void in_transaction(const char* what, const std::function<void(Session&)>& fn);
  // Runs a read or a standalone write; a lost connection marks the store for reconnection.
  template <class Fn>
  auto guarded(Fn&& fn) -> decltype(fn()) {
    try {
      return fn();
    } catch (const OdbcError& e) {
      if (e.error_class() == ErrorClass::connection_lost) broken_ = true;
      throw;
    }
  }
  // After `created` more records: the dialect's ANALYZE of the tables a sync fills (see .cpp).
  void analyze_grown_tables(std::int64_t created);
  // The ANALYZE analyze_grown_tables left to the next read of state, over `c`, if one is due.
  void analyze_if_due(Connection& c);

  OdbcStoreOptions options_;
  TableNames tables_;  // options_.table_prefix, given to every connection
  std::shared_ptr<Environment> env_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<StatementCache> statements_;  // of conn_; declared after it, destroyed before it
  bool broken_ = false;
  std::unique_ptr<KnownAbsent> absent_;  // from the last load_state, for the next apply
  // The first sync of a stream: begin_run found no binding of (connector, these streams), and
  // while no insert has been refused since, load_state does not look their bindings up (see
  // apply). In a first sync they can only be this run's own, and a snapshot names each remote
  // id once (SPEC §3 rule 7).
  std::string run_connector_;
  std::set<std::string> unbound_streams_;
  mutable std::mutex unbound_mutex_;  // unbound_streams_: load_state_ahead reads it beside apply
  bool decided_unbound_ = false;  // the last load_state left bindings unread
  std::unique_ptr<QuietStream> quiet_stream_;  // prefetch_quiet_stream's read, while it holds
  StatementStats closed_stats_;  // of connections replaced after a loss
  std::optional<Lease> fence_;
  std::int64_t created_since_analyze_ = 0;  // records created since this store's last ANALYZE
  std::int64_t created_at_analyze_ = 0;     // records it had created by then
  std::atomic<bool> analyze_due_{false};    // set by apply, taken by the next read of state
  std::unique_ptr<SuiteCrm> crm_;  // options_.suitecrm's target; null: erpsync's own tables
  bool reads_ahead_ = false;  // look_ahead() offered (fixed at construction)
  // load_state_ahead's connection and statements: used by that call only (and destroyed here).
  std::unique_ptr<Connection> ahead_conn_;
  std::unique_ptr<StatementCache> ahead_statements_;  // of ahead_conn_; destroyed before it
  StatementStats closed_ahead_stats_;                 // of look-ahead connections dropped
};

}  // namespace erpsync::connectors::odbc
