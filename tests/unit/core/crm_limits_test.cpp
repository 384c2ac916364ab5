// SPEC §5 "CRM targets": what a CRM application's tables cannot hold (SuiteCRM: utf8mb3, shorter
// columns) and owners who are none of its users are one record's rejection each
// (`invalid_field`, `unknown_owner`), decided by the rules before anything is written; the rest
// of the batch goes on. Without a target (erpsync's own schema) nothing changes.

#include <gtest/gtest.h>

#include <memory>

#include "core/rules/crm_limits.hpp"
#include "helpers.hpp"

namespace erpsync::core::testing {
namespace {

std::shared_ptr<const CrmLimits> suitecrm() {
  auto c = std::make_shared<CrmLimits>();
  c->name = "SuiteCRM";
  c->users = {"jsmith", "mrossi"};
  c->bmp_only = true;
  c->account_max[static_cast<std::size_t>(Field::name)] = 150;
  c->contact_max[static_cast<std::size_t>(ContactField::first_name)] = 100;
  return c;
}

TEST(CrmLimits, NonBmpCharactersAreFoundByTheirFourByteSequences) {
  EXPECT_TRUE(has_non_bmp("Emoji \xF0\x9F\x98\x80"));
  EXPECT_TRUE(has_non_bmp("\xF0\xA0\x80\x80"));            // U+20000, a rare CJK character
  EXPECT_FALSE(has_non_bmp("Stra\xC3\x9F" "e \xE2\x82\xAC"));  // ß and €: within the BMP
}

TEST(CrmLimits, WhatTheCrmCannotHoldIsThatRecordsRejectionAndTheBatchGoesOn) {
  MatchPolicy p = feed_policy();
  IncomingAccount ok = rec("1", "K-1", "jsmith", "", "Acme");
  IncomingAccount long_name = rec("2", "K-2", "jsmith", "", std::string(151, 'x'));
  IncomingAccount emoji = rec("3", "K-3", "jsmith", "", "Fun \xF0\x9F\x98\x80 Ltd");
  IncomingAccount stranger = rec("4", "K-4", "nobody", "", "Beta");
  IncomingAccount contact_too_long = rec("5", "K-5", "mrossi", "", "Gamma");
  contact_too_long.contacts.push_back(contact("c1", std::string(101, 'y'), "Doe"));
  const std::vector<IncomingAccount> records = {ok, long_name, emoji, stranger, contact_too_long};

  StateSnapshot st;
  st.crm = suitecrm();
  WriteBatch b = decide(p, records, st);
  EXPECT_EQ(b.counters.created, 1);
  EXPECT_EQ(b.counters.rejected, 4);
  ASSERT_EQ(b.rejections.size(), 4u);
  EXPECT_EQ(b.rejections[0].reason, RejectReason::invalid_field);
  EXPECT_NE(b.rejections[0].message.find("150"), std::string::npos) << b.rejections[0].message;
  EXPECT_EQ(b.rejections[1].reason, RejectReason::invalid_field);
  EXPECT_NE(b.rejections[1].message.find("Basic Multilingual Plane"), std::string::npos);
  EXPECT_EQ(b.rejections[2].reason, RejectReason::unknown_owner);
  EXPECT_NE(b.rejections[2].message.find("'nobody' is no active SuiteCRM user"), std::string::npos);
  EXPECT_EQ(b.rejections[3].reason, RejectReason::invalid_field);
  EXPECT_NE(b.rejections[3].message.find("contact 1 first_name"), std::string::npos) << b.rejections[3].message;

  // erpsync's own schema holds all of them (its owners are whatever logins the source names).
  WriteBatch own = decide(p, records, StateSnapshot{});
  EXPECT_EQ(own.counters.created, 5);
}

}  // namespace
}  // namespace erpsync::core::testing
