#include "core/rules/contacts.hpp"

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

using detail::quote_id;

const std::string kContactEntity = "contact";

std::optional<std::string> validate(const IncomingContactRecord& c) {
  if (c.invalid) return *c.invalid;
  if (auto e = check_id("remote_id", c.remote_id, kMaxRemoteId)) return e;
  if (c.company_remote_id.empty()) return "the contact names no company";
  if (auto e = check_id("company", c.company_remote_id, kMaxRemoteId)) return e;
  if (auto e = check_text("first_name", c.first_name, kMaxName)) return e;
  if (auto e = check_text("last_name", c.last_name, kMaxName)) return e;
  if (auto e = check_trimmed_id("email", c.email, kMaxEmail)) return e;
  if (auto e = check_text("phone", c.phone, kMaxPhone)) return e;
  return std::nullopt;
}

class ContactDecider : detail::ParkingDecider {
 public:
  ContactDecider(const MatchPolicy& policy, const CommerceState& state) : ParkingDecider(policy, state) {
    for (const auto& [rid, company] : view_.companies) default_by_account_[company.account_id] |= company.has_default_contact;
    for (const auto& [rid, row] : view_.contact_rows)
      if (row.is_default) default_by_account_[row.account_id] = true;
  }

  WriteBatch run(std::span<const ContactInput> records) {
    return decide_in_order(records, [this](const ContactInput& in, bool superseded) { decide_one(in, superseded); });
  }

 private:
  void decide_one(const ContactInput& in, bool superseded) {
    const IncomingContactRecord& c = in.record;
    Item p{c.remote_id, "", contact_payload_hash(c), to_contact_payload(c), in.arrival, in.expired, ""};
    if (finish_if_superseded(p, superseded)) return;
    if (auto e = validate(c)) {
      reject(p, RejectReason::invalid_field, "invalid field: " + *e);
      return;
    }
    if (auto e = crm_problem(c)) {
      reject(p, RejectReason::invalid_field, "invalid field: " + *e);
      return;
    }
    const auto company = view_.companies.find(c.company_remote_id);
    if (company == view_.companies.end()) {
      park(p, "company " + c.company_remote_id,
           "company " + quote_id(c.company_remote_id) + " of contact " + quote_id(p.remote_id) + " is not synced");
      return;
    }
    if (in.arrival != Arrival::source && written_with_company(p.remote_id, company->second.account_id)) {
      // Its company's record has written it since it was parked or rejected (a feed's contact
      // row is joined to its company's record as soon as the companies file holds the company):
      // what was waiting is settled, and writing the older payload again would be a second write.
      synced(p);
      return;
    }
    write(p, c, company->second.account_id);
  }

  // Why the CRM application's tables cannot hold the contact (SPEC §5 "CRM targets"), if so.
  std::optional<std::string> crm_problem(const IncomingContactRecord& c) const {
    if (!view_.base.crm) return std::nullopt;
    const CrmLimits& crm = *view_.base.crm;
    for (auto [f, v] : {std::pair{ContactField::first_name, &c.first_name}, {ContactField::last_name, &c.last_name},
                        {ContactField::email, &c.email}, {ContactField::phone, &c.phone}})
      if (auto e = crm_contact_problem(crm, f, *v)) return e;
    return std::nullopt;
  }

  // The contact is bound to a row on `account` by its company's record: a feed's nested
  // contacts are bound with no payload hash (core/rules/companies.cpp), a contact record's
  // binding always has one.
  bool written_with_company(const std::string& remote_id, EntityId account) const {
    const auto bound = view_.base.bindings.find(remote_id);
    const auto row = view_.contact_rows.find(remote_id);
    return bound != view_.base.bindings.end() && bound->second.entity == kContactEntity &&
           bound->second.payload_hash.empty() && !bound->second.missing && row != view_.contact_rows.end() &&
           row->second.account_id == account;
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
    // Rule 12: a person new to this source who is a Contact of the Account already.
    const std::optional<EntityId> same = exists ? std::nullopt : same_person(view_.base, account, c.email);
    ContactWrite w;
    w.ref = exists ? row->second.id : same ? *same : next_ref_--;
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
    put_contact(out_.contacts, std::move(w));
    out_.bindings.push_back({policy_.stream, p.remote_id, kContactEntity, ref, p.hash});
    view_.base.bindings[p.remote_id] = {kContactEntity, ref, p.hash, false};
    view_.contact_rows[p.remote_id] = {ref, account, is_default};
    note_person(view_.base, account, c.email, ref);
    synced(p);

    std::string what = std::string(exists || same ? "updated" : "created") + " contact " + quote_id(p.remote_id) +
                       " of company " + quote_id(c.company_remote_id);
    if (same) what += " (one person: bound to the account's contact " + std::to_string(*same) + " with the same e-mail)";
    if (moved) what += " (moved from account " + std::to_string(row->second.account_id) + ")";
    if (becomes_default) what += ", the account's default contact";
    finish(p, exists || same ? Outcome::updated : Outcome::created, std::nullopt, std::move(what));
  }

  std::unordered_map<EntityId, bool> default_by_account_;  // account (id or new ref) → has a default contact
};

}  // namespace

namespace {

using ContactPayloadField = PayloadField<IncomingContactRecord>;

// updated_at is stored but not hashed: the source's change stamp is informational.
constexpr ContactPayloadField kContactFields[] = {
    ContactPayloadField::text_field("remote_id", &IncomingContactRecord::remote_id),
    ContactPayloadField::text_field("company", &IncomingContactRecord::company_remote_id),
    ContactPayloadField::text_field("first_name", &IncomingContactRecord::first_name),
    ContactPayloadField::text_field("last_name", &IncomingContactRecord::last_name),
    ContactPayloadField::text_field("email", &IncomingContactRecord::email),
    ContactPayloadField::text_field("phone", &IncomingContactRecord::phone),
    ContactPayloadField::flag_field("active", &IncomingContactRecord::active),
    ContactPayloadField::text_field("updated_at", &IncomingContactRecord::updated_at, /*hashed=*/false),
    ContactPayloadField::optional_field("invalid", &IncomingContactRecord::invalid, /*hashed=*/false),
};
constexpr PayloadCodec<IncomingContactRecord> kContactCodec{"contact-v1", kContactFields};

}  // namespace

std::string to_contact_payload(const IncomingContactRecord& c) { return kContactCodec.to_payload(c); }
std::optional<IncomingContactRecord> contact_from_payload(const std::string& json) {
  return kContactCodec.from_payload(json);
}
std::string contact_payload_hash(const IncomingContactRecord& c) { return kContactCodec.hash(c); }

CommerceKeys contact_keys(const MatchPolicy& policy, std::span<const ContactInput> records) {
  CommerceKeys k;
  k.base.connector = policy.connector;
  k.base.stream = policy.stream;
  k.company_stream = policy.company_stream;
  // Values that cannot be stored are not looked up (their records are rejected); see batch_keys.
  for (const auto& r : records) {
    k.base.remote_ids.insert(rejection_key(r.record.remote_id));
    if (fits_id(r.record.remote_id, kMaxRemoteId)) k.contact_row_remote_ids.insert(r.record.remote_id);
    if (const std::string& company = r.record.company_remote_id; !company.empty() && fits_id(company, kMaxRemoteId))
      k.company_remote_ids.insert(company);
    if (auto e = normalize_email(r.record.email); !e.empty() && fits_id(e, kMaxEmail))
      k.base.contact_emails.insert(std::move(e));
  }
  return k;
}

WriteBatch decide_contacts(const MatchPolicy& policy, std::span<const ContactInput> records,
                           const CommerceState& state) {
  return ContactDecider(policy, state).run(records);
}

}  // namespace erpsync::core
