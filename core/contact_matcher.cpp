#include "core/contact_matcher.hpp"

#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/normalize.hpp"
#include "core/payload.hpp"

namespace erpsync::core {
namespace {

constexpr char kUnitSep = '\x1F';
constexpr char kRecordSep = '\x1E';
const std::string kContactEntity = "contact";

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(kUnitSep);
  out.append(name);
  out.push_back(kUnitSep);
  out.append(value);
  out.push_back(kRecordSep);
}

std::string quote_id(std::string_view s) { return "'" + std::string(s) + "'"; }

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::optional<std::string> check_value(std::string_view what, std::string_view value, std::size_t max) {
  if (!is_valid_utf8(value)) return std::string(what) + " is not valid UTF-8";
  const std::size_t len = utf8_length(value);
  if (len > max)
    return std::string(what) + " is " + std::to_string(len) + " characters long, longer than " + std::to_string(max);
  return std::nullopt;
}

std::string opt_get(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::string> validate(const IncomingContactRecord& c) {
  if (c.invalid) return *c.invalid;
  if (auto e = check_value("remote_id", c.remote_id, kMaxRemoteId)) return e;
  if (c.company_remote_id.empty()) return "the contact names no company";
  if (auto e = check_value("company", c.company_remote_id, kMaxRemoteId)) return e;
  if (auto e = check_value("first_name", c.first_name, kMaxName)) return e;
  if (auto e = check_value("last_name", c.last_name, kMaxName)) return e;
  if (auto e = check_value("email", c.email, kMaxEmail)) return e;
  if (auto e = check_value("phone", c.phone, kMaxPhone)) return e;
  return std::nullopt;
}

class ContactDecider {
 public:
  ContactDecider(const MatchPolicy& policy, const CommerceState& state) : policy_(policy), view_(state) {
    out_.connector = policy.connector;
    for (const auto& [rid, company] : view_.companies) default_by_account_[company.account_id] |= company.has_default_contact;
    for (const auto& [rid, row] : view_.contact_rows)
      if (row.is_default) default_by_account_[row.account_id] = true;
  }

  WriteBatch run(std::span<const ContactInput> records) {
    std::unordered_map<std::string, std::size_t> last;
    for (std::size_t i = 0; i < records.size(); ++i) last[records[i].record.remote_id] = i;
    for (std::size_t i = 0; i < records.size(); ++i) decide_one(records[i], last[records[i].record.remote_id] != i);
    return std::move(out_);
  }

 private:
  struct Item {
    std::string remote_id, hash, payload;
    Arrival arrival = Arrival::source;
    bool expired = false;
  };

  void decide_one(const ContactInput& in, bool superseded) {
    const IncomingContactRecord& c = in.record;
    Item p{c.remote_id, contact_payload_hash(c), to_contact_payload(c), in.arrival, in.expired};
    if (superseded) {
      finish(p, Outcome::superseded, std::nullopt,
             "superseded: a later record of this batch has the same remote id " + quote_id(p.remote_id));
      return;
    }
    if (auto e = validate(c)) {
      reject(p, RejectReason::invalid_field, "invalid field: " + *e);
      return;
    }
    const auto company = view_.companies.find(c.company_remote_id);
    if (company == view_.companies.end()) {
      park(p, "company " + c.company_remote_id,
           "company " + quote_id(c.company_remote_id) + " of contact " + quote_id(p.remote_id) + " is not synced");
      return;
    }
    write(p, c, company->second.account_id);
  }

  void write(const Item& p, const IncomingContactRecord& c, EntityId account) {
    const auto bound = view_.base.bindings.find(p.remote_id);
    const auto row = view_.contact_rows.find(p.remote_id);
    const bool exists = row != view_.contact_rows.end();
    if (exists && bound != view_.base.bindings.end() && bound->second.entity == kContactEntity &&
        !bound->second.payload_hash.empty() && bound->second.payload_hash == p.hash && !bound->second.missing &&
        row->second.account_id == account && !view_.parked.contains(p.remote_id)) {
      synced(p);
      finish(p, Outcome::unchanged, std::nullopt, "unchanged contact " + quote_id(p.remote_id));
      return;
    }
    ContactWrite w;
    w.ref = exists ? row->second.id : next_ref_--;
    w.account = account;
    w.first_name = c.first_name;
    w.last_name = c.last_name;
    w.email = c.email;
    w.phone = c.phone;
    w.active = c.active;
    const bool moved = exists && row->second.account_id != account;
    if (moved && row->second.is_default) {
      // It leaves its old account's default place free; it is not the new account's default
      // unless that one has none (below).
      default_by_account_[row->second.account_id] = false;
      w.is_default = false;
    }
    bool& has_default = default_by_account_[account];
    const bool is_default_here = exists && !moved && row->second.is_default;
    if (!has_default && c.active && !is_default_here) {
      w.is_default = true;
      has_default = true;
    } else if (is_default_here) {
      has_default = true;
    }
    const Ref ref = w.ref;
    const bool is_default = w.is_default.value_or(is_default_here);
    const bool becomes_default = w.is_default.value_or(false);
    out_.contacts.push_back(std::move(w));
    out_.bindings.push_back({policy_.stream, p.remote_id, kContactEntity, ref, p.hash});
    view_.base.bindings[p.remote_id] = {kContactEntity, ref, p.hash, false};
    view_.contact_rows[p.remote_id] = {ref, account, is_default};
    synced(p);

    std::string what = std::string(exists ? "updated" : "created") + " contact " + quote_id(p.remote_id) +
                       " of company " + quote_id(c.company_remote_id);
    if (moved) what += " (moved from account " + std::to_string(row->second.account_id) + ")";
    if (becomes_default) what += ", the account's default contact";
    finish(p, exists ? Outcome::updated : Outcome::created, std::nullopt, std::move(what));
  }

  bool has_open(const Item& p, RejectReason r, bool same_hash) const {
    auto it = view_.base.open_rejections.find(p.remote_id);
    if (it == view_.base.open_rejections.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [&](const OpenRejection& o) {
      return o.reason == r && (!same_hash || o.payload_hash == p.hash);
    });
  }

  void finish(const Item& p, Outcome o, std::optional<RejectReason> reason, std::string message) {
    out_.decisions.push_back({p.remote_id, "", o, reason, std::move(message)});
    out_.counters.count(o);
  }

  // A replayed rejection or retried parked record that ends as before (same reason, same
  // payload) writes and counts nothing (SPEC §3 "Rejections come back", rule 10).
  void reject(const Item& p, RejectReason reason, std::string message) {
    const bool repeated = has_open(p, reason, /*same_hash=*/true);
    if (repeated && p.arrival != Arrival::source) {
      if (view_.parked.erase(p.remote_id)) out_.unparks.push_back({policy_.stream, p.remote_id});
      return;
    }
    RejectionWrite r;
    r.stream = policy_.stream;
    r.remote_id = p.remote_id;
    r.reason = reason;
    r.message = message;
    r.payload = p.payload;
    r.payload_hash = p.hash;
    r.is_new_or_changed = !repeated;
    out_.rejections.push_back(std::move(r));
    if (view_.parked.erase(p.remote_id)) out_.unparks.push_back({policy_.stream, p.remote_id});
    finish(p, Outcome::rejected, reason, std::move(message));
  }

  // Rule 10: the contact waits for its company.
  void park(const Item& p, const std::string& waits_for, const std::string& why) {
    if (p.expired) {
      reject(p, RejectReason::account_not_found, why + " after park_ttl; no longer parked");
      return;
    }
    // Already rejected for this with the same payload (park_ttl ran out before): the source
    // sending it again is a repeated rejection, not a new parking.
    if (has_open(p, RejectReason::account_not_found, /*same_hash=*/true)) {
      reject(p, RejectReason::account_not_found, why);
      return;
    }
    // A retry that ends parked again writes and counts nothing.
    if (p.arrival == Arrival::parked_retry) return;
    auto it = view_.parked.find(p.remote_id);
    const bool same = it != view_.parked.end() && it->second.payload_hash == p.hash && it->second.waits_for == waits_for;
    if (!same) {
      out_.parks.push_back({policy_.stream, p.remote_id, waits_for, p.payload, p.hash});
      view_.parked[p.remote_id] = {waits_for, p.hash};
    }
    finish(p, Outcome::parked, std::nullopt, "parked: " + why + "; retried at every run");
  }

  // The record synced: its parked row goes, its open rejections are resolved.
  void synced(const Item& p) {
    if (view_.parked.erase(p.remote_id)) out_.unparks.push_back({policy_.stream, p.remote_id});
    auto it = view_.base.open_rejections.find(p.remote_id);
    if (it != view_.base.open_rejections.end() && !it->second.empty()) {
      out_.resolves.push_back({policy_.stream, p.remote_id, {}});
      view_.base.open_rejections.erase(it);
    }
  }

  const MatchPolicy& policy_;
  CommerceState view_;  // the snapshot plus this batch's decisions so far
  std::unordered_map<EntityId, bool> default_by_account_;  // account (id or new ref) → has a default contact
  WriteBatch out_;
  Ref next_ref_ = -1;
};

}  // namespace

std::string to_contact_payload(const IncomingContactRecord& c) {
  nlohmann::json j = {{"remote_id", c.remote_id}, {"company", c.company_remote_id}, {"first_name", c.first_name},
                      {"last_name", c.last_name},  {"email", c.email},               {"phone", c.phone},
                      {"active", c.active},        {"updated_at", c.updated_at}};
  if (c.invalid) j["invalid"] = *c.invalid;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<IncomingContactRecord> contact_from_payload(const std::string& json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object() || !j.contains("remote_id")) return std::nullopt;
  IncomingContactRecord c;
  c.remote_id = opt_get(j, "remote_id");
  c.company_remote_id = opt_get(j, "company");
  c.first_name = opt_get(j, "first_name");
  c.last_name = opt_get(j, "last_name");
  c.email = opt_get(j, "email");
  c.phone = opt_get(j, "phone");
  auto active = j.find("active");
  c.active = active == j.end() || !active->is_boolean() || active->get<bool>();
  c.updated_at = opt_get(j, "updated_at");
  if (j.contains("invalid")) c.invalid = opt_get(j, "invalid");
  return c;
}

std::string contact_payload_hash(const IncomingContactRecord& c) {
  std::string in = "contact-v1";
  append_field(in, "remote_id", c.remote_id);
  append_field(in, "company", c.company_remote_id);
  append_field(in, "first_name", c.first_name);
  append_field(in, "last_name", c.last_name);
  append_field(in, "email", c.email);
  append_field(in, "phone", c.phone);
  append_field(in, "active", c.active ? "true" : "false");
  return sha256_hex(in);
}

CommerceKeys contact_keys(const MatchPolicy& policy, std::span<const ContactInput> records) {
  CommerceKeys k;
  k.base.connector = policy.connector;
  k.base.stream = policy.stream;
  for (const auto& r : records) {
    k.base.remote_ids.insert(r.record.remote_id);
    k.contact_row_remote_ids.insert(r.record.remote_id);
    if (!r.record.company_remote_id.empty()) k.company_remote_ids.insert(r.record.company_remote_id);
  }
  return k;
}

WriteBatch decide_contacts(const MatchPolicy& policy, std::span<const ContactInput> records,
                           const CommerceState& state) {
  return ContactDecider(policy, state).run(records);
}

}  // namespace erpsync::core
