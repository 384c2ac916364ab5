// SPEC §3 rule 6: member_of links, pending parents, refused self-links and cycles.

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace erpsync::core {
namespace {

using namespace erpsync::core::testing;

std::optional<EntityId> parent_of(const MemoryStore& s, const std::string& code) {
  return s.account_by_code(code)->member_of_id;
}
EntityId id_of(const MemoryStore& s, const std::string& code) { return s.account_by_code(code)->id; }

TEST(Hierarchy, LinksThreeLevelsArrivingChildrenFirstInOneBatch) {
  MemoryStore store;
  const auto b = sync(store, feed_policy(), {rec("g", "G", "jsmith", "C"), rec("c", "C", "jsmith", "P"), rec("p", "P")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(b.counters.created, 3);
  EXPECT_EQ(b.counters.warnings, 0);
  EXPECT_EQ(b.accounts.size(), 3u) << "each account once, in its final state";
  EXPECT_EQ(parent_of(store, "G"), id_of(store, "C"));
  EXPECT_EQ(parent_of(store, "C"), id_of(store, "P"));
  EXPECT_EQ(parent_of(store, "P"), std::nullopt);
  EXPECT_EQ(store.account_by_code("G")->member_of_code, "C");
}

TEST(Hierarchy, LinksThreeLevelsArrivingChildrenFirstAcrossBatches) {
  MemoryStore store;
  const auto b1 = sync(store, feed_policy(), {rec("g", "G", "jsmith", "C")});
  EXPECT_NE(b1.decisions[0].message.find("pending"), std::string::npos);
  EXPECT_EQ(parent_of(store, "G"), std::nullopt);
  EXPECT_EQ(store.account_by_code("G")->member_of_code, "C") << "kept as a pending code";
  sync(store, feed_policy(), {rec("c", "C", "jsmith", "P")});
  EXPECT_EQ(parent_of(store, "G"), id_of(store, "C"));
  EXPECT_EQ(parent_of(store, "C"), std::nullopt);
  const auto b3 = sync(store, feed_policy(), {rec("p", "P")});
  EXPECT_TRUE(balanced(b3));
  EXPECT_EQ(parent_of(store, "C"), id_of(store, "P"));
  EXPECT_EQ(parent_of(store, "G"), id_of(store, "C"));
  // The children's own records come back unchanged: the links made for them stay.
  const auto again = sync(store, feed_policy(), {rec("g", "G", "jsmith", "C"), rec("c", "C", "jsmith", "P")});
  EXPECT_EQ(again.counters.unchanged, 2);
  EXPECT_TRUE(again.writes_nothing());
}

TEST(Hierarchy, LinksToAParentKnownInTheDatabase) {
  MemoryStore store;
  const EntityId p = seed_account(store, "P", "someone-else");
  sync(store, feed_policy(), {rec("c", "C", "jsmith", " P ")});
  EXPECT_EQ(parent_of(store, "C"), p) << "links cross owners; the parent code is trimmed";
}

TEST(Hierarchy, LinksToAParentRenamedEarlierInTheBatch) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("p", "P-OLD")});
  const EntityId p = id_of(store, "P-OLD");
  const auto b = sync(store, feed_policy(), {rec("p", "P-NEW"), rec("c", "C", "jsmith", "P-NEW")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(parent_of(store, "C"), p);
}

TEST(Hierarchy, LinksPendingChildrenWhenTheirParentGetsTheCodeByARename) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("c", "C", "jsmith", "P-NEW"), rec("p", "P-OLD")});
  EXPECT_EQ(parent_of(store, "C"), std::nullopt);
  sync(store, feed_policy(), {rec("p", "P-NEW")});
  EXPECT_EQ(parent_of(store, "C"), id_of(store, "P-NEW"));
}

TEST(Hierarchy, ClearsTheLinkWhenTheRecordNamesNoParent) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("p", "P"), rec("c", "C", "jsmith", "P")});
  sync(store, feed_policy(), {rec("c", "C", "jsmith", "")});
  EXPECT_EQ(parent_of(store, "C"), std::nullopt);
  EXPECT_EQ(store.account_by_code("C")->member_of_code, "");
}

TEST(Hierarchy, LeavesTheLinkAloneWhenMemberOfIsNotMapped) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("p", "P"), rec("c", "C", "jsmith", "P")});
  IncomingAccount r = rec("c", "C", "jsmith", "", "renamed");
  r.mapped &= ~bit(Field::member_of);
  sync(store, feed_policy(), {r});
  EXPECT_EQ(parent_of(store, "C"), id_of(store, "P"));
}

TEST(Hierarchy, RefusesASelfLinkWithAWarning) {
  MemoryStore store;
  const auto b = sync(store, feed_policy(), {rec("6", "S-1", "jsmith", "S-1")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created:member_of_cycle"}));
  EXPECT_EQ(b.counters.created, 1);
  EXPECT_EQ(b.counters.rejected, 0);
  EXPECT_EQ(b.counters.warnings, 1);
  EXPECT_NE(b.decisions[0].message.find("own parent"), std::string::npos);
  ASSERT_EQ(b.rejections.size(), 1u);
  EXPECT_EQ(b.rejections[0].reason, RejectReason::member_of_cycle);
  EXPECT_EQ(parent_of(store, "S-1"), std::nullopt);
  EXPECT_EQ(store.account_by_code("S-1")->member_of_code, "");
}

TEST(Hierarchy, RefusesALinkThatWouldCloseACycle) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("a", "A", "jsmith", "B"), rec("b", "B", "jsmith", "C"), rec("c", "C")});
  const auto b = sync(store, feed_policy(), {rec("c", "C", "jsmith", "A")});  // C → A → B → C
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"updated:member_of_cycle"}));
  EXPECT_EQ(b.counters.warnings, 1);
  EXPECT_NE(b.decisions[0].message.find("cycle"), std::string::npos);
  EXPECT_EQ(parent_of(store, "C"), std::nullopt);
  EXPECT_EQ(parent_of(store, "A"), id_of(store, "B"));
  EXPECT_FALSE(store.rejection("erp", "accounts", "c", RejectReason::member_of_cycle)->resolved_at);
}

TEST(Hierarchy, RefusesTheLinkThatClosesACycleWithinOneBatch) {
  MemoryStore store;
  // A waits for B; B arrives naming A: A → B is made first, so B → A is the refused one.
  const auto b = sync(store, feed_policy(), {rec("a", "A", "jsmith", "B"), rec("b", "B", "jsmith", "A")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created", "created:member_of_cycle"}));
  EXPECT_EQ(parent_of(store, "A"), id_of(store, "B"));
  EXPECT_EQ(parent_of(store, "B"), std::nullopt);
}

TEST(Hierarchy, ResolvesARefusedLinkWhenTheRecordSyncsWithoutThatParent) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("a", "A", "jsmith", "B"), rec("b", "B", "jsmith", "A")});
  const auto b = sync(store, feed_policy(), {rec("b", "B", "jsmith", "")});
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"updated"}));
  EXPECT_EQ(b.counters.warnings, 0);
  EXPECT_TRUE(store.rejection("erp", "accounts", "b", RejectReason::member_of_cycle)->resolved_at);
}

TEST(Hierarchy, ResolvesARefusedLinkOnceTheCycleIsBroken) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("a", "A", "jsmith", "B"), rec("b", "B", "jsmith", "A")});
  // A leaves B; B's record has not changed, but its refused link is acceptable now.
  const auto b = sync(store, feed_policy(), {rec("a", "A", "jsmith", ""), rec("b", "B", "jsmith", "A")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"updated", "updated"}));
  EXPECT_EQ(b.counters.warnings, 0);
  EXPECT_EQ(parent_of(store, "B"), id_of(store, "A"));
  EXPECT_TRUE(store.rejection("erp", "accounts", "b", RejectReason::member_of_cycle)->resolved_at);
  const auto again = sync(store, feed_policy(), {rec("a", "A", "jsmith", ""), rec("b", "B", "jsmith", "A")});
  EXPECT_EQ(again.counters.unchanged, 2);
  EXPECT_TRUE(again.writes_nothing());
}

TEST(Hierarchy, CountsAnUnchangedRefusedLinkAsAWarningEveryTime) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("6", "S-1", "jsmith", "S-1")});
  const auto b = sync(store, feed_policy(), {rec("6", "S-1", "jsmith", "S-1")});
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"unchanged:member_of_cycle"}));
  EXPECT_EQ(b.counters.warnings, 1);
  ASSERT_EQ(b.rejections.size(), 1u);
  EXPECT_FALSE(b.rejections[0].is_new_or_changed);
  EXPECT_TRUE(b.accounts.empty());
  EXPECT_TRUE(b.resolves.empty());
}

}  // namespace
}  // namespace erpsync::core
