// Magento shopping carts through the real binary (SPEC §4.1 stream `carts`, §7 report): a fake
// Magento 2.4 store that serves CartInterface carts — of an attached customer, of a customer with
// an Account of its own, of a parked customer, of a guest; converted and abandoned ones; changes
// between runs — an ERP feed that brings the Accounts, and the database read back on every
// engine. Also the abandoned-cart gauge of the service's metrics endpoint.

#include <signal.h>

#include "e2e_fixture.hpp"
#include "support/child_process.hpp"
#include "support/fake_magento.hpp"

namespace erpsync::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json customer(long long id, const std::string& code) {
  json c = {{"id", id}, {"group_id", 1}, {"created_at", "2026-01-01 00:00:00"}, {"updated_at", "2026-05-01 08:00:00"},
            {"email", "c" + std::to_string(id) + "@example.com"}, {"firstname", "Ann"},
            {"lastname", "No" + std::to_string(id)}, {"store_id", 1}, {"website_id", 1}, {"addresses", json::array()}};
  if (!code.empty()) c["custom_attributes"] = json::array({{{"attribute_code", "erp_account_code"}, {"value", code}}});
  return c;
}

json order(long long id, long long customer_id, const std::string& increment_id) {
  return {{"entity_id", id}, {"increment_id", increment_id}, {"customer_id", customer_id},
          {"customer_email", "c" + std::to_string(customer_id) + "@example.com"}, {"customer_is_guest", 0},
          {"grand_total", "#num:1701.3"}, {"order_currency_code", "EUR"}, {"status", "pending"}, {"state", "new"},
          {"created_at", "2026-05-01 09:00:00"}, {"updated_at", "2026-05-01 09:00:00"}};
}

// Now, UTC, as Magento writes it: a cart updated at this time is not abandoned.
std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

class MagentoCarts : public E2eTest {
 protected:
  void configure(const std::string& erp_feed, const std::string& extra_top_level = "") {
    const auto& o = shop_.options();
    write_config(R"([
      { "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + erp_feed + R"(",
        "records": "/E/C", "poll_interval": "5m", "default_owner": "sales",
        "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "owner": "R" } },
      { "name": "shop", "type": "magento2", "base_url": ")" + shop_.base_url() + R"(",
        "auth": { "type": "oauth1", "consumer_key": ")" + o.consumer_key + R"(", "consumer_secret": ")" +
                 o.consumer_secret + R"(", "access_token": ")" + o.access_token + R"(", "access_token_secret": ")" +
                 o.access_token_secret + R"(" },
        "poll_interval": "1h", "default_owner": "ecommerce", "account_code_attribute": "erp_account_code",
        "page_size": 2, "streams": ["customers", "orders", "carts"] } ])",
                 extra_top_level);
  }

  // The shop of the scenario: an attached customer (C-1, Acme), a customer whose Account the
  // ERP does not have yet (C-2), a customer without a code (an Account of its own), and their
  // carts.
  void stock_shop() {
    shop_.put_customer(customer(1001, "C-1"));
    shop_.put_customer(customer(1002, "C-2"));
    shop_.put_customer(customer(1003, ""));
    shop_.put_cart(cart_json(501, "2026-05-01 08:00:00", customer(1001, "C-1"), "c1001@example.com",
                             {{1, "WB-100", "Workbench Oak 2m", "2", "850.5"}, {2, "ST-1", "Stool", "3", "0.1"}}));
    shop_.put_cart(cart_json(502, "2026-05-01 08:00:01", customer(1002, "C-2"), "c1002@example.com",
                             {{3, "LA-7", "Lamp", "1", "49.9"}}));
    shop_.put_cart(cart_json(503, "2026-05-01 08:00:01", std::nullopt, "guest@example.net",
                             {{4, "GL-2", "Glue", "4", "2.25"}}));
    shop_.put_cart(cart_json(504, "2026-05-01 08:00:01", customer(1003, ""), "c1003@example.com",
                             {{5, "WB-100", "Workbench Oak 2m", "2", "850.65"}}, false, "000003001",
                             "2026-05-01 09:00:00"));
    shop_.put_cart(cart_json(505, utc_now(), customer(1003, ""), "c1003@example.com", {{6, "SC-1", "Screws", "1", "3"}}));
  }

  FakeMagento shop_;
};

TEST_P(MagentoCarts, CartsOfAttachedOwnParkedAndGuestCustomersConvertedAndAbandoned) {
  const std::string erp = write_file("erp.xml", R"(<E><C id="1" code="C-1"><N>Acme</N><R>carol</R></C></E>)");
  configure(erp);
  stock_shop();

  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(shop_.rejected_signatures(), 0) << ::testing::PrintToString(shop_.failures());
  auto c = report_fields(run.all(), "shop", "carts");
  EXPECT_EQ(c["status"], "ok") << run.all();
  EXPECT_EQ(c["fetched"], "5");
  EXPECT_EQ(c["created"], "4");
  EXPECT_EQ(c["parked"], "1");  // 502: its customer waits for C-2

  // The attached customer's cart: its Customer and Account, its items, an exact subtotal.
  EXPECT_EQ(scalar("SELECT a.external_code FROM carts c JOIN accounts a ON a.id = c.account_id "
                   "JOIN customers cu ON cu.id = c.customer_id AND cu.remote_id = '1001' WHERE c.remote_id = '501'"),
            "C-1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM cart_items i JOIN carts c ON c.id = i.cart_id WHERE c.remote_id = '501'"), "2");
  EXPECT_EQ(scalar("SELECT subtotal FROM carts WHERE remote_id = '501'").substr(0, 6), "1701.3");
  // The guest cart keeps its e-mail and has no customer; the converted one waits for its order.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM carts WHERE remote_id = '503' AND customer_id IS NULL AND account_id IS NULL "
                   "AND customer_email = 'guest@example.net'"),
            "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM carts WHERE remote_id = '504' AND is_active = 0 AND reserved_order_id = "
                   "'000003001' AND order_id IS NULL"),
            "1");
  EXPECT_EQ(scalar("SELECT waits_for FROM sync_parked WHERE connector = 'shop' AND stream = 'carts'"), "customer 1002");

  // report: the abandoned carts per Account — 501 (Acme) and the guest's 503; not the converted
  // 504, not 505 updated just now.
  ProcessResult report = erpsyncd({"report"});
  ASSERT_EQ(report.exit_code, 0) << report.all();
  const auto at = report.out.find("Abandoned carts of shop");
  ASSERT_NE(at, std::string::npos) << report.out;
  const std::string section = report.out.substr(at, report.out.find("\n\n", at) - at);
  EXPECT_NE(section.find("per Account (2)"), std::string::npos) << section;
  EXPECT_NE(section.find("Acme"), std::string::npos) << section;
  EXPECT_NE(section.find("WB-100 x2, ST-1 x3"), std::string::npos) << section;
  EXPECT_NE(section.find("1701.3"), std::string::npos) << section;
  EXPECT_NE(section.find("guest@example.net"), std::string::npos) << section;
  EXPECT_LT(section.find("Acme"), section.find("guest@example.net")) << section;
  EXPECT_EQ(section.find("504"), std::string::npos) << section;
  EXPECT_EQ(section.find("505"), std::string::npos) << section;

  // Next run: the ERP brings C-2 (the parked customer and its cart land), the shop has the order
  // of the converted cart, and the customer of 501 removed the stools just now (Magento stamps the
  // change with the current time).
  write_file("erp.xml", R"(<E><C id="1" code="C-1"><N>Acme</N><R>carol</R></C><C id="2" code="C-2"><N>Beta</N><R>dave</R></C></E>)");
  shop_.put_order(order(3001, 1003, "000003001"));
  shop_.put_cart(cart_json(501, utc_now(), customer(1001, "C-1"), "c1001@example.com",
                           {{1, "WB-100", "Workbench Oak 2m", "2", "850.5"}}));
  ProcessResult again = erpsyncd({"--once"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  auto c2 = report_fields(again.all(), "shop", "carts");
  EXPECT_EQ(c2["created"], "1") << again.all();  // 502, retried once its customer is written
  EXPECT_EQ(c2["updated"], "1") << again.all();  // 501
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_parked"), "0");
  EXPECT_EQ(scalar("SELECT a.external_code FROM carts c JOIN accounts a ON a.id = c.account_id WHERE c.remote_id = '502'"),
            "C-2");
  EXPECT_EQ(scalar("SELECT o.remote_id FROM carts c JOIN orders o ON o.id = c.order_id WHERE c.remote_id = '504'"), "3001");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM cart_items i JOIN carts c ON c.id = i.cart_id WHERE c.remote_id = '501'"), "1");
  EXPECT_EQ(scalar("SELECT subtotal FROM carts WHERE remote_id = '501'").substr(0, 4), "1701");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM cart_items"), "5");

  // A quiet re-run writes nothing.
  ProcessResult quiet = erpsyncd({"--once"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.all();
  auto c3 = report_fields(quiet.all(), "shop", "carts");
  EXPECT_EQ(c3["created"], "0") << quiet.all();
  EXPECT_EQ(c3["updated"], "0") << quiet.all();
  EXPECT_EQ(c3["unchanged"], c3["fetched"]) << quiet.all();
  EXPECT_EQ(shop_.rejected_signatures(), 0);
}

TEST_P(MagentoCarts, TheServiceCountsAbandonedCartsInItsMetrics) {
  const std::string erp = write_file("erp.xml", R"(<E><C id="1" code="C-1"><N>Acme</N><R>carol</R></C></E>)");
  configure(erp, "  \"metrics\": { \"listen\": \"127.0.0.1:0\" },\n");
  // Carts that do not depend on the ERP's Accounts (the service runs the two connectors side by
  // side): a customer with an Account of its own, and guests.
  shop_.put_customer(customer(1003, ""));
  shop_.put_cart(cart_json(503, "2026-05-01 08:00:01", std::nullopt, "guest@example.net", {{4, "GL-2", "Glue", "4", "2.25"}}));
  shop_.put_cart(cart_json(504, "2026-05-01 08:00:01", customer(1003, ""), "c1003@example.com",
                           {{5, "WB-100", "Workbench Oak 2m", "2", "850.65"}}, false, "000003001", "2026-05-01 09:00:00"));
  shop_.put_cart(cart_json(505, utc_now(), customer(1003, ""), "c1003@example.com", {{6, "SC-1", "Screws", "1", "3"}}));
  shop_.put_cart(cart_json(506, "2026-05-01 08:00:02", customer(1003, ""), "c1003@example.com", {{7, "LA-7", "Lamp", "1", "49.9"}}));
  shop_.put_cart(cart_json(507, "2026-05-01 08:00:02", std::nullopt, "empty@example.net", {}));
  NotifySocket notify((dir_ / "notify.sock").string());
  ChildProcess daemon({std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd", "--config", config_path_},
                      {{"NOTIFY_SOCKET", notify.path()}});
  // The STATUS that sums the connector's run up comes once its gauges are set.
  ASSERT_TRUE(notify.wait_for("carts ok fetched=5", 60s)) << daemon.output();
  const std::string out = daemon.output();
  const auto at = out.find("metrics on http://");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string url = out.substr(at + 11, out.find('\n', at) - at - 11);
  ProcessResult scrape = run_process({"/usr/bin/curl", "-s", url});
  ASSERT_EQ(scrape.exit_code, 0) << url;
  // The guest's 503 and 506; not 504 (converted), 505 (fresh) or 507 (no items).
  EXPECT_NE(scrape.out.find("erpsync_abandoned_carts{connector=\"shop\"} 2"), std::string::npos) << scrape.out;
  daemon.signal(SIGTERM);
  ASSERT_EQ(daemon.wait_exit(30s), 0) << daemon.output();
}

ERPSYNC_E2E_ON_ALL_ENGINES(MagentoCarts);

}  // namespace
}  // namespace erpsync::testing
