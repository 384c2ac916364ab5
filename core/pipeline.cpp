#include "core/pipeline.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace erpsync::core {
namespace {

bool intersect(const std::set<std::string>& a, const std::set<std::string>& b) {
  const auto& small = a.size() <= b.size() ? a : b;
  const auto& large = a.size() <= b.size() ? b : a;
  for (const std::string& k : small)
    if (large.count(k)) return true;
  return false;
}

}  // namespace

BatchFootprint BatchFootprint::of(BatchKeys keys, const WriteBatch& batch) {
  BatchFootprint f;
  f.keys = std::move(keys);
  auto existing = [&](Ref r) {
    if (r > 0) f.accounts.insert(r);
  };
  for (const CodeChange& c : batch.code_changes) {
    existing(c.account);
    if (c.to.empty()) f.leaves_uncoded_account = true;
  }
  for (const AccountWrite& a : batch.accounts) {
    existing(a.ref);
    if (a.ref < 0 && a.external_code.empty()) f.leaves_uncoded_account = true;
  }
  for (const ContactWrite& c : batch.contacts) existing(c.account);
  for (const CustomerWrite& c : batch.customers) existing(c.account);
  for (const BindingWrite& b : batch.bindings)
    if (b.entity == "account") existing(b.entity_ref);
  return f;
}

bool BatchFootprint::meets(const BatchKeys& next) const {
  if (next.connector != keys.connector || next.stream != keys.stream) return true;
  if (leaves_uncoded_account && (!next.adopt_names.empty() || !next.adopt_vats.empty())) return true;
  return intersect(keys.codes, next.codes) || intersect(keys.remote_ids, next.remote_ids) ||
         intersect(keys.contact_remote_ids, next.contact_remote_ids) ||
         intersect(keys.contact_emails, next.contact_emails) || intersect(keys.adopt_names, next.adopt_names) ||
         intersect(keys.adopt_vats, next.adopt_vats);
}

bool BatchFootprint::changes_any_of(const StateSnapshot& state) const {
  if (accounts.empty()) return false;
  for (const auto& [id, _] : state.accounts)
    if (accounts.count(id)) return true;
  return false;
}

StateSnapshot quiet_subset(const StateSnapshot& quiet, const BatchKeys& keys) {
  StateSnapshot part;
  part.crm = quiet.crm;
  std::vector<EntityId> added;  // whose ancestors are still to take
  auto take = [&](EntityId id) {
    auto it = quiet.accounts.find(id);
    if (it != quiet.accounts.end() && part.accounts.emplace(id, it->second).second) added.push_back(id);
  };
  for (const std::string& rid : keys.remote_ids) {
    auto b = quiet.bindings.find(rid);
    if (b == quiet.bindings.end()) continue;
    part.bindings.emplace(rid, b->second);
    if (b->second.entity == "account") take(b->second.entity_id);
  }
  for (const std::string& code : keys.codes)
    if (auto a = quiet.account_by_code.find(code); a != quiet.account_by_code.end()) take(a->second);
  while (!added.empty()) {
    const EntityId id = added.back();
    added.pop_back();
    if (const std::optional<EntityId> parent = part.accounts.at(id).member_of_id) take(*parent);
  }
  for (const auto& [id, account] : part.accounts)
    if (!account.external_code.empty()) part.account_by_code.emplace(account.external_code, id);
  return part;
}

}  // namespace erpsync::core
