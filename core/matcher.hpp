#pragma once
// The matching rules of SPEC §3 for company records of authoritative connectors (odoo, feed):
// pure code, no I/O. Given one batch of records in arrival order and the database's state for
// that batch's keys, decide what becomes of each record and produce the WriteBatch that
// carries the decisions out.
//
// Thread-safety: stateless; call from any thread.

#include <span>

#include "core/policy.hpp"
#include "core/record.hpp"
#include "core/state.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

// The keys Store::load_state must look up for `records` (remote ids, normalised codes and
// member_of codes, adoption keys when the policy adopts).
BatchKeys batch_keys(const MatchPolicy& policy, std::span<const IncomingAccount> records);

// Decides a batch.
//
// REQUIRES: `state` was loaded with batch_keys(policy, records) and reflects the database.
// Rules applied, in this order per record (see SPEC §3 for each):
//   superseded (rule 7, a later record of the batch has the same remote id) → invalid_field
//   (length limits, UTF-8, `invalid` set by the mapper) → missing_external_code (rule 2) →
//   unknown_owner → binding lookup (rule 8) / code lookup → ownership (rule 5, unless
//   owner_authority=source) → code_in_use (rule 8) → adoption (rule 9) or create (rule 3) or
//   update/unchanged (rule 4, by payload hash) → member_of (rule 6: link, pending, or refused
//   with a member_of_cycle warning) → contacts.
// Code changes of bound records are resolved for the whole batch first (two phases), so two
// records swapping codes both succeed.
// The returned batch's counters count every record exactly once; `decisions` lists them in
// arrival order; `cursor` is left empty for the caller to set.
WriteBatch decide(const MatchPolicy& policy, std::span<const IncomingAccount> records,
                  const StateSnapshot& state);

}  // namespace erpsync::core
