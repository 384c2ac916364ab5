#include "core/pipeline.hpp"

#include <set>
#include <string>

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

}  // namespace erpsync::core
