#pragma once
// Builders shared by the core unit tests.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/rules/companies.hpp"
#include "reference_store/memory_store.hpp"
#include "core/rules/payload.hpp"
#include "core/rules/policy.hpp"
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

namespace erpsync::core::testing {

// Every record counted exactly once, one decision each.
inline ::testing::AssertionResult balanced(const WriteBatch& b) {
  if (!b.counters.balanced()) return ::testing::AssertionFailure() << "counters do not add up to fetched";
  if (static_cast<std::int64_t>(b.decisions.size()) != b.counters.fetched)
    return ::testing::AssertionFailure() << b.decisions.size() << " decisions for " << b.counters.fetched << " records";
  return ::testing::AssertionSuccess();
}

// "created=1 updated=0 ..." for readable comparisons.
inline std::string counters(const Counters& c) {
  return "fetched=" + std::to_string(c.fetched) + " created=" + std::to_string(c.created) +
         " adopted=" + std::to_string(c.adopted) + " updated=" + std::to_string(c.updated) +
         " unchanged=" + std::to_string(c.unchanged) + " superseded=" + std::to_string(c.superseded) +
         " parked=" + std::to_string(c.parked) + " rejected=" + std::to_string(c.rejected) +
         " failed=" + std::to_string(c.failed) + " warnings=" + std::to_string(c.warnings);
}

inline std::vector<std::string> outcomes(const WriteBatch& b) {
  std::vector<std::string> out;
  for (const auto& d : b.decisions) {
    std::string s(to_string(d.outcome));
    if (d.reason) s += ":" + std::string(to_string(*d.reason));
    out.push_back(s);
  }
  return out;
}

}  // namespace erpsync::core::testing
