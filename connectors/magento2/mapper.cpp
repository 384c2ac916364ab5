#include "connectors/magento2/mapper.hpp"

#include <cstdint>

#include "connectors/magento2/exact_json.hpp"
#include "core/errors.hpp"

namespace erpsync::connectors::magento2 {
namespace {

using nlohmann::json;

std::string text(const json& item, const char* key) {
  auto it = item.find(key);
  if (it == item.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer() || it->is_number_unsigned()) return it->dump();
  return {};
}

std::string id_text(const json& item, const char* key) {
  auto it = item.find(key);
  if (it == item.end()) return {};
  if (it->is_number_integer() || it->is_number_unsigned()) return it->dump();
  if (it->is_string()) return it->get<std::string>();
  return {};
}

// The default billing address: the one flagged default_billing, else the one whose id the
// customer's default_billing names.
const json* default_billing(const json& customer) {
  auto addrs = customer.find("addresses");
  if (addrs == customer.end() || !addrs->is_array()) return nullptr;
  for (const auto& a : *addrs)
    if (a.is_object() && a.value("default_billing", false) == true) return &a;
  const std::string id = text(customer, "default_billing");
  if (!id.empty())
    for (const auto& a : *addrs)
      if (a.is_object() && id_text(a, "id") == id) return &a;
  return nullptr;
}

}  // namespace

core::IncomingCustomer map_customer(const json& item, const std::string& account_code_attribute) {
  core::IncomingCustomer c;
  c.remote_id = id_text(item, "id");
  c.email = text(item, "email");
  c.first_name = text(item, "firstname");
  c.last_name = text(item, "lastname");
  c.updated_at = text(item, "updated_at");
  if (const json* a = default_billing(item)) {
    c.company = text(*a, "company");
    c.phone = text(*a, "telephone");
  }
  if (!account_code_attribute.empty()) {
    auto attrs = item.find("custom_attributes");
    if (attrs != item.end() && attrs->is_array()) {
      for (const auto& attr : *attrs) {
        if (!attr.is_object() || text(attr, "attribute_code") != account_code_attribute) continue;
        auto v = attr.find("value");
        if (v == attr.end() || v->is_null()) break;
        if (v->is_string()) c.external_code = v->get<std::string>();
        else if (auto n = number_text(*v)) c.external_code = *n;
        else c.invalid = "custom attribute " + account_code_attribute + " is not a single value";
        break;
      }
    }
  }
  return c;
}

core::IncomingOrder map_order(const json& item) {
  core::IncomingOrder o;
  o.remote_id = id_text(item, "entity_id");
  // Guests have no customer_id key (null values are omitted); customer_is_guest says it too.
  const std::string cid = id_text(item, "customer_id");
  const bool guest = item.value("customer_is_guest", 0) == 1;
  if (!cid.empty() && !guest) o.customer_remote_id = cid;
  o.customer_email = text(item, "customer_email");
  o.increment_id = text(item, "increment_id");
  o.status = text(item, "status");
  o.state = text(item, "state");
  o.currency = text(item, "order_currency_code");
  o.created_at = text(item, "created_at");
  o.updated_at = text(item, "updated_at");
  auto gt = item.find("grand_total");
  if (gt != item.end() && !gt->is_null()) {
    const auto raw = number_text(*gt);
    const auto exact = raw ? core::exact_decimal(*raw) : std::nullopt;
    if (exact) o.grand_total = *exact;
    else o.invalid = "grand_total " + gt->dump() + " is not a number that fits DECIMAL(20,4)";
  }
  if (!o.invalid && !o.created_at.empty() && !core::is_utc_datetime(o.created_at))
    o.invalid = "created_at '" + o.created_at + "' is not 'YYYY-MM-DD HH:MM:SS'";
  if (!o.invalid && !o.updated_at.empty() && !core::is_utc_datetime(o.updated_at))
    o.invalid = "updated_at '" + o.updated_at + "' is not 'YYYY-MM-DD HH:MM:SS'";
  return o;
}

namespace {

// A JSON boolean, or 0/1 as older stores send flags.
bool flag(const json& item, const char* key, bool absent) {
  auto it = item.find(key);
  if (it == item.end() || it->is_null()) return absent;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number_integer() || it->is_number_unsigned()) return it->dump() != "0";
  if (it->is_string()) return it->get<std::string>() != "0" && !it->get<std::string>().empty();
  return absent;
}

// A number kept exact, as exact_decimal text; "" when absent; nullopt when it is not a number
// that fits DECIMAL(20,4).
std::optional<std::string> exact_number(const json& item, const char* key) {
  auto it = item.find(key);
  if (it == item.end() || it->is_null()) return std::string();
  const auto raw = number_text(*it);
  return raw ? core::exact_decimal(*raw) : std::nullopt;
}

}  // namespace

core::IncomingCart map_cart(const json& item) {
  core::IncomingCart c;
  c.remote_id = id_text(item, "id");
  const json empty = json::object();
  auto cust = item.find("customer");
  const json& customer = cust != item.end() && cust->is_object() ? *cust : empty;
  const std::string cid = id_text(customer, "id");
  if (!cid.empty() && !flag(item, "customer_is_guest", false)) c.customer_remote_id = cid;
  c.customer_email = text(customer, "email");
  if (c.customer_email.empty()) {
    auto billing = item.find("billing_address");
    if (billing != item.end() && billing->is_object()) c.customer_email = text(*billing, "email");
  }
  c.is_active = flag(item, "is_active", true);
  c.items_count = text(item, "items_count");
  auto currency = item.find("currency");
  if (currency != item.end() && currency->is_object()) c.currency = text(*currency, "quote_currency_code");
  c.reserved_order_id = text(item, "reserved_order_id");
  c.created_at = text(item, "created_at");
  c.updated_at = text(item, "updated_at");
  c.converted_at = text(item, "converted_at");
  if (auto q = exact_number(item, "items_qty")) c.items_qty = *q;
  else c.invalid = "items_qty " + item.at("items_qty").dump() + " is not a number that fits DECIMAL(20,4)";
  auto items = item.find("items");
  if (items != item.end() && items->is_array()) {
    for (const auto& line : *items) {
      if (!line.is_object()) {
        if (!c.invalid) c.invalid = "an entry of items is not an object";
        continue;
      }
      core::IncomingCartItem i;
      i.remote_id = id_text(line, "item_id");
      i.sku = text(line, "sku");
      i.name = text(line, "name");
      for (auto [key, out] : {std::pair{"qty", &i.qty}, std::pair{"price", &i.price}}) {
        if (auto v = exact_number(line, key)) *out = *v;
        else if (!c.invalid)
          c.invalid = "item '" + i.remote_id + "' " + key + " " + line.at(key).dump() + " is not a number that fits DECIMAL(20,4)";
      }
      c.items.push_back(std::move(i));
    }
  }
  for (auto [key, value] : {std::pair{"created_at", &c.created_at}, std::pair{"updated_at", &c.updated_at},
                            std::pair{"converted_at", &c.converted_at}})
    if (!c.invalid && !value->empty() && !core::is_utc_datetime(*value))
      c.invalid = std::string(key) + " '" + *value + "' is not 'YYYY-MM-DD HH:MM:SS'";
  return c;
}

KeysetKey keyset_key(const json& item, const char* id_key, const std::string& what) {
  auto id = item.find(id_key);
  if (!item.is_object() || id == item.end() || !(id->is_number_integer() || id->is_number_unsigned()))
    throw core::SyncError(core::SyncError::Kind::permanent,
                          what + ": an item has no integer " + id_key + "; paging cannot go on past it");
  // Ids from 2^63 up parse as unsigned: read as long long they would wrap to negative keys
  // and page backwards. No Magento id is that large (its id columns are INT UNSIGNED).
  if (id->is_number_unsigned() && id->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    throw core::SyncError(core::SyncError::Kind::permanent,
                          what + ": an item has " + id_key + " " + id->dump() +
                              ", larger than 9223372036854775807 (2^63 - 1), the largest id erpsync pages by; "
                              "refused rather than wrapped: check the store's data or the proxy in front of it");
  const std::string u = text(item, "updated_at");
  if (!core::is_utc_datetime(u))
    throw core::SyncError(core::SyncError::Kind::permanent,
                          what + ": item " + id->dump() + " has no 'YYYY-MM-DD HH:MM:SS' updated_at ('" + u +
                              "'); paging cannot go on past it");
  return {u, id->get<long long>()};
}

}  // namespace erpsync::connectors::magento2
