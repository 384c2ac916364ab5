#pragma once
// Magento shopping carts (SPEC §4.1 stream `carts`): pure code, no I/O. Given one batch of
// carts in arrival order and the database's state for that batch's keys, decide what becomes
// of each cart and produce the WriteBatch that carries the decisions out.
//
// A cart becomes a carts row keyed by (channel = connector, remote id = the cart id), its
// items as cart_items rows (a changed cart replaces them all), and a binding
// (connector, "carts", cart id) → entity "cart" with its payload hash (unchanged carts write
// nothing). A registered customer's cart is linked to that Customer row and its Account; while
// the Customer row does not exist (the customer is parked or not synced yet) the cart is parked
// (waits_for = "customer " + id) and written by the first run after the customer is. A guest
// cart keeps its e-mail and has no customer. A converted cart names its order by
// `reserved_order_id` = the order's `increment_id`: the store links the two whenever either
// is written (CartWrite, OrderWrite), so the order may arrive before or after the cart.
//
// Thread-safety: stateless; call from any thread.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/rules/commerce.hpp"
#include "core/rules/policy.hpp"
#include "core/state.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

inline constexpr std::string_view kCartsStream = "carts";

// One line of a cart (Magento's CartItemInterface). qty and price: exact decimal text
// (core::exact_decimal), never a double.
struct IncomingCartItem {
  std::string remote_id;  // item_id
  std::string sku, name, qty, price;
};

// One Magento cart (CartInterface) as the mapper produced it. Strings; empty = absent.
struct IncomingCart {
  std::string remote_id;                          // id
  std::optional<std::string> customer_remote_id;  // customer.id; nullopt: a guest cart
  std::string customer_email;  // customer.email, else billing_address.email
  bool is_active = true;
  std::string items_count;  // integer text
  std::string items_qty;    // exact decimal text
  std::string currency;     // currency.quote_currency_code
  std::string reserved_order_id;  // the order's increment_id once checkout reserved one
  std::string created_at, updated_at, converted_at;  // UTC 'YYYY-MM-DD HH:MM:SS'
  std::vector<IncomingCartItem> items;
  std::optional<std::string> invalid;  // set by the mapper: invalid_field with this text
};

// Σ qty × price over the cart's items, exactly (scaled integers, never a double), rounded half
// away from zero to the 4 fractional digits of DECIMAL(20,4), as exact_decimal text ("0" for no
// items). nullopt when an item's qty or price is not exact decimal text or the sum has more
// than 16 integer digits.
std::optional<std::string> cart_subtotal(const IncomingCart& cart);

// Stored payload (a JSON object that round-trips the cart and its items exactly) and payload
// hash (every field, items included; the version tag "magento-cart-v1").
std::string to_cart_payload(const IncomingCart& c);
std::optional<IncomingCart> cart_from_payload(const std::string& json);
std::string cart_payload_hash(const IncomingCart& c);

struct CartInput {
  IncomingCart record;
  Arrival arrival = Arrival::source;
  bool expired = false;
};

CommerceKeys cart_keys(const MatchPolicy& policy, std::span<const CartInput> records);

// Decides a batch of carts. REQUIRES: `state` loaded with cart_keys(); policy.stream == "carts".
// Per cart: superseded → invalid_field (mapper, ids, lengths, dates, amounts, subtotal) →
// a registered customer without a Customer row: parked (rule 10; an expired retry becomes an
// account_not_found rejection) → unchanged (bound with the same payload hash) → created or
// updated (the cart's columns and all of its items replaced).
WriteBatch decide_carts(const MatchPolicy& policy, std::span<const CartInput> records, const CommerceState& state);

}  // namespace erpsync::core
