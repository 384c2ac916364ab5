// OdbcStore's bookkeeping: cursors, runs (sync_runs), replayable rejections, parked records and
// the missing marks of a snapshot's bindings.
#include "connectors/odbc/commerce_sql.hpp"
#include "connectors/odbc/dialect.hpp"
#include "connectors/odbc/odbc_store.hpp"
#include "connectors/odbc/quiet_read.hpp"
#include "connectors/odbc/session.hpp"
#include "connectors/odbc/sql_text.hpp"

namespace erpsync::connectors::odbc {

namespace {
constexpr int kMissingPageRows = 10000;
}  // namespace

core::CursorState OdbcStore::load_cursor(const std::string& connector, const std::string& stream) {
  ensure_connected();
  return guarded([&] {
    core::CursorState cs;
    auto rows = conn_->query(
        "SELECT " + std::string(sql_dialect(conn_->dialect()).cursor_column()) +
            ", snapshot_size, content_hash FROM sync_cursors WHERE connector = ? AND stream = ?",
        {Param::str(connector), Param::str(stream)});
    cs.last_run = core::CursorState::LastRun{};
    auto last = conn_->query(
        "SELECT fetched, created, unchanged FROM sync_runs WHERE connector = ? AND stream = ? AND status = 'ok' "
        "AND fetched > 0 ORDER BY started_at DESC LIMIT 1",
        {Param::str(connector), Param::str(stream)});
    if (!last.empty()) cs.last_run = core::CursorState::LastRun{to_i64(last[0][0]), to_i64(last[0][1]), to_i64(last[0][2])};
    if (rows.empty()) return cs;
    cs.exists = true;
    cs.cursor = str(rows[0][0]);
    if (rows[0][1]) cs.snapshot_size = to_i64(rows[0][1]);
    cs.content_hash = str(rows[0][2]);
    return cs;
  });
}

std::int64_t OdbcStore::begin_run(const std::string& connector, const std::string& stream,
                                  const std::string& instance) {
  quiet_stream_.reset();  // a prefetch serves one run
  {
    std::lock_guard<std::mutex> lock(unbound_mutex_);
    unbound_streams_.clear();
  }
  refresh_from_crm();     // the CRM's edits since the last run, before rejections are replayed
  if (options_.dry_run) return 0;
  ensure_connected();
  return guarded([&]() -> std::int64_t {
    StatementCache once(*conn_);
    Session s(*conn_, once);
    std::set<std::string> unbound;
    for (const std::string& st : {stream, std::string("contacts")})
      if (s.query("SELECT 1 FROM bindings WHERE connector = ? AND stream = ? LIMIT 1",
                  {Param::str(connector), Param::str(st)})
              .empty())
        unbound.insert(st);
    {
      std::lock_guard<std::mutex> lock(unbound_mutex_);
      run_connector_ = connector;
      unbound_streams_ = std::move(unbound);
    }
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
  {
    std::lock_guard<std::mutex> lock(unbound_mutex_);
    unbound_streams_.clear();  // a first sync's shortcut serves its run only
  }
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
      guarded([&] { conn_->exec(sql, params("error", e.what())); });
      throw;
    }
  }
  guarded([&] { conn_->exec(sql, params(status, message)); });
}

std::int64_t OdbcStore::abort_abandoned_runs(const std::string& connector) {
  if (options_.dry_run) return 0;
  ensure_connected();
  return guarded([&] {
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
  return guarded([&] {
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
             "AND stream = ? AND resolved_at IS NULL AND reason IN (" + sql::marks(n) + ") ORDER BY first_seen, id",
             p)) {
      auto reason = core::reject_reason_from_string(str(row[2]));
      if (!reason) continue;
      out.push_back(core::StoredRejection{str(row[0]), str(row[1]), *reason, str(row[3]), str(row[4])});
    }
    return out;
  });
}

std::int64_t OdbcStore::mark_missing(const std::string& connector, const std::string& stream,
                                     const core::KeySet& seen) {
  ensure_connected();
  QuietStream::Missing m;
  if (quiet_stream_ && quiet_stream_->serves(connector, stream) && quiet_stream_->as_read()) {
    // The prefetched bindings, as they still are: nothing was written since.
    m = quiet_stream_->missing(seen);
  } else {
    // In pages by the primary key: a driver may hold a whole result in memory (the SQLite
    // driver does), and a snapshot can bind millions of records (SPEC §11's memory bound).
    guarded([&] {
      Statement st(*conn_);
      auto page_sql = [](const char* after_op) {
        return std::string("SELECT remote_id, missing_since FROM bindings WHERE connector = ? AND stream = ? "
                           "AND remote_id ") + after_op + " ? ORDER BY remote_id LIMIT " +
               std::to_string(kMissingPageRows);  // a literal: some drivers quote a bound one
      };
      const std::string first_page = page_sql(">="), next_page = page_sql(">");
      std::string after;
      bool first = true;  // the first page includes "", a real id for some ERPs
      for (int rows = kMissingPageRows; rows == kMissingPageRows; first = false) {
        st.execute(first ? first_page : next_page,
                   {Param::str(connector), Param::str(stream), Param::str(after)});
        rows = 0;
        Row r;
        while (st.fetch_into(r)) {
          ++rows;
          after = str(r[0]);
          m.count(after, r[1].has_value(), seen);
        }
      }
    });
  }
  quiet_stream_.reset();
  const std::vector<std::string>& to_mark = m.to_mark;
  const std::vector<std::string>& to_clear = m.to_clear;
  const std::int64_t missing = m.missing;
  if (to_mark.empty() && to_clear.empty()) return missing;
  std::string now = utc_timestamp_now();
  in_transaction("mark_missing", [&](Session& s) {
    for (const auto& chunk : sql::chunks(to_mark, sql::kInChunk)) {
      std::vector<Param> p = {Param::ts(now), Param::str(connector), Param::str(stream)};
      for (const auto& r : chunk) p.push_back(Param::str(r));
      s.exec("UPDATE bindings SET missing_since = ? WHERE connector = ? AND stream = ? AND missing_since IS NULL "
             "AND remote_id IN (" + sql::marks(chunk.size()) + ")",
             p);
    }
    for (const auto& chunk : sql::chunks(to_clear, sql::kInChunk)) {
      std::vector<Param> p = {Param::str(connector), Param::str(stream)};
      for (const auto& r : chunk) p.push_back(Param::str(r));
      s.exec("UPDATE bindings SET missing_since = NULL WHERE connector = ? AND stream = ? AND remote_id IN (" +
                 sql::marks(chunk.size()) + ")",
             p);
    }
  });
  return missing;
}

std::vector<core::StoredParked> OdbcStore::parked_records(const std::string& connector, const std::string& stream,
                                                          std::chrono::seconds park_ttl) {
  return commerce_sql::parked_records(connection(), connector, stream, park_ttl);
}

}  // namespace erpsync::connectors::odbc
