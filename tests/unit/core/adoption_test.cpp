// SPEC §3 rule 9: adopting accounts that exist without a code.

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace erpsync::core {
namespace {

using namespace erpsync::core::testing;

MatchPolicy adopting(std::vector<Field> by, OwnerAuthority authority = OwnerAuthority::crm) {
  MatchPolicy p = feed_policy();
  p.adopt_by = std::move(by);
  p.owner_authority = authority;
  return p;
}

IncomingAccount with_vat(IncomingAccount r, std::string vat) {
  r.set(Field::vat, std::move(vat));
  return r;
}

TEST(Adoption, AdoptsTheOneUncodedCandidateWithTheSameOwner) {
  MemoryStore store;
  const EntityId hand = seed_account(store, "", "jsmith", "Acme (typed by hand)", "DE123");
  seed_account(store, "", "jsmith", "Other", "DE999");
  const MatchPolicy p = adopting({Field::vat});
  const auto b = sync(store, p, {with_vat(rec("1", "C-1", "jsmith", "", "ACME GmbH"), "DE123")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"adopted"}));
  EXPECT_EQ(b.counters.adopted, 1);
  ASSERT_EQ(b.accounts.size(), 1u);
  EXPECT_EQ(b.accounts[0].ref, hand);
  EXPECT_EQ(b.accounts[0].set, 0u) << "no other field changes on first contact";
  EXPECT_TRUE(b.accounts[0].set_code);
  const AccountRow* a = store.account(hand);
  EXPECT_EQ(a->external_code, "C-1");
  EXPECT_EQ(a->name, "Acme (typed by hand)");
  EXPECT_EQ(store.accounts().size(), 2u);
  const BindingRow* bind = store.binding("erp", "accounts", "1");
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ(bind->entity_id, hand);
  EXPECT_EQ(bind->payload_hash, "") << "bound without a hash";
  EXPECT_EQ(store.customer("erp", "1")->account_id, hand);

  // The next sighting updates the fields normally.
  const auto next = sync(store, p, {with_vat(rec("1", "C-1", "jsmith", "", "ACME GmbH"), "DE123")});
  EXPECT_EQ(outcomes(next), (std::vector<std::string>{"updated"}));
  EXPECT_EQ(store.account(hand)->name, "ACME GmbH");
  const auto after = sync(store, p, {with_vat(rec("1", "C-1", "jsmith", "", "ACME GmbH"), "DE123")});
  EXPECT_EQ(outcomes(after), (std::vector<std::string>{"unchanged"}));
}

TEST(Adoption, ComparesNamesCaseAndSpaceInsensitively) {
  MemoryStore store;
  const EntityId hand = seed_account(store, "", "jsmith", "  acme   trading ");
  const auto b = sync(store, adopting({Field::name}), {rec("1", "C-1", "jsmith", "", "ACME Trading")});
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"adopted"}));
  EXPECT_EQ(store.account(hand)->external_code, "C-1");
}

TEST(Adoption, RequiresEveryListedFieldToMatch) {
  MemoryStore store;
  seed_account(store, "", "jsmith", "ACME", "DE1");
  const auto b = sync(store, adopting({Field::vat, Field::name}), {with_vat(rec("1", "C-1", "jsmith", "", "ACME"), "DE2")});
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created"}));
  EXPECT_EQ(store.accounts().size(), 2u);
}

TEST(Adoption, RejectsTheOneCandidateOfAnotherOwner) {
  MemoryStore store;
  const EntityId hand = seed_account(store, "", "carol", "ACME");
  const auto b = sync(store, adopting({Field::name}), {rec("1", "C-1", "jsmith", "", "ACME")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"rejected:account_owned_by_other_user"}));
  EXPECT_EQ(b.rejections[0].existing_owner, "carol");
  EXPECT_EQ(b.rejections[0].incoming_owner, "jsmith");
  EXPECT_NE(b.decisions[0].message.find(std::to_string(hand)), std::string::npos);
  EXPECT_EQ(store.account(hand)->external_code, "");
  EXPECT_EQ(store.accounts().size(), 1u);
}

TEST(Adoption, AdoptsWhateverTheOwnerWhenTheSourceHasAuthority) {
  MemoryStore store;
  const EntityId hand = seed_account(store, "", "carol", "ACME");
  const MatchPolicy p = adopting({Field::name}, OwnerAuthority::source);
  const auto b = sync(store, p, {rec("1", "C-1", "jsmith", "", "ACME")});
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"adopted"}));
  EXPECT_EQ(store.account(hand)->owner, "carol") << "first contact changes only the code";
  sync(store, p, {rec("1", "C-1", "jsmith", "", "ACME")});
  EXPECT_EQ(store.account(hand)->owner, "jsmith") << "the next sighting brings the source's owner";
}

TEST(Adoption, RejectsSeveralCandidatesAsAmbiguousNamingThem) {
  MemoryStore store;
  const EntityId one = seed_account(store, "", "jsmith", "ACME");
  const EntityId two = seed_account(store, "", "jsmith", "acme");
  const auto b = sync(store, adopting({Field::name}), {rec("1", "C-1", "jsmith", "", "Acme")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"rejected:ambiguous_match"}));
  const std::string& m = b.decisions[0].message;
  EXPECT_NE(m.find(std::to_string(one)), std::string::npos) << m;
  EXPECT_NE(m.find(std::to_string(two)), std::string::npos) << m;
  EXPECT_EQ(store.account(one)->external_code, "");
  EXPECT_EQ(store.account(two)->external_code, "");
  EXPECT_EQ(store.replayable_rejections("erp", "accounts").size(), 1u) << "an admin can fix it";
}

TEST(Adoption, NeverAdoptsWithoutAdoptBy) {
  MemoryStore store;
  seed_account(store, "", "jsmith", "ACME");
  const auto b = sync(store, feed_policy(), {rec("1", "C-1", "jsmith", "", "ACME")});
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created"}));
}

TEST(Adoption, AdoptsACandidateOnlyOncePerBatch) {
  MemoryStore store;
  const EntityId hand = seed_account(store, "", "jsmith", "ACME");
  const auto b = sync(store, adopting({Field::name}),
                      {rec("1", "C-1", "jsmith", "", "ACME"), rec("2", "C-2", "jsmith", "", "ACME")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"adopted", "created"}));
  EXPECT_EQ(store.account(hand)->external_code, "C-1");
}

TEST(Adoption, LinksChildrenWaitingForTheAdoptedCode) {
  MemoryStore store;
  const EntityId hand = seed_account(store, "", "jsmith", "ACME");
  const auto b = sync(store, adopting({Field::name}),
                      {rec("c", "CHILD", "jsmith", "C-1", "Child"), rec("1", "C-1", "jsmith", "", "ACME")});
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created", "adopted"}));
  EXPECT_EQ(store.account_by_code("CHILD")->member_of_id, hand);
}

TEST(Adoption, IgnoresAnEmptyKey) {
  MemoryStore store;
  seed_account(store, "", "jsmith", "");
  const auto b = sync(store, adopting({Field::name}), {rec("1", "C-1", "jsmith", "", "")});
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created"}));
}

}  // namespace
}  // namespace erpsync::core
