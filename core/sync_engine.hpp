#pragma once
// One run of one company-record stream (STYLE "one record's journey"): replay open
// rejections, read the source page by page, decide each batch with the matcher, apply it with
// its cursor, mark what a snapshot lacks as missing, and report. Pure orchestration over the
// Store and AccountSource ports; no I/O of its own.
//
// Thread-safety: a run uses its store and source exclusively; runs of different connectors
// may go on in parallel with their own stores.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/errors.hpp"
#include "core/policy.hpp"
#include "core/source.hpp"
#include "core/store.hpp"
#include "core/sync_report.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

struct SnapshotPolicy {
  double max_shrink_percent = 20.0;  // a snapshot smaller than the last by more is refused
  bool allow_empty = false;          // an empty snapshot is refused unless allowed
};

struct StreamRunOptions {
  std::size_t batch_size = 500;
  SnapshotPolicy snapshot;
  std::string instance;      // sync_runs.instance
  int max_redecides = 3;     // constraint violations re-decided this often before going row by row
};

// What a run tells its observer (the daemon logs it; tests record it). Default: nothing.
class SyncEvents {
 public:
  virtual ~SyncEvents() = default;
  // A new or changed rejection (or member_of_cycle warning): logged once at warn.
  virtual void on_rejection(const RejectionWrite&) {}
  // Every decided record, in arrival order (dry runs list adoptions and rejections from it).
  virtual void on_decision(const Decision&) {}
  // After every committed batch, with the run's counters so far.
  virtual void on_progress(const Counters&) {}
  // A batch lost a race on a unique constraint and is decided again.
  virtual void on_redecide(int /*attempt*/, const std::string& /*what*/) {}
  // Asked between batches: true ends the run early (SIGTERM). What was committed stays, the
  // cursor covers exactly that, and the report says status=stopped.
  virtual bool stop_requested() { return false; }
};

// Runs one stream once. Never throws for source or database failures: the report comes back
// with status "error", the message, and `failed` counting the records of the batch that could
// not be committed; the sync_runs row says the same (when the database is reachable).
// `error_kind` receives the failure's kind (transient/permanent/auth) for the scheduler.
SyncReport run_stream(const MatchPolicy& policy, AccountSource& source, Store& store,
                      const StreamRunOptions& options, SyncEvents& events,
                      SyncError::Kind* error_kind = nullptr);

// Re-evaluates the open replayable rejections of (connector, stream) from their stored
// payloads (SPEC §3 "Rejections come back"), committing on their own. A replay that ends as
// before writes and counts nothing; one that now syncs is counted in its outcome. Returns the
// counters to add to the run's.
Counters replay_rejections(const MatchPolicy& policy, Store& store, const StreamRunOptions& options,
                           SyncEvents& events);

// Records the end of `report`'s run in sync_runs (both engines end their runs here). A store
// that refuses an `ok` end because the connector's lease was taken over (SyncError lease_lost,
// SPEC §10) turns the report into that error; any other failure to record leaves the row
// `running` (marked `aborted` at the next start) and only notes it in the report's message.
void record_run_end(Store& store, SyncReport& report, SyncError::Kind* error_kind);

}  // namespace erpsync::core
