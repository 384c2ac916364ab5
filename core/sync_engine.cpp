#include "core/sync_engine.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/batch_commit.hpp"
#include "core/errors.hpp"
#include "core/matcher.hpp"
#include "core/payload.hpp"

namespace erpsync::core {
namespace {

using Clock = std::chrono::steady_clock;

struct StopRequested {};

// Rule 7 across a whole fetched page: only the last record of each remote id is kept; the
// earlier ones are counted superseded here, so that splitting a page into batches never lets
// a duplicate through. `later` lists the records a later page of the same document supersedes
// (SourcePage::superseded).
std::vector<IncomingAccount> drop_superseded(std::vector<IncomingAccount> page, const std::vector<std::size_t>& later,
                                            Counters& counters, SyncEvents& events) {
  std::unordered_map<std::string, std::size_t> last;
  for (std::size_t i = 0; i < page.size(); ++i) last[page[i].get(Field::remote_id)] = i;
  if (last.size() == page.size() && later.empty()) return page;
  std::vector<IncomingAccount> kept;
  kept.reserve(last.size());
  auto next_later = later.begin();
  for (std::size_t i = 0; i < page.size(); ++i) {
    const std::string& rid = page[i].get(Field::remote_id);
    while (next_later != later.end() && *next_later < i) ++next_later;
    const bool superseded_later = next_later != later.end() && *next_later == i;
    if (last[rid] == i && !superseded_later) {
      kept.push_back(std::move(page[i]));
      continue;
    }
    counters.count(Outcome::superseded);
    events.on_decision(Decision{rid, page[i].get(Field::external_code), Outcome::superseded, std::nullopt,
                                "remote id " + rid + " appears again later in the same " +
                                    (superseded_later ? "document" : "page") + "; the last one is the record"});
  }
  return kept;
}

// The quiet shortcut's test (Store::load_quiet_state): every record of the batch decided
// `unchanged`, without a warning, and nothing to write.
bool all_unchanged(const WriteBatch& batch, std::size_t records) {
  if (!batch.writes_nothing() || batch.counters.warnings != 0 || batch.decisions.size() != records) return false;
  return std::all_of(batch.decisions.begin(), batch.decisions.end(),
                     [](const Decision& d) { return d.outcome == Outcome::unchanged && !d.reason; });
}

class BatchRunner {
 public:
  BatchRunner(const MatchPolicy& policy, Store& store, const StreamRunOptions& options, SyncEvents& events)
      : policy_(policy), store_(store), options_(options), events_(events) {}

  // Decides and applies `records` with `cursor` (may be empty); returns the committed batch's
  // counters (see decide_and_commit). `filter` may drop parts of the decided batch before it is
  // written (replays).
  template <typename Filter>
  Counters run(std::span<const IncomingAccount> records, const std::optional<CursorWrite>& cursor,
               Filter&& filter) {
    auto decide_batch = [&](std::span<const IncomingAccount> rs) {
      const BatchKeys keys = batch_keys(policy_, rs);
      WriteBatch batch;
      bool decided = false;
      if (quiet_.worth_trying()) {
        if (std::optional<StateSnapshot> quiet = store_.load_quiet_state(keys)) {
          batch = decide(policy_, rs, std::move(*quiet));
          decided = all_unchanged(batch, rs.size());  // else the snapshot may have been short
        }
        quiet_.tried(decided);
      }
      last_batch_quiet_ = decided;
      if (!decided) batch = decide(policy_, rs, store_.load_state(keys));
      batch.connector = policy_.connector;
      filter(batch);
      return batch;
    };
    return decide_and_commit(records, cursor, store_, events_, options_.max_redecides, decide_batch);
  }

  // The last batch run was decided over the quiet shortcut's snapshot (all unchanged).
  bool last_batch_quiet() const { return last_batch_quiet_; }

 private:
  // When to ask for the quiet shortcut: always while batches are quiet; after a batch that was
  // not, only every kRetryEvery-th batch, so that an initial sync or a busy stream does not pay
  // for a quiet read in every batch. (Only speed depends on it: a batch not tried quiet is
  // decided over the full snapshot.)
  class QuietAttempts {
   public:
    static constexpr int kRetryEvery = 8;
    bool worth_trying() { return quiet_ || ++skipped_ >= kRetryEvery; }
    void tried(bool quiet) {
      quiet_ = quiet;
      skipped_ = 0;
    }

   private:
    bool quiet_ = true;
    int skipped_ = 0;
  };

  const MatchPolicy& policy_;
  Store& store_;
  const StreamRunOptions& options_;
  SyncEvents& events_;
  QuietAttempts quiet_;
  bool last_batch_quiet_ = false;
};

// Whether to ask the store to prefetch the stream for the quiet shortcut
// (Store::prefetch_quiet_stream) after a quiet batch, with `handed` of the snapshot's records
// decided so far. The prefetch reads every binding of the stream (about the snapshot's size)
// in a few large queries, about half the cost of the per-batch quiet reads of as many records
// (bench/, three engines): it pays when at least half of the snapshot, and more than a few
// batches, are still ahead.
bool quiet_prefetch_pays(const std::optional<std::int64_t>& snapshot_size, std::int64_t handed,
                         std::size_t batch_size) {
  if (!snapshot_size) return false;
  const std::int64_t ahead = *snapshot_size - handed;
  return ahead >= 4 * static_cast<std::int64_t>(batch_size) && 2 * ahead >= *snapshot_size;
}

void keep_all(WriteBatch&) {}

// A replayed record that is rejected again for a reason it already had, with the same payload,
// writes nothing and counts nothing.
void drop_repeated_rejections(WriteBatch& batch) {
  std::set<std::pair<std::string, RejectReason>> repeated;
  std::vector<RejectionWrite> kept;
  for (RejectionWrite& r : batch.rejections) {
    if (r.is_new_or_changed) kept.push_back(std::move(r));
    else repeated.emplace(r.remote_id, r.reason);
  }
  batch.rejections = std::move(kept);
  std::vector<Decision> decisions;
  for (Decision& d : batch.decisions) {
    if (d.outcome == Outcome::rejected && d.reason && repeated.count({d.remote_id, *d.reason})) {
      --batch.counters.fetched;
      --batch.counters.rejected;
      continue;
    }
    decisions.push_back(std::move(d));
  }
  batch.decisions = std::move(decisions);
}

}  // namespace

Counters replay_rejections(const MatchPolicy& policy, Store& store, const StreamRunOptions& options,
                           SyncEvents& events) {
  // One record per remote id: the most recently stored payload (rows come oldest first).
  std::vector<StoredRejection> stored = store.replayable_rejections(policy.connector, policy.stream);
  std::map<std::string, std::size_t> latest;
  for (std::size_t i = 0; i < stored.size(); ++i) latest[stored[i].remote_id] = i;
  std::vector<IncomingAccount> records;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    if (latest[stored[i].remote_id] != i) continue;
    if (auto rec = from_payload(stored[i].payload)) records.push_back(std::move(*rec));
  }
  Counters total;
  BatchRunner runner(policy, store, options, events);
  const std::span<const IncomingAccount> all(records);
  for (std::size_t at = 0; at < all.size(); at += options.batch_size) {
    const auto chunk = all.subspan(at, std::min(options.batch_size, all.size() - at));
    total += runner.run(chunk, std::nullopt, drop_repeated_rejections);
  }
  return total;
}

SyncReport run_stream(const MatchPolicy& policy, AccountSource& source, Store& store,
                      const StreamRunOptions& options, SyncEvents& events, SyncError::Kind* error_kind) {
  const auto started = Clock::now();
  SyncReport report;
  report.connector = policy.connector;
  report.stream = policy.stream;
  Counters& counters = report.counters;
  std::size_t in_flight = 0;  // records of the batch being decided/applied (failed if it fails)

  try {
    report.run_id = store.begin_run(policy.connector, policy.stream, options.instance);
    counters += replay_rejections(policy, store, options, events);

    const CursorState cursor = store.load_cursor(policy.connector, policy.stream);
    report.cursor = cursor.cursor;
    // A snapshot synced before is most often synced again unchanged (the quiet re-sync): while
    // a source opens on another thread, the store reads the stream for the quiet shortcut,
    // giving up if the opening brings nothing to sync or a stop is requested. A source that
    // opens on this thread gets the prefetch after the run's first quiet batch instead (below).
    bool prefetched = false;
    const SourceStart start = source.begin_while(cursor, [&](const std::function<bool()>& opening_gave_nothing) {
      if (!source.is_snapshot() || cursor.snapshot_size.value_or(0) <= 0) return;
      store.prefetch_quiet_stream(policy.connector, policy.stream,
                                  [&] { return opening_gave_nothing() || events.stop_requested(); });
      prefetched = true;
    });
    if (start.unchanged) {
      report.source_unchanged = true;
    } else {
      if (source.is_snapshot() && start.snapshot_size) {
        const std::int64_t size = *start.snapshot_size;
        if (size == 0 && !options.snapshot.allow_empty)
          throw SyncError(SyncError::Kind::permanent,
                          "the snapshot is empty; refused so that nothing is marked missing "
                          "(set allow_empty: true if an empty export is real)");
        if (cursor.snapshot_size && *cursor.snapshot_size > 0 && size > 0) {
          const double shrink = 100.0 * static_cast<double>(*cursor.snapshot_size - size) /
                                static_cast<double>(*cursor.snapshot_size);
          if (shrink > options.snapshot.max_shrink_percent)
            throw SyncError(SyncError::Kind::permanent,
                            "the snapshot shrank from " + std::to_string(*cursor.snapshot_size) + " to " +
                                std::to_string(size) + " records (more than max_shrink " +
                                std::to_string(static_cast<int>(options.snapshot.max_shrink_percent)) +
                                "%); refused so that nothing is marked missing");
        }
      }

      BatchRunner runner(policy, store, options, events);
      std::unordered_set<std::string> seen;  // snapshot: every remote id the document holds
      std::string last_cursor = cursor.cursor;
      std::int64_t handed = 0;  // records decided so far
      while (auto page = source.next_page()) {
        if (source.is_snapshot())
          for (const IncomingAccount& r : page->records) seen.insert(r.get(Field::remote_id));
        std::vector<IncomingAccount> records = drop_superseded(std::move(page->records), page->superseded, counters, events);
        const std::span<const IncomingAccount> all(records);
        if (all.empty() && !page->cursor_after.empty() && page->cursor_after != last_cursor) {
          runner.run(all, CursorWrite{policy.stream, page->cursor_after, std::nullopt, std::nullopt}, keep_all);
        }
        for (std::size_t at = 0; at < all.size(); at += options.batch_size) {
          if (events.stop_requested()) throw StopRequested{};
          const std::size_t n = std::min(options.batch_size, all.size() - at);
          const bool last_of_page = at + n == all.size();
          std::optional<CursorWrite> cw;
          if (last_of_page && !page->cursor_after.empty())
            cw = CursorWrite{policy.stream, page->cursor_after, std::nullopt, std::nullopt};
          in_flight = n;
          counters += runner.run(all.subspan(at, n), cw, keep_all);
          in_flight = 0;
          events.on_progress(counters);
          handed += static_cast<std::int64_t>(n);
          if (!prefetched && source.is_snapshot() && runner.last_batch_quiet() &&
              quiet_prefetch_pays(start.snapshot_size, handed, options.batch_size)) {
            store.prefetch_quiet_stream(policy.connector, policy.stream, [&] { return events.stop_requested(); });
            prefetched = true;
          }
        }
        if (!page->cursor_after.empty()) last_cursor = page->cursor_after;
      }
      report.cursor = last_cursor;

      if (source.is_snapshot()) {
        counters.missing = store.mark_missing(policy.connector, policy.stream, seen);
        // The snapshot's size and content hash go with the cursor once everything is committed:
        // a crash before this point re-reads the file, and every record is then unchanged.
        WriteBatch done;
        done.connector = policy.connector;
        done.cursor = CursorWrite{policy.stream, last_cursor, start.snapshot_size, start.content_hash};
        // Another process may create the stream's first cursor row at the same moment: the
        // loser's insert violates the key and goes again as an update.
        for (int attempt = 1;; ++attempt) {
          try {
            store.apply(done);
            break;
          } catch (const ConstraintViolation& e) {
            events.on_redecide(attempt, e.what());
            if (attempt >= options.max_redecides) throw;
          }
        }
      }
    }
    report.status = "ok";
  } catch (const StopRequested&) {
    report.status = "stopped";
    report.message = "stopped by request before the source was read to the end; the next run goes on from the cursor";
  } catch (const SyncError& e) {
    report.status = "error";
    report.message = std::string(e.what());
    report.error_kind = e.kind();
    report.retry_after_s = e.retry_after_s();
    if (error_kind) *error_kind = e.kind();
    for (std::size_t i = 0; i < in_flight; ++i) counters.count(Outcome::failed);
  } catch (const std::exception& e) {
    report.status = "error";
    report.message = std::string(e.what());
    report.error_kind = SyncError::Kind::permanent;
    if (error_kind) *error_kind = SyncError::Kind::permanent;
    for (std::size_t i = 0; i < in_flight; ++i) counters.count(Outcome::failed);
  }

  report.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  record_run_end(store, report, error_kind);
  return report;
}

void record_run_end(Store& store, SyncReport& report, SyncError::Kind* error_kind) {
  if (report.run_id == 0) return;
  try {
    store.finish_run(report.run_id, report.status, report.counters, report.message);
  } catch (const SyncError& e) {
    if (e.kind() == SyncError::Kind::lease_lost) {
      report.status = "error";
      report.message = e.what();
      report.error_kind = e.kind();
      if (error_kind) *error_kind = e.kind();
    } else if (report.message.empty()) {
      report.message = std::string("recording the run failed: ") + e.what();
    }
  } catch (const std::exception& e) {
    // The database went away mid-run: the row stays `running` and is marked `aborted` at the
    // next start; the report still reaches the log.
    if (report.message.empty()) report.message = std::string("recording the run failed: ") + e.what();
  }
}

}  // namespace erpsync::core
