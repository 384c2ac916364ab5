// BatchFootprint: when the next batch's state may be read before the batch in flight commits.

#include <gtest/gtest.h>

#include "core/pipeline.hpp"

namespace erpsync::core {
namespace {

BatchKeys keys(std::set<std::string> codes, std::set<std::string> remote_ids = {}) {
  BatchKeys k;
  k.connector = "erp";
  k.stream = "accounts";
  k.codes = std::move(codes);
  k.remote_ids = std::move(remote_ids);
  return k;
}

TEST(BatchFootprint, BatchesWithoutAKeyInCommonDoNotMeet) {
  const BatchFootprint f = BatchFootprint::of(keys({"A", "B"}, {"1", "2"}), WriteBatch{});
  EXPECT_FALSE(f.meets(keys({"C", "D"}, {"3", "4"})));
}

TEST(BatchFootprint, AnyKeyInCommonMeets) {
  const BatchFootprint f = BatchFootprint::of(keys({"A", "PARENT"}, {"1", "2"}), WriteBatch{});
  EXPECT_TRUE(f.meets(keys({"PARENT"}, {"9"})));  // a parent's code (member_of codes are codes too)
  EXPECT_TRUE(f.meets(keys({"Z"}, {"2"})));       // a remote id
  BatchKeys mail = keys({"Z"}, {"9"});
  mail.contact_emails = {"a@example.com"};
  BatchFootprint with_mail = BatchFootprint::of(keys({"A"}, {"1"}), WriteBatch{});
  with_mail.keys.contact_emails = {"a@example.com"};
  EXPECT_TRUE(with_mail.meets(mail));
  BatchKeys contact = keys({"Z"}, {"9"});
  contact.contact_remote_ids = {"c1"};
  BatchFootprint with_contact = BatchFootprint::of(keys({"A"}, {"1"}), WriteBatch{});
  with_contact.keys.contact_remote_ids = {"c1"};
  EXPECT_TRUE(with_contact.meets(contact));
  BatchKeys adopt = keys({"Z"}, {"9"});
  adopt.adopt_vats = {"DE1"};
  BatchFootprint with_vat = BatchFootprint::of(keys({"A"}, {"1"}), WriteBatch{});
  with_vat.keys.adopt_vats = {"DE1"};
  EXPECT_TRUE(with_vat.meets(adopt));
}

TEST(BatchFootprint, AnotherStreamOrConnectorIsNeverReadAhead) {
  const BatchFootprint f = BatchFootprint::of(keys({"A"}), WriteBatch{});
  BatchKeys other = keys({"B"});
  other.stream = "contacts";
  EXPECT_TRUE(f.meets(other));
  other = keys({"B"});
  other.connector = "shop";
  EXPECT_TRUE(f.meets(other));
}

TEST(BatchFootprint, AnAccountLeftWithoutACodeMeetsEveryBatchThatLooksForOneToAdopt) {
  WriteBatch creates_uncoded;
  AccountWrite a;
  a.ref = -1;  // new, no external code
  creates_uncoded.accounts.push_back(a);
  const BatchFootprint f = BatchFootprint::of(keys({"A"}), creates_uncoded);
  BatchKeys adopting = keys({"B"});
  adopting.adopt_names = {"acme"};
  EXPECT_TRUE(f.meets(adopting));
  EXPECT_FALSE(f.meets(keys({"B"})));

  WriteBatch code_taken_away;
  code_taken_away.code_changes.push_back(CodeChange{7, "OLD", ""});
  EXPECT_TRUE(BatchFootprint::of(keys({"OLD"}), code_taken_away).meets(adopting));
}

TEST(BatchFootprint, AStateHoldingAnAccountTheBatchWritesIsStale) {
  WriteBatch b;
  AccountWrite update;
  update.ref = 42;  // an existing account the batch updates (e.g. a pending child it links)
  b.accounts.push_back(update);
  ContactWrite contact;
  contact.ref = -1;
  contact.account = 43;  // a contact for an existing account
  b.contacts.push_back(contact);
  BindingWrite binding{"accounts", "9", "account", 44, "h"};
  b.bindings.push_back(binding);
  CodeChange change{45, "X", "Y"};
  b.code_changes.push_back(change);
  const BatchFootprint f = BatchFootprint::of(keys({"A"}), b);

  for (EntityId id : {42, 43, 44, 45}) {
    StateSnapshot st;
    st.accounts[id].id = id;
    EXPECT_TRUE(f.changes_any_of(st)) << id;
  }
  StateSnapshot other;
  other.accounts[-1].id = -1;
  other.accounts[46].id = 46;
  EXPECT_FALSE(f.changes_any_of(other));
}

}  // namespace
}  // namespace erpsync::core
