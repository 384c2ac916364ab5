#include "connectors/odbc/odbc_store.hpp"

#include "connectors/odbc/batch_writer.hpp"
#include "connectors/odbc/commerce_sql.hpp"
#include "connectors/odbc/dialect.hpp"
#include "connectors/odbc/odbc_store_internal.hpp"
#include "connectors/odbc/quiet_read.hpp"
#include "connectors/odbc/session.hpp"
#include "connectors/odbc/snapshot_reader.hpp"
#include "connectors/odbc/sql_text.hpp"

#include <algorithm>
#include <utility>

namespace erpsync::connectors::odbc {
namespace {
// The store's table names; an unusable prefix is a refused schema (exit 2), not a crash.
TableNames table_names_of(const std::string& prefix) {
  if (auto problem = table_prefix_problem(prefix); !problem.empty())
    throw SchemaError("database.table_prefix \"" + prefix + "\": " + problem);
  return TableNames(prefix);
}

// Whether `conn` names an in-memory SQLite database, which a second connection would not share.
bool in_memory_sqlite(std::string_view conn) {
  const auto db = connection_string_value(conn, "Database");
  return !db || db->empty() || *db == ":memory:" || db->rfind("file::memory:", 0) == 0;
}
}  // namespace

OdbcStore::OdbcStore(OdbcStoreOptions options)
    : options_(std::move(options)), tables_(table_names_of(options_.table_prefix)), env_(std::make_shared<Environment>()) {
  conn_ = open_connection();
  statements_ = std::make_unique<StatementCache>(*conn_);
  const MigrateMode mode = options_.dry_run ? MigrateMode::check : options_.migrate;
  if (options_.suitecrm) {
    crm_ = std::make_unique<SuiteCrm>(*options_.suitecrm, tables_);
    crm_->check(*conn_, mode);  // before any DDL
  }
  migrate(*conn_, mode);
  if (crm_) crm_->create_index(*conn_, mode);
  if (options_.dry_run) conn_->set_autocommit(false);
  reads_ahead_ = options_.look_ahead.value_or(sql_dialect(conn_->dialect()).reads_ahead_pays()) &&
                 !options_.dry_run && !crm_ &&
                 !(conn_->dialect() == Dialect::sqlite && in_memory_sqlite(options_.connection));
}

OdbcStore::~OdbcStore() {
  if (options_.dry_run && conn_) conn_->rollback();
}

Connection& OdbcStore::connection() {
  ensure_connected();
  return *conn_;
}

std::unique_ptr<Connection> OdbcStore::open_connection() {
  auto c = std::make_unique<Connection>(env_);
  c->connect(options_.connection);
  c->set_table_names(tables_);
  c->set_profiling(options_.profile_statements);
  sql_dialect(c->dialect()).configure_session(*c);
  return c;
}

StatementStats OdbcStore::statement_stats() const {
  StatementStats s = closed_stats_;
  if (conn_) s += conn_->stats();
  s += closed_ahead_stats_;
  if (ahead_conn_) s += ahead_conn_->stats();
  return s;
}

void OdbcStore::ensure_connected() {
  if (!broken_ && conn_ && conn_->connected()) return;
  if (options_.dry_run)
    throw core::SyncError(core::SyncError::Kind::permanent,
                          "the dry run lost its database connection and with it its transaction");
  if (conn_) closed_stats_ += conn_->stats();
  statements_.reset();
  conn_ = open_connection();
  statements_ = std::make_unique<StatementCache>(*conn_);
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

void OdbcStore::in_transaction(const char* what, const std::function<void(Session&)>& fn) {
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
        if (session.dialect().releases_batch_savepoint()) c.exec_direct("RELEASE SAVEPOINT erpsync_batch");
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

core::StateSnapshot OdbcStore::load_state(const core::BatchKeys& keys) {
  ensure_connected();
  absent_.reset();
  decided_unbound_ = false;
  try {
    return load_state_once(keys);
  } catch (...) {
    statements_->clear();  // a failed read leaves no half-used statement behind
    throw;
  }
}

UnboundStreams OdbcStore::unbound_for(const core::BatchKeys& keys) const {
  std::lock_guard<std::mutex> lock(unbound_mutex_);
  UnboundStreams unbound;
  if (keys.connector == run_connector_) {
    unbound.records = unbound_streams_.count(keys.stream) > 0;
    unbound.contacts = unbound_streams_.count("contacts") > 0;
  }
  return unbound;
}

core::StateSnapshot OdbcStore::load_state_once(const core::BatchKeys& keys) {
  return guarded([&] {
    analyze_if_due(*conn_);
    Session s(*conn_, *statements_);
    const UnboundStreams unbound = unbound_for(keys);
    decided_unbound_ = unbound.records || unbound.contacts;
    core::StateSnapshot st = read_snapshot(s, keys, unbound);
    if (crm_) {
      crm_->read_current_owners(s, st);
      st.crm = crm_->limits();
    }
    absent_ = std::make_unique<KnownAbsent>(KnownAbsent::of(keys, st));
    return st;
  });
}

namespace {
// What load_state_ahead noted for the apply of the batch decided over its snapshot.
struct AheadNote final : core::StoreNote {
  KnownAbsent absent;
  bool decided_unbound = false;  // bindings of the batch's streams were left unread
};

}  // namespace

core::LookAhead* OdbcStore::look_ahead() { return reads_ahead_ ? this : nullptr; }

Connection& OdbcStore::ahead_connection() {
  if (!ahead_conn_ || !ahead_conn_->connected()) {
    drop_ahead_connection();
    ahead_conn_ = open_connection();
    ahead_statements_ = std::make_unique<StatementCache>(*ahead_conn_);
  }
  return *ahead_conn_;
}

void OdbcStore::drop_ahead_connection() noexcept {
  ahead_statements_.reset();
  if (ahead_conn_) closed_ahead_stats_ += ahead_conn_->stats();
  ahead_conn_.reset();
}

core::StateSnapshot OdbcStore::load_state_ahead(const core::BatchKeys& keys) {
  try {
    ahead_connection();
    analyze_if_due(*ahead_conn_);
    Session s(*ahead_conn_, *ahead_statements_);
    auto note = std::make_shared<AheadNote>();
    const UnboundStreams unbound = unbound_for(keys);
    note->decided_unbound = unbound.records || unbound.contacts;
    core::StateSnapshot st = read_snapshot(s, keys, unbound);
    note->absent = KnownAbsent::of(keys, st);
    st.store_note = std::move(note);
    return st;
  } catch (...) {
    drop_ahead_connection();
    throw;
  }
}

std::optional<core::StateSnapshot> OdbcStore::load_quiet_state(const core::BatchKeys& keys) {
  if (!options_.quiet_shortcut || keys.remote_ids.empty()) return std::nullopt;
  // A stream without a binding at its run's start has no record that could be unchanged.
  if (unbound_for(keys).records) return std::nullopt;
  ensure_connected();
  absent_.reset();
  decided_unbound_ = false;
  try {
    return guarded([&] {
      Session s(*conn_, *statements_);
      auto st = read_quiet_snapshot(s, keys, quiet_stream_.get());
      if (st && crm_) st->crm = crm_->limits();
      return st;
    });
  } catch (...) {
    statements_->clear();  // a failed read leaves no half-used statement behind
    throw;
  }
}

void OdbcStore::prefetch_quiet_stream(const std::string& connector, const std::string& stream,
                                      std::size_t memory_budget, const std::function<bool()>& give_up) {
  if (!options_.quiet_shortcut) return;
  ensure_connected();
  quiet_stream_.reset();
  // The accounts are read over the read-ahead connection meanwhile, when the store has one.
  Connection* beside = nullptr;
  if (reads_ahead_) {
    try {
      beside = &ahead_connection();
    } catch (const OdbcError&) {
      drop_ahead_connection();  // read both over the store's own connection
    }
  }
  try {
    quiet_stream_ = guarded([&] { return QuietStream::read(*conn_, beside, connector, stream, memory_budget, give_up); });
  } catch (...) {
    if (beside) drop_ahead_connection();  // whichever failed, the next read ahead opens a fresh one
    throw;
  }
}

void OdbcStore::apply(const core::WriteBatch& batch) {
  if (batch.writes_nothing()) return;
  if (quiet_stream_) quiet_stream_->forget(batch);  // what the batch writes is read afresh
  // What load_state saw holds for the batch decided from it, once (or what load_state_ahead
  // noted, for a batch decided over its snapshot).
  std::unique_ptr<KnownAbsent> absent = std::move(absent_);
  bool decided_unbound = std::exchange(decided_unbound_, false);
  const KnownAbsent* known_absent = absent.get();
  if (const auto* note = dynamic_cast<const AheadNote*>(batch.store_note.get())) {
    known_absent = &note->absent;
    decided_unbound = note->decided_unbound;
  }
  bool skipped = false;
  try {
    in_transaction("apply", [&](Session& s) {
      write_batch(s, batch, known_absent, &skipped);
      if (crm_) crm_->project(s, batch);
    });
  } catch (const core::ConstraintViolation&) {
    // Decided as if no binding existed, and one did (a remote id twice in a run that is not a
    // snapshot): no more of that shortcut in this run, and the engine decides the batch again
    // over what the database holds. Carrying the same decisions out with lookups would bind
    // the remote id to a second new row.
    if (decided_unbound) {
      std::lock_guard<std::mutex> lock(unbound_mutex_);
      unbound_streams_.clear();
      throw;
    }
    if (!skipped) throw;
    // A row load_state had not seen exists: again, looking every row up (see KnownAbsent).
    in_transaction("apply", [&](Session& s) {
      write_batch(s, batch);
      if (crm_) crm_->project(s, batch);
    });
  }
  analyze_grown_tables(batch.counters.created);
}

// Engines whose planner needs fresh statistics while a first sync fills the tables (the
// dialect's analyze_grown_tables) get them from the store itself, each time it has created as
// many records as it had at its previous ANALYZE (1,000 at least): about log2(N / 1,000)
// ANALYZEs over a first sync of N records, none once it only updates. Statistics are an
// optimisation: an ANALYZE that fails leaves planning to autovacuum. A store that reads ahead
// leaves the ANALYZE to its next read of state (analyze_if_due), which runs beside the next
// apply on the read-ahead connection instead of after this one on the writer's.
void OdbcStore::analyze_grown_tables(std::int64_t created) {
  constexpr std::int64_t kFirstAnalyze = 1000;
  if (options_.dry_run || created <= 0 || !conn_) return;
  const SqlDialect& dialect = sql_dialect(conn_->dialect());
  if (!dialect.analyzes_grown_tables()) return;
  created_since_analyze_ += created;
  if (created_since_analyze_ < std::max(kFirstAnalyze, created_at_analyze_)) return;
  created_at_analyze_ += created_since_analyze_;
  created_since_analyze_ = 0;
  if (reads_ahead_) {
    analyze_due_ = true;
    return;
  }
  try {
    guarded([&] { dialect.analyze_grown_tables(*conn_); });
  } catch (const OdbcError&) {
  }
}

void OdbcStore::analyze_if_due(Connection& c) {
  if (!analyze_due_.exchange(false)) return;
  try {
    sql_dialect(c.dialect()).analyze_grown_tables(c);
  } catch (const OdbcError&) {
  }
}

void OdbcStore::end_dry_run() {
  if (!options_.dry_run || !conn_ || !conn_->connected()) return;
  conn_->rollback();
}

core::CommerceState OdbcStore::load_commerce_state(const core::CommerceKeys& keys) {
  core::CommerceState state;
  state.base = load_state(keys.base);
  commerce_sql::load_commerce_extras(connection(), keys, state, sql::kInChunk);
  return state;
}

AdminQueries OdbcStore::admin() { return AdminQueries(*this); }

void OdbcStore::refresh_from_crm() {
  if (!crm_) return;
  quiet_stream_.reset();  // the index changes under what it read
  in_transaction("refresh from SuiteCRM", [&](Session& s) { crm_->refresh(s); });
}

Connection& raw_connection(OdbcStore& store) { return store.connection(); }

}  // namespace erpsync::connectors::odbc
