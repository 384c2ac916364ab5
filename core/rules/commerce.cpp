#include "core/rules/commerce.hpp"

#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/rules/decider_support.hpp"
#include "core/rules/normalize.hpp"
#include "core/rules/payload.hpp"
#include "core/rules/payload_codec.hpp"
#include "core/rules/persons.hpp"
#include "core/rules/value_check.hpp"

namespace erpsync::core {
namespace {

using detail::base_keys;
using detail::quote_id;

const std::string kAccountEntity = "account";
const std::string kContactEntity = "contact";
const std::string kOrderEntity = "order";

std::string join_name(const std::string& first, const std::string& last) {
  return normalize_code(first + " " + last);
}

class CustomerDecider : detail::ParkingDecider {
 public:
  using ParkingDecider::ParkingDecider;

  WriteBatch run(std::span<const CustomerInput> records) {
    return decide_in_order(records, [this](const CustomerInput& in, bool superseded) { decide_one(in, superseded); });
  }

 private:
  static std::optional<std::string> validate(const IncomingCustomer& c, const std::string& code) {
    if (c.invalid) return *c.invalid;
    if (auto e = check_id("remote_id", c.remote_id, kMaxRemoteId)) return e;
    if (auto e = check_id("external_code", code, kMaxExternalCode)) return e;
    if (auto e = check_trimmed_id("email", c.email, kMaxEmail)) return e;
    if (auto e = check_text("firstname", c.first_name, kMaxName)) return e;
    if (auto e = check_text("lastname", c.last_name, kMaxName)) return e;
    if (auto e = check_text("company", c.company, kMaxName)) return e;
    if (auto e = check_text("telephone", c.phone, kMaxPhone)) return e;
    return std::nullopt;
  }

  void decide_one(const CustomerInput& in, bool superseded) {
    const IncomingCustomer& c = in.record;
    IncomingCustomer normalised = c;
    normalised.external_code = normalize_code(c.external_code);
    Item p;
    p.remote_id = c.remote_id;
    p.code = normalised.external_code;
    p.hash = customer_payload_hash(normalised);
    p.payload = to_customer_payload(c);
    p.arrival = in.arrival;
    p.expired = in.expired;
    if (finish_if_superseded(p, superseded)) return;
    if (auto e = validate(c, p.code)) {
      reject(p, RejectReason::invalid_field, "invalid field: " + *e);
      return;
    }
    if (auto e = crm_problem(c)) {
      reject(p, RejectReason::invalid_field, "invalid field: " + *e);
      return;
    }
    if (!p.code.empty()) {
      auto it = view_.base.account_by_code.find(p.code);
      if (it == view_.base.account_by_code.end()) {
        park(p, p.code, "no account has code " + p.code + " yet");
        return;
      }
      attach(p, c, it->second, /*own=*/false, /*new_account=*/false);
      return;
    }
    // No code: an account of its own, created once.
    p.incoming_owner = policy_.default_owner;
    if (policy_.default_owner.empty()) {
      reject(p, RejectReason::unknown_owner,
             "the customer has no account code and connector " + policy_.connector + " has no default_owner");
      return;
    }
    if (auto e = check_id("default_owner", policy_.default_owner, kMaxOwner)) {
      reject(p, RejectReason::invalid_field, "invalid field: " + *e);
      return;
    }
    if (view_.base.crm) {
      if (auto e = crm_owner_problem(*view_.base.crm, policy_.default_owner)) {
        reject(p, RejectReason::unknown_owner, "default_owner of connector " + policy_.connector + ": " + *e);
        return;
      }
    }
    auto own = view_.own_accounts.find(p.remote_id);
    if (own != view_.own_accounts.end()) {
      // Merged into a coded Account since: the customer attaches to it like a coded customer
      // (its fields are the ERP's), and no account of its own is created again.
      const bool still_own = !view_.own_accounts_coded.contains(p.remote_id);
      attach(p, c, own->second, /*own=*/still_own, /*new_account=*/false);
      return;
    }
    const Ref ref = next_ref_--;
    view_.own_accounts[p.remote_id] = ref;
    AccountWrite w;
    w.ref = ref;
    w.set = bit(Field::name) | bit(Field::owner) | bit(Field::email) | bit(Field::phone);
    w.values.name = own_account_name(c);
    w.values.owner = policy_.default_owner;
    w.values.email = c.email;
    w.values.phone = c.phone;
    out_.accounts.push_back(std::move(w));
    out_.bindings.push_back({std::string(kOwnAccountsStream), p.remote_id, kAccountEntity, ref, ""});
    attach(p, c, ref, /*own=*/true, /*new_account=*/true);
  }

  // Why the CRM application's tables cannot hold the customer's Contact (or its own Account's
  // name), if so (SPEC §5 "CRM targets").
  std::optional<std::string> crm_problem(const IncomingCustomer& c) const {
    if (!view_.base.crm) return std::nullopt;
    const CrmLimits& crm = *view_.base.crm;
    for (auto [f, v] : {std::pair{ContactField::first_name, &c.first_name}, {ContactField::last_name, &c.last_name},
                        {ContactField::email, &c.email}, {ContactField::phone, &c.phone}})
      if (auto e = crm_contact_problem(crm, f, *v)) return e;
    if (normalize_code(c.external_code).empty())  // it gets an Account of its own
      if (auto e = crm_account_problem(crm, Field::name, own_account_name(c))) return e;
    return std::nullopt;
  }

  static std::string own_account_name(const IncomingCustomer& c) {
    std::string company = normalize_code(c.company);
    return company.empty() ? join_name(c.first_name, c.last_name) : company;
  }

  void attach(Item& p, const IncomingCustomer& c, Ref account, bool own, bool new_account) {
    const auto bound = view_.base.bindings.find(p.remote_id);
    const bool was_bound = bound != view_.base.bindings.end() && bound->second.entity == kAccountEntity;
    const bool exists = view_.customers.contains(p.remote_id);
    const bool same_account = was_bound && bound->second.entity_id == account;
    if (same_account && exists && !bound->second.payload_hash.empty() && bound->second.payload_hash == p.hash &&
        !bound->second.missing && !view_.parked.contains(p.remote_id)) {
      synced(p);
      finish(p, Outcome::unchanged, std::nullopt, "unchanged customer " + quote_id(p.remote_id));
      return;
    }
    // Contact: the customer's person, bound as (connector, "contacts", customer id).
    Ref contact;
    auto cb = view_.base.contact_bindings.find(p.remote_id);
    const bool contact_known = cb != view_.base.contact_bindings.end() && cb->second.entity == kContactEntity;
    std::optional<EntityId> same;  // rule 12: the Account's Contact with the customer's e-mail
    if (contact_known) {
      contact = cb->second.entity_id;
    } else {
      same = same_person(view_.base, account, c.email);
      contact = same ? *same : next_ref_--;
      view_.base.contact_bindings[p.remote_id] = {kContactEntity, contact, "", false};
    }
    note_person(view_.base, account, c.email, contact);
    ContactWrite cw;
    cw.ref = contact;
    cw.account = account;
    cw.first_name = c.first_name;
    cw.last_name = c.last_name;
    cw.email = c.email;
    cw.phone = c.phone;
    // An account of its own: the customer is its default contact. An attached account's
    // default contact is the ERP's business: a contact moving there is never its default, and
    // a Contact the customer shares with another source (rule 12) keeps its flag as it is.
    if (own) cw.is_default = true;
    else if (contact_known && was_bound && !same_account) cw.is_default = false;
    put_contact(out_.contacts, std::move(cw));
    if (!contact_known) out_.bindings.push_back({std::string(kCustomerContactsStream), p.remote_id, kContactEntity, contact, ""});

    if (own && !new_account) {
      AccountWrite w;
      w.ref = account;
      w.set = bit(Field::name) | bit(Field::email) | bit(Field::phone);
      w.values.name = own_account_name(c);
      w.values.email = c.email;
      w.values.phone = c.phone;
      out_.accounts.push_back(std::move(w));
    }
    CustomerWrite cu;
    cu.channel = policy_.connector;
    cu.remote_id = p.remote_id;
    cu.kind = "magento";
    cu.account = account;
    cu.contact = contact;
    cu.name = join_name(c.first_name, c.last_name);
    cu.email = c.email;
    out_.customers.push_back(std::move(cu));
    out_.bindings.push_back({policy_.stream, p.remote_id, kAccountEntity, account, p.hash});
    view_.base.bindings[p.remote_id] = {kAccountEntity, account, p.hash, false};
    view_.customers[p.remote_id] = {0, account, std::nullopt};
    synced(p);

    std::string what;
    if (own) what = new_account ? "created its own account (owner " + policy_.default_owner + ")" : "on its own account";
    else what = p.code.empty() ? "on the account its own was merged into" : "attached to account " + p.code;
    if (was_bound && !same_account) what += " (moved from account " + std::to_string(bound->second.entity_id) + ")";
    if (same) what += ", one person with the account's contact " + std::to_string(*same) + " (same e-mail)";
    finish(p, exists ? Outcome::updated : Outcome::created, std::nullopt,
           std::string(exists ? "updated" : "created") + " customer " + quote_id(p.remote_id) + ", " + what);
  }
};

class OrderDecider : detail::ParkingDecider {
 public:
  using ParkingDecider::ParkingDecider;

  WriteBatch run(std::span<const OrderInput> records) {
    return decide_in_order(records, [this](const OrderInput& in, bool superseded) { decide_one(in, superseded); });
  }

 private:
  static std::optional<std::string> validate(const IncomingOrder& o) {
    if (o.invalid) return *o.invalid;
    if (auto e = check_id("entity_id", o.remote_id, kMaxRemoteId)) return e;
    if (o.customer_remote_id)
      if (auto e = check_id("customer_id", *o.customer_remote_id, kMaxRemoteId)) return e;
    if (auto e = check_trimmed_id("customer_email", o.customer_email, kMaxEmail)) return e;
    if (auto e = check_id("increment_id", o.increment_id, 64)) return e;
    if (auto e = check_text("status", o.status, 64)) return e;
    if (auto e = check_text("state", o.state, 64)) return e;
    if (auto e = check_text("order_currency_code", o.currency, 8)) return e;
    if (!o.grand_total.empty() && exact_decimal(o.grand_total) != o.grand_total)
      return "grand_total " + quote_id(o.grand_total) + " is not an exact decimal of DECIMAL(20,4)";
    if (!o.created_at.empty() && !is_utc_datetime(o.created_at))
      return "created_at " + quote_id(o.created_at) + " is not 'YYYY-MM-DD HH:MM:SS'";
    if (!o.updated_at.empty() && !is_utc_datetime(o.updated_at))
      return "updated_at " + quote_id(o.updated_at) + " is not 'YYYY-MM-DD HH:MM:SS'";
    return std::nullopt;
  }

  void decide_one(const OrderInput& in, bool superseded) {
    const IncomingOrder& o = in.record;
    Item p;
    p.remote_id = o.remote_id;
    p.hash = order_payload_hash(o);
    p.payload = to_order_payload(o);
    p.arrival = in.arrival;
    p.expired = in.expired;
    if (finish_if_superseded(p, superseded)) return;
    if (auto e = validate(o)) {
      reject(p, RejectReason::invalid_field, "invalid field: " + *e);
      return;
    }
    const std::optional<CustomerLink> link = customer_link(p, o.customer_remote_id, "order");
    if (!link) return;
    const auto& [customer, account] = *link;
    if (finish_if_unchanged(p, kOrderEntity, "order")) return;
    const bool known = bound_to(p, kOrderEntity);
    OrderWrite w;
    w.stream = policy_.stream;
    w.remote_id = p.remote_id;
    w.customer = customer;
    w.account = account;
    w.customer_email = o.customer_email;
    w.increment_id = o.increment_id;
    w.status = o.status;
    w.state = o.state;
    w.grand_total = o.grand_total;
    w.currency = o.currency;
    w.ordered_at = o.created_at;
    w.updated_at = o.updated_at;
    w.payload_hash = p.hash;
    out_.orders.push_back(std::move(w));
    view_.base.bindings[p.remote_id] = {kOrderEntity, 0, p.hash, false};
    synced(p);
    const std::string whose = customer ? "customer " + quote_id(*o.customer_remote_id) : "guest " + o.customer_email;
    finish(p, known ? Outcome::updated : Outcome::created, std::nullopt,
           std::string(known ? "updated" : "created") + " order " + o.increment_id + " of " + whose);
  }
};

}  // namespace

namespace {

using CustomerField = PayloadField<IncomingCustomer>;
using OrderField = PayloadField<IncomingOrder>;

// updated_at is stored but not hashed: a save that changes nothing we map is not a change.
constexpr CustomerField kCustomerFields[] = {
    CustomerField::text_field("remote_id", &IncomingCustomer::remote_id),
    CustomerField::text_field("external_code", &IncomingCustomer::external_code),
    CustomerField::text_field("email", &IncomingCustomer::email),
    CustomerField::text_field("first_name", &IncomingCustomer::first_name),
    CustomerField::text_field("last_name", &IncomingCustomer::last_name),
    CustomerField::text_field("company", &IncomingCustomer::company),
    CustomerField::text_field("phone", &IncomingCustomer::phone),
    CustomerField::text_field("updated_at", &IncomingCustomer::updated_at, /*hashed=*/false),
    CustomerField::optional_field("invalid", &IncomingCustomer::invalid, /*hashed=*/false),
};
constexpr PayloadCodec<IncomingCustomer> kCustomerCodec{"magento-customer-v1", kCustomerFields};

std::string guest_flag(const IncomingOrder& o) { return o.customer_remote_id ? "0" : "1"; }

constexpr OrderField kOrderFields[] = {
    OrderField::text_field("remote_id", &IncomingOrder::remote_id),
    OrderField::optional_field("customer_id", &IncomingOrder::customer_remote_id),
    OrderField::derived_field("guest", &guest_flag),
    OrderField::text_field("customer_email", &IncomingOrder::customer_email),
    OrderField::text_field("increment_id", &IncomingOrder::increment_id),
    OrderField::text_field("status", &IncomingOrder::status),
    OrderField::text_field("state", &IncomingOrder::state),
    OrderField::text_field("grand_total", &IncomingOrder::grand_total),
    OrderField::text_field("currency", &IncomingOrder::currency),
    OrderField::text_field("created_at", &IncomingOrder::created_at),
    OrderField::text_field("updated_at", &IncomingOrder::updated_at),
    OrderField::optional_field("invalid", &IncomingOrder::invalid, /*hashed=*/false),
};
constexpr PayloadCodec<IncomingOrder> kOrderCodec{"magento-order-v1", kOrderFields};

}  // namespace

std::string to_customer_payload(const IncomingCustomer& c) { return kCustomerCodec.to_payload(c); }
std::optional<IncomingCustomer> customer_from_payload(const std::string& json) { return kCustomerCodec.from_payload(json); }
std::string customer_payload_hash(const IncomingCustomer& c) { return kCustomerCodec.hash(c); }
std::string to_order_payload(const IncomingOrder& o) { return kOrderCodec.to_payload(o); }
std::optional<IncomingOrder> order_from_payload(const std::string& json) { return kOrderCodec.from_payload(json); }
std::string order_payload_hash(const IncomingOrder& o) { return kOrderCodec.hash(o); }

std::optional<std::string> exact_decimal(std::string_view s) {
  // JSON number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && s[i] == '-') {
    negative = true;
    ++i;
  }
  auto digit = [&](std::size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  if (!digit(i)) return std::nullopt;
  std::string int_part, frac_part;
  if (s[i] == '0') {
    int_part = "0";
    ++i;
  } else {
    while (digit(i)) int_part += s[i++];
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) return std::nullopt;
    while (digit(i)) frac_part += s[i++];
  }
  long exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (!digit(i)) return std::nullopt;
    while (digit(i)) {
      exponent = exponent * 10 + (s[i++] - '0');
      if (exponent > 1000) return std::nullopt;
    }
    if (eneg) exponent = -exponent;
  }
  if (i != s.size()) return std::nullopt;
  // Shift the decimal point by the exponent, textually.
  std::string digits = int_part + frac_part;
  long point = static_cast<long>(int_part.size()) + exponent;
  if (point < 0) {
    digits.insert(0, static_cast<std::size_t>(-point), '0');
    point = 0;
  }
  if (point > static_cast<long>(digits.size())) digits.append(static_cast<std::size_t>(point) - digits.size(), '0');
  std::string ip = digits.substr(0, static_cast<std::size_t>(point));
  std::string fp = digits.substr(static_cast<std::size_t>(point));
  while (ip.size() > 1 && ip[0] == '0') ip.erase(0, 1);
  if (ip.empty()) ip = "0";
  while (!fp.empty() && fp.back() == '0') fp.pop_back();
  if (fp.size() > 4 || ip.size() > 16) return std::nullopt;
  const bool zero = ip == "0" && fp.empty();
  std::string out = (negative && !zero ? "-" : "") + ip;
  if (!fp.empty()) out += "." + fp;
  return out;
}

bool is_utc_datetime(std::string_view s) {
  if (s.size() != 19) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 4 || i == 7) {
      if (c != '-') return false;
    } else if (i == 10) {
      if (c != ' ') return false;
    } else if (i == 13 || i == 16) {
      if (c != ':') return false;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) v = v * 10 + (s[at + k] - '0');
    return v;
  };
  const int mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && se <= 60;
}

CommerceKeys customer_keys(const MatchPolicy& policy, std::span<const CustomerInput> records) {
  CommerceKeys k = base_keys(policy, records);
  for (const auto& r : records) {
    if (fits_id(r.record.remote_id, kMaxRemoteId)) {
      k.base.contact_remote_ids.insert(r.record.remote_id);
      k.customer_remote_ids.insert(r.record.remote_id);
    }
    if (auto e = normalize_email(r.record.email); !e.empty() && fits_id(e, kMaxEmail))
      k.base.contact_emails.insert(std::move(e));
    if (auto code = normalize_code(r.record.external_code); !code.empty() && fits_id(code, kMaxExternalCode))
      k.base.codes.insert(std::move(code));
  }
  return k;
}

CommerceKeys order_keys(const MatchPolicy& policy, std::span<const OrderInput> records) {
  CommerceKeys k = base_keys(policy, records);
  for (const auto& r : records)
    if (r.record.customer_remote_id && fits_id(*r.record.customer_remote_id, kMaxRemoteId))
      k.customer_remote_ids.insert(*r.record.customer_remote_id);
  return k;
}

WriteBatch decide_customers(const MatchPolicy& policy, std::span<const CustomerInput> records,
                            const CommerceState& state) {
  return CustomerDecider(policy, state).run(records);
}

WriteBatch decide_orders(const MatchPolicy& policy, std::span<const OrderInput> records, const CommerceState& state) {
  return OrderDecider(policy, state).run(records);
}

}  // namespace erpsync::core
