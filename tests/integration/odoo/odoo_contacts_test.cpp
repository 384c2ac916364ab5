// The Odoo "contacts" stream (SPEC §4.2) against FakeOdoo over real HTTP, through the commerce
// engine into a MemoryStore, beside the "companies" stream: contacts land on their company's
// Account (the first the default contact), wait parked for a company not synced yet, update,
// archive, and page safely while Odoo changes under them. Over both protocols (suite
// OdooContactsStream/Protocols, parameter xmlrpc or json2).

#include <cstdio>

#include <gtest/gtest.h>

#include "connectors/odoo/json2_transport.hpp"
#include "connectors/odoo/odoo_source.hpp"
#include "core/engine.hpp"
#include "reference_store/memory_store.hpp"
#include "support/fake_odoo.hpp"

namespace erpsync::connectors::odoo {
namespace {

using erpsync::testing::FakeOdoo;
using erpsync::testing::FakeReply;
using namespace std::chrono_literals;

Value::Struct company(std::int64_t id, std::string name, std::string ref, std::string write_date) {
  return {{"id", id},           {"name", std::move(name)}, {"ref", std::move(ref)},
          {"is_company", true}, {"user_id", 7},            {"write_date", std::move(write_date)}};
}

Value::Struct person(std::int64_t id, std::string name, std::int64_t parent, std::string write_date) {
  return {{"id", id},
          {"name", std::move(name)},
          {"is_company", false},
          {"parent_id", parent},
          {"email", "p" + std::to_string(id) + "@example.com"},
          {"write_date", std::move(write_date)}};
}

Value::Struct with_phone(Value::Struct s, std::string phone) {
  s.emplace_back("phone", std::move(phone));
  return s;
}

enum class Protocol { xmlrpc, json2 };

class OdooContactsStream : public ::testing::TestWithParam<Protocol> {
 protected:
  OdooContactsStream() {
    odoo.add_user(7, "erika@example.com", "Erika Beispiel");
    companies_policy.connector = contacts_policy.connector = "erp";
    companies_policy.default_owner = contacts_policy.default_owner = "admin";
    companies_policy.stream = "companies";
    contacts_policy.stream = "contacts";
  }

  std::unique_ptr<OdooTransport> transport() {
    http::ClientOptions o;
    o.timeouts.connect = 2s;
    o.timeouts.total = 5s;
    o.secrets.push_back(FakeOdoo::kPassword);
    if (GetParam() == Protocol::json2) {
      Json2Settings s;
      s.connector = "erp";
      s.url = odoo.url() + "/";
      s.db = FakeOdoo::kDb;
      s.user = FakeOdoo::kLogin;
      s.api_key = FakeOdoo::kPassword;
      return std::make_unique<Json2Transport>(std::move(s), std::make_shared<http::CurlHttpClient>(o));
    }
    XmlRpcSettings s;
    s.connector = "erp";
    s.url = odoo.url() + "/";
    s.db = FakeOdoo::kDb;
    s.user = FakeOdoo::kLogin;
    s.password = FakeOdoo::kPassword;
    return std::make_unique<XmlRpcTransport>(std::move(s), std::make_shared<http::CurlHttpClient>(o));
  }

  OdooSourceOptions options(int page_size) {
    OdooSourceOptions o;
    o.connector = "erp";
    o.page_size = page_size;
    o.cursor_overlap = 30s;
    o.individuals = individuals;
    o.name_split = name_split;
    return o;
  }

  core::SyncReport run_companies() {
    OdooCompaniesSource src(options(500), transport());
    core::RunOptions o;
    o.batch_size = 100;
    core::SyncEvents events;
    return core::run_stream(companies_policy, src, store, o, events);
  }

  core::SyncReport run_contacts(int page_size = 500, std::size_t batch_size = 100) {
    OdooContactsSource src(options(page_size), transport());
    core::RunOptions o;
    o.batch_size = batch_size;
    o.park_ttl = std::chrono::hours(24 * 7);
    core::SyncEvents events;
    return core::run_stream(contacts_policy, src, store, o, events);
  }

  const core::ContactRow* contact(const std::string& remote_id) const {
    const core::BindingRow* b = store.binding("erp", "contacts", remote_id);
    if (b == nullptr) return nullptr;
    const auto it = store.contacts().find(b->entity_id);
    return it == store.contacts().end() ? nullptr : &it->second;
  }

  std::string cursor(const std::string& stream) const {
    const auto it = store.cursors().find({"erp", stream});
    return it == store.cursors().end() ? "" : it->second.cursor;
  }

  std::vector<FakeOdoo::Call> partner_reads() const {
    std::vector<FakeOdoo::Call> out;
    for (const auto& c : odoo.calls())
      if (c.model == "res.partner" && c.model_method == "search_read") out.push_back(c);
    return out;
  }

  FakeOdoo odoo;
  core::MemoryStore store;
  core::MatchPolicy companies_policy, contacts_policy;
  bool individuals = false;
  OdooConfig::NameSplit name_split = OdooConfig::NameSplit::last_space;
};

TEST(OdooContactNames, OdoosOneNameIsSplitAtItsLastSpace) {
  EXPECT_EQ(split_person_name("Erika Muster"), std::make_pair(std::string("Erika"), std::string("Muster")));
  EXPECT_EQ(split_person_name("  Jean Paul\t Sartre "), std::make_pair(std::string("Jean Paul"), std::string("Sartre")));
  EXPECT_EQ(split_person_name("Cher"), std::make_pair(std::string(), std::string("Cher")));
  EXPECT_EQ(split_person_name(""), std::make_pair(std::string(), std::string()));
}

// name_split: first_space for names written family name first; none keeps the whole name.
TEST(OdooContactNames, NameSplitFirstSpaceAndNone) {
  using NS = OdooConfig::NameSplit;
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(split_person_name("Wang Xiaoming", NS::first_space), P("Xiaoming", "Wang"));
  EXPECT_EQ(split_person_name("Nagy  Ferenc Péter ", NS::first_space), P("Ferenc Péter", "Nagy"));
  EXPECT_EQ(split_person_name("山田 太郎", NS::first_space), P("太郎", "山田"));
  EXPECT_EQ(split_person_name("Cher", NS::first_space), P("", "Cher"));
  EXPECT_EQ(split_person_name(" Wang Xiaoming ", NS::none), P("", "Wang Xiaoming"));
  EXPECT_EQ(split_person_name("", NS::none), P("", ""));
}

TEST_P(OdooContactsStream, ContactsLandOnTheirCompanysAccountWithTheFirstAsDefault) {
  odoo.add_partner(company(41, "Nordwind Handels GmbH", "C-10042", "2024-03-04 08:15:02"));
  odoo.add_partner(company(58, "Blue Heron Supplies Ltd", "B-58", "2024-03-04 08:15:02"));
  odoo.add_partner(person(64, "Erika Muster", 41, "2024-03-04 09:00:00"));
  odoo.add_partner(with_phone(person(65, "Hans Peter Meier", 41, "2024-03-04 09:05:00"), "+49 40 555"));
  odoo.add_partner(person(66, "Ann Lee", 58, "2024-03-04 09:01:00"));
  // A private person without a company: not a contact of any Account, never read.
  odoo.add_partner({{"id", 90}, {"name", "Walk-in"}, {"is_company", false}, {"write_date", "2024-03-04 09:02:00"}});

  ASSERT_EQ(run_companies().status, core::RunStatus::ok);
  odoo.clear_calls();
  const core::SyncReport r = run_contacts();
  ASSERT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.fetched, 3);
  EXPECT_EQ(r.counters.created, 3);
  EXPECT_TRUE(r.counters.balanced());
  EXPECT_EQ(cursor("contacts"), "2024-03-04 09:05:00#65");
  EXPECT_EQ(cursor("companies"), "2024-03-04 08:15:02#58") << "each stream has its own cursor";

  // What was asked: persons with a parent, archived ones too, in write_date, id order.
  const auto reads = partner_reads();
  ASSERT_FALSE(reads.empty());
  EXPECT_EQ(reads[0].arg("domain", 0)->debug_string(),
            Value::array({Value::array({"is_company", "=", false}), Value::array({"type", "=", "contact"}),
                          Value::array({"parent_id.is_company", "=", true})})
                .debug_string());
  EXPECT_EQ(reads[0].arg("order", 4)->as_string(), "write_date asc, id asc");
  ASSERT_NE(reads[0].arg("context", 99), nullptr);
  EXPECT_EQ(reads[0].arg("context", 99)->debug_string(), Value(Value::Struct{{"active_test", false}}).debug_string());

  const core::AccountRow* nordwind = store.account_by_code("C-10042");
  const core::AccountRow* heron = store.account_by_code("B-58");
  ASSERT_NE(nordwind, nullptr);
  ASSERT_NE(heron, nullptr);
  const core::ContactRow* erika = contact("64");
  const core::ContactRow* hans = contact("65");
  const core::ContactRow* ann = contact("66");
  ASSERT_TRUE(erika && hans && ann);
  EXPECT_EQ(erika->account_id, nordwind->id);
  EXPECT_EQ(hans->account_id, nordwind->id);
  EXPECT_EQ(ann->account_id, heron->id);
  EXPECT_TRUE(erika->is_default) << "the first contact read (write_date order)";
  EXPECT_FALSE(hans->is_default);
  EXPECT_TRUE(ann->is_default);
  EXPECT_EQ(erika->first_name, "Erika");
  EXPECT_EQ(erika->last_name, "Muster");
  EXPECT_EQ(hans->first_name, "Hans Peter");
  EXPECT_EQ(hans->last_name, "Meier");
  EXPECT_EQ(hans->phone, "+49 40 555");
  EXPECT_EQ(erika->email, "p64@example.com");
  EXPECT_EQ(erika->phone, "");
  EXPECT_EQ(store.contacts().size(), 3U);

  // A second run re-reads the overlap: unchanged, nothing written.
  const core::SyncReport again = run_contacts();
  ASSERT_EQ(again.status, core::RunStatus::ok) << again.message;
  EXPECT_EQ(again.counters.unchanged, again.counters.fetched);
  EXPECT_GT(again.counters.fetched, 0);
  EXPECT_EQ(store.contacts().size(), 3U);
}

TEST_P(OdooContactsStream, AContactWhoseCompanyArrivesInALaterRunIsParkedThenWritten) {
  odoo.set_now("2024-04-01 10:00:00");
  odoo.add_partner(person(81, "Greta Gruen", 80, "2024-04-01 10:00:00"));
  // The company exists in Odoo but is created after the companies stream's run.
  ASSERT_EQ(run_companies().status, core::RunStatus::ok);
  odoo.add_partner(company(80, "Gruen Gartenbau", "G-80", "2024-04-01 10:00:05"));

  const core::SyncReport first = run_contacts();
  ASSERT_EQ(first.status, core::RunStatus::ok) << first.message;
  EXPECT_EQ(first.counters.parked, 1);
  EXPECT_TRUE(first.counters.balanced());
  EXPECT_TRUE(store.contacts().empty());
  const core::ParkedRow* parked = store.parked_row("erp", "contacts", "81");
  ASSERT_NE(parked, nullptr);
  EXPECT_EQ(parked->waits_for, "company 80");
  EXPECT_EQ(cursor("contacts"), "2024-04-01 10:00:00#81") << "the cursor moves on over a parked contact";

  // Next run: companies first, then contacts. The parked contact is retried before the source
  // is read and written; the overlap re-read finds it unchanged.
  ASSERT_EQ(run_companies().counters.created, 1);
  const core::SyncReport second = run_contacts();
  ASSERT_EQ(second.status, core::RunStatus::ok) << second.message;
  EXPECT_EQ(second.counters.created, 1);
  EXPECT_EQ(second.counters.unchanged, 1);
  EXPECT_EQ(second.counters.fetched, 2);
  EXPECT_TRUE(second.counters.balanced());
  EXPECT_EQ(store.parked_row("erp", "contacts", "81"), nullptr);
  const core::ContactRow* greta = contact("81");
  ASSERT_NE(greta, nullptr);
  EXPECT_EQ(greta->account_id, store.account_by_code("G-80")->id);
  EXPECT_TRUE(greta->is_default);
}

TEST_P(OdooContactsStream, AnEditedContactUpdatesAndAnArchivedOneTurnsInactive) {
  odoo.set_now("2024-05-01 08:00:00");
  odoo.add_partner(company(41, "Nordwind Handels GmbH", "C-10042", "2024-05-01 08:00:00"));
  odoo.add_partner(person(64, "Erika Muster", 41, "2024-05-01 08:00:00"));
  odoo.add_partner(person(65, "Hans Meier", 41, "2024-05-01 08:00:00"));
  ASSERT_EQ(run_companies().status, core::RunStatus::ok);
  ASSERT_EQ(run_contacts().counters.created, 2);
  const core::ContactRow before = *contact("64");

  odoo.set_now("2024-05-02 09:00:00");
  odoo.write("res.partner", 64, {{"name", "Erika Muster-Schulz"}, {"email", "erika@nordwind.example"}});
  odoo.write("res.partner", 65, {{"active", false}});
  const core::SyncReport r = run_contacts();
  ASSERT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.fetched, 2) << "archived partners are read too (active_test false)";
  EXPECT_EQ(r.counters.updated, 2);
  EXPECT_TRUE(r.counters.balanced());
  const core::ContactRow* erika = contact("64");
  ASSERT_NE(erika, nullptr);
  EXPECT_EQ(erika->id, before.id) << "the same row, updated";
  EXPECT_EQ(erika->last_name, "Muster-Schulz");
  EXPECT_EQ(erika->email, "erika@nordwind.example");
  EXPECT_TRUE(erika->is_default);
  ASSERT_NE(contact("65"), nullptr);
  EXPECT_FALSE(contact("65")->active) << "archived, never deleted";
  EXPECT_EQ(store.contacts().size(), 2U);
  EXPECT_EQ(cursor("contacts"), "2024-05-02 09:00:00#65");
}

TEST_P(OdooContactsStream, AnEditDuringTheRunIsNeitherSkippedNorLost) {
  odoo.add_partner(company(41, "Nordwind Handels GmbH", "C-10042", "2024-05-01 09:00:00"));
  for (int i = 1; i <= 7; ++i) {
    char wd[32];
    std::snprintf(wd, sizeof wd, "2024-05-01 10:00:%02d", i);
    odoo.add_partner(person(100 + i, "Person " + std::to_string(i), 41, wd));
  }
  ASSERT_EQ(run_companies().status, core::RunStatus::ok);
  odoo.set_now("2024-05-01 11:00:00");
  int page_calls = 0;
  odoo.set_interceptor([&](const FakeOdoo::Call& c) -> std::optional<FakeReply> {
    if (c.model == "res.partner" && c.model_method == "search_read" && ++page_calls == 2)
      odoo.write("res.partner", 102, {{"email", "moved@example.com"}});
    return std::nullopt;
  });
  const core::SyncReport r = run_contacts(/*page_size=*/3, /*batch_size=*/2);
  odoo.set_interceptor(nullptr);
  ASSERT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(store.contacts().size(), 7U) << "a row that slid into the offset gap was skipped";
  EXPECT_EQ(contact("102")->email, "moved@example.com");
  EXPECT_TRUE(r.counters.balanced());
  EXPECT_EQ(cursor("contacts"), "2024-05-01 11:00:00#102");
  int defaults = 0;
  for (const auto& [id, c] : store.contacts()) defaults += c.is_default ? 1 : 0;
  EXPECT_EQ(defaults, 1);
}

TEST_P(OdooContactsStream, AFieldOfAnUnexpectedWireTypeIsAnInvalidFieldRejection) {
  odoo.add_partner(company(41, "Nordwind Handels GmbH", "C-10042", "2024-05-01 09:00:00"));
  odoo.add_partner(person(64, "Erika Muster", 41, "2024-05-01 10:00:00"));
  ASSERT_EQ(run_companies().status, core::RunStatus::ok);
  odoo.set_interceptor([&](const FakeOdoo::Call& c) -> std::optional<FakeReply> {
    if (c.model != "res.partner" || c.model_method != "search_read") return std::nullopt;
    Value row = Value::Struct{{"id", 64}, {"name", 12}, {"parent_id", Value::array({41, "Nordwind"})},
                              {"email", false}, {"phone", false}, {"active", true},
                              {"write_date", "2024-05-01 10:00:00"}};
    return FakeOdoo::result(c, Value::array({row}));
  });
  const core::SyncReport r = run_contacts();
  odoo.set_interceptor(nullptr);
  ASSERT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.rejected, 1);
  const core::RejectionRow* rej = store.rejection("erp", "contacts", "64", core::RejectReason::invalid_field);
  ASSERT_NE(rej, nullptr);
  EXPECT_NE(rej->message.find("field 'name'"), std::string::npos) << rej->message;
  EXPECT_TRUE(store.contacts().empty());
}

// SPEC §4.2 "Persons only": a company's invoice, delivery and other addresses (one with no name
// at all, as a real Odoo 19 stores them) are not persons: never read, never Contacts. Nor, without
// `individuals`, are the children of a person without a parent (they would wait parked for an
// Account that never comes).
TEST_P(OdooContactsStream, AddressesAndChildrenOfIndividualsAreNotRead) {
  odoo.add_partner(company(41, "Nordwind Handels GmbH", "C-10042", "2024-03-04 08:15:02"));
  odoo.add_partner(person(64, "Erika Muster", 41, "2024-03-04 09:00:00"));
  Value::Struct invoice = person(70, "", 41, "2024-03-04 09:01:00");
  invoice.emplace_back("type", "invoice");
  odoo.add_partner(std::move(invoice));
  Value::Struct delivery = person(71, "Lager Nord", 41, "2024-03-04 09:02:00");
  delivery.emplace_back("type", "delivery");
  odoo.add_partner(std::move(delivery));
  Value::Struct other = person(72, "Postfach", 41, "2024-03-04 09:03:00");
  other.emplace_back("type", "other");
  odoo.add_partner(std::move(other));
  odoo.add_partner({{"id", 90}, {"name", "Wang Xiaoming"}, {"ref", "B2C-90"}, {"is_company", false},
                    {"write_date", "2024-03-04 09:04:00"}});
  odoo.add_partner(person(91, "Wang Li", 90, "2024-03-04 09:05:00"));

  ASSERT_EQ(run_companies().counters.created, 1);
  const core::SyncReport r = run_contacts();
  ASSERT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.fetched, 1);
  EXPECT_EQ(r.counters.created, 1);
  EXPECT_EQ(r.counters.parked, 0);
  EXPECT_EQ(store.contacts().size(), 1U);
  EXPECT_NE(contact("64"), nullptr);
  EXPECT_EQ(store.parked_row("erp", "contacts", "91"), nullptr);
  EXPECT_EQ(store.account_by_code("B2C-90"), nullptr) << "individuals: false reads no person without a parent";
}

// SPEC §4.2 `individuals: true`: a person without a parent is an Account of its own (its ref the
// External Code, its salesperson the owner), its own children of type contact its Contacts; one
// without a ref is rejected like a company; an internal user's own partner is not a customer.
TEST_P(OdooContactsStream, IndividualsBecomeAccountsWithTheirOwnContacts) {
  individuals = true;
  name_split = OdooConfig::NameSplit::first_space;
  odoo.add_partner(company(41, "Nordwind Handels GmbH", "C-10042", "2024-03-04 08:15:02"));
  odoo.add_partner(person(64, "Muster Erika", 41, "2024-03-04 09:00:00"));
  odoo.add_partner({{"id", 90}, {"name", "Wang Xiaoming"}, {"ref", "B2C-90"}, {"is_company", false},
                    {"user_id", 7}, {"email", "wang@example.com"}, {"write_date", "2024-03-04 09:04:00"}});
  odoo.add_partner(person(91, "Wang Li", 90, "2024-03-04 09:05:00"));
  Value::Struct invoice = person(92, "", 90, "2024-03-04 09:06:00");
  invoice.emplace_back("type", "invoice");
  odoo.add_partner(std::move(invoice));
  odoo.add_partner({{"id", 93}, {"name", "No Ref Person"}, {"is_company", false},
                    {"write_date", "2024-03-04 09:07:00"}});
  odoo.add_partner({{"id", 3}, {"name", "Mitchell Admin"}, {"is_company", false}, {"partner_share", false},
                    {"write_date", "2024-03-04 09:08:00"}});
  // A person under a contact person is not a Contact of anything (its parent is neither a
  // company nor a person without a parent).
  odoo.add_partner(person(94, "Nested Person", 64, "2024-03-04 09:09:00"));

  const core::SyncReport companies = run_companies();
  ASSERT_EQ(companies.status, core::RunStatus::ok) << companies.message;
  EXPECT_EQ(companies.counters.fetched, 3);  // 41, 90, 93 (not the admin's own partner)
  EXPECT_EQ(companies.counters.created, 2);
  EXPECT_EQ(companies.counters.rejected, 1);
  EXPECT_NE(store.rejection("erp", "companies", "93", core::RejectReason::missing_external_code), nullptr);
  const core::AccountRow* wang = store.account_by_code("B2C-90");
  ASSERT_NE(wang, nullptr);
  EXPECT_EQ(wang->name, "Wang Xiaoming");
  EXPECT_EQ(wang->owner, "erika@example.com");
  EXPECT_EQ(wang->member_of_id, std::nullopt);
  const core::EntityId wang_id = wang->id;  // the store's rows move when it applies a batch

  const core::SyncReport r = run_contacts();
  ASSERT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.fetched, 2);  // 64 and 91
  EXPECT_EQ(r.counters.created, 2);
  const core::ContactRow* li = contact("91");
  ASSERT_NE(li, nullptr);
  EXPECT_EQ(li->account_id, wang_id);
  EXPECT_TRUE(li->is_default);
  EXPECT_EQ(li->first_name, "Li");
  EXPECT_EQ(li->last_name, "Wang");
  const core::ContactRow* erika = contact("64");
  ASSERT_NE(erika, nullptr);
  EXPECT_EQ(erika->first_name, "Erika");
  EXPECT_EQ(erika->last_name, "Muster");
  EXPECT_EQ(contact("92"), nullptr);
  EXPECT_EQ(contact("94"), nullptr);
}

INSTANTIATE_TEST_SUITE_P(Protocols, OdooContactsStream, ::testing::Values(Protocol::xmlrpc, Protocol::json2),
                         [](const ::testing::TestParamInfo<Protocol>& info) {
                           return std::string(info.param == Protocol::xmlrpc ? "xmlrpc" : "json2");
                         });

}  // namespace
}  // namespace erpsync::connectors::odoo
