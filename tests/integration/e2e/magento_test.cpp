// The Magento connector through the real binary (SPEC §3 rules 10 and 11, §4.1): a fake
// Magento 2.4 store over loopback that verifies every OAuth 1.0a signature, an ERP feed that
// brings the Accounts, and the database read back on every engine.

#include <fstream>
#include <iterator>

#include "e2e_fixture.hpp"
#include "support/fake_magento.hpp"

namespace erpsync::testing {
namespace {

using nlohmann::json;

json customer(long long id, const std::string& updated_at, const std::string& code) {
  json c = {{"id", id}, {"group_id", 1}, {"created_at", "2026-01-01 00:00:00"}, {"updated_at", updated_at},
            {"email", "c" + std::to_string(id) + "@example.com"}, {"firstname", "Ann"},
            {"lastname", "No" + std::to_string(id)}, {"store_id", 1}, {"website_id", 1}, {"addresses", json::array()}};
  if (!code.empty()) c["custom_attributes"] = json::array({{{"attribute_code", "erp_account_code"}, {"value", code}}});
  return c;
}

json order(long long id, std::optional<long long> customer_id, const std::string& total) {
  json o = {{"entity_id", id}, {"increment_id", "00000" + std::to_string(id)}, {"customer_email", "buyer@example.com"},
            {"customer_is_guest", customer_id ? 0 : 1}, {"grand_total", "#num:" + total},
            {"order_currency_code", "EUR"}, {"status", "pending"}, {"state", "new"},
            {"created_at", "2026-05-01 09:00:00"}, {"updated_at", "2026-05-01 09:00:00"}};
  if (customer_id) o["customer_id"] = *customer_id;
  return o;
}

class Magento : public E2eTest {
 protected:
  void configure(const std::string& erp_feed) {
    const auto& o = shop_.options();
    write_config(R"([
      { "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + erp_feed + R"(",
        "records": "/E/C", "poll_interval": "5m", "default_owner": "sales",
        "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "owner": "R" } },
      { "name": "shop", "type": "magento2", "base_url": ")" + shop_.base_url() + R"(",
        "auth": { "type": "oauth1", "consumer_key": ")" + o.consumer_key + R"(", "consumer_secret": ")" +
                 o.consumer_secret + R"(", "access_token": ")" + o.access_token + R"(", "access_token_secret": ")" +
                 o.access_token_secret + R"(" },
        "poll_interval": "5m", "default_owner": "ecommerce", "account_code_attribute": "erp_account_code",
        "page_size": 2, "streams": ["customers", "orders"] } ])");
  }
  FakeMagento shop_;
};

TEST_P(Magento, CustomersAttachParkAndOrdersKeepExactTotals) {
  configure(write_file("erp.xml", R"(<E><C id="1" code="C-1"><N>Acme</N><R>carol</R></C></E>)"));
  shop_.put_customer(customer(1001, "2026-05-01 08:00:00", "C-1"));   // attaches to carol's Acme
  shop_.put_customer(customer(1002, "2026-05-01 08:00:00", "C-2"));   // no such Account yet: parked
  shop_.put_customer(customer(1003, "2026-05-01 08:00:01", ""));      // no code: an Account of its own
  shop_.put_order(order(3001, 1001, "12345678901234.5678"));
  shop_.put_order(order(3002, std::nullopt, "165"));                  // a guest order
  shop_.put_order(order(3003, 1002, "0.1"));                          // its customer is parked

  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(shop_.rejected_signatures(), 0) << ::testing::PrintToString(shop_.failures());
  auto c = report_fields(run.all(), "shop", "customers");
  EXPECT_EQ(c["status"], "ok");
  EXPECT_EQ(c["fetched"], "3");
  EXPECT_EQ(c["parked"], "1");
  auto o = report_fields(run.all(), "shop", "orders");
  EXPECT_EQ(o["fetched"], "3");
  EXPECT_EQ(o["parked"], "1");

  // Attached whatever the Account's owner; the Account's fields untouched.
  EXPECT_EQ(scalar("SELECT a.external_code FROM customers c JOIN accounts a ON a.id = c.account_id "
                   "WHERE c.channel = 'shop' AND c.remote_id = '1001'"), "C-1");
  EXPECT_EQ(scalar("SELECT owner FROM accounts WHERE external_code = 'C-1'"), "carol");
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = 'C-1'"), "Acme");
  EXPECT_EQ(scalar("SELECT a.owner FROM customers c JOIN accounts a ON a.id = c.account_id "
                   "WHERE c.channel = 'shop' AND c.remote_id = '1003'"), "ecommerce");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_parked WHERE connector = 'shop'"), "2");
  // Totals exact; the guest order has no customer and keeps its e-mail.
  const std::string total = scalar("SELECT grand_total FROM orders WHERE remote_id = '3001'");
  EXPECT_EQ(total.substr(0, 19), "12345678901234.5678") << total;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM orders WHERE remote_id = '3002' AND customer_id IS NULL "
                   "AND customer_email = 'buyer@example.com'"), "1");

  // The ERP brings C-2: the parked customer and its order land on the next run.
  write_file("erp.xml", R"(<E><C id="1" code="C-1"><N>Acme</N><R>carol</R></C><C id="2" code="C-2"><N>Beta</N><R>dave</R></C></E>)");
  ProcessResult again = erpsyncd({"--once"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_parked"), "0") << again.all();
  EXPECT_EQ(scalar("SELECT a.external_code FROM orders o JOIN accounts a ON a.id = o.account_id WHERE o.remote_id = '3003'"), "C-2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM customers WHERE channel = 'shop'"), "3");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM orders"), "3");
  EXPECT_EQ(shop_.rejected_signatures(), 0);
}

// SPEC §3 "Counters" for another connector than Odoo: the second run re-reads the cursor's
// overlap; the customer and the order still parked as before are counted unchanged, not as new
// parkings, in the report lines and in sync_runs.
TEST_P(Magento, AQuietReRunCountsRecordsStillParkedAsBeforeUnchanged) {
  configure(write_file("erp.xml", R"(<E><C id="1" code="C-1"><N>Acme</N><R>carol</R></C></E>)"));
  shop_.put_customer(customer(1002, "2026-05-01 08:00:00", "C-2"));  // no such Account: parked
  shop_.put_order(order(3003, 1002, "0.1"));                         // its order parked too
  ProcessResult first = erpsyncd({"--once"});
  ASSERT_EQ(first.exit_code, 0) << first.all();
  ASSERT_EQ(report_fields(first.all(), "shop", "customers")["parked"], "1") << first.all();
  ASSERT_EQ(report_fields(first.all(), "shop", "orders")["parked"], "1") << first.all();

  ProcessResult again = erpsyncd({"--once"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  for (const char* stream : {"customers", "orders"}) {
    SCOPED_TRACE(stream);
    auto r = report_fields(again.all(), "shop", stream);
    EXPECT_EQ(r["fetched"], "1") << again.all();
    EXPECT_EQ(r["unchanged"], "1") << again.all();
    EXPECT_EQ(r["parked"], "0") << again.all();
  }
  EXPECT_EQ(scalar("SELECT SUM(parked) FROM sync_runs WHERE connector = 'shop' AND id IN "
                   "(SELECT MAX(id) FROM sync_runs WHERE connector = 'shop' GROUP BY stream)"),
            "0");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_parked WHERE connector = 'shop'"), "2") << "still waiting";
}

TEST_P(Magento, ParkedDropRemovesTheConnectorsParkedRecordsOnly) {
  configure(write_file("erp.xml", R"(<E><C id="1" code="C-1"><N>Acme</N><R>carol</R></C></E>)"));
  shop_.put_customer(customer(1002, "2026-05-01 08:00:00", "C-2"));  // no such Account: parked
  shop_.put_order(order(3003, 1002, "0.1"));                         // its order parked too
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  ASSERT_EQ(scalar("SELECT COUNT(*) FROM sync_parked WHERE connector = 'shop'"), "2");
  ProcessResult list = erpsyncd({"parked", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.all();
  EXPECT_NE(list.out.find("Parked records (2)"), std::string::npos) << list.out;

  // Another connector's name drops nothing; the right one drops both.
  ProcessResult other = erpsyncd({"parked", "drop", "--connector", "erp"});
  EXPECT_EQ(other.exit_code, 0) << other.all();
  EXPECT_NE(other.out.find("dropped 0 parked record(s)"), std::string::npos) << other.out;
  ProcessResult drop = erpsyncd({"parked", "drop", "--connector", "shop"});
  EXPECT_EQ(drop.exit_code, 0) << drop.all();
  EXPECT_NE(drop.out.find("dropped 2 parked record(s)"), std::string::npos) << drop.out;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_parked"), "0");
  EXPECT_NE(erpsyncd({"parked", "list"}).out.find("Parked records (0)"), std::string::npos);
}

TEST_P(Magento, OrdersAreInsertedTogetherAndAChangedOrderIsUpdatedInPlace) {
  configure(write_file("erp.xml", R"(<E><C id="1" code="C-1"><N>Acme</N><R>carol</R></C></E>)"));
  shop_.put_customer(customer(1001, "2026-05-01 08:00:00", "C-1"));
  for (long long id = 4001; id <= 4030; ++id) shop_.put_order(order(id, 1001, std::to_string(id) + ".25"));
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  auto o = report_fields(run.all(), "shop", "orders");
  EXPECT_EQ(o["fetched"], "30");
  EXPECT_EQ(o["created"], "30");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM orders WHERE channel = 'shop'"), "30");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings b JOIN orders o ON o.id = b.entity_id AND o.remote_id = b.remote_id "
                   "WHERE b.connector = 'shop' AND b.stream = 'orders' AND b.entity = 'order'"), "30");
  EXPECT_EQ(scalar("SELECT status FROM orders WHERE remote_id = '4017'"), "pending");

  // The shop invoices order 4017: the next run updates that row and its binding, nothing else.
  auto changed = order(4017, 1001, "99.75");
  changed["status"] = "processing";
  changed["updated_at"] = "2026-05-02 10:00:00";
  shop_.put_order(changed);
  const std::string binding_before =
      scalar("SELECT payload_hash FROM bindings WHERE connector = 'shop' AND stream = 'orders' AND remote_id = '4017'");
  ProcessResult again = erpsyncd({"--once"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  auto o2 = report_fields(again.all(), "shop", "orders");
  EXPECT_EQ(o2["updated"], "1") << again.all();
  EXPECT_EQ(o2["created"], "0");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM orders WHERE channel = 'shop'"), "30");
  EXPECT_EQ(scalar("SELECT status FROM orders WHERE remote_id = '4017'"), "processing");
  EXPECT_EQ(scalar("SELECT grand_total FROM orders WHERE remote_id = '4017'").substr(0, 5), "99.75");
  EXPECT_NE(scalar("SELECT payload_hash FROM bindings WHERE connector = 'shop' AND stream = 'orders' AND "
                   "remote_id = '4017'"),
            binding_before);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE connector = 'shop' AND stream = 'orders'"), "30");
  EXPECT_EQ(shop_.rejected_signatures(), 0);
}

TEST_P(Magento, AWrongSecretIsAnAuthFailureNamingTheModeAndNeverTheSecret) {
  configure(write_file("erp.xml", R"(<E><C id="1" code="C-1"><N>Acme</N><R>carol</R></C></E>)"));
  std::ifstream in(config_path_);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const std::string secret = shop_.options().consumer_secret;
  text.replace(text.find(secret), secret.size(), "Canary-Wrong-4471");
  write_file("erpsync.json", text, false);
  ProcessResult run = erpsyncd({"--once"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.all().find("oauth1"), std::string::npos) << run.all();
  EXPECT_EQ(run.all().find("Canary-Wrong-4471"), std::string::npos) << run.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM customers WHERE channel = 'shop'"), "0");
}

ERPSYNC_E2E_ON_ALL_ENGINES(Magento);

}  // namespace
}  // namespace erpsync::testing
