#pragma once
// The Magento side of SPEC §3 (rule 11: customers attach to Accounts, they never own them;
// rule 10: records that wait for their Account are parked) and §4.1's orders: pure code, no
// I/O. Given one batch of customers (or orders) in arrival order and the database's state for
// that batch's keys, decide what becomes of each record and produce the WriteBatch that
// carries the decisions out.
//
// What a Magento customer becomes (channel = connector name, remote id = customer id):
//   - a `magento` Customer row keyed by (channel, remote id) and a Contact bound as
//     (connector, "contacts", customer id), both on the Account the customer attaches to;
//   - a binding (connector, "customers", customer id) → entity "account": the Account it is
//     attached to now, with the customer's payload hash (unchanged records write nothing);
//   - for a customer without a code, once: an Account of its own (owner = default_owner, name
//     = default billing company, else first + last name, no code) and a binding
//     (connector, "accounts", customer id) → that Account, so it is found again (also after the
//     customer had a code for a while).
// An order becomes an orders row keyed by (channel, entity_id) and a binding
// (connector, "orders", entity_id) → entity "order" with its payload hash.
//
// Thread-safety: stateless; call from any thread.

#include <optional>
#include <span>
#include <string>

#include "core/rules/policy.hpp"
#include "core/state.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

inline constexpr std::string_view kCustomersStream = "customers";
inline constexpr std::string_view kOrdersStream = "orders";
inline constexpr std::string_view kOwnAccountsStream = "accounts";  // own-account bindings of customers
inline constexpr std::string_view kCustomerContactsStream = "contacts";

// One Magento customer as the mapper produced it. Strings; empty = absent.
struct IncomingCustomer {
  std::string remote_id;      // the customer id ("1001")
  std::string external_code;  // raw value of account_code_attribute; empty: no code
  std::string email, first_name, last_name;
  std::string company;  // default billing address company
  std::string phone;    // default billing address telephone
  std::string updated_at;
  std::optional<std::string> invalid;  // set by the mapper: invalid_field with this text
};

// One Magento order as the mapper produced it.
struct IncomingOrder {
  std::string remote_id;  // entity_id
  std::optional<std::string> customer_remote_id;  // customer_id; nullopt: guest order
  std::string customer_email, increment_id, status, state;
  std::string grand_total;  // exact decimal text, as the JSON number was written
  std::string currency;     // order_currency_code
  std::string created_at, updated_at;  // UTC 'YYYY-MM-DD HH:MM:SS'
  std::optional<std::string> invalid;
};

// Stored payloads (JSON objects that round-trip the record exactly) and payload hashes
// (SHA-256 hex over a version tag and every field, separated by US/RS as in payload.hpp).
std::string to_customer_payload(const IncomingCustomer& c);
std::optional<IncomingCustomer> customer_from_payload(const std::string& json);
std::string customer_payload_hash(const IncomingCustomer& c);
std::string to_order_payload(const IncomingOrder& o);
std::optional<IncomingOrder> order_from_payload(const std::string& json);
std::string order_payload_hash(const IncomingOrder& o);

// Exact decimal text for DECIMAL(20,4) from a JSON number's text ("165", "1249.5", "1.5e3",
// "-0.10"): no exponent, no trailing fractional zeros. nullopt when it is not a JSON number,
// has more than 4 fractional digits or more than 16 integer digits.
std::optional<std::string> exact_decimal(std::string_view json_number);
// True for 'YYYY-MM-DD HH:MM:SS' with plausible field ranges.
bool is_utc_datetime(std::string_view s);

// A record to decide, and how it came: from the source, from a parked row (`retry`), or from
// a stored rejection (`replay`). An expired parked record that would park again becomes an
// account_not_found rejection and is unparked.
enum class Arrival { source, parked_retry, rejection_replay };

struct CustomerInput {
  IncomingCustomer record;
  Arrival arrival = Arrival::source;
  bool expired = false;
};
struct OrderInput {
  IncomingOrder record;
  Arrival arrival = Arrival::source;
  bool expired = false;
};

CommerceKeys customer_keys(const MatchPolicy& policy, std::span<const CustomerInput> records);
CommerceKeys order_keys(const MatchPolicy& policy, std::span<const OrderInput> records);

// Decides a batch of customers (rules 11 and 10), in arrival order.
// REQUIRES: `state` was loaded with customer_keys(policy, records); policy.stream == "customers".
// Per record: superseded (a later record of the batch has the same remote id) → invalid_field
// (mapper, lengths, UTF-8) → code:
//   - a code an Account has (whatever its owner): attached (Customer + Contact on it; none of
//     the Account's fields change; the contact is never made its default);
//   - a code no Account has: parked (waits_for = the code), or, when it was already rejected
//     account_not_found with the same payload, rejected again (not parked anew); an expired
//     parked retry becomes an account_not_found rejection;
//   - no code: its own Account (found through the "accounts" binding, else created with
//     default_owner; unknown_owner when the connector has none). Its name, email and phone
//     follow the customer; its owner is never changed.
// Unchanged (same payload hash and still attached to the same Account) writes nothing.
// Outcomes: created (the Customer is new), updated, unchanged, superseded, parked, rejected.
WriteBatch decide_customers(const MatchPolicy& policy, std::span<const CustomerInput> records,
                            const CommerceState& state);

// Decides a batch of orders. REQUIRES: `state` loaded with order_keys(); policy.stream ==
// "orders". A registered customer's order is linked to the Customer row and its Account; when
// the Customer row does not exist (the customer is parked or not synced yet) the order is
// parked (waits_for = "customer " + id). Guest orders: customer and account NULL, email kept.
// Amounts and dates were checked by the mapper (invalid) and are checked again here.
WriteBatch decide_orders(const MatchPolicy& policy, std::span<const OrderInput> records,
                         const CommerceState& state);

}  // namespace erpsync::core
