#include "support/fake_magento.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <tuple>
#include <utility>

namespace erpsync::testing {
namespace {

using nlohmann::json;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ERPSYNC_SOURCE_DIR) + "/tests/fixtures/magento/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// RFC 3986 unreserved characters stay, everything else is %XX with uppercase hex. Written here
// on its own (not shared with the connector's signer) so the fake checks signatures
// independently.
std::string rfc3986(const std::string& in) {
  std::ostringstream out;
  for (unsigned char ch : in) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out << ch;
    } else {
      static const char* hex = "0123456789ABCDEF";
      out << '%' << hex[(ch >> 4) & 0xF] << hex[ch & 0xF];
    }
  }
  return out.str();
}

std::string unpercent(const std::string& in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() + 0 && i + 2 <= in.size() - 1) {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string b64_hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char mac[64];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &mac_len);
  std::string out(((mac_len + 2) / 3) * 4, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
  return out;
}

// 'OAuth a="b", c="d"' → {a: b, c: d} (values percent-decoded).
std::map<std::string, std::string> oauth_header_params(const std::string& header) {
  std::map<std::string, std::string> out;
  std::size_t i = header.find(' ');
  while (i != std::string::npos && i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    const std::size_t eq = header.find('=', i);
    if (eq == std::string::npos) break;
    const std::string key = header.substr(i, eq - i);
    std::size_t vstart = eq + 1, vend;
    if (vstart < header.size() && header[vstart] == '"') {
      ++vstart;
      vend = header.find('"', vstart);
      if (vend == std::string::npos) break;
      out[key] = unpercent(header.substr(vstart, vend - vstart));
      i = vend + 1;
    } else {
      vend = header.find(',', vstart);
      out[key] = unpercent(header.substr(vstart, vend == std::string::npos ? std::string::npos : vend - vstart));
      i = vend;
    }
  }
  return out;
}

json error_body(const std::string& file) { return json::parse(fixture(file)); }

// searchCriteria of a request, as Magento's ServiceInputProcessor reads it.
struct Criteria {
  struct Filter {
    std::string field, value, op = "eq";
  };
  std::map<int, std::map<int, Filter>> groups;
  std::map<int, std::pair<std::string, std::string>> sorts;  // field, direction
  std::optional<long long> page_size;
  long long current_page = 1;
};

bool parse_index(const std::string& s, std::size_t& at, int& out) {
  if (at >= s.size() || s[at] != '[') return false;
  const std::size_t end = s.find(']', at);
  if (end == std::string::npos) return false;
  try {
    out = std::stoi(s.substr(at + 1, end - at - 1));
  } catch (...) {
    return false;
  }
  at = end + 1;
  return true;
}

Criteria parse_criteria(const RecordedRequest& r) {
  Criteria c;
  for (const auto& [k, v] : r.query) {
    const std::string fg = "searchCriteria[filter_groups]", so = "searchCriteria[sortOrders]";
    if (k.rfind(fg, 0) == 0) {
      std::size_t at = fg.size();
      int g = 0, f = 0;
      if (!parse_index(k, at, g) || k.compare(at, 9, "[filters]") != 0) continue;
      at += 9;
      if (!parse_index(k, at, f)) continue;
      const std::string leaf = k.substr(at);
      auto& filter = c.groups[g][f];
      if (leaf == "[field]") filter.field = v;
      else if (leaf == "[value]") filter.value = v;
      else if (leaf == "[condition_type]") filter.op = v;
    } else if (k.rfind(so, 0) == 0) {
      std::size_t at = so.size();
      int s = 0;
      if (!parse_index(k, at, s)) continue;
      const std::string leaf = k.substr(at);
      if (leaf == "[field]") c.sorts[s].first = v;
      else if (leaf == "[direction]") c.sorts[s].second = v;
    } else if (k == "searchCriteria[pageSize]") {
      c.page_size = std::stoll(v);
    } else if (k == "searchCriteria[currentPage]") {
      c.current_page = std::max(1LL, std::stoll(v));
    }
  }
  return c;
}

// `id_keyed`: the record names its entity_id "id" (CustomerInterface, CartInterface).
std::string field_value(const json& item, const std::string& field, bool id_keyed) {
  std::string f = field == "entity_id" && id_keyed ? "id" : field;
  auto it = item.find(f);
  if (it == item.end()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

int compare(const std::string& field, const std::string& a, const std::string& b) {
  if (field == "entity_id" || field == "id" || field == "customer_id") {
    const long long x = a.empty() ? 0 : std::stoll(a), y = b.empty() ? 0 : std::stoll(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

bool matches(const Criteria::Filter& f, const json& item, bool id_keyed) {
  const std::string v = field_value(item, f.field, id_keyed);
  const int c = compare(f.field, v, f.value);
  if (f.op == "eq") return c == 0;
  if (f.op == "neq") return c != 0;
  if (f.op == "gt") return c > 0;
  if (f.op == "gteq") return c >= 0;
  if (f.op == "lt") return c < 0;
  if (f.op == "lteq") return c <= 0;
  return false;
}

// compare()'s reading of an id field ("" is 0; std::stoll, which may throw).
long long id_number(const std::string& text) { return text.empty() ? 0 : std::stoll(text); }

bool ascending(const std::string& direction) { return direction == "ASC" || direction == "asc"; }

// The positions [from, to) of page `page` (1-based) of `size` items among `total` matches; a
// page past the end is empty, except that 2.3 (`legacy_paging`) repeats the last page.
std::pair<long long, long long> page_bounds(long long total, long long size, long long page, bool legacy_paging) {
  const long long pages = size > 0 ? (total + size - 1) / size : 0;
  if (legacy_paging && page > pages && pages > 0) page = pages;
  return {(page - 1) * size, std::min(total, page * size)};
}

// The fast path. When the criteria select a contiguous range of `index` (sorted by
// (updated_at, entity_id, id), the fields read as the general path reads them) and ask for it in
// exactly the order the general path would produce (its sort orders, ties in id order), returns
// that range [first, last); otherwise nothing, and the general path answers. Shapes:
//   updated_at gt|gteq V (or no filter), sorted updated_at ASC, entity_id ASC;
//   updated_at eq V [AND entity_id gt|gteq X], sorted entity_id ASC or updated_at ASC, entity_id ASC
//   (within one updated_at, index order is entity_id, then id);
// always with a positive pageSize (the general path's paging arithmetic then applies to the range).
template <class Index>
std::optional<std::pair<std::size_t, std::size_t>> fast_range(const Criteria& c, const Index& index) {
  if (!c.page_size || *c.page_size <= 0) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> sorts;
  for (const auto& [i, s] : c.sorts) sorts.push_back(s);
  const bool by_key = sorts.size() == 2 && sorts[0].first == "updated_at" && ascending(sorts[0].second) &&
                      sorts[1].first == "entity_id" && ascending(sorts[1].second);
  const bool by_id = sorts.size() == 1 && sorts[0].first == "entity_id" && ascending(sorts[0].second);
  if (!by_key && !by_id) return std::nullopt;
  const Criteria::Filter* at = nullptr;  // the updated_at filter
  const Criteria::Filter* id = nullptr;  // the entity_id filter
  for (const auto& [g, filters] : c.groups) {
    if (filters.size() != 1) return std::nullopt;
    const Criteria::Filter& f = filters.begin()->second;
    if (f.field == "updated_at" && !at) at = &f;
    else if (f.field == "entity_id" && !id) id = &f;
    else return std::nullopt;
  }
  const auto begin = index.begin(), end = index.end();
  auto first = begin, last = end;
  if (!at || at->op == "gt" || at->op == "gteq") {
    if (id || !by_key) return std::nullopt;
    if (at) {
      const std::string& v = at->value;
      const bool gt = at->op == "gt";
      first = std::partition_point(begin, end, [&](const auto& e) { return gt ? e.updated_at <= v : e.updated_at < v; });
    }
  } else if (at->op == "eq") {
    const std::string& v = at->value;
    last = std::partition_point(begin, end, [&](const auto& e) { return e.updated_at <= v; });
    if (!id) {
      first = std::partition_point(begin, last, [&](const auto& e) { return e.updated_at < v; });
    } else {
      if (id->op != "gt" && id->op != "gteq") return std::nullopt;
      long long x = 0;
      try {
        x = id_number(id->value);
      } catch (...) {
        return std::nullopt;  // the general path meets the same exception
      }
      const bool gt = id->op == "gt";
      first = std::partition_point(begin, last, [&](const auto& e) {
        return e.updated_at < v || (gt ? e.entity_id <= x : e.entity_id < x);
      });
    }
  } else {
    return std::nullopt;
  }
  return std::make_pair(static_cast<std::size_t>(first - begin), static_cast<std::size_t>(last - begin));
}

// The general path: every record filtered, the matches ordered (up to the requested page), the
// page cut.
void general_page(const Criteria& c, const std::map<long long, json>& records, bool id_keyed, bool legacy_paging,
                  json& items, long long& total) {
  std::vector<const json*> rows;
  for (const auto& [id, item] : records) {
    bool ok = true;
    for (const auto& [g, filters] : c.groups) {
      bool any = false;
      for (const auto& [f, filter] : filters) any = any || matches(filter, item, id_keyed);
      ok = ok && any;
    }
    if (ok) rows.push_back(&item);
  }
  // Ordered by the sort orders, ties in id order (the order rows were collected in). Only the
  // rows up to the requested page are put in order (partial_sort): a keyset-paged sync asks for
  // page 1 of what remains every time, and sorting all of it per page made the fake's work grow
  // with N² log N.
  total = static_cast<long long>(rows.size());
  std::vector<std::pair<std::size_t, const json*>> ordered;
  ordered.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) ordered.emplace_back(i, rows[i]);
  long long needed = total;
  if (c.page_size && *c.page_size > 0) needed = std::min(total, std::max(1LL, c.current_page) * *c.page_size);
  std::partial_sort(ordered.begin(), ordered.begin() + needed, ordered.end(), [&](const auto& a, const auto& b) {
    for (const auto& [i, s] : c.sorts) {
      const int cmp = compare(s.first, field_value(*a.second, s.first, id_keyed),
                              field_value(*b.second, s.first, id_keyed));
      if (cmp == 0) continue;
      return ascending(s.second) ? cmp < 0 : cmp > 0;  // no direction: DESC
    }
    return a.first < b.first;
  });
  for (long long i = 0; i < needed; ++i) rows[static_cast<std::size_t>(i)] = ordered[static_cast<std::size_t>(i)].second;
  if (!c.page_size) {
    for (const json* row : rows) items.push_back(*row);
  } else {
    const auto [from, to] = page_bounds(total, *c.page_size, c.current_page, legacy_paging);
    for (long long i = from; i < to; ++i) items.push_back(*rows[i]);
  }
}

}  // namespace

json cart_json(long long id, const std::string& updated_at, const std::optional<json>& customer,
               const std::string& email, const std::vector<FakeCartItem>& items, bool active,
               const std::string& reserved_order_id, const std::string& converted_at) {
  json lines = json::array();
  std::string qty_sum = "0";
  for (const FakeCartItem& i : items)
    lines.push_back({{"item_id", i.item_id}, {"sku", i.sku}, {"qty", "#num:" + i.qty}, {"name", i.name},
                     {"price", "#num:" + i.price}, {"product_type", "simple"}, {"quote_id", std::to_string(id)}});
  double qty = 0;  // items_qty as Magento reports it (a float there too); tests of exact sums read items, not this
  for (const FakeCartItem& i : items) qty += std::stod(i.qty);
  std::ostringstream items_qty;
  items_qty << qty;
  json c = {{"id", id},
            {"created_at", "2026-05-01 07:00:00"},
            {"updated_at", updated_at},
            {"is_active", active},
            {"is_virtual", false},
            {"items", lines},
            {"items_count", static_cast<long long>(items.size())},
            {"items_qty", "#num:" + items_qty.str()}};
  if (customer) {
    c["customer"] = *customer;
  } else {
    c["customer"] = {{"email", nullptr}, {"firstname", nullptr}, {"lastname", nullptr}};
  }
  c["billing_address"] = {{"id", id + 10000}, {"region", nullptr}, {"region_id", nullptr}, {"region_code", nullptr},
                          {"country_id", nullptr}, {"street", json::array({""})}, {"telephone", nullptr},
                          {"postcode", nullptr}, {"city", nullptr}, {"firstname", nullptr}, {"lastname", nullptr},
                          {"email", email}, {"same_as_billing", 0}, {"save_in_address_book", 0}};
  c["orig_order_id"] = 0;
  c["currency"] = {{"global_currency_code", "EUR"}, {"base_currency_code", "EUR"}, {"store_currency_code", "EUR"},
                   {"quote_currency_code", "EUR"}, {"store_to_base_rate", 0}, {"store_to_quote_rate", 0},
                   {"base_to_global_rate", 1}, {"base_to_quote_rate", 1}};
  c["customer_is_guest"] = !customer.has_value();
  c["customer_note_notify"] = true;
  c["customer_tax_class_id"] = 3;
  c["store_id"] = 1;
  if (!reserved_order_id.empty()) c["reserved_order_id"] = reserved_order_id;
  if (!converted_at.empty()) c["converted_at"] = converted_at;
  c["extension_attributes"] = {{"shipping_assignments", json::array()}};
  return c;
}

std::string FakeMagento::php_json(const json& value) {
  const std::string s = value.dump(-1, ' ', true);
  // One pass: "#num:<text>" strings become bare numbers, '/' is written as "\/". (Replacing in
  // place moved the rest of a page's text once per number: quadratic in the page.)
  static constexpr std::string_view kNum = "\"#num:";
  std::string out;
  out.reserve(s.size() + s.size() / 16);
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '"' && s.compare(i, kNum.size(), kNum) == 0) {
      const std::size_t end = s.find('"', i + kNum.size());
      out.append(s, i + kNum.size(), end - i - kNum.size());
      i = end + 1;
      continue;
    }
    if (s[i] == '/') out += "\\/";
    else out += s[i];
    ++i;
  }
  return out;
}

FakeMagento::FakeMagento(Options options) : options_(std::move(options)) {
  server_.on("GET", "/rest/V1/customers/search", [this](const RecordedRequest& r) { return data(r, Kind::customers); });
  server_.on("GET", "/rest/V1/orders", [this](const RecordedRequest& r) { return data(r, Kind::orders); });
  server_.on("GET", "/rest/V1/carts/search", [this](const RecordedRequest& r) { return data(r, Kind::carts); });
  server_.on("POST", "/rest/V1/integration/admin/token", [this](const RecordedRequest& r) { return token(r); });
}

void FakeMagento::put_record(Collection& c, long long id, json record, bool id_keyed) {
  erase_record(c, id, id_keyed);
  IndexEntry e;
  e.updated_at = field_value(record, "updated_at", id_keyed);
  e.id = id;
  bool indexed = true;
  try {
    e.entity_id = id_number(field_value(record, "entity_id", id_keyed));
  } catch (...) {
    indexed = false;
  }
  c.records.emplace(id, std::move(record));
  if (!indexed) {
    c.unindexed[id] = true;
    return;
  }
  const auto less = [](const IndexEntry& a, const IndexEntry& b) {
    return std::tie(a.updated_at, a.entity_id, a.id) < std::tie(b.updated_at, b.entity_id, b.id);
  };
  if (c.index.empty() || less(c.index.back(), e)) c.index.push_back(std::move(e));  // records put in order
  else c.index.insert(std::upper_bound(c.index.begin(), c.index.end(), e, less), std::move(e));
}

void FakeMagento::erase_record(Collection& c, long long id, bool id_keyed) {
  auto it = c.records.find(id);
  if (it == c.records.end()) return;
  if (c.unindexed.erase(id) == 0) {
    // Its index entry, from the same reading of the stored record as when it was put.
    IndexEntry e;
    e.updated_at = field_value(it->second, "updated_at", id_keyed);
    e.entity_id = id_number(field_value(it->second, "entity_id", id_keyed));
    e.id = id;
    const auto less = [](const IndexEntry& a, const IndexEntry& b) {
      return std::tie(a.updated_at, a.entity_id, a.id) < std::tie(b.updated_at, b.entity_id, b.id);
    };
    const auto at = std::lower_bound(c.index.begin(), c.index.end(), e, less);
    if (at != c.index.end() && at->id == id) c.index.erase(at);
  }
  c.records.erase(it);
}

void FakeMagento::put_customer(json customer) {
  std::lock_guard lock(mutex_);
  const long long id = customer.at("id").get<long long>();
  put_record(customers_, id, std::move(customer), true);
}

void FakeMagento::put_cart(json cart) {
  std::lock_guard lock(mutex_);
  const long long id = cart.at("id").get<long long>();
  put_record(carts_, id, std::move(cart), true);
}

void FakeMagento::put_order(json order) {
  std::lock_guard lock(mutex_);
  const long long id = order.at("entity_id").get<long long>();
  put_record(orders_, id, std::move(order), false);
}

void FakeMagento::remove_customer(long long id) {
  std::lock_guard lock(mutex_);
  erase_record(customers_, id, true);
}

void FakeMagento::on_data_request(std::function<void(FakeMagento&, int)> hook) {
  std::lock_guard lock(mutex_);
  hook_ = std::move(hook);
}

void FakeMagento::inject(std::vector<FakeReply> replies) {
  std::lock_guard lock(mutex_);
  injected_.insert(injected_.end(), replies.begin(), replies.end());
}

void FakeMagento::expire_admin_tokens() {
  std::lock_guard lock(mutex_);
  admin_tokens_.clear();
}

int FakeMagento::data_requests() const {
  std::lock_guard lock(mutex_);
  return data_requests_;
}
int FakeMagento::token_requests() const {
  std::lock_guard lock(mutex_);
  return token_requests_;
}
int FakeMagento::rejected_signatures() const {
  std::lock_guard lock(mutex_);
  return rejected_signatures_;
}
std::vector<std::string> FakeMagento::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

bool FakeMagento::verify_oauth(const RecordedRequest& r, const std::string& header, std::string& why) {
  auto p = oauth_header_params(header);
  if (p["oauth_signature_method"] != "HMAC-SHA256") {
    why = "signature method " + p["oauth_signature_method"];
    return false;
  }
  if (p["oauth_consumer_key"] != options_.consumer_key || p["oauth_token"] != options_.access_token) {
    why = "unknown consumer key or token";
    return false;
  }
  const long long now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  long long ts = 0;
  try {
    ts = std::stoll(p["oauth_timestamp"]);
  } catch (...) {
    why = "bad timestamp";
    return false;
  }
  if (ts > now + 600 || ts < now - 600) {
    why = "timestamp out of the 600 s window";
    return false;
  }
  const std::string nonce = p["oauth_nonce"] + "/" + p["oauth_timestamp"];
  if (p["oauth_nonce"].empty() || nonces_.count(nonce)) {
    why = "nonce reused";
    return false;
  }
  // Base string: method, base URI, then every query and oauth_* parameter (not the
  // signature), encoded, sorted by encoded name then value.
  std::vector<std::string> pairs;
  for (const auto& [k, v] : r.query) pairs.push_back(rfc3986(k) + "=" + rfc3986(v));
  for (const auto& [k, v] : p)
    if (k.rfind("oauth_", 0) == 0 && k != "oauth_signature") pairs.push_back(rfc3986(k) + "=" + rfc3986(v));
  std::sort(pairs.begin(), pairs.end(), [](const std::string& a, const std::string& b) {
    const auto ea = a.find('='), eb = b.find('=');
    const std::string ka = a.substr(0, ea), kb = b.substr(0, eb);
    return ka != kb ? ka < kb : a.substr(ea + 1) < b.substr(eb + 1);
  });
  std::string params;
  for (const auto& s : pairs) params += (params.empty() ? "" : "&") + s;
  const std::string base = "GET&" + rfc3986(server_.url(r.path)) + "&" + rfc3986(params);
  const std::string key = rfc3986(options_.consumer_secret) + "&" + rfc3986(options_.access_token_secret);
  if (b64_hmac_sha256(key, base) != p["oauth_signature"]) {
    why = "signature mismatch for base string " + base;
    return false;
  }
  nonces_[nonce] = true;
  return true;
}

bool FakeMagento::authorised(const RecordedRequest& r, std::string& why) {
  const std::string auth = r.header("Authorization").value_or("");
  if (auth.rfind("OAuth ", 0) == 0) {
    if (verify_oauth(r, auth, why)) return true;
    ++rejected_signatures_;
    return false;
  }
  if (auth.size() > 7 && (auth.rfind("Bearer ", 0) == 0 || auth.rfind("bearer ", 0) == 0)) {
    const std::string t = auth.substr(7);
    if (t == options_.integration_token && options_.bearer_integration_allowed) return true;
    if (std::find(admin_tokens_.begin(), admin_tokens_.end(), t) != admin_tokens_.end()) return true;
    why = "bearer token not accepted";
    return false;
  }
  why = "no credentials";
  return false;
}

FakeReply FakeMagento::data(const RecordedRequest& r, Kind kind) {
  const bool id_keyed = kind != Kind::orders;  // customers and carts: keyed by "id"
  std::function<void(FakeMagento&, int)> hook;
  int index;
  {
    std::lock_guard lock(mutex_);
    index = data_requests_++;
    hook = hook_;
  }
  if (hook) hook(*this, index);  // edits records between page requests
  std::lock_guard lock(mutex_);
  if (!injected_.empty()) {
    FakeReply reply = injected_.front();
    injected_.erase(injected_.begin());
    return reply;
  }
  std::string why;
  if (!authorised(r, why)) {
    failures_.push_back(r.target + ": " + why);
    return FakeReply::json(401, php_json(error_body(kind == Kind::customers ? "error-401.json"
                                                    : kind == Kind::orders  ? "error-401-orders.json"
                                                                            : "error-401-carts.json")));
  }
  const Criteria c = parse_criteria(r);
  if (c.groups.empty() && c.sorts.empty() && !c.page_size && kind != Kind::orders)
    return FakeReply::json(400, php_json(error_body("error-400.json")));
  for (const auto& [i, s] : c.sorts) {
    std::string d = s.second;
    std::transform(d.begin(), d.end(), d.begin(), ::toupper);
    if (!d.empty() && d != "ASC" && d != "DESC")
      return FakeReply::json(400, php_json(error_body("error-400-bad-sort-direction.json")));
  }
  const Collection& store = kind == Kind::customers ? customers_ : kind == Kind::orders ? orders_ : carts_;
  const auto fast = store.unindexed.empty() ? fast_range(c, store.index) : std::nullopt;
  json items = json::array();
  long long total = 0;
  if (fast) {
    // The matching records are index[first, last), already in the order asked for.
    const auto [first, last] = *fast;
    total = static_cast<long long>(last - first);
    const auto [from, to] = page_bounds(total, *c.page_size, c.current_page, options_.legacy_paging);
    for (long long i = from; i < to; ++i)
      items.push_back(store.records.at(store.index[first + static_cast<std::size_t>(i)].id));
  } else {
    general_page(c, store.records, id_keyed, options_.legacy_paging, items, total);
  }
  json criteria = json::object();
  json groups = json::array();
  for (const auto& [g, filters] : c.groups) {
    json fs = json::array();
    for (const auto& [f, filter] : filters)
      fs.push_back({{"field", filter.field}, {"value", filter.value}, {"condition_type", filter.op}});
    groups.push_back({{"filters", fs}});
  }
  criteria["filter_groups"] = groups;
  if (!c.sorts.empty()) {
    json so = json::array();
    for (const auto& [i, s] : c.sorts) so.push_back({{"field", s.first}, {"direction", s.second}});
    criteria["sort_orders"] = so;
  }
  if (c.page_size) criteria["page_size"] = *c.page_size;
  criteria["current_page"] = c.current_page;
  json body = {{"items", items}, {"search_criteria", criteria}, {"total_count", total}};
  return FakeReply::json(200, php_json(body));
}

FakeReply FakeMagento::token(const RecordedRequest& r) {
  std::lock_guard lock(mutex_);
  ++token_requests_;
  json body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.value("username", std::string()).size())
    return FakeReply::json(400, php_json(error_body("error-400-admin-token-empty.json")));
  if (body.value("username", "") != options_.admin_user || body.value("password", "") != options_.admin_password)
    return FakeReply::json(401, php_json(error_body("error-401-admin-token-credentials.json")));
  if (options_.twofa_enforced) return FakeReply::json(400, php_json(error_body("error-400-admin-token-2fa.json")));
  const std::string t = "eyJhbGciOiJIUzI1NiJ9.admin-" + std::to_string(++issued_) + ".sig";
  admin_tokens_.push_back(t);
  return FakeReply::json(200, php_json(json(t)));
}

}  // namespace erpsync::testing
