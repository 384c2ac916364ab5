#pragma once
// One batch's way into the store (the engine's, engine.cpp): decide over fresh state, commit
// with the cursor, tell the observer — and when the store refuses the batch, go one record at a
// time, so that only the record it refuses is re-decided or left out (see decide_and_commit).
// Pure orchestration over the Store port.

#include <cstddef>
#include <exception>
#include <optional>
#include <span>
#include <vector>

#include "core/errors.hpp"
#include "core/outcome.hpp"
#include "core/ports/store.hpp"
#include "core/ports/events.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

// `decide(records)` loads the state the records need and returns their decided WriteBatch
// (connector set); this sets the cursor, applies the batch unless it writes nothing, and tells
// `events` of its decisions and new or changed rejections once committed. Returns the
// committed counters.
//
// When the store refuses the batch, it goes on one record at a time, so that one record the
// database will not take never stops the others (SPEC §5, §10):
//   - a unique-constraint violation (ConstraintViolation: another writer won a race): decided
//     again over fresh state up to `max_redecides` times, then one record at a time, where only
//     the loser is re-decided; a record still violating it alone is thrown.
//   - any other permanent failure of the store (the database refused a value: a NOT NULL or
//     CHECK constraint, a value too long or not storable that the field checks let through; or
//     a database that refuses everything): one record at a time at once. A record refused alone
//     is counted `failed` (a Decision saying what the database said) and the others commit; the
//     cursor commits with the last record, or alone if that one is refused. When every record
//     is refused alone (the database, not the data), the first failure is thrown, as it would
//     have been for the whole batch: nothing was committed, the cursor included.
// Transient failures and a lost lease are thrown as they are.
template <class Input, class Decide>
Counters decide_and_commit(std::span<const Input> records, const std::optional<CursorWrite>& cursor, Store& store,
                           SyncEvents& events, int max_redecides, Decide& decide);

// What decide_and_commit does once its first apply of `records` has thrown `failure`, for a
// batch decided and applied elsewhere (the pipelined loop, engine.cpp): decided again (a
// ConstraintViolation), or one record at a time (a refusal of its data); anything else is
// thrown again. Call it from the handler that caught `failure`.
template <class Input, class Decide>
Counters carry_on_after_failed_apply(std::span<const Input> records, const std::optional<CursorWrite>& cursor,
                                     Store& store, SyncEvents& events, int max_redecides, Decide& decide,
                                     const SyncError& failure);

namespace detail {

// Tells `events` of a committed batch: its decisions, then its new or changed rejections.
inline void tell_committed(const WriteBatch& batch, SyncEvents& events) {
  for (const Decision& d : batch.decisions) events.on_decision(d);
  for (const RejectionWrite& r : batch.rejections)
    if (r.is_new_or_changed) events.on_rejection(r);
}

// The store refused a batch for what it holds, not for how the database is doing.
inline bool refused_for_its_data(const SyncError& e) {
  return e.kind() == SyncError::Kind::permanent && dynamic_cast<const ConstraintViolation*>(&e) == nullptr;
}

// Decides and commits `records` as one batch, deciding again on a ConstraintViolation up to
// `max_redecides` times; throws what the store throws. `decided` (when set) receives the
// decisions of the last batch decided, committed or not.
// `first_attempt`: attempts already made elsewhere (carry_on_after_failed_apply).
template <class Input, class Decide>
Counters commit(std::span<const Input> records, const std::optional<CursorWrite>& cursor, Store& store,
                SyncEvents& events, int max_redecides, Decide& decide, std::vector<Decision>* decided,
                int first_attempt = 0) {
  for (int attempt = first_attempt;; ++attempt) {
    try {
      WriteBatch batch = decide(records);
      if (decided) *decided = batch.decisions;
      batch.cursor = cursor;
      if (!batch.writes_nothing()) store.apply(batch);
      // Observers hear of a batch only once it is committed (or would be, in a dry run).
      tell_committed(batch, events);
      return batch.counters;
    } catch (const ConstraintViolation& e) {
      events.on_redecide(attempt + 1, e.what());
      if (attempt + 1 >= max_redecides) throw;
    }
  }
}

// decide_and_commit's fallback: each record in a batch of its own, the cursor with the last.
template <class Input, class Decide>
Counters one_at_a_time(std::span<const Input> records, const std::optional<CursorWrite>& cursor, Store& store,
                       SyncEvents& events, int max_redecides, Decide& decide) {
  Counters total;
  std::vector<Decision> refused;  // told once a record commits, so that observers keep the order
  std::exception_ptr first_refusal;
  bool any_committed = false;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const bool last = i + 1 == records.size();
    std::vector<Decision> decided;
    try {
      total += commit(records.subspan(i, 1), last ? cursor : std::nullopt, store, events, max_redecides, decide,
                      &decided);
      any_committed = true;
    } catch (const SyncError& e) {
      // Refused before it was even decided (the state could not be read): not this record's doing.
      if (!refused_for_its_data(e) || decided.empty()) throw;
      if (!first_refusal) first_refusal = std::current_exception();
      for (const Decision& d : decided) {
        refused.push_back({d.remote_id, d.external_code, Outcome::failed, std::nullopt,
                           "the database refused the record: " + std::string(e.what())});
        total.count(Outcome::failed);
      }
      // The cursor moves past a refused record only when the database took others.
      if (last && cursor && any_committed)
        total += commit(std::span<const Input>(), cursor, store, events, max_redecides, decide, nullptr);
    }
    if (!any_committed) continue;
    for (const Decision& d : refused) events.on_decision(d);
    refused.clear();
  }
  if (!any_committed) std::rethrow_exception(first_refusal);
  return total;
}

}  // namespace detail

template <class Input, class Decide>
Counters decide_and_commit(std::span<const Input> records, const std::optional<CursorWrite>& cursor, Store& store,
                           SyncEvents& events, int max_redecides, Decide& decide) {
  try {
    return detail::commit(records, cursor, store, events, max_redecides, decide, nullptr);
  } catch (const SyncError& e) {
    const bool lost_race = dynamic_cast<const ConstraintViolation*>(&e) != nullptr;
    if (records.size() <= 1 || !(lost_race || detail::refused_for_its_data(e))) throw;
  }
  return detail::one_at_a_time(records, cursor, store, events, max_redecides, decide);
}

template <class Input, class Decide>
Counters carry_on_after_failed_apply(std::span<const Input> records, const std::optional<CursorWrite>& cursor,
                                     Store& store, SyncEvents& events, int max_redecides, Decide& decide,
                                     const SyncError& failure) {
  const bool lost_race = dynamic_cast<const ConstraintViolation*>(&failure) != nullptr;
  if (!lost_race && !detail::refused_for_its_data(failure)) throw;
  if (lost_race) {
    events.on_redecide(1, failure.what());
    if (1 < max_redecides) {
      try {
        return detail::commit(records, cursor, store, events, max_redecides, decide, nullptr, 1);
      } catch (const SyncError& e) {
        const bool lost_again = dynamic_cast<const ConstraintViolation*>(&e) != nullptr;
        if (records.size() <= 1 || !(lost_again || detail::refused_for_its_data(e))) throw;
      }
      return detail::one_at_a_time(records, cursor, store, events, max_redecides, decide);
    }
  }
  if (records.size() <= 1) throw;
  return detail::one_at_a_time(records, cursor, store, events, max_redecides, decide);
}

}  // namespace erpsync::core
