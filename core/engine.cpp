#include "core/engine.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/batch_commit.hpp"
#include "core/errors.hpp"
#include "core/pipeline.hpp"

namespace erpsync::core {

std::string_view to_string(StreamKind k) {
  switch (k) {
    case StreamKind::companies: return "companies";
    case StreamKind::contacts: return "contacts";
    case StreamKind::customers: return "customers";
    case StreamKind::orders: return "orders";
    case StreamKind::carts: return "carts";
  }
  return "companies";
}

void StreamTraits<IncomingAccount>::keep_replayed(WriteBatch& batch) {
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

void count_as_before_unchanged(WriteBatch& batch) {
  for (Decision& d : batch.decisions) {
    if (!d.as_before || (d.outcome != Outcome::rejected && d.outcome != Outcome::parked)) continue;
    if (d.outcome == Outcome::rejected) --batch.counters.rejected;
    else --batch.counters.parked;
    ++batch.counters.unchanged;
    d.message = "unchanged, still " + std::string(to_string(d.outcome)) + ": " + d.message;
    d.outcome = Outcome::unchanged;
  }
}

namespace {

using Clock = std::chrono::steady_clock;

// Thrown between batches when the observer asks the run to stop; caught at the run's catch site.
struct StopRequested {};

// The quiet shortcut's test (Store::load_quiet_state): every record of the batch decided
// `unchanged`, without a warning, and nothing to write.
bool all_unchanged(const WriteBatch& batch, std::size_t records) {
  if (!batch.writes_nothing() || batch.counters.warnings != 0 || batch.decisions.size() != records) return false;
  return std::all_of(batch.decisions.begin(), batch.decisions.end(),
                     [](const Decision& d) { return d.outcome == Outcome::unchanged && !d.reason; });
}

// What a batch tried over the quiet shortcut came to (Batcher::decide).
enum class QuietTry {
  quiet,             // every record unchanged, decided over the quiet snapshot
  mostly_unchanged,  // a few records changed: decided apart, the rest over the quiet snapshot
  split_refused,     // most records unchanged, but the split did not hold: decided over the full snapshot
  busy,              // decided over the full snapshot
};

// When to ask for the quiet shortcut: always while batches are quiet or mostly unchanged (also
// after one batch whose split did not hold, not after two in a row); after a batch that was
// busy, only every kRetryEvery-th batch, doubling the wait after each try that fails (up to
// every kMaxRetryEvery-th), so that a stream that changes most of its records does not pay for
// a quiet read in every batch or every eighth; and never in a first sync (quiet_may_come).
// (Only speed depends on it: a batch not tried quiet is decided over the full snapshot.)
class QuietAttempts {
 public:
  static constexpr int kRetryEvery = 8;
  static constexpr int kMaxRetryEvery = 64;
  // `likely` false: the first batch is decided over the full snapshot, as after a busy batch.
  // `retry` false: nor is any later batch tried, while none is quiet or mostly unchanged.
  void expect(bool likely, bool retry) {
    trying_ = likely;
    retry_ = retry;
  }
  bool worth_trying() { return trying_ || (retry_ && ++skipped_ >= every_); }
  // Whether worth_trying() would say yes now, without counting a batch.
  bool due() const { return trying_ || (retry_ && skipped_ + 1 >= every_); }
  // Counts a batch decided without a try (one pipelined while due() said no).
  void skip() { ++skipped_; }
  void tried(QuietTry outcome) {
    const bool refused_again = outcome == QuietTry::split_refused && last_ == QuietTry::split_refused;
    const bool paid = outcome != QuietTry::busy && !refused_again;
    if (paid) every_ = kRetryEvery;
    else if (!trying_) every_ = std::min(2 * every_, kMaxRetryEvery);  // a retry that failed
    trying_ = paid;
    skipped_ = 0;
    last_ = outcome;
  }

 private:
  bool trying_ = true;  // every batch is tried
  bool retry_ = true;
  QuietTry last_ = QuietTry::quiet;
  int every_ = kRetryEvery;
  int skipped_ = 0;
};

// Whether most records of a run of the stream will likely be unchanged, so that the quiet
// shortcut (a batch all unchanged, or all but a few records read apart: split_unchanged) and its
// prefetch pay. Not when no run of the stream has decided a record yet (the first sync: every
// record is new). After a run that created most of its records (a first load), yes: what was
// just loaded is most often exported again as it is. Otherwise as the last run went: yes when it
// left at least three quarters of its records unchanged (the steady export changing a few
// percent). Without the last run's figures, yes. A wrong guess costs speed only: the shortcut
// is still tried every kRetryEvery-th batch, and the prefetch follows the first batch read
// quietly.
bool mostly_unchanged_likely(const CursorState& cursor) {
  if (!cursor.last_run) return true;
  const auto& last = *cursor.last_run;
  if (last.fetched <= 0) return false;
  return 2 * last.created >= last.fetched || 4 * last.unchanged >= 3 * last.fetched;
}

// Whether a batch of this run can turn out quiet at all once one is not: not while no run of
// the stream has decided a record (a first sync, where every record is new; its tries would
// cost a read each, and with a store that reads ahead, stop the pipelined loop). After an
// admin's resync, whose runs did decide records, it can.
bool quiet_may_come(const CursorState& cursor) { return !cursor.last_run || cursor.last_run->fetched > 0; }

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

// Decides and commits the batches of one stream kind.
template <class Traits>
class Batcher {
 public:
  using Input = typename Traits::Input;

  // `incremental`: the records come from a source read from a cursor (not a snapshot), whose
  // records that end as before count `unchanged` (count_as_before_unchanged).
  Batcher(const MatchPolicy& policy, Store& store, const RunOptions& options, SyncEvents& events,
          bool incremental = false)
      : policy_(policy), store_(store), quiet_reads_(store.quiet_reads()), options_(options), events_(events),
        incremental_(incremental) {}

  // Decides and applies `records` with `cursor` (may be empty); returns the committed batch's
  // counters (see decide_and_commit). A replayed batch keeps only what Traits::keep_replayed keeps.
  // Not while a batch is in flight (submit): settle() first.
  Counters run(std::span<const Input> records, const std::optional<CursorWrite>& cursor, bool replayed = false) {
    auto decide_batch = [&](std::span<const Input> rs) { return finished(decide(rs), replayed); };
    const Counters c = decide_and_commit(records, cursor, store_, events_, options_.max_redecides, decide_batch);
    if (cursor) committed_cursor_ = cursor->cursor;
    return c;
  }

  // --- The pipelined loop: run_stream's batches ---
  //
  // submit() decides a batch while the store applies the one before it on another thread: it
  // reads the batch's state ahead (Store's LookAhead) when the batch in flight cannot affect it
  // (BatchFootprint), decides it, waits for the batch in flight, tells that batch's decisions
  // and counters (to `progress` and on_progress) once it is committed, and starts applying the
  // new one. A batch the batch in flight may affect, or any batch when the store offers no
  // LookAhead, is read once the batch in flight is committed: the same batches, decisions and
  // order of commits as one batch after the other. A batch the quiet shortcut is tried for, and
  // every batch of a kind without Traits::kReadsAhead, goes through run() with nothing in flight.
  // When the apply of a batch in flight fails, the batch is carried on as decide_and_commit
  // would (decided again, or one record at a time), and the batch decided meanwhile is decided
  // again. A stop request settles the batch in flight and throws StopRequested.
  // `in_flight`: as in run_all; the records of the batch left in flight are unsettled().
  void submit(std::shared_ptr<const std::vector<Input>> page, std::size_t at, std::size_t n,
              const std::optional<CursorWrite>& cursor, Counters& progress, std::size_t& in_flight) {
    if (events_.stop_requested()) {
      settle(progress);
      throw StopRequested{};
    }
    const std::span<const Input> rs(page->data() + at, n);
    LookAhead* const ahead = Traits::kReadsAhead ? store_.look_ahead() : nullptr;
    if (!ahead || (Traits::kQuietReads && quiet_reads_ && quiet_.due())) {
      settle(progress);
      in_flight = n;
      tell_progress(progress, run(rs, cursor));
      in_flight = 0;
      return;
    }
    if constexpr (Traits::kReadsAhead) {
      if (Traits::kQuietReads && quiet_reads_) quiet_.skip();
      last_try_ = QuietTry::busy;
      BatchKeys keys = Traits::keys(policy_, rs);
      std::optional<WriteBatch> batch;
      if (flight_ && !flight_->footprint.meets(keys)) {
        try {
          StateSnapshot state = ahead->load_state_ahead(keys);
          if (!flight_->footprint.changes_any_of(state)) batch = finished(Traits::decide_over(policy_, rs, std::move(state)));
        } catch (const SyncError&) {
          // Read the ordinary way below, once the batch in flight is committed.
        }
      }
      // When the batch in flight fails, this one was not under way (as one batch after the other).
      if (!settle(progress)) batch.reset();  // decided over what that batch was expected to write
      in_flight = n;
      if (!batch) batch = finished(Traits::decide_over(policy_, rs, store_.load_state(keys)));
      batch->cursor = cursor;
      launch(std::move(page), rs, cursor, std::move(keys), std::move(*batch));
      in_flight = 0;
    }
  }

  // Waits for the batch in flight and tells its decisions and counters (to `progress` and
  // on_progress). Returns false when its apply failed and it was carried on another way (see
  // submit); throws what that throws (its records are then unsettled()).
  bool settle(Counters& progress) {
    if (!flight_) return true;
    std::unique_ptr<Flight> f = std::move(flight_);
    try {
      f->applied.get();
    } catch (const SyncError& e) {
      auto decide_batch = [&](std::span<const Input> rs) { return finished(decide(rs)); };
      committed(*f, progress,
                carry_on_after_failed_apply(f->records, f->cursor, store_, events_, options_.max_redecides,
                                            decide_batch, e));
      return false;
    }
    detail::tell_committed(f->batch, events_);
    committed(*f, progress, f->batch.counters);
    return true;
  }

  // On the way out of a failed run: waits for the batch in flight and, when it was committed,
  // tells it as settle() does; when its apply failed, its records stay unsettled().
  void settle_after_failure(Counters& progress) {
    if (!flight_) return;
    std::unique_ptr<Flight> f = std::move(flight_);
    try {
      f->applied.get();
    } catch (...) {
      return;
    }
    detail::tell_committed(f->batch, events_);
    committed(*f, progress, f->batch.counters);
  }

  // The cursor of the last batch committed with one, if any.
  const std::optional<std::string>& committed_cursor() const { return committed_cursor_; }

  // Records of a batch that was in flight when the run failed and whose commit is not known.
  std::size_t unsettled() const { return unsettled_; }

  // Batches of options.batch_size, the cursor with the last one; between batches a stop request
  // ends the run and every committed batch is reported to `progress` (when set). `in_flight`
  // holds the size of the batch under way (failed if it fails).
  Counters run_all(std::span<const Input> all, const std::optional<CursorWrite>& cursor, Counters* progress,
                   std::size_t& in_flight, bool replayed = false) {
    Counters total;
    if (all.empty()) {
      if (cursor) run(all, cursor);
      return total;
    }
    for (std::size_t at = 0; at < all.size(); at += options_.batch_size) {
      if (progress && events_.stop_requested()) throw StopRequested{};
      const std::size_t n = std::min(options_.batch_size, all.size() - at);
      in_flight = n;
      const Counters c = run(all.subspan(at, n), at + n == all.size() ? cursor : std::nullopt, replayed);
      in_flight = 0;
      total += c;
      ++batches_;
      if (progress) {
        *progress += c;
        events_.on_progress(*progress);
      }
    }
    return total;
  }

  // The last batch was decided over the quiet shortcut's snapshot (all unchanged, or all but
  // the few records split_unchanged read in full).
  bool last_batch_read_quietly() const {
    return last_try_ == QuietTry::quiet || last_try_ == QuietTry::mostly_unchanged;
  }
  // Whether the run's first batch tries the quiet shortcut (mostly_unchanged_likely), and whether later
  // ones are tried after one that was not (quiet_may_come).
  void expect_quiet(bool likely, bool retry) { quiet_.expect(likely, retry); }

 private:
  // A batch the store applies on another thread while the next one is decided (submit).
  struct Flight {
    std::shared_ptr<const std::vector<Input>> page;  // holds `records`
    std::span<const Input> records;
    std::optional<CursorWrite> cursor;
    WriteBatch batch;
    BatchFootprint footprint;
    std::future<void> applied;
  };

  // The decided batch as the store gets it (see run).
  WriteBatch finished(WriteBatch batch, bool replayed = false) const {
    batch.connector = policy_.connector;
    if (replayed) Traits::keep_replayed(batch);
    else if (incremental_) count_as_before_unchanged(batch);
    return batch;
  }

  // Starts applying `batch` on another thread (the store's LookAhead contract lets the next
  // batch's state be read meanwhile).
  void launch(std::shared_ptr<const std::vector<Input>> page, std::span<const Input> records,
              const std::optional<CursorWrite>& cursor, BatchKeys keys, WriteBatch batch) {
    auto f = std::make_unique<Flight>();
    f->page = std::move(page);
    f->records = records;
    f->cursor = cursor;
    f->batch = std::move(batch);
    f->footprint = BatchFootprint::of(std::move(keys), f->batch);
    if (f->batch.writes_nothing())
      f->applied = std::async(std::launch::deferred, [] {});
    else
      f->applied = std::async(std::launch::async, [&store = store_, &b = f->batch] { store.apply(b); });
    unsettled_ = records.size();
    flight_ = std::move(f);
  }

  // The batch of `f` is committed with counters `c` (its decisions told): no longer
  // unsettled, its cursor the committed one, `c` counted in `progress`.
  void committed(const Flight& f, Counters& progress, const Counters& c) {
    unsettled_ = 0;
    if (f.cursor) committed_cursor_ = f.cursor->cursor;
    tell_progress(progress, c);
  }

  void tell_progress(Counters& progress, const Counters& committed) {
    progress += committed;
    events_.on_progress(progress);
  }

  WriteBatch decide(std::span<const Input> rs) {
    if constexpr (Traits::kQuietReads) {
      if (quiet_reads_ && quiet_.worth_trying()) {
        QuietTry outcome = QuietTry::busy;
        std::optional<WriteBatch> batch = decide_quiet(rs, outcome);
        quiet_.tried(outcome);
        last_try_ = outcome;
        if (batch) return std::move(*batch);
      } else {
        last_try_ = QuietTry::busy;
      }
    }
    return Traits::decide(policy_, rs, store_);
  }

  // The batch decided over the store's quiet snapshot when every record of it is unchanged
  // (`outcome` quiet), or, when most are, split_unchanged's batch (mostly_unchanged); else
  // nullopt (busy): the caller decides it over load_state.
  std::optional<WriteBatch> decide_quiet(std::span<const Input> rs, QuietTry& outcome) {
    const BatchKeys keys = Traits::keys(policy_, rs);
    std::optional<StateSnapshot> quiet = quiet_reads_->load_quiet_state(keys);
    if (!quiet) return std::nullopt;
    // After a quiet batch the next is most likely quiet too: its snapshot is taken over, not
    // copied for a split that will most likely not come (and read again if it does).
    const bool expect_quiet = last_try_ == QuietTry::quiet;
    WriteBatch batch = expect_quiet ? core::decide(policy_, rs, std::move(*quiet)) : core::decide(policy_, rs, *quiet);
    if (all_unchanged(batch, rs.size())) {
      outcome = QuietTry::quiet;
      return batch;
    }
    if (expect_quiet && !(quiet = quiet_reads_->load_quiet_state(keys))) return std::nullopt;
    bool mostly_unchanged = false;
    std::optional<WriteBatch> split = split_unchanged(rs, batch, *quiet, mostly_unchanged);
    if (split) outcome = QuietTry::mostly_unchanged;
    else if (mostly_unchanged) outcome = QuietTry::split_refused;
    return split;
  }

  // A batch of which a few records changed and the rest are unchanged (an export changing a
  // few records in every batch): the changed records are decided over load_state of their own
  // keys, and the others over their part of the quiet snapshot `quiet` (quiet_subset) — the
  // decisions of two batches, the changed records then the rest, which the engine would make had
  // they come in that order. That holds when the changed records' batch cannot affect what the
  // others read (BatchFootprint: as for a batch read ahead, core/pipeline.hpp) and the others,
  // decided alone, are all unchanged and write nothing. `over_quiet`: the whole batch decided
  // over `quiet`, which says which records are unchanged. Decisions are told in the records'
  // order. nullopt when any of that fails, or when most records changed: the caller decides
  // the whole batch over load_state. `mostly_unchanged`: set when most records are unchanged
  // (whether the split then holds or not).
  std::optional<WriteBatch> split_unchanged(std::span<const Input> rs, const WriteBatch& over_quiet,
                                            const StateSnapshot& quiet, bool& mostly_unchanged) {
    if (over_quiet.decisions.size() != rs.size()) return std::nullopt;  // one decision per record
    std::vector<bool> is_unchanged(rs.size());
    std::vector<Input> unchanged, changed;
    for (std::size_t i = 0; i < rs.size(); ++i) {
      const Decision& d = over_quiet.decisions[i];
      is_unchanged[i] = d.outcome == Outcome::unchanged && !d.reason;
      (is_unchanged[i] ? unchanged : changed).push_back(rs[i]);
    }
    if (2 * changed.size() > rs.size()) return std::nullopt;
    mostly_unchanged = true;
    const BatchKeys unchanged_keys = Traits::keys(policy_, unchanged);
    BatchKeys changed_keys = Traits::keys(policy_, changed);
    WriteBatch batch = Traits::decide_over(policy_, changed, store_.load_state(changed_keys));
    if (batch.decisions.size() != changed.size()) return std::nullopt;
    StateSnapshot unchanged_state = quiet_subset(quiet, unchanged_keys);
    const BatchFootprint footprint = BatchFootprint::of(std::move(changed_keys), batch);
    if (footprint.meets(unchanged_keys) || footprint.changes_any_of(unchanged_state)) return std::nullopt;
    WriteBatch rest = core::decide(policy_, unchanged, std::move(unchanged_state));
    if (!all_unchanged(rest, unchanged.size())) return std::nullopt;
    std::vector<Decision> decisions;
    decisions.reserve(rs.size());
    auto next_changed = batch.decisions.begin();
    auto next_unchanged = rest.decisions.begin();
    for (std::size_t i = 0; i < rs.size(); ++i)
      decisions.push_back(std::move(is_unchanged[i] ? *next_unchanged++ : *next_changed++));
    batch.decisions = std::move(decisions);
    batch.counters += rest.counters;
    return batch;
  }

  const MatchPolicy& policy_;
  Store& store_;
  QuietReads* quiet_reads_;  // nullptr: the store offers no quiet shortcut
  const RunOptions& options_;
  SyncEvents& events_;
  const bool incremental_;
  QuietAttempts quiet_;
  QuietTry last_try_ = QuietTry::busy;  // what the last batch came to (busy: not tried)
  std::size_t batches_ = 0;
  std::optional<std::string> committed_cursor_;
  std::size_t unsettled_ = 0;
  std::unique_ptr<Flight> flight_;  // declared last: destroyed first, waiting for its apply
};

// Rule 7 across a whole fetched page: only the last record of each remote id is kept; the
// earlier ones are counted superseded here, so that splitting a page into batches never lets
// a duplicate through. `later` lists the records a later page of the same document supersedes
// (Page::superseded).
template <class Traits>
std::vector<typename Traits::Input> drop_superseded(std::vector<typename Traits::Record> page,
                                                    const std::vector<std::size_t>& later, Counters& counters,
                                                    SyncEvents& events) {
  std::unordered_map<std::string_view, std::size_t> last;
  for (std::size_t i = 0; i < page.size(); ++i) last[Traits::remote_id(page[i])] = i;
  std::vector<bool> keep(page.size(), false);
  auto next_later = later.begin();
  for (std::size_t i = 0; i < page.size(); ++i) {
    const std::string& rid = Traits::remote_id(page[i]);
    while (next_later != later.end() && *next_later < i) ++next_later;
    const bool superseded_later = next_later != later.end() && *next_later == i;
    if (last[rid] == i && !superseded_later) {
      keep[i] = true;
      continue;
    }
    counters.count(Outcome::superseded);
    events.on_decision(Decision{rid, Traits::code(page[i]), Outcome::superseded, std::nullopt,
                                "remote id " + rid + " appears again later in the same " +
                                    (superseded_later ? "document" : "page") + "; the last one is the record"});
  }
  // The map's keys view the records' ids: records move out only once it is no longer read.
  std::vector<typename Traits::Input> kept;
  kept.reserve(last.size());
  for (std::size_t i = 0; i < page.size(); ++i)
    if (keep[i]) kept.push_back(Traits::from_source(std::move(page[i])));
  return kept;
}

template <class Traits>
Counters retry_waiting_of(const MatchPolicy& policy, Store& store, const RunOptions& options, SyncEvents& events) {
  using Input = typename Traits::Input;
  Batcher<Traits> batcher(policy, store, options, events);
  std::size_t in_flight = 0;
  Counters total;
  // Rejections first: one record per remote id, the most recently stored payload (rows come
  // oldest first).
  std::vector<StoredRejection> stored = store.replayable_rejections(policy.connector, policy.stream);
  std::map<std::string, std::size_t> latest;
  for (std::size_t i = 0; i < stored.size(); ++i) latest[stored[i].remote_id] = i;
  std::vector<Input> replays;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    if (latest[stored[i].remote_id] != i) continue;
    if (auto in = Traits::replayed(stored[i].payload)) replays.push_back(std::move(*in));
  }
  total += batcher.run_all(replays, std::nullopt, nullptr, in_flight, /*replayed=*/true);
  if constexpr (Traits::kParks) {
    std::vector<Input> retries;
    for (StoredParked& p : store.parked_records(policy.connector, policy.stream, options.park_ttl))
      if (auto in = Traits::retried(p.payload, p.expired)) retries.push_back(std::move(*in));
    total += batcher.run_all(retries, std::nullopt, nullptr, in_flight);
  }
  return total;
}

// A full snapshot is refused before anything is written when it is empty (unless allowed) or
// shrank by more than max_shrink since the last one: nothing is then marked missing.
void check_snapshot_size(const SourceStart& start, const CursorState& cursor, const SnapshotPolicy& policy) {
  if (!start.snapshot_size) return;
  const std::int64_t size = *start.snapshot_size;
  if (size == 0 && !policy.allow_empty)
    throw SyncError(SyncError::Kind::permanent,
                    "the snapshot is empty; refused so that nothing is marked missing "
                    "(set allow_empty: true if an empty export is real)");
  if (cursor.snapshot_size && *cursor.snapshot_size > 0 && size > 0) {
    const double shrink =
        100.0 * static_cast<double>(*cursor.snapshot_size - size) / static_cast<double>(*cursor.snapshot_size);
    if (shrink > policy.max_shrink_percent)
      throw SyncError(SyncError::Kind::permanent,
                      "the snapshot shrank from " + std::to_string(*cursor.snapshot_size) + " to " +
                          std::to_string(size) + " records (more than max_shrink " +
                          std::to_string(static_cast<int>(policy.max_shrink_percent)) +
                          "%); refused so that nothing is marked missing");
  }
}

// The end of a full snapshot: what it lacks is missing, and its size and content hash go with
// the cursor once everything is committed (a crash before this point re-reads the file, and
// every record is then unchanged).
void finish_snapshot(const MatchPolicy& policy, Store& store, const RunOptions& options, SyncEvents& events,
                     const KeySet& seen, const std::string& cursor, const SourceStart& start,
                     Counters& counters) {
  counters.missing = store.mark_missing(policy.connector, policy.stream, seen);
  WriteBatch done;
  done.connector = policy.connector;
  done.cursor = CursorWrite{policy.stream, cursor, start.snapshot_size, start.content_hash};
  // Another process may create the stream's first cursor row at the same moment: the loser's
  // insert violates the key and goes again as an update.
  for (int attempt = 1;; ++attempt) {
    try {
      store.apply(done);
      return;
    } catch (const ConstraintViolation& e) {
      events.on_redecide(attempt, e.what());
      if (attempt >= options.max_redecides) throw;
    }
  }
}

// Records the end of `report`'s run in sync_runs. A store that refuses an `ok` end because the
// connector's lease was taken over (SyncError lease_lost, SPEC §10) turns the report into that
// error; any other failure to record leaves the row `running` (marked `aborted` at the next
// start) and only notes it in the report's message.
void record_run_end(Store& store, SyncReport& report) {
  if (report.run_id == 0) return;
  try {
    store.finish_run(report.run_id, std::string(to_string(report.status)), report.counters, report.message);
  } catch (const SyncError& e) {
    if (e.kind() == SyncError::Kind::lease_lost) report.fail(e);
    else if (report.message.empty()) report.message = std::string("recording the run failed: ") + e.what();
  } catch (const std::exception& e) {
    // The database went away mid-run: the row stays `running` and is marked `aborted` at the
    // next start; the report still reaches the log.
    if (report.message.empty()) report.message = std::string("recording the run failed: ") + e.what();
  }
}

}  // namespace

template <class Record>
SyncReport run_stream(const MatchPolicy& policy, Source<Record>& source, Store& store, const RunOptions& options,
                      SyncEvents& events) {
  using Traits = StreamTraits<Record>;
  const auto started = Clock::now();
  SyncReport report;
  report.connector = policy.connector;
  report.stream = policy.stream;
  Counters& counters = report.counters;
  std::size_t in_flight = 0;  // records of the batch being decided/applied (failed if it fails)

  try {
    if (source.stream() != policy.stream)
      throw std::logic_error("source stream " + source.stream() + " run with policy stream " + policy.stream);
    report.run_id = store.begin_run(policy.connector, policy.stream, options.instance);
    counters += retry_waiting_of<Traits>(policy, store, options, events);

    const CursorState cursor = store.load_cursor(policy.connector, policy.stream);
    report.cursor = cursor.cursor;
    const bool snapshot = source.is_snapshot();
    // A snapshot synced before is most often synced again unchanged (the quiet re-sync): while
    // a source opens on another thread, the store reads the stream for the quiet shortcut,
    // giving up if the opening brings nothing to sync or a stop is requested. A source that
    // opens on this thread gets the prefetch after the run's first quiet batch instead (below).
    QuietReads* const quiet = Traits::kQuietReads ? store.quiet_reads() : nullptr;
    bool prefetched = false;
    // What the quiet prefetch may hold beside a document: twice the document (SPEC §11 bounds a
    // document's run at 32 MB + 3x its size; the document itself and the remote ids take the rest).
    const std::optional<std::size_t> document_bytes = source.document_bytes_hint();
    const std::size_t prefetch_budget =
        document_bytes ? 2 * *document_bytes : std::numeric_limits<std::size_t>::max();
    const bool quiet_likely = mostly_unchanged_likely(cursor);
    const SourceStart start = source.begin_while(cursor, [&](const std::function<bool()>& opening_gave_nothing) {
      if (!quiet || !snapshot || cursor.snapshot_size.value_or(0) <= 0 || !quiet_likely) return;
      quiet->prefetch_quiet_stream(policy.connector, policy.stream, prefetch_budget,
                                  [&] { return opening_gave_nothing() || events.stop_requested(); });
      prefetched = true;
    });
    if (start.unchanged) {
      report.source_unchanged = true;
    } else {
      if (snapshot) check_snapshot_size(start, cursor, options.snapshot);
      Batcher<Traits> batcher(policy, store, options, events, /*incremental=*/!snapshot);
      batcher.expect_quiet(quiet_likely, quiet_may_come(cursor));
      KeySet seen;  // snapshot: every remote id the document holds
      std::string last_cursor = cursor.cursor;
      std::int64_t handed = 0;  // records decided so far
      // The report names the cursor committed so far (also when a later page fails).
      auto note_committed_cursor = [&] {
        if (batcher.committed_cursor()) report.cursor = *batcher.committed_cursor();
      };
      try {
        while (auto page = source.next_page()) {
          if (snapshot)
            for (const Record& r : page->records) seen.insert(Traits::remote_id(r));
          // Shared with the batch in flight, which may outlive this page's turn of the loop.
          auto inputs = std::make_shared<const std::vector<typename Traits::Input>>(
              drop_superseded<Traits>(std::move(page->records), page->superseded, counters, events));
          std::optional<CursorWrite> cw;
          if (!page->cursor_after.empty() && page->cursor_after != last_cursor)
            cw = CursorWrite{policy.stream, page->cursor_after, std::nullopt, std::nullopt};
          // A snapshot's batches go one at a time so that the prefetch can start between them.
          const std::span<const typename Traits::Input> all(*inputs);
          if (all.empty() && cw) {
            batcher.settle(counters);
            batcher.run(all, cw);
          }
          for (std::size_t at = 0; at < all.size(); at += options.batch_size) {
            const std::size_t n = std::min(options.batch_size, all.size() - at);
            const bool last_of_page = at + n == all.size();
            batcher.submit(inputs, at, n, last_of_page ? cw : std::nullopt, counters, in_flight);
            handed += static_cast<std::int64_t>(n);
            if constexpr (Traits::kQuietReads) {
              if (quiet && !prefetched && snapshot && batcher.last_batch_read_quietly() &&
                  quiet_prefetch_pays(start.snapshot_size, handed, options.batch_size)) {
                batcher.settle(counters);
                quiet->prefetch_quiet_stream(policy.connector, policy.stream, prefetch_budget,
                                            [&] { return events.stop_requested(); });
                prefetched = true;
              }
            }
          }
          if (!page->cursor_after.empty()) last_cursor = page->cursor_after;
          note_committed_cursor();
        }
        batcher.settle(counters);
        note_committed_cursor();
      } catch (...) {
        // A batch in flight when the run fails may have committed: it is told and counted.
        batcher.settle_after_failure(counters);
        note_committed_cursor();
        in_flight += batcher.unsettled();
        throw;
      }
      if (snapshot) finish_snapshot(policy, store, options, events, seen, last_cursor, start, counters);
    }
    report.status = RunStatus::ok;
  } catch (const StopRequested&) {
    report.status = RunStatus::stopped;
    report.message = "stopped by request before the source was read to the end; the next run goes on from the cursor";
  } catch (const SyncError& e) {
    report.fail(e);
    for (std::size_t i = 0; i < in_flight; ++i) counters.count(Outcome::failed);
  } catch (const std::exception& e) {
    // Not a classified failure (a bug, or a library error that escaped its adapter): permanent,
    // so that it is not retried in a loop.
    report.fail(SyncError(SyncError::Kind::permanent, e.what()));
    for (std::size_t i = 0; i < in_flight; ++i) counters.count(Outcome::failed);
  }

  report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  record_run_end(store, report);
  return report;
}

template SyncReport run_stream(const MatchPolicy&, Source<IncomingAccount>&, Store&, const RunOptions&, SyncEvents&);
template SyncReport run_stream(const MatchPolicy&, Source<IncomingCustomer>&, Store&, const RunOptions&, SyncEvents&);
template SyncReport run_stream(const MatchPolicy&, Source<IncomingOrder>&, Store&, const RunOptions&, SyncEvents&);
template SyncReport run_stream(const MatchPolicy&, Source<IncomingCart>&, Store&, const RunOptions&, SyncEvents&);
template SyncReport run_stream(const MatchPolicy&, Source<IncomingContactRecord>&, Store&, const RunOptions&,
                               SyncEvents&);

Counters retry_waiting(StreamKind kind, const MatchPolicy& policy, Store& store, const RunOptions& options,
                       SyncEvents& events) {
  switch (kind) {
    case StreamKind::companies: return retry_waiting_of<StreamTraits<IncomingAccount>>(policy, store, options, events);
    case StreamKind::contacts:
      return retry_waiting_of<StreamTraits<IncomingContactRecord>>(policy, store, options, events);
    case StreamKind::customers: return retry_waiting_of<StreamTraits<IncomingCustomer>>(policy, store, options, events);
    case StreamKind::orders: return retry_waiting_of<StreamTraits<IncomingOrder>>(policy, store, options, events);
    case StreamKind::carts: return retry_waiting_of<StreamTraits<IncomingCart>>(policy, store, options, events);
  }
  return {};
}

}  // namespace erpsync::core
