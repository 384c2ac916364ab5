#pragma once
// When the engine may read the next batch's state before the batch in flight is committed (the
// pipelined batch loop, engine.cpp Batcher::submit; Store's LookAhead capability).
//
// A state read ahead misses the writes of the batch in flight. It is as good as one read after
// that batch's commit when the two batches cannot meet: the next batch looks up no key the
// batch in flight looks up or writes (codes, remote ids, e-mails, adoption names and vats: its
// lookups are by these keys, and so are the rows the batch in flight creates and links), and
// the state read holds no existing account that the batch in flight writes to (an account read
// by id, as a parent, an ancestor or a pending child, whose row or contacts or bindings change).
// Other writers are no different from before: their rows are read when committed, and a unique
// key refuses a decision they made stale (Store::apply, ConstraintViolation).
//
// Thread-safety: plain values.

#include <unordered_set>

#include "core/state.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

struct BatchFootprint {
  BatchKeys keys;                            // what the batch's state was read for
  std::unordered_set<EntityId> accounts;     // existing accounts its writes change
  bool leaves_uncoded_account = false;       // it creates an account without a code or takes one's code away

  // The footprint of `batch`, decided over the state of `keys`.
  static BatchFootprint of(BatchKeys keys, const WriteBatch& batch);

  // Whether a batch looking up `next` may meet this one: a key in common, or adoption
  // candidates (accounts without a code) that this batch may add.
  bool meets(const BatchKeys& next) const;
  // Whether `state` (read for another batch before this one committed) holds an account this
  // batch changes.
  bool changes_any_of(const StateSnapshot& state) const;
};

// The part of a quiet snapshot (Store's QuietReads::load_quiet_state, read for a whole batch)
// that the records of `keys`, some of that batch, read: the bindings of keys.remote_ids, the
// accounts bound to them or holding one of keys.codes, and the ancestors of these that `quiet`
// holds (what the QuietReads contract says such a snapshot holds for them). The engine decides
// a batch's unchanged records over it apart from the changed ones (engine.cpp, split_unchanged).
StateSnapshot quiet_subset(const StateSnapshot& quiet, const BatchKeys& keys);

}  // namespace erpsync::core
