#pragma once
// Internal to core/: what the commerce deciders (commerce.cpp: Magento customers and orders)
// and the contact decider (contact_matcher.cpp: Odoo contacts) share — payload field framing,
// and a batch's bookkeeping of rejections, parking (SPEC §3 rule 10) and
// resolving. Not part of core's interface.

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/rules/commerce.hpp"
#include "core/rules/normalize.hpp"
#include "core/rules/policy.hpp"
#include "core/state.hpp"
#include "core/rules/value_check.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core::detail {

inline std::string quote_id(std::string_view s) { return "'" + std::string(s) + "'"; }

// The keys every attached kind looks up for its own records: the bindings, open rejections and
// parked rows of (connector, stream, remote id).
template <class Input>
CommerceKeys base_keys(const MatchPolicy& policy, std::span<const Input> records) {
  CommerceKeys k;
  k.base.connector = policy.connector;
  k.base.stream = policy.stream;
  // A value that cannot be stored is not looked up (its record is rejected); see batch_keys.
  for (const auto& r : records) k.base.remote_ids.insert(rejection_key(r.record.remote_id));
  return k;
}

// What every commerce decider shares: counting, rejections, parking, resolving.
class ParkingDecider {
 public:
  ParkingDecider(const MatchPolicy& policy, const CommerceState& state) : policy_(policy), view_(state) {
    out_.connector = policy.connector;
  }

 protected:
  // Decides `records` in arrival order with `decide_one(input, superseded)`, where a record
  // whose remote id comes again later in the batch is superseded (rule 7); returns the batch.
  template <class Input, class DecideOne>
  WriteBatch decide_in_order(std::span<const Input> records, DecideOne&& decide_one) {
    std::unordered_map<std::string, std::size_t> last;
    for (std::size_t i = 0; i < records.size(); ++i) last[records[i].record.remote_id] = i;
    for (std::size_t i = 0; i < records.size(); ++i) decide_one(records[i], last[records[i].record.remote_id] != i);
    return std::move(out_);
  }

  struct Item {
    std::string remote_id, code, hash, payload;
    Arrival arrival = Arrival::source;
    bool expired = false;
    std::string incoming_owner;
  };

  bool has_open(const Item& p, RejectReason r, bool same_hash) const {
    auto it = view_.base.open_rejections.find(rejection_key(p.remote_id));
    if (it == view_.base.open_rejections.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [&](const OpenRejection& o) {
      return o.reason == r && (!same_hash || o.payload_hash == p.hash);
    });
  }

  void finish(const Item& p, Outcome o, std::optional<RejectReason> reason, std::string message) {
    out_.decisions.push_back({p.remote_id, p.code, o, reason, std::move(message)});
    out_.counters.count(o);
  }
  // A record from the source that ends exactly as the store holds it (Decision::as_before).
  void finish_as_before(const Item& p, Outcome o, std::optional<RejectReason> reason, std::string message) {
    finish(p, o, reason, std::move(message));
    out_.decisions.back().as_before = true;
  }

  // A rejection. A replayed rejection or retried parked record that ends as before (same
  // reason, same payload) writes and counts nothing (SPEC §3 "Rejections come back", rule 10).
  void reject(const Item& p, RejectReason reason, std::string message) {
    const bool repeated = has_open(p, reason, /*same_hash=*/true);
    if (repeated && p.arrival != Arrival::source) {
      // Nothing new to record; a parked row left beside the rejection (park_ttl ran out) goes.
      if (view_.parked.erase(p.remote_id)) out_.unparks.push_back({policy_.stream, p.remote_id});
      return;
    }
    RejectionWrite r;
    r.stream = policy_.stream;
    r.remote_id = p.remote_id;
    r.external_code = p.code;
    r.reason = reason;
    r.message = message;
    r.incoming_owner = p.incoming_owner;
    r.payload = p.payload;
    r.payload_hash = p.hash;
    r.is_new_or_changed = !repeated;
    out_.rejections.push_back(fit_rejection_row(std::move(r)));
    if (view_.parked.erase(p.remote_id)) out_.unparks.push_back({policy_.stream, p.remote_id});
    // The source sending it again as it was: its times_seen counts it, the run does not.
    if (repeated) finish_as_before(p, Outcome::rejected, reason, std::move(message));
    else finish(p, Outcome::rejected, reason, std::move(message));
  }

  // Rule 10: the record waits for `what` (stored fitted to its column: "customer " or "company "
  // and a remote id of up to kMaxRemoteId characters is longer than kMaxWaitsFor).
  void park(const Item& p, const std::string& what, const std::string& why) {
    const std::string waits_for = fit_column(what, kMaxWaitsFor);
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
    if (same) {
      // Parked already with this payload, waiting for the same: nothing to write.
      finish_as_before(p, Outcome::parked, std::nullopt, "parked: " + why + "; retried at every run");
      return;
    }
    out_.parks.push_back({policy_.stream, p.remote_id, waits_for, p.payload, p.hash});
    view_.parked[p.remote_id] = {waits_for, p.hash};
    finish(p, Outcome::parked, std::nullopt, "parked: " + why + "; retried at every run");
  }

  // Rule 7 within a batch: a record whose remote id comes again later in the batch is counted
  // superseded and not decided further. True when it was.
  bool finish_if_superseded(const Item& p, bool superseded) {
    if (!superseded) return false;
    finish(p, Outcome::superseded, std::nullopt,
           "superseded: a later record of this batch has the same remote id " + quote_id(p.remote_id));
    return true;
  }

  // What attaches to a Magento customer (orders, carts): its Customer's and Account's ids (none
  // for a guest's), or nullopt once the record is parked waiting for a customer not synced yet
  // (rule 10).
  struct CustomerLink {
    std::optional<Ref> customer, account;
  };
  std::optional<CustomerLink> customer_link(const Item& p, const std::optional<std::string>& customer_remote_id,
                                            std::string_view kind) {
    if (!customer_remote_id) return CustomerLink{};
    const auto c = view_.customers.find(*customer_remote_id);
    if (c == view_.customers.end() || c->second.id <= 0) {
      park(p, "customer " + *customer_remote_id,
           "customer " + quote_id(*customer_remote_id) + " of " + std::string(kind) + " " + quote_id(p.remote_id) +
               " is not synced");
      return std::nullopt;
    }
    return CustomerLink{c->second.id, c->second.account_id};
  }

  // The record is bound to a row of `entity`.
  bool bound_to(const Item& p, std::string_view entity) const {
    const auto b = view_.base.bindings.find(p.remote_id);
    return b != view_.base.bindings.end() && b->second.entity == entity;
  }

  // The record is bound to a row of `entity` with this very payload, is not missing and waits for
  // nothing: it is unchanged (what waited for it resolves; nothing is written). True when so.
  bool finish_if_unchanged(const Item& p, std::string_view entity, std::string_view kind) {
    const auto b = view_.base.bindings.find(p.remote_id);
    if (!bound_to(p, entity) || b->second.payload_hash.empty() || b->second.payload_hash != p.hash ||
        b->second.missing || view_.parked.contains(p.remote_id))
      return false;
    synced(p);
    finish(p, Outcome::unchanged, std::nullopt, "unchanged " + std::string(kind) + " " + quote_id(p.remote_id));
    return true;
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
  WriteBatch out_;
  Ref next_ref_ = -1;
};

}  // namespace erpsync::core::detail
