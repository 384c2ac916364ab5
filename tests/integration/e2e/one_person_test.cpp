// SPEC §3 rule 12 through the real binary on every engine: a person the ERP brings as a contact
// and who buys in the web shop with the e-mail in another case is one Contact of the Account
// (the Magento Customer row points at it, each source has its own binding, the fields are the
// last source's); the same e-mail at another Account is another Contact; a Contact typed in by
// hand is found the same way, by an Odoo contact too.

#include "e2e_fixture.hpp"
#include "support/fake_magento.hpp"
#include "support/fake_odoo.hpp"

namespace erpsync::testing {
namespace {

using nlohmann::json;

json shop_customer(long long id, const std::string& email, const std::string& code, const std::string& last) {
  return {{"id", id}, {"group_id", 1}, {"created_at", "2026-01-01 00:00:00"}, {"updated_at", "2026-05-01 08:00:00"},
          {"email", email}, {"firstname", "Anna"}, {"lastname", last}, {"store_id", 1}, {"website_id", 1},
          {"addresses", json::array()},
          {"custom_attributes", json::array({{{"attribute_code", "erp_account_code"}, {"value", code}}})}};
}

class OnePerson : public E2eTest {
 protected:
  void configure(const std::string& erp_feed) {
    const auto& o = shop_.options();
    write_config(R"([
      { "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + erp_feed + R"(",
        "records": "/E/C", "poll_interval": "5m", "default_owner": "sales",
        "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "owner": "R" },
        "contacts": { "records": "Person", "fields": { "remote_id": "@id", "first_name": "F", "last_name": "L",
                                                       "email": "M" } } },
      { "name": "shop", "type": "magento2", "base_url": ")" + shop_.base_url() + R"(",
        "auth": { "type": "oauth1", "consumer_key": ")" + o.consumer_key + R"(", "consumer_secret": ")" +
                 o.consumer_secret + R"(", "access_token": ")" + o.access_token + R"(", "access_token_secret": ")" +
                 o.access_token_secret + R"(" },
        "poll_interval": "5m", "default_owner": "ecommerce", "account_code_attribute": "erp_account_code",
        "page_size": 2, "streams": ["customers"] } ])");
  }
  FakeMagento shop_;
};

TEST_P(OnePerson, TheErpsContactWhoBuysInTheShopIsOneContactOfHerAccountOnly) {
  configure(write_file("erp.xml", R"(<E>
      <C id="1" code="K-1"><N>ACME</N><R>alice</R><Person id="p1"><F>Anna</F><L>Bianchi</L><M>anna@acme.example</M></Person></C>
      <C id="2" code="K-2"><N>Anna's household</N><R>alice</R><Person id="p2"><F>Anna</F><L>Bianchi</L><M>anna@acme.example</M></Person></C>
    </E>)"));
  ProcessResult erp = erpsyncd({"--once", "--connector", "erp"});
  ASSERT_EQ(erp.exit_code, 0) << erp.all();
  const std::string k1 = scalar("SELECT id FROM accounts WHERE external_code = 'K-1'");
  const std::string k2 = scalar("SELECT id FROM accounts WHERE external_code = 'K-2'");
  const std::string anna = scalar("SELECT id FROM contacts WHERE account_id = " + k1);
  const std::string anna_home = scalar("SELECT id FROM contacts WHERE account_id = " + k2);
  // A Contact typed in by hand at K-1, with blanks and capitals in its e-mail.
  query("INSERT INTO contacts (account_id, first_name, last_name, email, is_default, active) VALUES (" + k1 +
        ", 'Marco', 'Verdi', ' Marco@ACME.example ', 0, 1)");
  const std::string marco = scalar("SELECT id FROM contacts WHERE last_name = 'Verdi'");

  shop_.put_customer(shop_customer(1001, "Anna@ACME.Example", "K-1", "Bianchi-Rossi"));
  shop_.put_customer(shop_customer(1002, "anna@acme.example", "K-2", "Bianchi"));
  shop_.put_customer(shop_customer(1003, "marco@acme.example", "K-1", "Verdi"));
  shop_.put_customer(shop_customer(1004, "someone@acme.example", "K-1", "Else"));
  ProcessResult shop = erpsyncd({"--once", "--connector", "shop"});
  ASSERT_EQ(shop.exit_code, 0) << shop.all();
  EXPECT_EQ(report_fields(shop.all(), "shop", "customers")["created"], "4") << shop.all();

  // K-1: Anna, Marco and the one new person; K-2: its own Anna.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts WHERE account_id = " + k1), "3");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts WHERE account_id = " + k2), "1");
  EXPECT_EQ(scalar("SELECT contact_id FROM customers WHERE channel = 'shop' AND remote_id = '1001'"), anna);
  EXPECT_EQ(scalar("SELECT contact_id FROM customers WHERE channel = 'shop' AND remote_id = '1002'"), anna_home);
  EXPECT_EQ(scalar("SELECT contact_id FROM customers WHERE channel = 'shop' AND remote_id = '1003'"), marco);
  EXPECT_EQ(scalar("SELECT entity_id FROM bindings WHERE connector = 'shop' AND stream = 'contacts' AND remote_id = '1001'"),
            anna);
  EXPECT_EQ(scalar("SELECT entity_id FROM bindings WHERE connector = 'erp' AND stream = 'contacts' AND remote_id = 'p1'"),
            anna);
  // The shop changed her last: its fields; the ERP's default contact is still the default.
  EXPECT_EQ(scalar("SELECT last_name FROM contacts WHERE id = " + anna), "Bianchi-Rossi");
  EXPECT_EQ(scalar("SELECT is_default FROM contacts WHERE id = " + anna), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts WHERE is_default = 1 AND account_id = " + k1), "1");

  // Both sources again, unchanged: nothing new.
  ProcessResult again = erpsyncd({"--once"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  EXPECT_EQ(report_fields(again.all(), "shop", "customers")["created"], "0") << again.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts"), "4");
}

ERPSYNC_E2E_ON_ALL_ENGINES(OnePerson);

class OnePersonOdoo : public E2eTest {
 protected:
  FakeOdoo odoo_;
};

TEST_P(OnePersonOdoo, AnOdooContactWithTheEmailOfAContactTypedInByHandIsBoundToIt) {
  using connectors::odoo::Value;
  odoo_.add_user(7, "erika@example.com", "Erika Beispiel");
  odoo_.add_partner({{"id", 41}, {"name", "Nordwind GmbH"}, {"ref", "C-41"}, {"is_company", true}, {"user_id", 7},
                     {"active", true}, {"write_date", "2026-03-04 08:15:02"}});
  write_config(std::string(R"([{ "name": "odoo", "type": "odoo", "url": ")") + odoo_.url() + R"(", "db": ")" +
               FakeOdoo::kDb + R"(", "user": ")" + FakeOdoo::kLogin + R"(", "password": ")" + FakeOdoo::kPassword +
               R"(", "poll_interval": "10m", "default_owner": "sales", "owners": { "erika@example.com": "erika" } }])");
  ProcessResult first = erpsyncd({"--once"});
  ASSERT_EQ(first.exit_code, 0) << first.all();
  const std::string account = scalar("SELECT id FROM accounts WHERE external_code = 'C-41'");
  query("INSERT INTO contacts (account_id, first_name, last_name, email, is_default, active) VALUES (" + account +
        ", 'Erika', 'M.', 'erika.muster@nordwind.example', 1, 1)");
  const std::string typed = scalar("SELECT id FROM contacts");

  odoo_.add_partner({{"id", 64}, {"name", "Erika Muster"}, {"is_company", false}, {"parent_id", 41},
                     {"email", "Erika.Muster@Nordwind.example"}, {"write_date", "2026-03-04 09:00:00"}});
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  auto contacts = report_fields(run.all(), "odoo", "contacts");
  EXPECT_EQ(contacts["created"], "0") << run.all();
  EXPECT_EQ(contacts["updated"], "1") << run.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts"), "1");
  EXPECT_EQ(scalar("SELECT entity_id FROM bindings WHERE connector = 'odoo' AND stream = 'contacts' AND remote_id = '64'"),
            typed);
  EXPECT_EQ(scalar("SELECT last_name FROM contacts WHERE id = " + typed), "Muster");
  EXPECT_EQ(scalar("SELECT is_default FROM contacts WHERE id = " + typed), "1");
}

ERPSYNC_E2E_ON_ALL_ENGINES(OnePersonOdoo);

}  // namespace
}  // namespace erpsync::testing
