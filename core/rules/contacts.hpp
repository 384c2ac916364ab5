#pragma once
// Contacts of an authoritative connector's companies that arrive as their own stream (Odoo's
// "contacts": res.partner persons with a parent company, SPEC §4.2; a CSV feed's "contacts": the
// rows of its contacts file that no company row of the companies file takes, SPEC §4.3), and §3
// rule 10 for them: pure code, no I/O. Given one batch of contacts in arrival order and the database's state for
// that batch's keys, decide what becomes of each and produce the WriteBatch.
//
// What a contact becomes (remote id = the partner id):
//   - a Contact row on the Account of its company, the company found through the company's
//     binding (connector, policy.company_stream, company remote id) — never through a code;
//   - a binding (connector, "contacts", remote id) → entity "contact" with the contact's payload
//     hash, so a re-read contact is `unchanged` and writes nothing;
//   - the Account's default contact when it is active and the Account has none (the first
//     contact of an Account becomes its default; a later one never takes the flag away). A
//     contact that moves to another company's Account takes its default flag only when that
//     Account has none; otherwise it arrives there as a plain contact.
// A contact whose company is not bound (not synced yet, or rejected) is parked, waits_for =
// "company <id>", retried at the start of every run and turned into an account_not_found
// rejection after park_ttl (see engine.hpp, retry_waiting). A parked or rejected contact that its
// company's record has written since (a feed joins a contact row to its company's record once
// the companies file holds the company: bound with no payload hash, on that company's Account)
// is settled when it is retried: its parked row goes, its rejections are resolved, and nothing
// is written or counted, so that the contact is written once.
// Archived contacts (active = false) stay, marked inactive; nothing is ever deleted.
//
// Thread-safety: stateless; call from any thread.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/rules/commerce.hpp"
#include "core/rules/policy.hpp"
#include "core/state.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

inline constexpr std::string_view kContactsStream = "contacts";
inline constexpr std::string_view kCompaniesStream = "companies";

// One contact person as the mapper produced it. Strings; empty = absent.
struct IncomingContactRecord {
  std::string remote_id;          // the contact's id in the source ("64")
  std::string company_remote_id;  // its company's remote id, as the companies stream binds it ("41")
  std::string first_name, last_name, email, phone;
  bool active = true;
  std::string updated_at;  // the source's change stamp, informational (not in the hash)
  std::optional<std::string> invalid;  // set by the mapper: invalid_field with this text
};

// Stored payload (a JSON object that round-trips the record) and payload hash (SHA-256 hex
// over "contact-v1" and every field but updated_at, separated by US/RS as in payload.hpp).
std::string to_contact_payload(const IncomingContactRecord& c);
std::optional<IncomingContactRecord> contact_from_payload(const std::string& json);
std::string contact_payload_hash(const IncomingContactRecord& c);

struct ContactInput {
  IncomingContactRecord record;
  Arrival arrival = Arrival::source;
  bool expired = false;  // a parked retry parked for park_ttl or longer
};

// The keys to load the state of a batch with: base (stream "contacts": contact bindings, open
// rejections, parked rows), company_remote_ids and contact_row_remote_ids.
CommerceKeys contact_keys(const MatchPolicy& policy, std::span<const ContactInput> records);

// Decides a batch of contacts, in arrival order.
// REQUIRES: `state` was loaded with contact_keys(policy, records); policy.stream == "contacts".
// Per record: superseded (a later record of the batch has the same remote id) → invalid_field
// (mapper, lengths, UTF-8, no company id) → company not bound: parked (or, expired, rejected
// account_not_found) → retried and already written by its company's record: settled → written (created when it has no contact row yet, else updated) or
// unchanged (same payload hash, still on the same Account).
WriteBatch decide_contacts(const MatchPolicy& policy, std::span<const ContactInput> records,
                           const CommerceState& state);

}  // namespace erpsync::core
