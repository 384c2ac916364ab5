#pragma once
// Magento JSON (as parse_exact_json reads it) → core's IncomingCustomer / IncomingOrder /
// IncomingCart.
// Pure; no I/O. A field that cannot be read makes the record `invalid` (an invalid_field
// rejection naming it); only a record without an id throws, because it cannot even be named.

#include <string>

#include <nlohmann/json.hpp>

#include "core/rules/carts.hpp"
#include "core/rules/commerce.hpp"

namespace erpsync::connectors::magento2 {

// `account_code_attribute`: the customer custom attribute holding the ERP code ("" = none
// configured: every customer is code-less). An absent entry, or an absent custom_attributes
// key, is "no code".
core::IncomingCustomer map_customer(const nlohmann::json& item, const std::string& account_code_attribute);
core::IncomingOrder map_order(const nlohmann::json& item);
// A CartInterface object: a cart of a registered customer names it by customer.id (a guest cart,
// customer_is_guest true, has none); its e-mail is customer.email, else billing_address.email;
// items_qty and every item's qty and price are kept as exact decimal text.
core::IncomingCart map_cart(const nlohmann::json& item);

// The record's keyset position: (updated_at, id as an integer). Throws SyncError{permanent}
// when the item has no integer id (`id_key`: "id" for customers and carts, "entity_id" for orders) or no
// 'YYYY-MM-DD HH:MM:SS' updated_at: paging cannot go on past such a row.
struct KeysetKey {
  std::string updated_at;
  long long id = 0;
  auto operator<=>(const KeysetKey&) const = default;
};
KeysetKey keyset_key(const nlohmann::json& item, const char* id_key, const std::string& what);

}  // namespace erpsync::connectors::magento2
