#pragma once
// Builders shared by the core unit tests.

#include <string>
#include <vector>

#include "core/matcher.hpp"
#include "core/memory_store.hpp"
#include "core/payload.hpp"
#include "core/policy.hpp"
#include "core/record.hpp"

namespace erpsync::core::testing {

inline MatchPolicy feed_policy(std::string connector = "erp") {
  MatchPolicy p;
  p.connector = std::move(connector);
  p.stream = "accounts";
  p.default_owner = "sales";
  return p;
}

// A feed record mapping remote_id, external_code, name, owner and member_of.
inline IncomingAccount rec(std::string remote_id, std::string code, std::string owner = "jsmith",
                           std::string member_of = "", std::string name = "") {
  IncomingAccount r;
  r.set(Field::remote_id, std::move(remote_id));
  r.set(Field::external_code, std::move(code));
  r.set(Field::owner, std::move(owner));
  r.set(Field::member_of, std::move(member_of));
  r.set(Field::name, std::move(name));
  return r;
}

inline IncomingContact contact(std::string remote_id, std::string first, std::string last,
                               std::string email = "") {
  IncomingContact c;
  c.at(ContactField::remote_id) = std::move(remote_id);
  c.at(ContactField::first_name) = std::move(first);
  c.at(ContactField::last_name) = std::move(last);
  c.at(ContactField::email) = std::move(email);
  return c;
}

// One batch through the whole pipeline: keys → load_state → decide → apply.
inline WriteBatch sync(MemoryStore& store, const MatchPolicy& policy, const std::vector<IncomingAccount>& records) {
  const StateSnapshot state = store.load_state(batch_keys(policy, records));
  WriteBatch batch = decide(policy, records, state);
  store.apply(batch);
  return batch;
}

inline EntityId seed_account(MemoryStore& store, std::string code, std::string owner, std::string name = "",
                             std::string vat = "") {
  AccountRow a;
  a.external_code = std::move(code);
  a.owner = std::move(owner);
  a.name = std::move(name);
  a.vat = std::move(vat);
  return store.insert_account(std::move(a));
}

}  // namespace erpsync::core::testing
