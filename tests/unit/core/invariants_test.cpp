// Generated batches (fixed seeds) through decide() and MemoryStore: whatever the mix of codes,
// remote ids, owners, parents and adoption candidates, the matcher's decisions are consistent
// with the database (apply never throws), every record is counted once, and the hierarchy
// never holds a cycle.

#include <random>
#include <set>

#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "helpers.hpp"

namespace erpsync::core {
namespace {

using namespace erpsync::core::testing;

struct Generator {
  std::mt19937 rng;
  explicit Generator(unsigned seed) : rng(seed) {}
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  std::string code() {
    static const char* codes[] = {"A", "B", "C", "D", "E", "F", "", " A "};
    return codes[pick(8)];
  }
  IncomingAccount record() {
    static const char* owners[] = {"jsmith", "carol", ""};
    static const char* names[] = {"Acme", "Beta", "Gamma"};
    IncomingAccount r = rec(std::to_string(pick(8)), code(), owners[pick(3)], pick(2) ? code() : "", names[pick(3)]);
    r.set(Field::vat, pick(2) ? "DE1" : "DE2");
    return r;
  }
};

bool has_cycle(const MemoryStore& store) {
  for (const auto& [id, a] : store.accounts()) {
    std::set<EntityId> seen{id};
    for (auto p = a.member_of_id; p; p = store.accounts().at(*p).member_of_id)
      if (!seen.insert(*p).second) return true;
  }
  return false;
}

void run_seed(unsigned seed, const MatchPolicy& policy) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  Generator g(seed);
  MemoryStore store;
  seed_account(store, "E", "carol");
  seed_account(store, "", "jsmith", "Acme", "DE1");
  seed_account(store, "", "carol", "Beta", "DE2");
  for (int batch = 0; batch < 12; ++batch) {
    std::vector<IncomingAccount> records;
    for (int i = g.pick(7); i >= 0; --i) records.push_back(g.record());
    WriteBatch b;
    ASSERT_NO_THROW(b = sync(store, policy, records)) << "batch " << batch;
    ASSERT_TRUE(balanced(b)) << "batch " << batch;
    std::set<Ref> refs;
    for (const auto& w : b.accounts) ASSERT_TRUE(refs.insert(w.ref).second) << "account written twice";
    ASSERT_FALSE(has_cycle(store)) << "batch " << batch;
    for (const auto& [key, bind] : store.bindings()) {
      if (bind.entity == "account") {
        ASSERT_TRUE(store.accounts().contains(bind.entity_id));
      }
    }

    // The same batch again: every record that synced is bound now and comes back updated or
    // unchanged (a record rejected the first time may sync now: earlier records changed the
    // state it is judged against, e.g. by adopting the candidate it was refused).
    WriteBatch again;
    ASSERT_NO_THROW(again = sync(store, policy, records)) << "batch " << batch << " repeated";
    ASSERT_TRUE(balanced(again));
    for (std::size_t i = 0; i < records.size(); ++i) {
      const Outcome first = b.decisions[i].outcome;
      if (first == Outcome::rejected || first == Outcome::superseded) continue;
      const Outcome second = again.decisions[i].outcome;
      EXPECT_TRUE(second == Outcome::updated || second == Outcome::unchanged)
          << "batch " << batch << " record " << i << ": " << again.decisions[i].message;
    }
    ASSERT_FALSE(has_cycle(store));
  }
}

TEST(MatcherInvariants, HoldForGeneratedBatchesUnderCrmAuthority) {
  for (unsigned seed = 1; seed <= 100; ++seed) run_seed(seed, feed_policy());
}

TEST(MatcherInvariants, HoldForGeneratedBatchesWithAdoptionAndSourceAuthority) {
  MatchPolicy p = feed_policy();
  p.adopt_by = {Field::vat};
  p.owner_authority = OwnerAuthority::source;
  for (unsigned seed = 1; seed <= 100; ++seed) run_seed(seed, p);
  p.adopt_by = {Field::name, Field::vat};
  p.owner_authority = OwnerAuthority::crm;
  for (unsigned seed = 101; seed <= 200; ++seed) run_seed(seed, p);
}

}  // namespace
}  // namespace erpsync::core
