#include "core/rules/companies.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <unordered_set>

#include "core/rules/normalize.hpp"
#include "core/rules/payload.hpp"
#include "core/rules/persons.hpp"
#include "core/rules/value_check.hpp"

namespace erpsync::core {
namespace {

// The account columns AccountWrite::values carries (everything but the identity fields
// remote_id, external_code and member_of, which have their own columns and rules).
constexpr FieldMask kValueFields = bit(Field::name) | bit(Field::owner) | bit(Field::relationship) |
                                   bit(Field::email) | bit(Field::phone) | bit(Field::vat) |
                                   bit(Field::street) | bit(Field::city) | bit(Field::postcode) |
                                   bit(Field::country) | bit(Field::active);

constexpr std::array<std::string_view, 7> kRelationships = {
    "customer", "prospect", "partner", "reseller", "distributor", "supplier", "other"};

const std::string kAccountEntity = "account";
const std::string kContactEntity = "contact";
const std::string kContactStream = "contacts";

std::string* value_slot(AccountValues& v, Field f) {
  switch (f) {
    case Field::name: return &v.name;
    case Field::owner: return &v.owner;
    case Field::relationship: return &v.relationship;
    case Field::email: return &v.email;
    case Field::phone: return &v.phone;
    case Field::vat: return &v.vat;
    case Field::street: return &v.street;
    case Field::city: return &v.city;
    case Field::postcode: return &v.postcode;
    case Field::country: return &v.country;
    default: return nullptr;
  }
}

std::size_t max_length(Field f) {
  switch (f) {
    case Field::remote_id: return kMaxRemoteId;
    case Field::external_code: return kMaxExternalCode;
    case Field::member_of: return kMaxExternalCode;
    case Field::name: return kMaxName;
    case Field::owner: return kMaxOwner;
    case Field::email: return kMaxEmail;
    case Field::phone: return kMaxPhone;
    case Field::vat: return kMaxVat;
    default: return kMaxText;
  }
}

std::size_t max_length(ContactField f) {
  switch (f) {
    case ContactField::remote_id: return kMaxRemoteId;
    case ContactField::email: return kMaxEmail;
    case ContactField::phone: return kMaxPhone;
    default: return kMaxName;
  }
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Codes and ids get check_id (no control characters), logins and e-mails check_trimmed_id, the
// rest check_text.
using Check = std::optional<std::string> (*)(std::string_view, std::string_view, std::size_t);
Check check_for(Field f) {
  switch (f) {
    case Field::remote_id:
    case Field::external_code:
    case Field::member_of: return check_id;
    case Field::owner:
    case Field::email: return check_trimmed_id;
    default: return check_text;
  }
}
Check check_for(ContactField f) {
  if (f == ContactField::remote_id) return check_id;
  return f == ContactField::email ? check_trimmed_id : check_text;
}

// invalid_field: why the record (already normalised by rule 1) cannot be written, if it
// cannot.
std::optional<std::string> validate(const IncomingAccount& rec) {
  if (rec.invalid) return *rec.invalid;
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    // The raw owner is only a key of the owners table; its resolved login is checked later.
    const std::size_t max = f == Field::owner ? std::string::npos : max_length(f);
    if (auto e = check_for(f)(field_name(f), rec.get(f), max)) return e;
  }
  if (rec.maps(Field::active) && !parse_active(rec.get(Field::active)))
    return "active " + quoted(rec.get(Field::active)) + " is not one of true/false, 1/0, yes/no, y/n";
  const std::string& rel = rec.get(Field::relationship);
  if (!rel.empty() && std::find(kRelationships.begin(), kRelationships.end(), rel) == kRelationships.end())
    return "relationship " + quoted(rel) +
           " is not one of customer, prospect, partner, reseller, distributor, supplier, other";
  for (std::size_t k = 0; k < rec.contacts.size(); ++k) {
    const auto& c = rec.contacts[k];
    for (std::size_t i = 0; i < kContactFieldCount; ++i) {
      const auto f = static_cast<ContactField>(i);
      if (auto e = check_for(f)(contact_field_name(f), c.values[i], max_length(f)))
        return "contact " + std::to_string(k + 1) + " " + *e;
    }
    if (!parse_active(c.get(ContactField::active)))
      return "contact " + std::to_string(k + 1) + " active " + quoted(c.get(ContactField::active)) +
             " is not one of true/false, 1/0, yes/no, y/n";
  }
  return std::nullopt;
}

// One record after rule 1 and owner resolution, before any matching.
struct Prepared {
  const IncomingAccount* raw = nullptr;
  // The record with code and member_of trimmed: a copy only where trimming changed either.
  std::optional<IncomingAccount> trimmed_copy;
  const IncomingAccount& rec() const { return trimmed_copy ? *trimmed_copy : *raw; }
  std::string remote_id, code, parent;
  std::optional<std::string> owner;  // resolved login; nullopt: unknown_owner
  std::string owner_for_report;      // the resolved owner, else the trimmed raw value
  std::optional<std::string> invalid;
  std::string hash;
  bool superseded = false;
};

// The outcome of rule 6 for one record.
struct Link {
  bool touch = false;    // member_of is mapped: the account's link is (re)written
  bool refused = false;  // self-link or cycle: written without the link, warning
  std::optional<Ref> parent;
  std::string code;  // member_of_code to store (pending when parent is empty)
  std::string message;
};

class Decider {
 public:
  Decider(const MatchPolicy& policy, StateSnapshot state) : policy_(policy), view_(std::move(state)) {
    out_.connector = policy.connector;
  }

  WriteBatch run(std::span<const IncomingAccount> records) {
    prepare(records);
    resolve_code_changes();
    for (std::size_t i = 0; i < prepared_.size(); ++i) decide_one(prepared_[i]);
    return std::move(out_);
  }

 private:
  bool source_owns_assignments() const { return policy_.owner_authority == OwnerAuthority::source; }

  void prepare(std::span<const IncomingAccount> records) {
    std::unordered_map<std::string_view, std::size_t> last_by_remote_id;  // views into `records`
    for (std::size_t i = 0; i < records.size(); ++i) last_by_remote_id[records[i].get(Field::remote_id)] = i;
    prepared_.reserve(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      Prepared p;
      p.raw = &records[i];
      p.code = normalize_code(p.raw->get(Field::external_code));
      p.parent = normalize_code(p.raw->get(Field::member_of));
      if (p.code != p.raw->get(Field::external_code) || p.parent != p.raw->get(Field::member_of)) {
        p.trimmed_copy = *p.raw;
        p.trimmed_copy->at(Field::external_code) = p.code;
        p.trimmed_copy->at(Field::member_of) = p.parent;
      }
      p.remote_id = p.rec().get(Field::remote_id);
      p.superseded = last_by_remote_id.at(p.remote_id) != i;
      p.owner = resolve_owner(policy_, p.rec().get(Field::owner));
      p.owner_for_report = p.owner ? *p.owner : normalize_code(p.rec().get(Field::owner));
      p.invalid = validate(p.rec());
      if (!p.invalid && p.owner) {
        if (auto e = check_id("owner", *p.owner, kMaxOwner)) p.invalid = *e;
      }
      p.hash = payload_hash(p.rec(), p.owner_for_report);
      prepared_.push_back(std::move(p));
    }
  }

  // Would the record get as far as matching (not superseded, readable, coded, owned)?
  static bool matchable(const Prepared& p) { return !p.superseded && !p.invalid && !p.code.empty() && p.owner; }

  // The account the record's binding names, when that account still exists.
  std::optional<EntityId> bound_account(const std::string& remote_id) const {
    auto b = view_.bindings.find(remote_id);
    if (b == view_.bindings.end() || b->second.entity != kAccountEntity) return std::nullopt;
    if (!view_.accounts.contains(b->second.entity_id)) return std::nullopt;  // deleted in the CRM
    return b->second.entity_id;
  }

  // Rule 8, for the whole batch before any record is decided: bound records bringing a new
  // code. A change is accepted when its code is free once every accepted change of the batch
  // has left its old code (so swaps and rotations succeed); of several changes to one code,
  // the first in arrival order wins. Computed as the greatest fixpoint: start from all, drop
  // those whose target stays taken, until nothing moves.
  void resolve_code_changes() {
    struct Candidate {
      EntityId account;
      std::string from, to;
      bool accepted = true;
    };
    std::vector<Candidate> cands;
    std::unordered_map<EntityId, std::size_t> by_account;
    for (const auto& p : prepared_) {
      if (!matchable(p)) continue;
      auto id = bound_account(p.remote_id);
      if (!id) continue;
      const AccountState& acc = view_.accounts.at(*id);
      if (acc.external_code == p.code) continue;
      if (!source_owns_assignments() && acc.owner != *p.owner) continue;  // rejected (rule 5)
      if (by_account.contains(*id)) continue;
      by_account[*id] = cands.size();
      cands.push_back({*id, acc.external_code, p.code});
    }
    for (bool moved = true; moved;) {
      moved = false;
      for (std::size_t i = 0; i < cands.size(); ++i) {
        Candidate& c = cands[i];
        if (!c.accepted) continue;
        bool free = true;
        auto holder = view_.account_by_code.find(c.to);
        if (holder != view_.account_by_code.end()) {
          auto hc = by_account.find(holder->second);
          free = hc != by_account.end() && cands[hc->second].accepted;
        }
        for (std::size_t k = 0; free && k < i; ++k)
          if (cands[k].accepted && cands[k].to == c.to) free = false;
        if (!free) {
          c.accepted = false;
          moved = true;
        }
      }
    }
    // Phase 1 and 2 in the view, so every record of the batch sees the final codes.
    for (const auto& c : cands) {
      if (!c.accepted) continue;
      auto it = view_.account_by_code.find(c.from);
      if (!c.from.empty() && it != view_.account_by_code.end() && it->second == c.account)
        view_.account_by_code.erase(it);
    }
    for (const auto& c : cands) {
      if (!c.accepted) continue;
      view_.account_by_code[c.to] = c.account;
      view_.accounts.at(c.account).external_code = c.to;
      // The store keeps linked children's member_of_code on the new code (CodeChange).
      for (auto& [id, child] : view_.accounts)
        if (child.member_of_id == c.account) child.member_of_code = c.to;
      code_changed_.insert(c.account);
      out_.code_changes.push_back({c.account, c.from, c.to});
    }
  }

  void decide_one(Prepared& p) {
    if (p.superseded) {
      finish(p, Outcome::superseded, std::nullopt,
             "superseded: a later record of this batch has the same remote id " + quoted(p.remote_id));
      return;
    }
    if (p.invalid) {
      reject(p, RejectReason::invalid_field, "invalid field: " + *p.invalid, "");
      return;
    }
    if (p.code.empty()) {
      reject(p, RejectReason::missing_external_code, "the record has no external code", "");
      return;
    }
    if (!p.owner) {
      const std::string raw = normalize_code(p.rec().get(Field::owner));
      reject(p, RejectReason::unknown_owner,
             raw.empty() ? "the record has no owner and connector " + policy_.connector + " has no default_owner"
                         : "owner " + quoted(raw) + " is not listed in the owners table of connector " +
                               policy_.connector,
             "");
      return;
    }
    const std::string& owner = *p.owner;
    if (view_.crm) {  // the CRM application's own tables (SPEC §5 "CRM targets")
      if (auto e = crm_record_problem(*view_.crm, p.rec())) {
        reject(p, RejectReason::invalid_field, "invalid field: " + *e, "");
        return;
      }
      if (auto e = crm_owner_problem(*view_.crm, owner)) {
        reject(p, RejectReason::unknown_owner, *e, "");
        return;
      }
    }

    if (auto id = bound_account(p.remote_id)) {
      const AccountState& acc = view_.accounts.at(*id);
      if (acc.owner != owner && !source_owns_assignments()) {
        reject_owned_by_other(p, acc.external_code.empty() ? p.code : acc.external_code, acc.owner);
        return;
      }
      if (acc.external_code != p.code && !code_changed_.contains(*id)) {
        reject_code_taken(p, *id);
        return;
      }
      sync_existing(p, *id, /*attach=*/false);
      return;
    }

    if (auto it = view_.account_by_code.find(p.code); it != view_.account_by_code.end()) {
      const EntityId id = it->second;
      const AccountState& acc = view_.accounts.at(id);
      if (acc.owner != owner && !source_owns_assignments()) {
        reject_owned_by_other(p, p.code, acc.owner);
        return;
      }
      if (auto other = other_remote_id(id, p.remote_id)) {
        reject(p, RejectReason::code_in_use,
               "code " + p.code + " is already used by account " + std::to_string(id) + ", bound to remote id " +
                   quoted(*other) + " of connector " + policy_.connector,
               acc.owner);
        return;
      }
      sync_existing(p, id, /*attach=*/true);
      return;
    }

    if (!policy_.adopt_by.empty() && try_adopt(p)) return;
    create(p);
  }

  // A remote id of (connector, stream) other than `remote_id` bound to `account`.
  std::optional<std::string> other_remote_id(EntityId account, const std::string& remote_id) const {
    auto it = view_.remote_ids_by_account.find(account);
    if (it == view_.remote_ids_by_account.end()) return std::nullopt;
    for (const auto& r : it->second)
      if (r != remote_id) return r;
    return std::nullopt;
  }

  void reject_owned_by_other(Prepared& p, const std::string& code, const std::string& existing_owner) {
    reject(p, RejectReason::code_owned_by_other_user,
           "There is already an account with the same code assigned to other users: code " + code +
               " is assigned to " + existing_owner + ", the record brings " + *p.owner,
           existing_owner);
  }

  // A bound record whose new code could not be taken (rule 8).
  void reject_code_taken(Prepared& p, EntityId bound) {
    auto holder = view_.account_by_code.find(p.code);
    if (holder == view_.account_by_code.end()) {
      // Another record of the batch, bound to the same account, already moved it elsewhere.
      reject(p, RejectReason::code_in_use,
             "code " + p.code + " cannot be given to account " + std::to_string(bound) +
                 ": another record of this batch gives it code " + view_.accounts.at(bound).external_code,
             view_.accounts.at(bound).owner);
      return;
    }
    const AccountState& h = view_.accounts.at(holder->second);
    if (h.owner != *p.owner && !source_owns_assignments()) {
      reject_owned_by_other(p, p.code, h.owner);
      return;
    }
    reject(p, RejectReason::code_in_use,
           "code " + p.code + " is already used by account " + std::to_string(h.id) + " of " + h.owner +
               "; account " + std::to_string(bound) + " (remote id " + quoted(p.remote_id) + ") keeps code " +
               view_.accounts.at(bound).external_code,
           h.owner);
  }

  // Rule 9. Returns false when no candidate exists (the caller creates).
  bool try_adopt(Prepared& p) {
    std::optional<std::vector<EntityId>> cands;
    std::string keys;
    for (Field f : policy_.adopt_by) {
      const std::unordered_map<std::string, std::vector<EntityId>>* index;
      std::string key;
      if (f == Field::name) {
        key = normalize_name(p.rec().get(Field::name));
        index = &view_.uncoded_by_name;
      } else if (f == Field::vat) {
        key = normalize_code(p.rec().get(Field::vat));
        index = &view_.uncoded_by_vat;
      } else {
        return false;  // only name and vat are adoption keys; config refuses others
      }
      if (key.empty()) return false;  // an empty value matches nothing
      keys += (keys.empty() ? "" : ", ") + std::string(field_name(f)) + "=" + quoted(key);
      std::vector<EntityId> found;
      if (auto it = index->find(key); it != index->end()) found = it->second;
      std::erase_if(found, [&](EntityId id) {
        auto a = view_.accounts.find(id);
        // Still without a code (not adopted earlier in this batch) and not bound already.
        return a == view_.accounts.end() || !a->second.external_code.empty() || other_remote_id(id, p.remote_id);
      });
      std::sort(found.begin(), found.end());
      found.erase(std::unique(found.begin(), found.end()), found.end());
      if (!cands) {
        cands = std::move(found);
      } else {
        std::vector<EntityId> both;
        std::set_intersection(cands->begin(), cands->end(), found.begin(), found.end(), std::back_inserter(both));
        cands = std::move(both);
      }
    }
    if (!cands || cands->empty()) return false;
    if (cands->size() > 1) {
      std::string ids;
      for (EntityId id : *cands) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
      reject(p, RejectReason::ambiguous_match,
             "several accounts without a code match " + keys + ": ids " + ids + "; none adopted", "");
      return true;
    }
    const EntityId id = cands->front();
    AccountState& acc = view_.accounts.at(id);
    if (acc.owner != *p.owner && !source_owns_assignments()) {
      reject(p, RejectReason::account_owned_by_other_user,
             "the account without a code matching " + keys + " (id " + std::to_string(id) + ") is assigned to " +
                 acc.owner + ", the record brings " + *p.owner,
             acc.owner);
      return true;
    }
    // Only the code is set; the empty binding hash makes the next sighting a normal update.
    acc.external_code = p.code;
    view_.account_by_code[p.code] = id;
    AccountWrite& w = account_write(id);
    w.set_code = true;
    w.external_code = p.code;
    write_customer(p, id);
    write_binding(p, id, "");
    link_pending_children(id);
    resolve_rejections(p, {});
    finish(p, Outcome::adopted, std::nullopt,
           "adopted account " + std::to_string(id) + " (matched on " + keys + ") with code " + p.code);
    return true;
  }

  void create(Prepared& p) {
    const Ref ref = next_ref_--;
    AccountState st;
    st.id = ref;
    st.external_code = p.code;
    st.owner = *p.owner;
    st.name = p.rec().get(Field::name);
    st.vat = p.rec().get(Field::vat);
    view_.accounts[ref] = st;
    view_.account_by_code[p.code] = ref;
    AccountWrite& w = account_write(ref);
    w.external_code = p.code;
    set_values(w, p);
    write_customer(p, ref);
    write_binding(p, ref, p.hash);
    link_pending_children(ref);
    const Link link = evaluate_link(p, ref);
    std::vector<RejectReason> keep;
    apply_link(p, ref, link, keep);
    write_contacts(p, ref);
    resolve_rejections(p, keep);
    finish(p, Outcome::created, link.refused ? std::optional(RejectReason::member_of_cycle) : std::nullopt,
           "created account " + p.code + " for " + *p.owner + link.message);
  }

  // Rule 4 (and rule 8's code change): a bound record, or one attaching to the account that
  // has its code (`attach`: a second connector, or a binding lost).
  void sync_existing(Prepared& p, EntityId id, bool attach) {
    AccountState& acc = view_.accounts.at(id);
    const bool code_changed = code_changed_.contains(id);
    std::vector<RejectReason> keep;
    if (!attach) {
      BindingState& b = view_.bindings.at(p.remote_id);
      const bool same = !b.payload_hash.empty() && b.payload_hash == p.hash && acc.owner == *p.owner && !code_changed;
      if (same) {
        if (b.missing) write_binding(p, id, p.hash);  // back in the snapshot
        link_pending_children(id);
        const Link link = evaluate_link(p, id);
        bool wrote = false;
        if (link.refused) {
          raise_refused_link(p, id, link, keep);  // the link was left out when it was refused
        } else if (link.touch && has_open(p, RejectReason::member_of_cycle) &&
                   (acc.member_of_id != link.parent || acc.member_of_code != link.code)) {
          apply_link(p, id, link, keep);  // a refused link that is acceptable now
          wrote = true;
        }
        resolve_rejections(p, keep);
        finish(p, wrote ? Outcome::updated : Outcome::unchanged,
               link.refused ? std::optional(RejectReason::member_of_cycle) : std::nullopt,
               (wrote ? "updated account " + acc.external_code + ": parent link restored"
                      : "unchanged account " + acc.external_code) +
                   link.message);
        return;
      }
    }
    AccountWrite& w = account_write(id);
    set_values(w, p);
    acc.owner = *p.owner;
    if (p.rec().maps(Field::name)) acc.name = p.rec().get(Field::name);
    if (p.rec().maps(Field::vat)) acc.vat = p.rec().get(Field::vat);
    write_customer(p, id);
    write_binding(p, id, p.hash);
    link_pending_children(id);
    const Link link = evaluate_link(p, id);
    apply_link(p, id, link, keep);
    write_contacts(p, id);
    resolve_rejections(p, keep);
    std::string what = "updated account " + acc.external_code;
    if (attach) what += ", bound to remote id " + quoted(p.remote_id) + " of connector " + policy_.connector;
    if (code_changed) what += " (code changed)";
    finish(p, Outcome::updated, link.refused ? std::optional(RejectReason::member_of_cycle) : std::nullopt,
           what + link.message);
  }

  // The account's one entry in the batch, created on first touch.
  AccountWrite& account_write(Ref ref) {
    auto it = account_index_.find(ref);
    if (it != account_index_.end()) return out_.accounts[it->second];
    account_index_[ref] = out_.accounts.size();
    AccountWrite w;
    w.ref = ref;
    out_.accounts.push_back(std::move(w));
    return out_.accounts.back();
  }

  // The mapped value columns, and always the owner (resolved, SPEC §3 rule 4).
  void set_values(AccountWrite& w, const Prepared& p) {
    const FieldMask set = (p.rec().mapped & kValueFields) | bit(Field::owner);
    for (std::size_t i = 0; i < kFieldCount; ++i) {
      const auto f = static_cast<Field>(i);
      if ((set & bit(f)) == 0) continue;
      if (f == Field::active) {
        w.values.active = parse_active(p.rec().get(f)).value_or(true);
      } else if (f == Field::owner) {
        w.values.owner = *p.owner;
      } else if (std::string* slot = value_slot(w.values, f)) {
        *slot = p.rec().get(f);
      }
    }
    w.set |= set;
  }

  Link evaluate_link(const Prepared& p, Ref self) const {
    Link l;
    if (!p.rec().maps(Field::member_of)) return l;
    l.touch = true;
    if (p.parent.empty()) return l;
    const std::string& own_code = view_.accounts.at(self).external_code;
    if (p.parent == own_code) {
      l.refused = true;
      l.message = "; parent link to " + p.parent + " refused: an account cannot be its own parent";
      return l;
    }
    auto it = view_.account_by_code.find(p.parent);
    if (it == view_.account_by_code.end()) {
      l.code = p.parent;
      l.message = "; parent " + p.parent + " pending (not known yet)";
      return l;
    }
    if (is_ancestor(self, it->second)) {
      l.refused = true;
      l.message = "; parent link to " + p.parent + " refused: it would make a cycle";
      return l;
    }
    l.parent = it->second;
    l.code = p.parent;
    l.message = "; linked to parent " + p.parent;
    return l;
  }

  // True when `candidate` is `start` or one of its ancestors in the view.
  bool is_ancestor(EntityId candidate, EntityId start) const {
    std::unordered_set<EntityId> seen;
    for (std::optional<EntityId> x = start; x; ) {
      if (*x == candidate) return true;
      if (!seen.insert(*x).second) return false;  // a cycle already in the database
      auto a = view_.accounts.find(*x);
      if (a == view_.accounts.end()) return false;
      x = a->second.member_of_id;
    }
    return false;
  }

  void apply_link(Prepared& p, Ref id, const Link& link, std::vector<RejectReason>& keep) {
    if (!link.touch) return;
    AccountState& acc = view_.accounts.at(id);
    AccountWrite& w = account_write(id);
    w.set_member_of = true;
    w.member_of = link.parent;
    w.member_of_code = link.code;
    acc.member_of_id = link.parent;
    acc.member_of_code = link.code;
    if (!link.parent && !link.code.empty()) view_.pending_children[link.code].push_back(id);
    if (link.refused) raise_refused_link(p, id, link, keep);
  }

  // A refused link is a warning and a member_of_cycle rejection, not a rejected record.
  void raise_refused_link(Prepared& p, Ref id, const Link& link, std::vector<RejectReason>& keep) {
    ++out_.counters.warnings;
    keep.push_back(RejectReason::member_of_cycle);
    add_rejection(p, RejectReason::member_of_cycle,
                  "account " + view_.accounts.at(id).external_code + ": " + link.message.substr(2) +
                      "; written without that link",
                  "");
  }

  // Rule 6: accounts waiting for `parent`'s code as their parent are linked now. A child whose
  // link would close a cycle stays pending (its own record decides when it next syncs).
  void link_pending_children(EntityId parent) {
    const std::string& code = view_.accounts.at(parent).external_code;
    if (code.empty()) return;
    auto it = view_.pending_children.find(code);
    if (it == view_.pending_children.end()) return;
    std::vector<EntityId> still;
    for (EntityId child : it->second) {
      auto c = view_.accounts.find(child);
      if (child == parent || c == view_.accounts.end() || c->second.member_of_id || c->second.member_of_code != code)
        continue;
      if (is_ancestor(child, parent)) {
        still.push_back(child);
        continue;
      }
      c->second.member_of_id = parent;
      AccountWrite& w = account_write(child);
      w.set_member_of = true;
      w.member_of = parent;
      w.member_of_code = code;
    }
    it->second = std::move(still);
  }

  void write_customer(const Prepared& p, Ref account) {
    CustomerWrite c;
    c.channel = policy_.connector;
    c.remote_id = p.remote_id;
    c.kind = "b2b";
    c.account = account;
    c.name = p.rec().maps(Field::name) ? p.rec().get(Field::name) : view_.accounts.at(account).name;
    c.email = p.rec().get(Field::email);
    out_.customers.push_back(std::move(c));
  }

  void write_binding(const Prepared& p, Ref account, const std::string& hash) {
    out_.bindings.push_back({policy_.stream, p.remote_id, kAccountEntity, account, hash});
    BindingState& b = view_.bindings[p.remote_id];
    b = {kAccountEntity, account, hash, false};
    auto& ids = view_.remote_ids_by_account[account];
    if (std::find(ids.begin(), ids.end(), p.remote_id) == ids.end()) ids.push_back(p.remote_id);
  }

  void write_contacts(const Prepared& p, Ref account) {
    AccountState& acc = view_.accounts.at(account);
    for (const auto& c : p.rec().contacts) {
      const std::string& rid = c.get(ContactField::remote_id);
      const std::string& email = c.get(ContactField::email);
      Ref ref;
      auto b = view_.contact_bindings.find(rid);
      if (b != view_.contact_bindings.end() && b->second.entity == kContactEntity) {
        ref = b->second.entity_id;
      } else {
        // Rule 12: the Account's Contact with the same e-mail is this person; else a new one.
        const auto same = same_person(view_, account, email);
        ref = same ? *same : next_ref_--;
        view_.contact_bindings[rid] = {kContactEntity, ref, "", false};
      }
      note_person(view_, account, email, ref);
      ContactWrite w;
      w.ref = ref;
      w.account = account;
      w.first_name = c.get(ContactField::first_name);
      w.last_name = c.get(ContactField::last_name);
      w.email = c.get(ContactField::email);
      w.phone = c.get(ContactField::phone);
      w.active = parse_active(c.get(ContactField::active)).value_or(true);
      if (!acc.has_default_contact && w.active) {
        w.is_default = true;
        acc.has_default_contact = true;
      }
      put_contact(out_.contacts, std::move(w));
      out_.bindings.push_back({kContactStream, rid, kContactEntity, ref, ""});
    }
  }

  bool has_open(const Prepared& p, RejectReason r) const {
    auto it = view_.open_rejections.find(p.remote_id);
    if (it == view_.open_rejections.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [&](const OpenRejection& o) { return o.reason == r; });
  }

  void resolve_rejections(const Prepared& p, const std::vector<RejectReason>& keep) {
    auto it = view_.open_rejections.find(p.remote_id);
    if (it == view_.open_rejections.end()) return;
    const bool any = std::any_of(it->second.begin(), it->second.end(), [&](const OpenRejection& o) {
      return std::find(keep.begin(), keep.end(), o.reason) == keep.end();
    });
    if (any) out_.resolves.push_back({policy_.stream, p.remote_id, keep});
  }

  void add_rejection(const Prepared& p, RejectReason reason, std::string message, std::string existing_owner) {
    RejectionWrite r;
    r.stream = policy_.stream;
    r.remote_id = p.remote_id;
    r.external_code = p.code;
    r.reason = reason;
    r.message = std::move(message);
    r.existing_owner = std::move(existing_owner);
    r.incoming_owner = p.owner_for_report;
    r.payload = to_payload(*p.raw);
    r.payload_hash = p.hash;
    if (auto it = view_.open_rejections.find(rejection_key(p.remote_id)); it != view_.open_rejections.end()) {
      r.is_new_or_changed = std::none_of(it->second.begin(), it->second.end(), [&](const OpenRejection& o) {
        return o.reason == reason && o.payload_hash == p.hash;
      });
    }
    out_.rejections.push_back(fit_rejection_row(std::move(r)));
  }

  // A rejection; one the record already has open with the same payload is written again (its
  // times_seen) and marked Decision::as_before.
  void reject(Prepared& p, RejectReason reason, std::string message, std::string existing_owner) {
    std::string why = message;
    add_rejection(p, reason, std::move(message), std::move(existing_owner));
    finish(p, Outcome::rejected, reason, std::move(why));
    out_.decisions.back().as_before = !out_.rejections.back().is_new_or_changed;
  }

  void finish(const Prepared& p, Outcome o, std::optional<RejectReason> reason, std::string message) {
    out_.decisions.push_back({p.remote_id, p.code, o, reason, std::move(message)});
    out_.counters.count(o);
  }

  const MatchPolicy& policy_;
  StateSnapshot view_;  // the snapshot plus this batch's decisions so far
  WriteBatch out_;
  std::vector<Prepared> prepared_;
  std::unordered_map<Ref, std::size_t> account_index_;
  std::unordered_set<EntityId> code_changed_;  // accounts whose code change was accepted
  Ref next_ref_ = -1;
};

}  // namespace

BatchKeys batch_keys(const MatchPolicy& policy, std::span<const IncomingAccount> records) {
  BatchKeys k;
  k.connector = policy.connector;
  k.stream = policy.stream;
  const bool by_name = std::find(policy.adopt_by.begin(), policy.adopt_by.end(), Field::name) != policy.adopt_by.end();
  const bool by_vat = std::find(policy.adopt_by.begin(), policy.adopt_by.end(), Field::vat) != policy.adopt_by.end();
  // A value that cannot be stored is never looked up: its record is rejected (invalid_field),
  // and a NUL byte would fail the whole lookup on PostgreSQL. A remote id is looked up as its
  // rejection row keys it, so that a bad record's rejection is found again.
  for (const auto& r : records) {
    k.remote_ids.insert(rejection_key(r.get(Field::remote_id)));
    for (const auto& c : r.contacts) {
      if (const std::string& id = c.get(ContactField::remote_id); fits_id(id, kMaxRemoteId))
        k.contact_remote_ids.insert(id);
      if (auto e = normalize_email(c.get(ContactField::email)); !e.empty() && fits_id(e, kMaxEmail))
        k.contact_emails.insert(std::move(e));
    }
    for (Field f : {Field::external_code, Field::member_of})
      if (auto code = normalize_code(r.get(f)); !code.empty() && fits_id(code, kMaxExternalCode))
        k.codes.insert(std::move(code));
    if (by_name) {
      if (auto n = normalize_name(r.get(Field::name)); !n.empty() && fits_text(n, kMaxName))
        k.adopt_names.insert(std::move(n));
    }
    if (by_vat) {
      if (auto v = normalize_code(r.get(Field::vat)); !v.empty() && fits_text(v, kMaxVat))
        k.adopt_vats.insert(std::move(v));
    }
  }
  return k;
}

WriteBatch decide(const MatchPolicy& policy, std::span<const IncomingAccount> records, const StateSnapshot& state) {
  return Decider(policy, state).run(records);
}

WriteBatch decide(const MatchPolicy& policy, std::span<const IncomingAccount> records, StateSnapshot&& state) {
  return Decider(policy, std::move(state)).run(records);
}

}  // namespace erpsync::core
