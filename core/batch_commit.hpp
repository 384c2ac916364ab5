#pragma once
// One batch's way into the store (the engine's, engine.cpp): decide over fresh state, commit with the cursor, tell
// the observer — and on a unique-constraint violation (another writer won a race, SPEC §5)
// decide again over fresh state; if it persists, go one record at a time so that only the
// loser is re-decided. Pure orchestration over the Store port.

#include <cstddef>
#include <optional>
#include <span>

#include "core/errors.hpp"
#include "core/outcome.hpp"
#include "core/ports/store.hpp"
#include "core/ports/events.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

// `decide(records)` loads the state the records need and returns their decided WriteBatch
// (connector set); this sets the cursor, applies the batch unless it writes nothing, and tells
// `events` of its decisions and new or changed rejections once committed. Returns the
// committed counters. Throws what the store throws, ConstraintViolation after the single-record
// retries too.
template <class Input, class Decide>
Counters decide_and_commit(std::span<const Input> records, const std::optional<CursorWrite>& cursor, Store& store,
                           SyncEvents& events, int max_redecides, Decide& decide) {
  for (int attempt = 0;; ++attempt) {
    try {
      WriteBatch batch = decide(records);
      batch.cursor = cursor;
      if (!batch.writes_nothing()) store.apply(batch);
      // Observers hear of a batch only once it is committed (or would be, in a dry run).
      for (const Decision& d : batch.decisions) events.on_decision(d);
      for (const RejectionWrite& r : batch.rejections)
        if (r.is_new_or_changed) events.on_rejection(r);
      return batch.counters;
    } catch (const ConstraintViolation& e) {
      events.on_redecide(attempt + 1, e.what());
      if (attempt + 1 < max_redecides) continue;
      if (records.size() <= 1) throw;
      Counters total;
      for (std::size_t i = 0; i < records.size(); ++i)
        total += decide_and_commit(records.subspan(i, 1), i + 1 == records.size() ? cursor : std::nullopt, store,
                                   events, max_redecides, decide);
      return total;
    }
  }
}

}  // namespace erpsync::core
