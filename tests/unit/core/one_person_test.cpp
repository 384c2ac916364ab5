// SPEC §3 rule 12, one person, one Contact, against the reference store: a feed's contact, an
// Odoo contact and a Magento customer with the same e-mail (trimmed, any case) at one Account are
// one Contact, each source with its own binding, the fields the last source's; no e-mail, an
// e-mail two Contacts share, and another Account: a Contact of its own. And a duplicate merged
// away (sync_merges) is no adoption candidate (rule 9).

#include <gtest/gtest.h>

#include "commerce_helpers.hpp"
#include "core/rules/contacts.hpp"
#include "core/rules/persons.hpp"
#include "helpers.hpp"

namespace erpsync::core::testing {
namespace {

IncomingAccount company_with(std::string id, std::string code, std::vector<IncomingContact> people) {
  IncomingAccount r = rec(std::move(id), std::move(code), "alice", "", "ACME");
  r.has_contacts_block = true;
  r.contacts = std::move(people);
  return r;
}

const ContactRow& bound_contact(const MemoryStore& store, const std::string& connector, const std::string& rid) {
  const BindingRow* b = store.binding(connector, "contacts", rid);
  EXPECT_NE(b, nullptr) << connector << " " << rid;
  static const ContactRow none;
  if (b == nullptr) return none;
  auto it = store.contacts().find(b->entity_id);
  return it == store.contacts().end() ? none : it->second;
}

std::size_t contacts_of(const MemoryStore& store, EntityId account) {
  std::size_t n = 0;
  for (const auto& [id, c] : store.contacts()) n += c.account_id == account ? 1 : 0;
  return n;
}

TEST(OnePerson, TheErpsContactAndTheShopsCustomerWithTheEmailInAnotherCaseAreOneContact) {
  MemoryStore store;
  sync(store, feed_policy(), {company_with("1", "K-1", {contact("p1", "Anna", "Bianchi", "anna@acme.example")})});
  const EntityId acme = store.account_by_code("K-1")->id;
  ASSERT_EQ(store.contacts().size(), 1u);
  const EntityId anna = store.contacts().begin()->first;

  IncomingCustomer shop = customer("501", "K-1", "Anna", "Bianchi-Rossi");
  shop.email = "  Anna@ACME.Example ";
  shop.phone = "+39 02 1";
  const WriteBatch b = sync_customers(store, {shop});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(b.counters.created, 1) << counters(b.counters);  // the customer is new; the Contact is not
  ASSERT_EQ(store.contacts().size(), 1u) << "one person, one Contact";
  EXPECT_EQ(store.customer("shop", "501")->contact_id, anna) << "the Customer row points at the Contact";
  // Each source keeps its own binding to it.
  EXPECT_EQ(store.binding("shop", "contacts", "501")->entity_id, anna);
  EXPECT_EQ(store.binding("erp", "contacts", "p1")->entity_id, anna);
  // The fields are the last source's; the ERP's default contact stays the default.
  const ContactRow& c = store.contacts().at(anna);
  EXPECT_EQ(c.last_name, "Bianchi-Rossi");
  EXPECT_EQ(c.phone, "+39 02 1");
  EXPECT_EQ(c.account_id, acme);
  EXPECT_TRUE(c.is_default);

  // The ERP changes her afterwards: its fields win now, still one Contact.
  IncomingContact changed = contact("p1", "Anna", "Bianchi", "anna@acme.example");
  changed.at(ContactField::phone) = "+39 02 2";
  sync(store, feed_policy(), {company_with("1", "K-1", {changed})});
  ASSERT_EQ(store.contacts().size(), 1u);
  EXPECT_EQ(store.contacts().at(anna).last_name, "Bianchi");
  EXPECT_EQ(store.contacts().at(anna).email, "anna@acme.example");
  EXPECT_EQ(store.contacts().at(anna).phone, "+39 02 2");
  EXPECT_TRUE(store.contacts().at(anna).is_default);
  // The shop's customer sends the same again: unchanged, and the flag is not touched.
  const WriteBatch again = sync_customers(store, {shop});
  EXPECT_EQ(again.counters.unchanged, 1) << counters(again.counters);
  EXPECT_TRUE(store.contacts().at(anna).is_default);
}

TEST(OnePerson, TheSameEmailAtTwoAccountsIsTwoContactsAndTheShopJoinsItsOwnAccountsOne) {
  MemoryStore store;
  sync(store, feed_policy(),
       {company_with("1", "K-1", {contact("p1", "Anna", "B", "anna@x.example")}),
        company_with("2", "K-2", {contact("p2", "Anna", "B", "anna@x.example")})});
  ASSERT_EQ(store.contacts().size(), 2u) << "never merged across Accounts";
  const EntityId k2 = store.account_by_code("K-2")->id;
  IncomingCustomer shop = customer("9", "K-2", "Anna", "B");
  shop.email = "ANNA@x.example";
  sync_customers(store, {shop});
  EXPECT_EQ(store.contacts().size(), 2u);
  EXPECT_EQ(bound_contact(store, "shop", "9").account_id, k2);
  EXPECT_EQ(store.customer("shop", "9")->contact_id, store.binding("erp", "contacts", "p2")->entity_id);
}

TEST(OnePerson, NoEmailOrAnEmailTwoContactsShareMakesANewContactAsBefore) {
  MemoryStore store;
  sync(store, feed_policy(), {company_with("1", "K-1", {contact("p1", "Anna", "B", "")})});
  const EntityId acme = store.account_by_code("K-1")->id;
  // Two old Contacts of one person, from before the rule: left as they are.
  store.insert_contact({0, acme, "Bo", "Old", "bo@x.example", "", false, true});
  store.insert_contact({0, acme, "Bo", "Older", "Bo@X.example", "", false, true});
  IncomingCustomer no_email = customer("1", "K-1", "Anna", "B");
  no_email.email = "";
  IncomingCustomer shared = customer("2", "K-1", "Bo", "New");
  shared.email = "bo@x.example";
  const WriteBatch b = sync_customers(store, {no_email, shared});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(contacts_of(store, acme), 5u);
  EXPECT_EQ(bound_contact(store, "shop", "2").last_name, "New");
  EXPECT_EQ(store.contacts().at(store.binding("erp", "contacts", "p1")->entity_id).first_name, "Anna")
      << "a person without an e-mail is never merged";
}

TEST(OnePerson, TwoCustomersOfOneBatchWithOneEmailAreOneContact) {
  MemoryStore store;
  seed_account(store, "K-1", "alice", "ACME");
  IncomingCustomer a = customer("1", "K-1", "Anna", "B");
  IncomingCustomer b = customer("2", "K-1", "Anna", "Bianchi");
  b.email = "anna@EXAMPLE.com";
  const WriteBatch batch = sync_customers(store, {a, b});
  EXPECT_TRUE(balanced(batch));
  ASSERT_EQ(store.contacts().size(), 1u);
  EXPECT_EQ(store.contacts().begin()->second.last_name, "Bianchi") << "the later record's fields";
  EXPECT_EQ(store.customer("shop", "1")->contact_id, store.customer("shop", "2")->contact_id);
}

MatchPolicy odoo_contacts() {
  MatchPolicy p;
  p.connector = "odoo";
  p.stream = "contacts";
  p.default_owner = "sales";
  return p;
}

TEST(OnePerson, AnOdooContactWithAContactsEmailIsBoundToItAndCountedUpdated) {
  MemoryStore store;
  const EntityId acme = seed_account(store, "K-1", "alice", "ACME");
  store.insert_binding({"odoo", "companies", "41", "account", acme, "h", std::nullopt});
  const EntityId erika = store.insert_contact({0, acme, "Erika", "M", " Erika@Example.com", "", true, true});
  IncomingContactRecord c;
  c.remote_id = "64";
  c.company_remote_id = "41";
  c.first_name = "Erika";
  c.last_name = "Muster";
  c.email = "erika@example.com";
  std::vector<ContactInput> in = {{c, Arrival::source, false}};
  const CommerceState state = store.load_commerce_state(contact_keys(odoo_contacts(), in));
  const WriteBatch b = decide_contacts(odoo_contacts(), in, state);
  store.apply(b);
  EXPECT_EQ(b.counters.updated, 1) << counters(b.counters);
  ASSERT_EQ(store.contacts().size(), 1u);
  EXPECT_EQ(store.binding("odoo", "contacts", "64")->entity_id, erika);
  EXPECT_EQ(store.contacts().at(erika).last_name, "Muster");
  EXPECT_TRUE(store.contacts().at(erika).is_default);
}

TEST(OnePerson, EmailsCompareTrimmedAndCaseInsensitively) {
  StateSnapshot view;
  note_person(view, 7, " Anna@ACME.example\t", 70);
  EXPECT_EQ(same_person(view, 7, "anna@acme.EXAMPLE"), std::optional<EntityId>(70));
  EXPECT_EQ(same_person(view, 8, "anna@acme.example"), std::nullopt) << "another Account";
  EXPECT_EQ(same_person(view, 7, ""), std::nullopt);
  note_person(view, 7, "anna@acme.example", 71);
  EXPECT_EQ(same_person(view, 7, "anna@acme.example"), std::nullopt) << "two Contacts share it: no merging";
}

TEST(MergedDuplicates, ACustomerWhoseOwnAccountWasMergedIntoACodedOneAttachesWithoutWritingIt) {
  MemoryStore store;
  const EntityId acme = seed_account(store, "K-9", "ecommerce", "ACME S.p.A.");
  // What `erpsyncd merge` leaves: the customer's own-account binding names the coded Account.
  store.insert_binding({"shop", "accounts", "7", "account", acme, "", std::nullopt});
  const std::size_t accounts = store.accounts().size();
  IncomingCustomer c = customer("7", "", "Anna", "Berger", "Anna's shop");
  const WriteBatch b = sync_customers(store, {c});
  EXPECT_TRUE(balanced(b));
  EXPECT_EQ(store.accounts().size(), accounts) << "no account of its own created again";
  EXPECT_EQ(store.account(acme)->name, "ACME S.p.A.") << "the ERP's fields are not the customer's to write";
  EXPECT_EQ(store.customer("shop", "7")->account_id, acme);
}

TEST(MergedDuplicates, AnAccountMergedIntoAnotherIsNoAdoptionCandidate) {
  MemoryStore store;
  const EntityId keep = seed_account(store, "", "alice", "Initech");
  const EntityId dup = seed_account(store, "", "alice", "INITECH");
  MatchPolicy policy = feed_policy();
  policy.adopt_by = {Field::name};
  IncomingAccount r = rec("5", "K-5", "alice", "", "Initech");
  const WriteBatch before = decide(policy, std::vector<IncomingAccount>{r},
                                   store.load_state(batch_keys(policy, std::vector<IncomingAccount>{r})));
  EXPECT_EQ(before.counters.rejected, 1) << "two look-alikes: ambiguous";
  store.record_merge(dup);
  const WriteBatch after = sync(store, policy, {r});
  EXPECT_EQ(after.counters.adopted, 1) << counters(after.counters);
  EXPECT_EQ(store.account(keep)->external_code, "K-5");
  EXPECT_EQ(store.account(dup)->external_code, "");
}

}  // namespace
}  // namespace erpsync::core::testing
