// SPEC §3 rules 1-5, 7, 8, owner resolution, invalid fields, contacts and rejection
// bookkeeping, decided by core::decide() and carried out by MemoryStore.

#include "core/rules/companies.hpp"

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace erpsync::core {
namespace {

using namespace erpsync::core::testing;

const Decision& only_decision(const WriteBatch& b) {
  EXPECT_EQ(b.decisions.size(), 1u);
  return b.decisions.front();
}

// --- Rules 1 and 2 -------------------------------------------------------------------------

TEST(Matcher, TrimsCodesAndComparesThemCaseSensitively) {
  MemoryStore store;
  const auto b = sync(store, feed_policy(), {rec("1", "  C-1\t"), rec("2", "c-1")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(b.counters.created, 2);
  ASSERT_NE(store.account_by_code("C-1"), nullptr);
  ASSERT_NE(store.account_by_code("c-1"), nullptr);
  EXPECT_NE(store.account_by_code("C-1")->id, store.account_by_code("c-1")->id);
}

TEST(Matcher, RejectsRecordsWithoutACode) {
  for (const char* code : {"", "   ", "\t\n"}) {
    MemoryStore store;
    const auto b = sync(store, feed_policy(), {rec("5", code)});
    EXPECT_TRUE(balanced(b));
    EXPECT_EQ(only_decision(b).reason, RejectReason::missing_external_code) << "code '" << code << "'";
    EXPECT_EQ(b.counters.rejected, 1);
    EXPECT_TRUE(store.accounts().empty());
    ASSERT_EQ(b.rejections.size(), 1u);
    EXPECT_EQ(from_payload(b.rejections[0].payload)->get(Field::external_code), code) << "the record as it came";
  }
}

// --- Owner resolution --------------------------------------------------------------------

TEST(Matcher, RejectsOwnersTheOwnersTableDoesNotList) {
  MatchPolicy p = feed_policy();
  p.owners = std::map<std::string, std::string>{{"JS", "jsmith"}};
  MemoryStore store;
  const auto b = sync(store, p, {rec("1", "C-1", "JS"), rec("2", "C-2", "XX"), rec("3", "C-3", "")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created", "rejected:unknown_owner", "created"}));
  EXPECT_EQ(store.account_by_code("C-1")->owner, "jsmith");
  EXPECT_EQ(store.account_by_code("C-3")->owner, "sales");
  EXPECT_EQ(b.rejections[0].incoming_owner, "XX");
  EXPECT_NE(b.decisions[1].message.find("'XX'"), std::string::npos);
}

TEST(Matcher, RejectsARecordWithNoOwnerAtAll) {
  MatchPolicy p = feed_policy();
  p.default_owner.clear();
  MemoryStore store;
  const auto b = sync(store, p, {rec("1", "C-1", "")});
  EXPECT_EQ(only_decision(b).reason, RejectReason::unknown_owner);
}

// --- invalid_field -----------------------------------------------------------------------

TEST(Matcher, RejectsInvalidFields) {
  struct Case {
    const char* what;
    IncomingAccount record;
    const char* message_part;
  };
  auto with = [](Field f, std::string v) {
    IncomingAccount r = rec("1", "C-1");
    r.set(f, std::move(v));
    return r;
  };
  IncomingAccount by_mapper = rec("1", "C-1");
  by_mapper.invalid = "CreatedAt: bad date '31/02'";
  IncomingAccount bad_contact = rec("1", "C-1");
  bad_contact.has_contacts_block = true;
  bad_contact.contacts.push_back(contact("k1", "Ann", std::string(256, 'x')));
  const std::vector<Case> cases = {
      {"code too long", rec("1", std::string(65, 'C')), "external_code is 65 characters"},
      {"name too long", with(Field::name, std::string(256, 'n')), "name is 256 characters"},
      {"vat too long", with(Field::vat, std::string(33, '1')), "vat is 33"},
      {"phone too long", with(Field::phone, std::string(65, '1')), "phone is 65"},
      {"email too long", with(Field::email, std::string(256, 'e')), "email is 256"},
      {"remote id too long", rec(std::string(129, 'r'), "C-1"), "remote_id is 129"},
      {"owner too long", rec("1", "C-1", std::string(65, 'o')), "owner is 65"},
      {"invalid UTF-8", with(Field::name, "D\xFCsseldorf"), "name is not valid UTF-8"},
      {"active unreadable", with(Field::active, "maybe"), "active 'maybe'"},
      {"relationship unknown", with(Field::relationship, "C"), "relationship 'C'"},
      {"set by the mapper", by_mapper, "bad date '31/02'"},
      {"contact too long", bad_contact, "contact 1 last_name is 256"},
  };
  for (const auto& c : cases) {
    MemoryStore store;
    const auto b = sync(store, feed_policy(), {c.record});
    EXPECT_TRUE(balanced(b)) << c.what;
    ASSERT_EQ(b.decisions.size(), 1u) << c.what;
    EXPECT_EQ(b.decisions[0].reason, RejectReason::invalid_field) << c.what;
    EXPECT_NE(b.decisions[0].message.find(c.message_part), std::string::npos) << c.what << ": " << b.decisions[0].message;
    EXPECT_TRUE(store.accounts().empty()) << c.what;
  }
}

TEST(Matcher, CountsLengthsInCharactersNotBytes) {
  MemoryStore store;
  std::string name;
  for (int i = 0; i < 255; ++i) name += "\xC3\xBC";  // 255 × ü: 510 bytes, 255 characters
  const auto b = sync(store, feed_policy(), {rec("1", "C-1", "jsmith", "", name)});
  EXPECT_EQ(only_decision(b).outcome, Outcome::created);
}

// --- Rule 3 ------------------------------------------------------------------------------

TEST(Matcher, CreatesAccountCustomerAndBindingForANewCode) {
  MemoryStore store;
  IncomingAccount r = rec("42", "C-1", "jsmith", "", "ACME");
  r.set(Field::email, "info@acme.test");
  r.set(Field::relationship, "prospect");
  r.set(Field::active, "no");
  const auto b = sync(store, feed_policy("sap"), {r});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(only_decision(b).outcome, Outcome::created);
  ASSERT_EQ(b.accounts.size(), 1u);
  EXPECT_LT(b.accounts[0].ref, 0) << "new rows carry negative refs";
  const AccountRow* a = store.account_by_code("C-1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name, "ACME");
  EXPECT_EQ(a->owner, "jsmith");
  EXPECT_EQ(a->email, "info@acme.test");
  EXPECT_EQ(a->relationship, "prospect");
  EXPECT_FALSE(a->active);
  const CustomerRow* c = store.customer("sap", "42");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, "b2b");
  EXPECT_EQ(c->account_id, a->id);
  EXPECT_EQ(c->name, "ACME");
  const BindingRow* bind = store.binding("sap", "accounts", "42");
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ(bind->entity, "account");
  EXPECT_EQ(bind->entity_id, a->id);
  EXPECT_EQ(bind->payload_hash, payload_hash(r, "jsmith"));
}

TEST(Matcher, DefaultsRelationshipAndActiveWhenUnmapped) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("1", "C-1")});
  EXPECT_EQ(store.account_by_code("C-1")->relationship, "customer");
  EXPECT_TRUE(store.account_by_code("C-1")->active);
}

// --- Rule 4 ------------------------------------------------------------------------------

TEST(Matcher, UpdatesOnlyMappedFieldsAndClearsEmptyOnes) {
  MemoryStore store;
  AccountRow seed;
  seed.external_code = "C-1";
  seed.owner = "jsmith";
  seed.name = "Old";
  seed.phone = "555-CRM";  // not mapped by the feed: kept
  seed.email = "old@x";    // mapped and empty in the record: cleared
  store.insert_account(seed);
  IncomingAccount r = rec("1", "C-1", "jsmith", "", "New");
  r.set(Field::email, "");
  const auto b = sync(store, feed_policy(), {r});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(only_decision(b).outcome, Outcome::updated);
  const AccountRow* a = store.account_by_code("C-1");
  EXPECT_EQ(a->name, "New");
  EXPECT_EQ(a->phone, "555-CRM");
  EXPECT_EQ(a->email, "");
  EXPECT_EQ(b.accounts[0].set & bit(Field::phone), 0u);
}

TEST(Matcher, CountsARecordUnchangedWhenItsHashMatchesAndWritesNothing) {
  MemoryStore store;
  const auto records = std::vector<IncomingAccount>{rec("1", "C-1", "jsmith", "", "ACME")};
  sync(store, feed_policy(), records);
  const auto again = sync(store, feed_policy(), records);
  EXPECT_TRUE(balanced(again));
  EXPECT_EQ(only_decision(again).outcome, Outcome::unchanged);
  EXPECT_TRUE(again.writes_nothing());
}

TEST(Matcher, TreatsCodePaddingAsNoChange) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("1", "C-1")});
  const auto again = sync(store, feed_policy(), {rec("1", " C-1  ")});
  EXPECT_EQ(only_decision(again).outcome, Outcome::unchanged);
}

TEST(Matcher, ClearsTheMissingFlagOfAnUnchangedRecordAndNothingElse) {
  MemoryStore store;
  const auto records = std::vector<IncomingAccount>{rec("1", "C-1")};
  sync(store, feed_policy(), records);
  EXPECT_EQ(store.mark_missing("erp", "accounts", {}), 1);
  EXPECT_TRUE(store.binding("erp", "accounts", "1")->missing_since);
  const auto again = sync(store, feed_policy(), records);
  EXPECT_EQ(only_decision(again).outcome, Outcome::unchanged);
  EXPECT_EQ(again.bindings.size(), 1u);
  EXPECT_TRUE(again.accounts.empty());
  EXPECT_TRUE(again.customers.empty());
  EXPECT_FALSE(store.binding("erp", "accounts", "1")->missing_since);
}

TEST(Matcher, JudgesOwnershipBeforeTheHash) {
  MemoryStore store;
  const auto records = std::vector<IncomingAccount>{rec("1", "C-1", "jsmith")};
  sync(store, feed_policy(), records);
  store.account(store.account_by_code("C-1")->id)->owner = "carol";  // reassigned in the CRM
  const auto again = sync(store, feed_policy(), records);
  EXPECT_EQ(only_decision(again).reason, RejectReason::code_owned_by_other_user);
  EXPECT_EQ(again.rejections[0].existing_owner, "carol");
  EXPECT_EQ(again.rejections[0].incoming_owner, "jsmith");
}

TEST(Matcher, GivesASecondConnectorItsOwnBindingAndCustomer) {
  MemoryStore store;
  sync(store, feed_policy("odoo"), {rec("17", "C-1", "jsmith", "", "From Odoo")});
  const auto b = sync(store, feed_policy("sap"), {rec("A-17", "C-1", "jsmith", "", "From SAP")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(only_decision(b).outcome, Outcome::updated);
  EXPECT_EQ(store.accounts().size(), 1u);
  EXPECT_EQ(store.account_by_code("C-1")->name, "From SAP") << "whichever source changed last";
  ASSERT_NE(store.customer("odoo", "17"), nullptr);
  ASSERT_NE(store.customer("sap", "A-17"), nullptr);
  EXPECT_EQ(store.customer("sap", "A-17")->account_id, store.account_by_code("C-1")->id);
  EXPECT_NE(store.binding("sap", "accounts", "A-17"), nullptr);
}

// --- Rule 5 ------------------------------------------------------------------------------

TEST(Matcher, RejectsCodeOwnedByOtherUser) {
  MemoryStore store;
  seed_account(store, "X-9", "carol");
  const auto b = sync(store, feed_policy(), {rec("4", "X-9", "dave"), rec("5", "N-1", "dave")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"rejected:code_owned_by_other_user", "created"}))
      << "the rest of the batch goes on";
  const Decision& d = b.decisions[0];
  EXPECT_NE(d.message.find("There is already an account with the same code assigned to other users"), std::string::npos);
  EXPECT_NE(d.message.find("X-9"), std::string::npos);
  EXPECT_NE(d.message.find("carol"), std::string::npos);
  EXPECT_NE(d.message.find("dave"), std::string::npos);
  ASSERT_EQ(b.rejections.size(), 1u);
  EXPECT_EQ(b.rejections[0].external_code, "X-9");
  EXPECT_EQ(b.customers.size(), 1u) << "nothing of the rejected record is written";
  EXPECT_EQ(store.account_by_code("X-9")->owner, "carol");
  EXPECT_EQ(store.binding("erp", "accounts", "4"), nullptr);
}

TEST(Matcher, RejectsABoundRecordWhoseOwnerChangedInTheSource) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("1", "C-1", "jsmith")});
  const auto b = sync(store, feed_policy(), {rec("1", "C-1", "dave")});
  EXPECT_EQ(only_decision(b).reason, RejectReason::code_owned_by_other_user);
  EXPECT_EQ(store.account_by_code("C-1")->owner, "jsmith");
}

TEST(Matcher, UpdatesTheOwnerWhenTheSourceHasAuthority) {
  MatchPolicy p = feed_policy();
  p.owner_authority = OwnerAuthority::source;
  MemoryStore store;
  seed_account(store, "X-9", "carol");
  sync(store, p, {rec("1", "C-1", "jsmith")});
  const auto b = sync(store, p, {rec("1", "C-1", "dave"), rec("4", "X-9", "dave")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"updated", "updated"}));
  EXPECT_EQ(store.account_by_code("C-1")->owner, "dave");
  EXPECT_EQ(store.account_by_code("X-9")->owner, "dave");
}

// --- Rule 7 ------------------------------------------------------------------------------

TEST(Matcher, KeepsOnlyTheLastRecordOfARemoteId) {
  MemoryStore store;
  const auto b = sync(store, feed_policy(),
                      {rec("7", "D-1", "", "", "first"), rec("8", "E-1"), rec("7", "D-1", "", "", "second"),
                       rec("7", "D-1", "", "", "third")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"superseded", "created", "superseded", "created"}));
  EXPECT_EQ(b.counters.superseded, 2);
  EXPECT_EQ(b.counters.warnings, 0) << "superseded is not a refused link";
  EXPECT_NE(b.decisions[0].message.find("'7'"), std::string::npos);
  EXPECT_EQ(store.account_by_code("D-1")->name, "third");
}

TEST(Matcher, SupersedesEvenWhenTheCodesDiffer) {
  MemoryStore store;
  const auto b = sync(store, feed_policy(), {rec("7", "OLD"), rec("7", "NEW")});
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"superseded", "created"}));
  EXPECT_EQ(store.account_by_code("OLD"), nullptr);
}

// --- Rule 8 ------------------------------------------------------------------------------

TEST(Matcher, ChangesTheCodeOfABoundRecord) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("1", "C-1")});
  const EntityId id = store.account_by_code("C-1")->id;
  const auto b = sync(store, feed_policy(), {rec("1", "C-1-NEW")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(only_decision(b).outcome, Outcome::updated);
  ASSERT_EQ(b.code_changes.size(), 1u);
  EXPECT_EQ(b.code_changes[0].from, "C-1");
  EXPECT_EQ(b.code_changes[0].to, "C-1-NEW");
  EXPECT_EQ(store.account_by_code("C-1-NEW")->id, id);
  EXPECT_EQ(store.account_by_code("C-1"), nullptr);
  EXPECT_EQ(store.accounts().size(), 1u);
}

TEST(Matcher, SwapsTheCodesOfTwoBoundRecordsInOneBatch) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("1", "A", "jsmith", "", "one"), rec("2", "B", "jsmith", "", "two")});
  const EntityId one = store.account_by_code("A")->id;
  const EntityId two = store.account_by_code("B")->id;
  const auto b = sync(store, feed_policy(), {rec("1", "B", "jsmith", "", "one"), rec("2", "A", "jsmith", "", "two")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"updated", "updated"}));
  EXPECT_EQ(b.code_changes.size(), 2u);
  EXPECT_EQ(store.account_by_code("B")->id, one);
  EXPECT_EQ(store.account_by_code("A")->id, two);
}

TEST(Matcher, RotatesThreeCodesAndRefusesAChangeIntoAHeldCode) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("1", "A"), rec("2", "B"), rec("3", "C"), rec("4", "D")});
  const EntityId a = store.account_by_code("A")->id;
  // 1: A→B, 2: B→C, 3: C→A rotate. 4 wants D→A too: of several changes to one code the first
  // in arrival order (record 3) wins, and 4 is refused.
  const auto b = sync(store, feed_policy(), {rec("1", "B"), rec("2", "C"), rec("3", "A"), rec("4", "A")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"updated", "updated", "updated", "rejected:code_in_use"}));
  EXPECT_EQ(store.account_by_code("B")->id, a);
  EXPECT_NE(store.account_by_code("D"), nullptr) << "the refused record keeps its code";
}

TEST(Matcher, RejectsCodeInUseForAnotherRemoteIdOfTheSameConnector) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("1", "C-1")});
  const auto b = sync(store, feed_policy(), {rec("9", "C-1")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(only_decision(b).reason, RejectReason::code_in_use);
  EXPECT_NE(b.decisions[0].message.find("'1'"), std::string::npos) << "names the remote id holding it";
  EXPECT_EQ(store.binding("erp", "accounts", "9"), nullptr);
}

TEST(Matcher, PrefersCodeOwnedByOtherUserOverCodeInUse) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("1", "C-1", "jsmith")});
  const auto b = sync(store, feed_policy(), {rec("9", "C-1", "dave")});
  EXPECT_EQ(only_decision(b).reason, RejectReason::code_owned_by_other_user);
}

TEST(Matcher, RejectsABoundRecordMovingToACodeHeldByAnotherAccount) {
  MemoryStore store;
  seed_account(store, "MINE", "jsmith");
  seed_account(store, "THEIRS", "carol");
  sync(store, feed_policy(), {rec("1", "C-1", "jsmith")});
  const auto b = sync(store, feed_policy(), {rec("1", "MINE", "jsmith")});
  EXPECT_EQ(only_decision(b).reason, RejectReason::code_in_use) << "the same owner's other account";
  const auto c = sync(store, feed_policy(), {rec("1", "THEIRS", "jsmith")});
  EXPECT_EQ(only_decision(c).reason, RejectReason::code_owned_by_other_user);
  EXPECT_EQ(c.rejections[0].existing_owner, "carol");
  EXPECT_NE(store.account_by_code("C-1"), nullptr);
  EXPECT_TRUE(b.code_changes.empty());
  EXPECT_TRUE(c.code_changes.empty());
}

TEST(Matcher, FindsABoundRecordByItsBindingNotItsCode) {
  MemoryStore store;
  sync(store, feed_policy(), {rec("1", "C-1", "jsmith", "", "ACME")});
  // Remote id 2 brings C-1 while remote id 1 moves to C-2 in the same batch: the binding says
  // which account is which; C-1 was released by record 1 and is now bound to nothing.
  const auto b = sync(store, feed_policy(), {rec("2", "C-1"), rec("1", "C-2", "jsmith", "", "ACME")});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(outcomes(b), (std::vector<std::string>{"created", "updated"}));
  EXPECT_EQ(store.binding("erp", "accounts", "1")->entity_id, store.account_by_code("C-2")->id);
  EXPECT_EQ(store.binding("erp", "accounts", "2")->entity_id, store.account_by_code("C-1")->id);
}

TEST(Matcher, RecreatesAnAccountDeletedInTheCrm) {
  MemoryStore store;
  BindingRow dangling{"erp", "accounts", "1", "account", 999, "oldhash", std::nullopt};
  store.insert_binding(dangling);
  const auto b = sync(store, feed_policy(), {rec("1", "C-1")});
  EXPECT_EQ(only_decision(b).outcome, Outcome::created);
  EXPECT_EQ(store.binding("erp", "accounts", "1")->entity_id, store.account_by_code("C-1")->id);
}

// --- Contacts ----------------------------------------------------------------------------

TEST(Matcher, WritesContactsAndMakesTheFirstTheDefault) {
  MemoryStore store;
  IncomingAccount r = rec("1", "C-1");
  r.has_contacts_block = true;
  r.contacts = {contact("k1", "Ann", "Lee", "ann@x"), contact("k2", "Bob", "Ray")};
  const auto b = sync(store, feed_policy(), {r});
  EXPECT_TRUE(balanced(b));
  ASSERT_EQ(store.contacts().size(), 2u);
  const EntityId acc = store.account_by_code("C-1")->id;
  int defaults = 0;
  for (const auto& [id, c] : store.contacts()) {
    EXPECT_EQ(c.account_id, acc);
    if (c.is_default) {
      ++defaults;
      EXPECT_EQ(c.first_name, "Ann");
    }
  }
  EXPECT_EQ(defaults, 1);
  const BindingRow* k1 = store.binding("erp", "contacts", "k1");
  ASSERT_NE(k1, nullptr);
  EXPECT_EQ(k1->entity, "contact");

  // An edit of a contact changes the company record's hash: the contact is updated in place.
  r.contacts[1].at(ContactField::email) = "bob@x";
  r.contacts.push_back(contact("k3", "Cy", "New"));
  const auto b2 = sync(store, feed_policy(), {r});
  EXPECT_EQ(only_decision(b2).outcome, Outcome::updated);
  EXPECT_EQ(store.contacts().size(), 3u);
  EXPECT_EQ(store.contacts().at(store.binding("erp", "contacts", "k2")->entity_id).email, "bob@x");
  for (const auto& w : b2.contacts) EXPECT_FALSE(w.is_default.has_value()) << "the account has a default already";
}

TEST(Matcher, LeavesAnExistingDefaultContactAlone) {
  MemoryStore store;
  const EntityId acc = seed_account(store, "C-1", "jsmith");
  ContactRow existing;
  existing.account_id = acc;
  existing.first_name = "Boss";
  existing.is_default = true;
  const EntityId boss = store.insert_contact(existing);
  IncomingAccount r = rec("1", "C-1");
  r.has_contacts_block = true;
  r.contacts = {contact("k1", "Ann", "Lee")};
  sync(store, feed_policy(), {r});
  EXPECT_TRUE(store.contacts().at(boss).is_default);
  EXPECT_FALSE(store.contacts().at(store.binding("erp", "contacts", "k1")->entity_id).is_default);
}

// --- Rejection bookkeeping ---------------------------------------------------------------

TEST(Matcher, FlagsARejectionNewOnlyWhenItsReasonOrPayloadChanged) {
  MemoryStore store;
  seed_account(store, "X-9", "carol");
  const auto first = sync(store, feed_policy(), {rec("4", "X-9", "dave")});
  EXPECT_TRUE(first.rejections.at(0).is_new_or_changed);
  const auto same = sync(store, feed_policy(), {rec("4", "X-9", "dave")});
  EXPECT_FALSE(same.rejections.at(0).is_new_or_changed);
  const auto changed = sync(store, feed_policy(), {rec("4", "X-9", "dave", "", "renamed")});
  EXPECT_TRUE(changed.rejections.at(0).is_new_or_changed);
  const RejectionRow* row = store.rejection("erp", "accounts", "4", RejectReason::code_owned_by_other_user);
  EXPECT_EQ(row->times_seen, 3);
  EXPECT_EQ(from_payload(row->payload)->get(Field::name), "renamed");
}

TEST(Matcher, ResolvesOpenRejectionsWhenTheRecordSyncs) {
  MemoryStore store;
  const EntityId x9 = seed_account(store, "X-9", "carol");
  sync(store, feed_policy(), {rec("4", "X-9", "dave")});
  store.account(x9)->owner = "dave";
  const auto b = sync(store, feed_policy(), {rec("4", "X-9", "dave")});
  EXPECT_EQ(only_decision(b).outcome, Outcome::updated);
  ASSERT_EQ(b.resolves.size(), 1u);
  EXPECT_TRUE(b.resolves[0].keep.empty());
  EXPECT_TRUE(store.rejection("erp", "accounts", "4", RejectReason::code_owned_by_other_user)->resolved_at);
  EXPECT_TRUE(store.replayable_rejections("erp", "accounts").empty());
}

TEST(Matcher, ReplaysAStoredPayloadToTheSameHash) {
  MemoryStore store;
  seed_account(store, "X-9", "carol");
  IncomingAccount r = rec("4", " X-9 ", "dave", "", "Name");
  r.has_contacts_block = true;
  r.contacts = {contact("k", "A", "B")};
  const auto b = sync(store, feed_policy(), {r});
  const auto stored = store.replayable_rejections("erp", "accounts");
  ASSERT_EQ(stored.size(), 1u);
  const auto replayed = from_payload(stored[0].payload);
  ASSERT_TRUE(replayed);
  const std::vector<IncomingAccount> again{*replayed};
  const auto b2 = decide(feed_policy(), again, store.load_state(batch_keys(feed_policy(), again)));
  EXPECT_EQ(b2.rejections.at(0).payload_hash, stored[0].payload_hash);
  EXPECT_FALSE(b2.rejections.at(0).is_new_or_changed) << "a replay that ends as before is recognisable";
}

TEST(Matcher, BatchKeysCoverCodesParentsRemoteIdsContactsAndAdoptionKeys) {
  MatchPolicy p = feed_policy();
  p.adopt_by = {Field::vat, Field::name};
  IncomingAccount r = rec("1", " C-1 ", "x", " P-1", "  ACME  Ltd");
  r.set(Field::vat, " DE1 ");
  r.has_contacts_block = true;
  r.contacts = {contact("k1", "A", "B")};
  const std::vector<IncomingAccount> records{r, rec("2", "", "x")};
  const BatchKeys k = batch_keys(p, records);
  EXPECT_EQ(k.connector, "erp");
  EXPECT_EQ(k.stream, "accounts");
  EXPECT_EQ(k.remote_ids, (std::set<std::string>{"1", "2"}));
  EXPECT_EQ(k.codes, (std::set<std::string>{"C-1", "P-1"}));
  EXPECT_EQ(k.contact_remote_ids, (std::set<std::string>{"k1"}));
  EXPECT_EQ(k.adopt_names, (std::set<std::string>{"acme ltd"}));
  EXPECT_EQ(k.adopt_vats, (std::set<std::string>{"DE1"}));
  EXPECT_TRUE(batch_keys(feed_policy(), records).adopt_names.empty()) << "no adopt_by, no adoption keys";
}

}  // namespace
}  // namespace erpsync::core
