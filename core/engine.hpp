#pragma once
// The one engine: one run of one stream, whatever its record kind (STYLE "one record's
// journey"). begin the run → replay open rejections and retry parked records (rule 10), each
// batch committing on its own → load the cursor → read the source page by page → drop what a
// later record supersedes (rule 7) → decide and commit each batch with its cursor → for full
// snapshots, mark what the snapshot lacks as missing and keep its size → record the run's end.
// Parameterised by the record type the source hands over and its StreamTraits
// (stream_kind.hpp); pure orchestration over the Store and Source ports, no I/O of its own.
//
// Thread-safety: a run uses its store and source exclusively; runs of different connectors
// may go on in parallel with their own stores.

#include <chrono>
#include <cstddef>
#include <string>

#include "core/ports/events.hpp"
#include "core/rules/policy.hpp"
#include "core/ports/source.hpp"
#include "core/ports/store.hpp"
#include "core/stream_kind.hpp"
#include "core/sync_report.hpp"

namespace erpsync::core {

struct SnapshotPolicy {
  double max_shrink_percent = 20.0;  // a snapshot smaller than the last by more is refused
  bool allow_empty = false;          // an empty snapshot is refused unless allowed
};

struct RunOptions {
  std::size_t batch_size = 2000;
  SnapshotPolicy snapshot;
  std::string instance;   // sync_runs.instance
  int max_redecides = 3;  // constraint violations re-decided this often before going row by row
  std::chrono::seconds park_ttl{std::chrono::hours(24 * 7)};  // rule 10 (kinds that park)
};

// SPEC §4 "re-read rows are unchanged": in a batch of an incremental (cursor-read) stream, each
// decision the rules marked Decision::as_before (rejected again as before, parked again as
// before) is counted `unchanged` instead of `rejected`/`parked` and its outcome becomes
// `unchanged` (reason kept, message prefixed "unchanged, still rejected: "). Every fetched record
// keeps exactly one outcome. The engine applies it to source batches of every non-snapshot
// stream (Odoo, Magento, HTTP feeds with a cursor); snapshots keep SPEC Appendix A's counting.
void count_as_before_unchanged(WriteBatch& batch);

// Runs one stream once; policy.stream must equal source.stream(). Never throws for source or
// database failures: the report carries the outcome (RunStatus, the error's kind and message,
// Retry-After), `failed` counts the records of the batch that could not be committed, and the
// sync_runs row says the same (when the database is reachable). The one catch site of a run.
template <class Record>
SyncReport run_stream(const MatchPolicy& policy, Source<Record>& source, Store& store, const RunOptions& options,
                      SyncEvents& events);

// What a run does before its source is read, on its own (`rejections retry`): re-evaluates the
// open replayable rejections of (connector, stream) from their stored payloads, then, for kinds
// that park, retries the parked records (expired ones become account_not_found rejections).
// Each batch commits on its own. A replay or retry that ends as before writes and counts
// nothing; one that now syncs is counted as fetched and in its outcome. Throws what the store
// throws.
Counters retry_waiting(StreamKind kind, const MatchPolicy& policy, Store& store, const RunOptions& options,
                       SyncEvents& events);

}  // namespace erpsync::core
