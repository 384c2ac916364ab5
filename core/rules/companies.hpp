#pragma once
// The matching rules of SPEC §3 for company records of authoritative connectors (odoo, feed):
// pure code, no I/O. Given one batch of records in arrival order and the database's state for
// that batch's keys, decide what becomes of each record and produce the WriteBatch that
// carries the decisions out.
//
// Thread-safety: stateless; call from any thread.

#include <span>

#include "core/rules/policy.hpp"
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
//
// Choices where SPEC is silent (each has a test in tests/unit/core/):
//   - Remote ids are used exactly as given; decide() never defaults one (for Odoo and Magento
//     "" and "0" are ids). Feed mappers call default_remote_id() (payload.hpp).
//   - The payload hash is taken over the record after rule 1 (external_code and member_of
//     trimmed), with the resolved owner (the trimmed raw value when it does not resolve).
//   - Accepted code changes are visible to every record of the batch, whatever its position:
//     an earlier record bringing a code that a later bound record gives up sees it free.
//   - A refused link clears the account's link and pending code (a pending code would be
//     linked later and close the cycle). Of two links closing a cycle in one batch, the later
//     record's is refused: pending children are linked before the arriving record's own link.
//     A pending child whose link would close a cycle stays pending.
//   - An unchanged record re-raises its refused link (warning, rejection bumped) and writes
//     nothing; when its open member_of_cycle link has become acceptable, the link is written
//     and the record counts `updated`.
//   - Adoption sets the code (AccountWrite::set_code), binds with no hash and writes the
//     connector's b2b Customer; fields, owner, member_of and contacts wait for the next
//     sighting. Only `name` and `vat` are adoption keys; an empty key matches nothing;
//     accounts already bound to another remote id of the stream are not candidates.
//   - The first *active* contact becomes the default when the account has none.
//   - `relationship` must be empty or one of SPEC §2's values, else invalid_field. Lengths
//     are counted in characters (code points), as VARCHAR(n) counts them.
WriteBatch decide(const MatchPolicy& policy, std::span<const IncomingAccount> records,
                  const StateSnapshot& state);
// The same, taking the snapshot over instead of copying it (the engine's way: a snapshot is
// read for one batch).
WriteBatch decide(const MatchPolicy& policy, std::span<const IncomingAccount> records, StateSnapshot&& state);

}  // namespace erpsync::core
