// Contacts that arrive as their own stream (Odoo's `contacts`, SPEC §4.2): Contacts of their
// company's Account found through the company's binding, the first the default contact; a
// contact whose company is not synced is parked (rule 10); unchanged by payload hash.

#include "core/rules/contacts.hpp"

#include <gtest/gtest.h>

#include "commerce_helpers.hpp"

namespace erpsync::core::testing {
namespace {

MatchPolicy erp_policy() {
  MatchPolicy p;
  p.connector = "erp";
  p.stream = "contacts";
  p.default_owner = "sales";
  return p;
}

IncomingContactRecord person(std::string id, std::string company, std::string first = "Erika",
                             std::string last = "Muster") {
  IncomingContactRecord c;
  c.remote_id = std::move(id);
  c.company_remote_id = std::move(company);
  c.first_name = std::move(first);
  c.last_name = std::move(last);
  c.email = c.first_name + "@example.com";
  c.phone = "+49 40 1234";
  c.updated_at = "2024-03-04 09:00:00";
  return c;
}

// An account the companies stream created, bound as (erp, companies, remote id).
EntityId company(MemoryStore& store, const std::string& remote_id, const std::string& code) {
  AccountRow a;
  a.external_code = code;
  a.name = "Company " + code;
  a.owner = "jsmith";
  const EntityId id = store.insert_account(a);
  store.insert_binding({"erp", "companies", remote_id, "account", id, "hash-" + code, std::nullopt});
  return id;
}

WriteBatch sync(MemoryStore& store, const std::vector<IncomingContactRecord>& records) {
  std::vector<ContactInput> in;
  for (const auto& r : records) in.push_back({r, Arrival::source, false});
  const MatchPolicy policy = erp_policy();
  const CommerceState state = store.load_commerce_state(contact_keys(policy, in));
  WriteBatch b = decide_contacts(policy, in, state);
  if (!b.writes_nothing()) store.apply(b);
  return b;
}

const ContactRow* contact_of(const MemoryStore& store, const std::string& remote_id) {
  const BindingRow* b = store.binding("erp", "contacts", remote_id);
  if (b == nullptr) return nullptr;
  auto it = store.contacts().find(b->entity_id);
  return it == store.contacts().end() ? nullptr : &it->second;
}

RunOptions options(std::chrono::seconds ttl = std::chrono::hours(24 * 7)) {
  RunOptions o;
  o.batch_size = 2;
  o.park_ttl = ttl;
  return o;
}

SyncReport run(MemoryStore& store, std::vector<std::vector<IncomingContactRecord>> pages,
               const RunOptions& o = options()) {
  ScriptedSource<IncomingContactRecord> source("contacts");
  int n = 0;
  for (auto& records : pages) {
    Page<IncomingContactRecord> p;
    p.records = std::move(records);
    p.cursor_after = "p" + std::to_string(++n);
    source.pages.push_back(std::move(p));
  }
  SyncEvents events;
  return run_stream(erp_policy(), source, store, o, events);
}

TEST(OdooContacts, ContactsLandOnTheirCompanysAccountAndTheFirstIsTheDefault) {
  MemoryStore store;
  const EntityId nordwind = company(store, "41", "C-1");
  const WriteBatch b = sync(store, {person("64", "41"), person("65", "41", "Hans", "Meier")});
  EXPECT_EQ(b.counters.created, 2);
  EXPECT_EQ(b.counters.fetched, 2);
  EXPECT_TRUE(b.counters.balanced());
  ASSERT_EQ(store.contacts().size(), 2U);
  const ContactRow* erika = contact_of(store, "64");
  const ContactRow* hans = contact_of(store, "65");
  ASSERT_NE(erika, nullptr);
  ASSERT_NE(hans, nullptr);
  EXPECT_EQ(erika->account_id, nordwind);
  EXPECT_EQ(hans->account_id, nordwind);
  EXPECT_TRUE(erika->is_default);
  EXPECT_FALSE(hans->is_default);
  EXPECT_EQ(erika->first_name, "Erika");
  EXPECT_EQ(erika->last_name, "Muster");
  EXPECT_EQ(erika->email, "Erika@example.com");
  EXPECT_EQ(erika->phone, "+49 40 1234");
  const BindingRow* binding = store.binding("erp", "contacts", "64");
  EXPECT_EQ(binding->entity, "contact");
  EXPECT_EQ(binding->payload_hash, contact_payload_hash(person("64", "41")));
  EXPECT_EQ(store.account(nordwind)->name, "Company C-1") << "a contact changes none of the account's fields";
}

TEST(OdooContacts, AnAccountThatHasADefaultContactKeepsIt) {
  MemoryStore store;
  const EntityId nordwind = company(store, "41", "C-1");
  ContactRow crm;
  crm.account_id = nordwind;
  crm.last_name = "Typed in the CRM";
  crm.is_default = true;
  const EntityId kept = store.insert_contact(crm);
  sync(store, {person("64", "41")});
  EXPECT_FALSE(contact_of(store, "64")->is_default);
  EXPECT_TRUE(store.contacts().at(kept).is_default);
}

TEST(OdooContacts, AReReadContactIsUnchangedAndWritesNothing) {
  MemoryStore store;
  company(store, "41", "C-1");
  sync(store, {person("64", "41")});
  const auto before = store.now();
  const WriteBatch again = sync(store, {person("64", "41")});
  EXPECT_EQ(again.counters.unchanged, 1);
  EXPECT_TRUE(again.writes_nothing());
  EXPECT_EQ(store.now(), before);
}

TEST(OdooContacts, AnEditedContactUpdatesItsRowAndKeepsItsDefaultFlag) {
  MemoryStore store;
  company(store, "41", "C-1");
  sync(store, {person("64", "41")});
  const EntityId id = store.binding("erp", "contacts", "64")->entity_id;
  IncomingContactRecord edited = person("64", "41");
  edited.email = "erika.muster@nordwind.example";
  const WriteBatch b = sync(store, {edited});
  EXPECT_EQ(b.counters.updated, 1);
  ASSERT_EQ(store.contacts().size(), 1U);
  EXPECT_EQ(store.contacts().at(id).email, "erika.muster@nordwind.example");
  EXPECT_TRUE(store.contacts().at(id).is_default);
  EXPECT_EQ(store.binding("erp", "contacts", "64")->payload_hash, contact_payload_hash(edited));
}

TEST(OdooContacts, AnArchivedContactIsInactiveAndNotMadeTheDefault) {
  MemoryStore store;
  company(store, "41", "C-1");
  IncomingContactRecord archived = person("64", "41");
  archived.active = false;
  sync(store, {archived, person("65", "41", "Hans", "Meier")});
  EXPECT_FALSE(contact_of(store, "64")->active);
  EXPECT_FALSE(contact_of(store, "64")->is_default);
  EXPECT_TRUE(contact_of(store, "65")->active);
  EXPECT_TRUE(contact_of(store, "65")->is_default);

  // Archived later: stays, inactive; the flag is the CRM's from then on.
  IncomingContactRecord hans = person("65", "41", "Hans", "Meier");
  hans.active = false;
  EXPECT_EQ(sync(store, {hans}).counters.updated, 1);
  EXPECT_FALSE(contact_of(store, "65")->active);
  EXPECT_EQ(store.contacts().size(), 2U);
}

TEST(OdooContacts, AContactMovingToAnotherCompanyTakesTheDefaultOnlyWhereThereIsNone) {
  MemoryStore store;
  const EntityId a = company(store, "41", "C-1");
  const EntityId b = company(store, "58", "C-2");
  sync(store, {person("64", "41"), person("70", "58", "Bea", "Bauer")});
  ASSERT_TRUE(contact_of(store, "64")->is_default);
  ASSERT_TRUE(contact_of(store, "70")->is_default);

  // Erika (A's default) moves to B, which has Bea as its default; Hans joins A in the same batch.
  const WriteBatch w = sync(store, {person("64", "58"), person("65", "41", "Hans", "Meier")});
  EXPECT_EQ(w.counters.updated, 1);
  EXPECT_EQ(w.counters.created, 1);
  EXPECT_EQ(contact_of(store, "64")->account_id, b);
  EXPECT_FALSE(contact_of(store, "64")->is_default);
  EXPECT_TRUE(contact_of(store, "70")->is_default);
  EXPECT_EQ(contact_of(store, "65")->account_id, a);
  EXPECT_TRUE(contact_of(store, "65")->is_default) << "A's default place was free";
  int defaults_a = 0, defaults_b = 0;
  for (const auto& [id, c] : store.contacts()) {
    if (c.is_default && c.account_id == a) ++defaults_a;
    if (c.is_default && c.account_id == b) ++defaults_b;
  }
  EXPECT_EQ(defaults_a, 1);
  EXPECT_EQ(defaults_b, 1);
}

TEST(OdooContacts, SupersededAndInvalidRecordsAreCountedAndBalanced) {
  MemoryStore store;
  company(store, "41", "C-1");
  IncomingContactRecord too_long = person("66", "41");
  too_long.phone = std::string(65, '1');
  IncomingContactRecord bad_wire = person("67", "41");
  bad_wire.invalid = "res.partner 67: field 'email' is int, expected a string or false";
  const WriteBatch b = sync(store, {person("64", "41", "Old"), person("64", "41", "New"), too_long, bad_wire});
  EXPECT_EQ(b.counters.superseded, 1);
  EXPECT_EQ(b.counters.created, 1);
  EXPECT_EQ(b.counters.rejected, 2);
  EXPECT_EQ(b.counters.fetched, 4);
  EXPECT_TRUE(b.counters.balanced());
  EXPECT_EQ(contact_of(store, "64")->first_name, "New");
  EXPECT_NE(store.rejection("erp", "contacts", "66", RejectReason::invalid_field), nullptr);
  EXPECT_NE(store.rejection("erp", "contacts", "67", RejectReason::invalid_field), nullptr);
}

TEST(OdooContacts, AContactWhoseCompanyIsNotSyncedIsParkedThenWrittenWhenTheCompanyArrives) {
  MemoryStore store;
  const SyncReport first = run(store, {{person("64", "41"), person("80", "99")}});
  ASSERT_EQ(first.status, core::RunStatus::ok) << first.message;
  EXPECT_EQ(first.counters.parked, 2);
  EXPECT_TRUE(first.counters.balanced());
  EXPECT_TRUE(store.contacts().empty());
  const ParkedRow* p = store.parked_row("erp", "contacts", "64");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->waits_for, "company 41");
  EXPECT_EQ(contact_from_payload(p->payload)->first_name, "Erika");
  EXPECT_EQ(store.cursors().at({"erp", "contacts"}).cursor, "p1");

  // A run while the company is still missing: the retry writes and counts nothing.
  const auto before = store.now();
  const SyncReport quiet = run(store, {});
  EXPECT_EQ(quiet.counters.fetched, 0);
  EXPECT_EQ(store.now(), before + 2);  // begin_run and finish_run only

  // The companies stream brings 41: the next contacts run writes its contact first thing.
  const EntityId nordwind = company(store, "41", "C-1");
  const SyncReport second = run(store, {});
  EXPECT_EQ(second.counters.fetched, 1);
  EXPECT_EQ(second.counters.created, 1);
  EXPECT_TRUE(second.counters.balanced());
  EXPECT_EQ(store.parked_row("erp", "contacts", "64"), nullptr);
  EXPECT_NE(store.parked_row("erp", "contacts", "80"), nullptr);
  ASSERT_NE(contact_of(store, "64"), nullptr);
  EXPECT_EQ(contact_of(store, "64")->account_id, nordwind);
  EXPECT_TRUE(contact_of(store, "64")->is_default);
}

TEST(OdooContacts, AParkedContactSentAgainChangedIsParkedWithTheNewPayloadOnce) {
  MemoryStore store;
  run(store, {{person("64", "41")}});
  IncomingContactRecord edited = person("64", "41");
  edited.email = "new@example.com";
  const SyncReport r = run(store, {{edited}});
  EXPECT_EQ(r.counters.parked, 1);
  EXPECT_EQ(r.counters.fetched, 1);
  EXPECT_EQ(contact_from_payload(store.parked_row("erp", "contacts", "64")->payload)->email, "new@example.com");
  EXPECT_EQ(store.parked().size(), 1U);
}

TEST(OdooContacts, AParkedContactExpiresIntoAccountNotFoundAndSyncsOnceItsCompanyArrives) {
  MemoryStore store;
  const auto ttl = std::chrono::seconds(3600);
  run(store, {{person("64", "41")}}, options(ttl));
  store.set_wall_clock(3600);
  const SyncReport expired = run(store, {}, options(ttl));
  EXPECT_EQ(expired.counters.rejected, 1);
  EXPECT_EQ(expired.counters.fetched, 1);
  EXPECT_EQ(store.parked_row("erp", "contacts", "64"), nullptr);
  const RejectionRow* rej = store.rejection("erp", "contacts", "64", RejectReason::account_not_found);
  ASSERT_NE(rej, nullptr);
  EXPECT_FALSE(rej->resolved_at);

  // Still no company: the replay ends as before, nothing counted.
  EXPECT_EQ(run(store, {}, options(ttl)).counters.fetched, 0);

  company(store, "41", "C-1");
  const SyncReport synced = run(store, {}, options(ttl));
  EXPECT_EQ(synced.counters.created, 1);
  EXPECT_TRUE(synced.counters.balanced());
  EXPECT_TRUE(store.rejection("erp", "contacts", "64", RejectReason::account_not_found)->resolved_at);
  EXPECT_NE(contact_of(store, "64"), nullptr);
}

TEST(OdooContacts, APayloadRoundTripsExactly) {
  IncomingContactRecord c = person("0", "41", "Zoë", "");
  c.active = false;
  c.invalid = "bad";
  const auto back = contact_from_payload(to_contact_payload(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->remote_id, "0");
  EXPECT_EQ(back->company_remote_id, "41");
  EXPECT_EQ(back->first_name, "Zoë");
  EXPECT_FALSE(back->active);
  EXPECT_EQ(back->invalid, std::optional<std::string>("bad"));
  EXPECT_EQ(contact_payload_hash(*back), contact_payload_hash(c));
  IncomingContactRecord other = c;
  other.updated_at = "2030-01-01 00:00:00";
  EXPECT_EQ(contact_payload_hash(other), contact_payload_hash(c)) << "a save that changes nothing mapped";
  other.active = true;
  EXPECT_NE(contact_payload_hash(other), contact_payload_hash(c));
}

// A feed's contacts (a CSV feed's contacts file, SPEC §4.3) find their company through the
// stream that binds the feed's companies, "accounts" (MatchPolicy::company_stream).
TEST(FeedContacts, TheCompanyIsFoundThroughThePolicysCompanyStream) {
  MemoryStore store;
  AccountRow a;
  a.external_code = "10001";
  a.name = "Alpha";
  a.owner = "sales";
  const EntityId alpha = store.insert_account(a);
  store.insert_binding({"erp", "accounts", "10001", "account", alpha, "h", std::nullopt});
  MatchPolicy policy = erp_policy();
  std::vector<ContactInput> in{{person("601", "10001"), Arrival::source, false}};
  const WriteBatch odoo_like = decide_contacts(policy, in, store.load_commerce_state(contact_keys(policy, in)));
  EXPECT_EQ(odoo_like.counters.parked, 1) << "not bound under \"companies\"";
  policy.company_stream = "accounts";
  const WriteBatch b = decide_contacts(policy, in, store.load_commerce_state(contact_keys(policy, in)));
  store.apply(b);
  EXPECT_EQ(b.counters.created, 1);
  ASSERT_NE(contact_of(store, "601"), nullptr);
  EXPECT_EQ(contact_of(store, "601")->account_id, alpha);
}

// A parked contact, then rejected after park_ttl, that its company's record wrote since (a feed
// joins the row to its company once the companies file has it: bound with no payload hash) is
// settled by its retry and its replay: parked row gone, rejection resolved, nothing written or
// counted, so the contact is written once.
TEST(FeedContacts, ARetriedContactThatItsCompanysRecordWroteIsSettledNotWrittenAgain) {
  MemoryStore store;
  run(store, {{person("64", "41"), person("65", "41", "Hans", "Meier")}});
  const auto ttl = std::chrono::seconds(3600);
  store.set_wall_clock(3600);
  // 64 expires into account_not_found; 65 was parked again later (re-sent changed).
  IncomingContactRecord hans = person("65", "41", "Hans", "Meier");
  hans.phone = "+49 40 9999";
  run(store, {{hans}}, options(ttl));
  ASSERT_NE(store.rejection("erp", "contacts", "64", RejectReason::account_not_found), nullptr);
  ASSERT_NE(store.parked_row("erp", "contacts", "65"), nullptr);

  // The company's record arrives with both contacts nested and writes them.
  const EntityId nordwind = company(store, "41", "C-1");
  for (const char* rid : {"64", "65"}) {
    ContactRow row;
    row.account_id = nordwind;
    row.last_name = std::string("nested ") + rid;
    const EntityId id = store.insert_contact(row);
    store.insert_binding({"erp", "contacts", rid, "contact", id, "", std::nullopt});
  }
  const std::size_t rows = store.contacts().size();
  const SyncReport settled = run(store, {}, options(ttl));
  ASSERT_EQ(settled.status, core::RunStatus::ok) << settled.message;
  EXPECT_EQ(settled.counters.fetched, 0);
  EXPECT_EQ(store.contacts().size(), rows);
  EXPECT_EQ(contact_of(store, "64")->last_name, "nested 64") << "not overwritten by the stored payload";
  EXPECT_EQ(contact_of(store, "65")->last_name, "nested 65");
  EXPECT_EQ(store.binding("erp", "contacts", "65")->payload_hash, "");
  EXPECT_EQ(store.parked_row("erp", "contacts", "65"), nullptr);
  EXPECT_TRUE(store.rejection("erp", "contacts", "64", RejectReason::account_not_found)->resolved_at);

  // From the source, the same contact is a contact record like any other: written.
  const SyncReport sent = run(store, {{person("64", "41")}}, options(ttl));
  EXPECT_EQ(sent.counters.updated, 1);
  EXPECT_EQ(contact_of(store, "64")->last_name, "Muster");
}

}  // namespace
}  // namespace erpsync::core::testing

