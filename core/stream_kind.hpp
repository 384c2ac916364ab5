#pragma once
// The kinds of record stream the engine runs (SPEC §4), and the traits table that tells the one
// engine (engine.cpp) how each kind is keyed, decided and read back from a stored payload.
// Adding a kind: its rules (decide/keys/payload), a StreamTraits specialisation here, and the
// connector whose source hands over its records; the engine and the daemon stay as they are.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/rules/carts.hpp"
#include "core/rules/commerce.hpp"
#include "core/rules/contacts.hpp"
#include "core/rules/companies.hpp"
#include "core/rules/payload.hpp"
#include "core/record.hpp"
#include "core/ports/store.hpp"

namespace erpsync::core {

enum class StreamKind {
  companies,  // company records that become Accounts (feed "accounts", Odoo "companies")
  contacts,   // persons attached to an Account (Odoo "contacts")
  customers,  // Magento customers (rule 11)
  orders,     // Magento orders
  carts,      // Magento shopping carts
};
std::string_view to_string(StreamKind k);

// Per kind:
//   Record            what a source hands over;
//   Input             what the rules decide (Record plus how it arrived, for kinds that park);
//   kKind, kParks     the kind; whether its records park while their Account is missing (rule 10);
//   remote_id, code   a record's remote id and External Code (for superseded decisions);
//   from_source       a fetched record as an Input;
//   replayed/retried  a stored rejection's / parked row's payload as an Input (nullopt: unreadable);
//   decide            the rules over the store's state for these records;
//   kQuietReads       whether a batch is first tried over the store's quiet reads;
//   kReadsAhead       whether its batches may be decided over state read ahead (Store's
//                     LookAhead; decide_over then decides over such a state);
//   keep_replayed     drops from a replayed batch what must not be written or counted again.
template <class Record>
struct StreamTraits;

template <>
struct StreamTraits<IncomingAccount> {
  using Record = IncomingAccount;
  using Input = IncomingAccount;
  static constexpr StreamKind kKind = StreamKind::companies;
  static constexpr bool kParks = false;
  static const std::string& remote_id(const Record& r) { return r.get(Field::remote_id); }
  static const std::string& code(const Record& r) { return r.get(Field::external_code); }
  static Input from_source(Record&& r) { return std::move(r); }
  static std::optional<Input> replayed(const std::string& payload) { return from_payload(payload); }
  static std::optional<Input> retried(const std::string&, bool) { return std::nullopt; }
  static BatchKeys keys(const MatchPolicy& p, std::span<const Input> rs) { return batch_keys(p, rs); }
  // Company streams may be decided over the store's quiet reads first (Store::load_quiet_state).
  static constexpr bool kQuietReads = true;
  static WriteBatch decide(const MatchPolicy& p, std::span<const Input> rs, Store& store) {
    return decide_over(p, rs, store.load_state(keys(p, rs)));
  }
  static constexpr bool kReadsAhead = true;
  static WriteBatch decide_over(const MatchPolicy& p, std::span<const Input> rs, StateSnapshot state) {
    std::shared_ptr<const StoreNote> note = state.store_note;
    WriteBatch batch = core::decide(p, rs, std::move(state));
    batch.store_note = std::move(note);
    return batch;
  }
  // A replayed record rejected again for a reason it already had, with the same payload,
  // writes nothing and counts nothing.
  static void keep_replayed(WriteBatch& batch);
};

template <class R, class In, StreamKind K, CommerceKeys (*Keys)(const MatchPolicy&, std::span<const In>),
          WriteBatch (*Decide)(const MatchPolicy&, std::span<const In>, const CommerceState&),
          std::optional<R> (*FromPayload)(const std::string&)>
struct AttachedTraits {
  using Record = R;
  using Input = In;
  static constexpr StreamKind kKind = K;
  static constexpr bool kParks = true;
  static constexpr bool kQuietReads = false;
  static constexpr bool kReadsAhead = false;
  static const std::string& remote_id(const Record& r) { return r.remote_id; }
  static Input from_source(Record&& r) { return Input{std::move(r), Arrival::source, false}; }
  static std::optional<Input> replayed(const std::string& payload) {
    if (auto r = FromPayload(payload)) return Input{std::move(*r), Arrival::rejection_replay, false};
    return std::nullopt;
  }
  static std::optional<Input> retried(const std::string& payload, bool expired) {
    if (auto r = FromPayload(payload)) return Input{std::move(*r), Arrival::parked_retry, expired};
    return std::nullopt;
  }
  static CommerceKeys keys(const MatchPolicy& p, std::span<const Input> rs) { return Keys(p, rs); }
  static WriteBatch decide(const MatchPolicy& p, std::span<const Input> rs, Store& store) {
    CommerceState state = store.load_commerce_state(keys(p, rs));
    std::shared_ptr<const StoreNote> note = state.base.store_note;
    WriteBatch batch = Decide(p, rs, state);
    batch.store_note = std::move(note);
    return batch;
  }
  // The attached kinds' rules decide a replay themselves (Arrival::rejection_replay).
  static void keep_replayed(WriteBatch&) {}
};

template <>
struct StreamTraits<IncomingCustomer>
    : AttachedTraits<IncomingCustomer, CustomerInput, StreamKind::customers, customer_keys, decide_customers,
                     customer_from_payload> {
  static const std::string& code(const Record& r) { return r.external_code; }
};

template <>
struct StreamTraits<IncomingOrder>
    : AttachedTraits<IncomingOrder, OrderInput, StreamKind::orders, order_keys, decide_orders, order_from_payload> {
  static const std::string& code(const Record&) { return kNoCode; }
  static inline const std::string kNoCode;
};

template <>
struct StreamTraits<IncomingContactRecord>
    : AttachedTraits<IncomingContactRecord, ContactInput, StreamKind::contacts, contact_keys, decide_contacts,
                     contact_from_payload> {
  static const std::string& code(const Record&) { return kNoCode; }
  static inline const std::string kNoCode;
};

template <>
struct StreamTraits<IncomingCart>
    : AttachedTraits<IncomingCart, CartInput, StreamKind::carts, cart_keys, decide_carts, cart_from_payload> {
  static const std::string& code(const Record&) { return kNoCode; }
  static inline const std::string kNoCode;
};

}  // namespace erpsync::core
