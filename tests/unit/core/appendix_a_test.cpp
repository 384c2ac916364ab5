// SPEC Appendix A, run twice through decide() and MemoryStore.

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace erpsync::core {
namespace {

using namespace erpsync::core::testing;

std::vector<IncomingAccount> export_rows(const std::string& name_of_c1) {
  return {
      rec("1", " C-1 ", "jsmith", "", name_of_c1),
      rec("2", "C-2", "jsmith", "C-3", "C-2"),
      rec("3", "C-3", "jsmith", "", "C-3"),
      rec("4", "X-9", "dave", "", "X-9"),
      rec("5", "", "jsmith", "", "no code"),
      rec("6", "S-1", "jsmith", "S-1", "S-1"),
      rec("7", "D-1", "", "", "D-1"),
      rec("7", "D-1", "", "", "D-1"),
      rec("9", "C-1", "jsmith", "", "C-1"),
  };
}

TEST(AppendixA, TwoRunsGiveTheReportsOfTheSpec) {
  MemoryStore store;
  const MatchPolicy policy = feed_policy("erp");
  const EntityId x9 = seed_account(store, "X-9", "carol", "X-9");

  // Run 1.
  const WriteBatch run1 = sync(store, policy, export_rows("C-1"));
  EXPECT_TRUE(balanced(run1));
  EXPECT_EQ(counters(run1.counters),
            "fetched=9 created=5 adopted=0 updated=0 unchanged=0 superseded=1 parked=0 rejected=3 failed=0 warnings=1");
  EXPECT_EQ(outcomes(run1), (std::vector<std::string>{
                                "created", "created", "created", "rejected:code_owned_by_other_user",
                                "rejected:missing_external_code", "created:member_of_cycle", "superseded",
                                "created", "rejected:code_in_use"}));

  const AccountRow* c1 = store.account_by_code("C-1");
  const AccountRow* c2 = store.account_by_code("C-2");
  const AccountRow* c3 = store.account_by_code("C-3");
  const AccountRow* s1 = store.account_by_code("S-1");
  const AccountRow* d1 = store.account_by_code("D-1");
  ASSERT_TRUE(c1 && c2 && c3 && s1 && d1);
  EXPECT_EQ(c1->owner, "jsmith");
  EXPECT_EQ(c2->member_of_id, c3->id) << "C-2 linked once C-3 arrived";
  EXPECT_EQ(s1->member_of_id, std::nullopt);
  EXPECT_EQ(s1->member_of_code, "") << "a refused link is not kept as pending either";
  EXPECT_EQ(d1->owner, "sales");
  EXPECT_EQ(store.account(x9)->owner, "carol");
  EXPECT_EQ(store.accounts().size(), 6u);
  ASSERT_NE(store.customer("erp", "1"), nullptr);
  EXPECT_EQ(store.customer("erp", "1")->kind, "b2b");
  EXPECT_EQ(store.customer("erp", "1")->account_id, c1->id);
  ASSERT_NE(store.binding("erp", "accounts", "7"), nullptr);
  EXPECT_EQ(store.binding("erp", "accounts", "7")->entity_id, d1->id);

  const RejectionRow* r4 = store.rejection("erp", "accounts", "4", RejectReason::code_owned_by_other_user);
  ASSERT_NE(r4, nullptr);
  EXPECT_EQ(r4->existing_owner, "carol");
  EXPECT_EQ(r4->incoming_owner, "dave");
  EXPECT_NE(r4->message.find("There is already an account with the same code assigned to other users"),
            std::string::npos);
  ASSERT_NE(store.rejection("erp", "accounts", "5", RejectReason::missing_external_code), nullptr);
  ASSERT_NE(store.rejection("erp", "accounts", "9", RejectReason::code_in_use), nullptr);
  ASSERT_NE(store.rejection("erp", "accounts", "6", RejectReason::member_of_cycle), nullptr);

  // Between runs an admin reassigns X-9 to dave.
  store.account(x9)->owner = "dave";

  // Run 2: first the replay of the replayable rejections, as its own batch.
  const auto replayable = store.replayable_rejections("erp", "accounts");
  ASSERT_EQ(replayable.size(), 1u) << "missing_external_code and code_in_use are not replayed";
  EXPECT_EQ(replayable[0].remote_id, "4");
  std::vector<IncomingAccount> replay;
  for (const auto& r : replayable) {
    auto record = from_payload(r.payload);
    ASSERT_TRUE(record.has_value());
    replay.push_back(*record);
  }
  const WriteBatch replayed = sync(store, policy, replay);
  EXPECT_TRUE(balanced(replayed));
  EXPECT_EQ(counters(replayed.counters),
            "fetched=1 created=0 adopted=0 updated=1 unchanged=0 superseded=0 parked=0 rejected=0 failed=0 warnings=0");
  EXPECT_TRUE(store.rejection("erp", "accounts", "4", RejectReason::code_owned_by_other_user)->resolved_at);
  EXPECT_EQ(store.binding("erp", "accounts", "4")->entity_id, x9);

  // Then the export.
  const WriteBatch run2 = sync(store, policy, export_rows("C-1 Group"));
  EXPECT_TRUE(balanced(run2));
  EXPECT_EQ(outcomes(run2), (std::vector<std::string>{
                                "updated", "unchanged", "unchanged", "unchanged", "rejected:missing_external_code",
                                "unchanged:member_of_cycle", "superseded", "unchanged", "rejected:code_in_use"}));
  Counters total = replayed.counters;
  total += run2.counters;
  EXPECT_EQ(counters(total),
            "fetched=10 created=0 adopted=0 updated=2 unchanged=5 superseded=1 parked=0 rejected=2 failed=0 warnings=1");

  EXPECT_EQ(store.account_by_code("C-1")->name, "C-1 Group");
  for (const char* rid : {"5", "9"}) {
    const RejectionWrite* w = nullptr;
    for (const auto& r : run2.rejections)
      if (r.remote_id == rid) w = &r;
    ASSERT_NE(w, nullptr) << rid;
    EXPECT_FALSE(w->is_new_or_changed) << "seen again unchanged: counted, not logged";
  }
  EXPECT_EQ(store.rejection("erp", "accounts", "5", RejectReason::missing_external_code)->times_seen, 2);
  EXPECT_EQ(store.rejection("erp", "accounts", "9", RejectReason::code_in_use)->times_seen, 2);
  EXPECT_EQ(store.rejection("erp", "accounts", "6", RejectReason::member_of_cycle)->times_seen, 2);
  EXPECT_FALSE(store.rejection("erp", "accounts", "6", RejectReason::member_of_cycle)->resolved_at);
  EXPECT_EQ(store.accounts().size(), 6u) << "nothing created twice";
}

}  // namespace
}  // namespace erpsync::core
