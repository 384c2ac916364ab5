#include "core/rules/carts.hpp"

#include <nlohmann/json.hpp>

#include "core/rules/decider_support.hpp"
#include "core/rules/payload_codec.hpp"
#include "core/rules/value_check.hpp"

namespace erpsync::core {
namespace {

using detail::base_keys;
using detail::quote_id;

const std::string kCartEntity = "cart";

// Exact decimal text (exact_decimal's form) → an integer of ten-thousandths; nullopt when it
// is not that form or has more than 4 fractional digits.
std::optional<__int128> scaled(std::string_view text) {
  auto exact = exact_decimal(text);
  if (!exact) return std::nullopt;
  std::string_view s = *exact;
  const bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  __int128 v = 0;
  int fraction = -1;  // digits after the point; -1: no point yet
  for (char c : s) {
    if (c == '.') {
      fraction = 0;
      continue;
    }
    v = v * 10 + (c - '0');
    if (fraction >= 0) ++fraction;
  }
  for (int i = fraction < 0 ? 0 : fraction; i < 4; ++i) v *= 10;
  return negative ? -v : v;
}

// ten-thousandths → exact_decimal text.
std::string decimal_text(__int128 v) {
  const bool negative = v < 0;
  if (negative) v = -v;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v > 0);
  while (digits.size() < 5) digits.insert(digits.begin(), '0');
  std::string ip = digits.substr(0, digits.size() - 4), fp = digits.substr(digits.size() - 4);
  while (!fp.empty() && fp.back() == '0') fp.pop_back();
  const bool zero = ip == "0" && fp.empty();
  return (negative && !zero ? "-" : "") + ip + (fp.empty() ? "" : "." + fp);
}

class CartDecider : detail::ParkingDecider {
 public:
  using ParkingDecider::ParkingDecider;

  WriteBatch run(std::span<const CartInput> records) {
    return decide_in_order(records, [this](const CartInput& in, bool superseded) { decide_one(in, superseded); });
  }

 private:
  static std::optional<std::string> check_date(const char* what, const std::string& v) {
    if (!v.empty() && !is_utc_datetime(v)) return std::string(what) + " " + quote_id(v) + " is not 'YYYY-MM-DD HH:MM:SS'";
    return std::nullopt;
  }
  static std::optional<std::string> check_decimal(const std::string& what, const std::string& v) {
    if (!v.empty() && exact_decimal(v) != v) return what + " " + quote_id(v) + " is not an exact decimal of DECIMAL(20,4)";
    return std::nullopt;
  }

  static std::optional<std::string> validate(const IncomingCart& c) {
    if (c.invalid) return *c.invalid;
    if (auto e = check_id("id", c.remote_id, kMaxRemoteId)) return e;
    if (c.customer_remote_id)
      if (auto e = check_id("customer.id", *c.customer_remote_id, kMaxRemoteId)) return e;
    if (auto e = check_trimmed_id("customer email", c.customer_email, kMaxEmail)) return e;
    if (auto e = check_text("currency.quote_currency_code", c.currency, 8)) return e;
    if (auto e = check_id("reserved_order_id", c.reserved_order_id, 64)) return e;
    if (!c.items_count.empty() && c.items_count.find_first_not_of("0123456789") != std::string::npos)
      return "items_count " + quote_id(c.items_count) + " is not a count";
    if (c.items_count.size() > 9) return "items_count " + quote_id(c.items_count) + " is too large";
    if (auto e = check_decimal("items_qty", c.items_qty)) return e;
    if (auto e = check_date("created_at", c.created_at)) return e;
    if (auto e = check_date("updated_at", c.updated_at)) return e;
    if (auto e = check_date("converted_at", c.converted_at)) return e;
    for (const auto& i : c.items) {
      const std::string at = "item " + quote_id(i.remote_id) + " ";
      if (auto e = check_id("item_id", i.remote_id, kMaxRemoteId)) return e;
      if (auto e = check_text(at + "sku", i.sku, 64)) return e;
      if (auto e = check_text(at + "name", i.name, kMaxName)) return e;
      if (auto e = check_decimal(at + "qty", i.qty)) return e;
      if (auto e = check_decimal(at + "price", i.price)) return e;
    }
    return std::nullopt;
  }

  void decide_one(const CartInput& in, bool superseded) {
    const IncomingCart& c = in.record;
    Item p;
    p.remote_id = c.remote_id;
    p.hash = cart_payload_hash(c);
    p.payload = to_cart_payload(c);
    p.arrival = in.arrival;
    p.expired = in.expired;
    if (finish_if_superseded(p, superseded)) return;
    if (auto e = validate(c)) {
      reject(p, RejectReason::invalid_field, "invalid field: " + *e);
      return;
    }
    const auto subtotal = cart_subtotal(c);
    if (!subtotal) {
      reject(p, RejectReason::invalid_field,
             "invalid field: the subtotal of cart " + quote_id(p.remote_id) + " (sum of qty x price) does not fit DECIMAL(20,4)");
      return;
    }
    const std::optional<CustomerLink> link = customer_link(p, c.customer_remote_id, "cart");
    if (!link) return;
    const auto& [customer, account] = *link;
    if (finish_if_unchanged(p, kCartEntity, "cart")) return;
    const bool known = bound_to(p, kCartEntity);
    CartWrite w;
    w.stream = policy_.stream;
    w.remote_id = p.remote_id;
    w.customer = customer;
    w.account = account;
    w.customer_email = c.customer_email;
    w.is_active = c.is_active;
    w.items_count = c.items_count;
    w.items_qty = c.items_qty;
    w.subtotal = *subtotal;
    w.currency = c.currency;
    w.reserved_order_id = c.reserved_order_id;
    w.created_at = c.created_at;
    w.updated_at = c.updated_at;
    w.converted_at = c.converted_at;
    for (const auto& i : c.items) w.items.push_back({i.remote_id, i.sku, i.name, i.qty, i.price});
    w.payload_hash = p.hash;
    out_.carts.push_back(std::move(w));
    view_.base.bindings[p.remote_id] = {kCartEntity, 0, p.hash, false};
    synced(p);
    const std::string whose = customer ? "customer " + quote_id(*c.customer_remote_id) : "guest " + c.customer_email;
    finish(p, known ? Outcome::updated : Outcome::created, std::nullopt,
           std::string(known ? "updated" : "created") + " cart " + quote_id(p.remote_id) + " of " + whose + ", " +
               std::to_string(c.items.size()) + " item(s), subtotal " + *subtotal);
  }
};

using CartField = PayloadField<IncomingCart>;

// The items enter the hash as one field: their JSON array, in order.
nlohmann::json items_json(const IncomingCart& c) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& i : c.items)
    a.push_back({{"item_id", i.remote_id}, {"sku", i.sku}, {"name", i.name}, {"qty", i.qty}, {"price", i.price}});
  return a;
}
std::string items_text(const IncomingCart& c) {
  return items_json(c).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr CartField kCartFields[] = {
    CartField::text_field("remote_id", &IncomingCart::remote_id),
    CartField::optional_field("customer_id", &IncomingCart::customer_remote_id),
    CartField::text_field("customer_email", &IncomingCart::customer_email),
    CartField::flag_field("is_active", &IncomingCart::is_active),
    CartField::text_field("items_count", &IncomingCart::items_count),
    CartField::text_field("items_qty", &IncomingCart::items_qty),
    CartField::text_field("currency", &IncomingCart::currency),
    CartField::text_field("reserved_order_id", &IncomingCart::reserved_order_id),
    CartField::text_field("created_at", &IncomingCart::created_at),
    // Hashed: an abandoned cart is judged by its last update, which must be kept current.
    CartField::text_field("updated_at", &IncomingCart::updated_at),
    CartField::text_field("converted_at", &IncomingCart::converted_at),
    CartField::derived_field("items", &items_text),
    CartField::optional_field("invalid", &IncomingCart::invalid, /*hashed=*/false),
};
constexpr PayloadCodec<IncomingCart> kCartCodec{"magento-cart-v1", kCartFields};

}  // namespace

std::optional<std::string> cart_subtotal(const IncomingCart& cart) {
  // In ten-thousandths, each factor below 10^12 (Magento's qty and price are DECIMAL(12,4)),
  // so a product (10^-8 units) stays below 10^32 and a sum of them far inside __int128.
  constexpr __int128 kPow16 = static_cast<__int128>(10'000'000'000'000'000LL);
  constexpr __int128 kFactorLimit = kPow16;                   // 10^12 in 10^-4 units
  constexpr __int128 kSumLimit = kPow16 * kPow16 * 10'000;    // 10^36 in 10^-8 units
  constexpr __int128 kResultLimit = kPow16 * 10'000;          // 10^16 in 10^-4 units
  __int128 sum = 0;
  for (const auto& i : cart.items) {
    const auto q = scaled(i.qty), p = scaled(i.price);
    if (!q || !p) return std::nullopt;
    if (*q >= kFactorLimit || *q <= -kFactorLimit || *p >= kFactorLimit || *p <= -kFactorLimit) return std::nullopt;
    sum += *q * *p;
    if (sum >= kSumLimit || sum <= -kSumLimit) return std::nullopt;
  }
  // Each product has 8 fractional digits; the sum is rounded once, half away from zero.
  const bool negative = sum < 0;
  __int128 magnitude = negative ? -sum : sum;
  magnitude = (magnitude + 5'000) / 10'000;
  if (magnitude >= kResultLimit) return std::nullopt;  // more than 16 integer digits
  return decimal_text(negative ? -magnitude : magnitude);
}

std::string to_cart_payload(const IncomingCart& c) {
  auto j = nlohmann::json::parse(kCartCodec.to_payload(c));
  j["items"] = items_json(c);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<IncomingCart> cart_from_payload(const std::string& json) {
  auto c = kCartCodec.from_payload(json);
  if (!c) return std::nullopt;
  const auto j = nlohmann::json::parse(json, nullptr, false);
  const auto items = j.find("items");
  if (items == j.end() || !items->is_array()) return c;
  auto text = [](const nlohmann::json& o, const char* k) {
    auto it = o.find(k);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  for (const auto& i : *items) {
    if (!i.is_object()) continue;
    c->items.push_back({text(i, "item_id"), text(i, "sku"), text(i, "name"), text(i, "qty"), text(i, "price")});
  }
  return c;
}

std::string cart_payload_hash(const IncomingCart& c) { return kCartCodec.hash(c); }

CommerceKeys cart_keys(const MatchPolicy& policy, std::span<const CartInput> records) {
  CommerceKeys k = base_keys(policy, records);
  for (const auto& r : records)
    if (r.record.customer_remote_id && fits_id(*r.record.customer_remote_id, kMaxRemoteId))
      k.customer_remote_ids.insert(*r.record.customer_remote_id);
  return k;
}

WriteBatch decide_carts(const MatchPolicy& policy, std::span<const CartInput> records, const CommerceState& state) {
  return CartDecider(policy, state).run(records);
}

}  // namespace erpsync::core
