// The magento2 connector against FakeMagento: OAuth 1.0a on every request, initial and
// incremental syncs, keyset paging under edits and ties, parking, guest orders, exact totals,
// auth failures and each fault of SPEC §10 — asserting the store's contents.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "connectors/http/http_client.hpp"
#include "connectors/magento2/client.hpp"
#include "connectors/magento2/exact_json.hpp"
#include "connectors/magento2/mapper.hpp"
#include "connectors/magento2/oauth1.hpp"
#include "connectors/magento2/source.hpp"
#include "core/engine.hpp"
#include "reference_store/memory_store.hpp"
#include "support/fake_magento.hpp"

namespace erpsync::connectors::magento2 {
namespace {

using nlohmann::json;
using testing::FakeMagento;
using testing::FakeReply;

json fixture(const std::string& name) {
  std::ifstream in(std::string(ERPSYNC_SOURCE_DIR) + "/tests/fixtures/magento/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

json customer(long long id, const std::string& updated_at, const std::string& code, const std::string& first = "Cus") {
  json c = {{"id", id},          {"group_id", 1},      {"created_at", "2024-01-01 00:00:00"},
            {"updated_at", updated_at}, {"email", "c" + std::to_string(id) + "@example.com"},
            {"firstname", first}, {"lastname", "No" + std::to_string(id)}, {"store_id", 1},
            {"website_id", 1},   {"addresses", json::array()}};
  if (!code.empty()) c["custom_attributes"] = json::array({{{"attribute_code", "erp_account_code"}, {"value", code}}});
  return c;
}

json order(long long id, std::optional<long long> customer_id, const std::string& total, const std::string& updated_at) {
  json o = {{"entity_id", id},        {"increment_id", "00000" + std::to_string(id)},
            {"customer_email", "buyer@example.com"}, {"customer_is_guest", customer_id ? 0 : 1},
            {"grand_total", "#num:" + total}, {"order_currency_code", "EUR"},
            {"status", "pending"},    {"state", "new"},
            {"created_at", "2024-05-01 09:00:00"},   {"updated_at", updated_at}};
  if (customer_id) o["customer_id"] = *customer_id;
  return o;
}

class MagentoTest : public ::testing::Test {
 protected:
  void SetUp() override { make_fake({}); }

  void make_fake(FakeMagento::Options o) { fake_ = std::make_unique<FakeMagento>(std::move(o)); }

  Magento2Settings settings(AuthType auth = AuthType::oauth1) {
    Magento2Settings s;
    s.connector = "shop";
    s.base_url = fake_->base_url();
    s.auth = auth;
    const auto& o = fake_->options();
    s.oauth = {o.consumer_key, o.consumer_secret, o.access_token, o.access_token_secret};
    s.token = o.integration_token;
    s.username = o.admin_user;
    s.password = o.admin_password;
    s.account_code_attribute = "erp_account_code";
    s.page_size = 2;
    return s;
  }

  std::shared_ptr<Magento2Client> client(Magento2Settings s) {
    http::ClientOptions o;
    o.timeouts.total = std::chrono::seconds(20);
    o.timeouts.low_speed_time = std::chrono::seconds(1);
    o.secrets = {s.oauth.consumer_secret, s.oauth.access_token_secret, s.token, s.password};
    return std::make_shared<Magento2Client>(s, std::make_shared<http::CurlHttpClient>(o));
  }

  core::SyncReport run(const std::string& stream, std::shared_ptr<Magento2Client> c,
                       core::SyncError::Kind* kind = nullptr) {
    core::MatchPolicy p;
    p.connector = "shop";
    p.stream = stream;
    p.default_owner = "ecommerce";
    core::RunOptions o;
    o.batch_size = 3;
    core::SyncEvents events;
    core::SyncReport report;
    if (stream == "orders") {
      OrdersSource source(c);
      report = core::run_stream(p, source, store(), o, events);
    } else if (stream == "carts") {
      CartsSource source(c);
      report = core::run_stream(p, source, store(), o, events);
    } else {
      CustomersSource source(c);
      report = core::run_stream(p, source, store(), o, events);
    }
    if (kind && report.error_kind) *kind = *report.error_kind;
    return report;
  }
  core::SyncReport run(const std::string& stream) { return run(stream, client(settings())); }

  void load_fixtures() {
    for (const char* page : {"customers-search-page1.json", "customers-search-page2.json"}) {
      const json doc = fixture(page);
      for (const auto& c : doc["items"]) fake_->put_customer(c);
    }
    const json orders = fixture("orders-search-page1.json");
    for (const auto& o : orders["items"]) fake_->put_order(o);
  }

  std::unique_ptr<FakeMagento> fake_;
  core::MemoryStore& store() { return *store_ptr_; }
  std::unique_ptr<core::MemoryStore> store_ptr_ = std::make_unique<core::MemoryStore>();
};

TEST(OAuth1, SignsRfc5849sExampleWithHmacSha256) {
  OAuthParams p;
  p.consumer_key = "dpf43f3p2l4k3l03";
  p.token = "nnch734d00sl2jdk";
  p.nonce = "kllo9940pd9333jh";
  p.timestamp = "1191242096";
  const std::string base = signature_base_string("GET", "http://photos.example.net/photos",
                                                 {{"file", "vacation.jpg"}, {"size", "original"}}, p);
  EXPECT_EQ(base,
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03"
            "%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1191242096"
            "%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal");
  EXPECT_EQ(hmac_sha256_signature(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"),
            "WVPzl1j6ZsnkIjWr7e3OZ3jkenL57KwaLFhYsroX1hg=");
  EXPECT_EQ(base_string_uri("HTTP://Example.COM:80/r%20v/X?id=123"), "http://example.com/r%20v/X");
  EXPECT_EQ(base_string_uri("https://www.example.net:8080/?q=1"), "https://www.example.net:8080/");
  EXPECT_EQ(percent_encode("a b+c/~[0]"), "a%20b%2Bc%2F~%5B0%5D");
}

TEST(ExactJson, KeepsMoneyAsTheNumbersTextAndCapsDepth) {
  const json j = parse_exact_json(R"({"a":1249.5,"b":165,"c":12345678901234.5678,"d":"x\/y"})", {}, "t");
  EXPECT_EQ(j["a"], "1249.5");
  EXPECT_EQ(j["b"], 165);
  EXPECT_EQ(j["c"], "12345678901234.5678");
  EXPECT_EQ(j["d"], "x/y");
  ParseLimits shallow;
  shallow.max_depth = 3;
  EXPECT_THROW(parse_exact_json("[[[[1]]]]", shallow, "t"), core::SyncError);
  EXPECT_THROW(parse_exact_json(R"({"items":[)", {}, "t"), core::SyncError);
}

TEST_F(MagentoTest, InitialSyncAttachesParksAndCreatesWithEveryRequestSigned) {
  load_fixtures();
  core::AccountRow acme;
  acme.external_code = "C-10042";
  acme.owner = "carol";
  acme.name = "Berger Holzbau GmbH (ERP)";
  const core::EntityId acme_id = store().insert_account(acme);

  core::SyncReport c = run("customers");
  EXPECT_EQ(c.status, core::RunStatus::ok) << c.message;
  EXPECT_EQ(c.counters.fetched, 3);
  EXPECT_EQ(c.counters.created, 2);  // 1001 attached, 1005 with an account of its own
  EXPECT_EQ(c.counters.parked, 1);   // 1002: C-10077 is not in the CRM yet
  EXPECT_EQ(c.cursor.substr(0, 24), "2024-05-02 16:45:09#1005");
  const core::CustomerRow* anna = store().customer("shop", "1001");
  ASSERT_NE(anna, nullptr);
  // Rows are values of the store: keep ids, not pointers, across the next run's apply.
  const core::EntityId anna_id = anna->id;
  EXPECT_EQ(anna->account_id, acme_id);
  EXPECT_EQ(store().account(acme_id)->name, "Berger Holzbau GmbH (ERP)");
  EXPECT_EQ(store().account(acme_id)->owner, "carol");
  const auto& contact = store().contacts().at(*anna->contact_id);
  EXPECT_EQ(contact.last_name, "Berger");
  EXPECT_EQ(store().parked_row("shop", "customers", "1002")->waits_for, "C-10077");
  const core::CustomerRow* tom = store().customer("shop", "1005");
  ASSERT_NE(tom, nullptr);
  EXPECT_EQ(store().account(tom->account_id)->name, "Tom Okafor");
  EXPECT_EQ(store().account(tom->account_id)->owner, "ecommerce");

  core::SyncReport o = run("orders");
  EXPECT_EQ(o.status, core::RunStatus::ok) << o.message;
  EXPECT_EQ(o.counters.created, 2);
  const core::OrderRow* o1 = store().order("shop", "3101");
  ASSERT_NE(o1, nullptr);
  EXPECT_EQ(o1->grand_total, "1249.5");
  EXPECT_EQ(o1->customer_id, anna_id);
  EXPECT_EQ(o1->account_id, acme_id);
  EXPECT_EQ(o1->increment_id, "000003101");
  EXPECT_EQ(o1->status, "processing");
  EXPECT_EQ(o1->ordered_at, "2024-05-01 09:12:44");
  const core::OrderRow* guest = store().order("shop", "3102");
  ASSERT_NE(guest, nullptr);
  EXPECT_FALSE(guest->customer_id);
  EXPECT_EQ(guest->customer_email, "guest.buyer@example.com");
  EXPECT_EQ(guest->grand_total, "86.4");
  EXPECT_EQ(guest->currency, "USD");

  EXPECT_GT(fake_->data_requests(), 3);
  EXPECT_EQ(fake_->rejected_signatures(), 0) << (fake_->failures().empty() ? "" : fake_->failures()[0]);
  for (const auto& r : fake_->server().requests()) {
    EXPECT_EQ(r.header("Authorization").value_or("").rfind("OAuth ", 0), 0u);
    EXPECT_EQ(r.query_param("searchCriteria[currentPage]"), "1");
    EXPECT_EQ(r.query_param("searchCriteria[pageSize]"), "2");
    EXPECT_EQ(r.query_param("searchCriteria[sortOrders][0][direction]"), "ASC");
  }
}

TEST_F(MagentoTest, IncrementalRunAttachesTheParkedCustomerAndReadsOnlyChanges) {
  load_fixtures();
  run("customers");
  EXPECT_EQ(store().customers().size(), 1u);  // 1005 only; 1001 and 1002 are parked
  core::AccountRow a;
  a.external_code = "C-10077";
  a.owner = "dave";
  store().insert_account(a);
  json tom = fixture("customers-search-page2.json")["items"][0];
  tom["updated_at"] = "2024-05-03 10:00:00";
  tom["lastname"] = "Okafor-Smith";
  fake_->put_customer(tom);
  const int before = fake_->data_requests();
  core::SyncReport r = run("customers");
  EXPECT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.created, 1);   // 1002 from its parked row
  EXPECT_EQ(r.counters.updated, 1);   // 1005
  EXPECT_EQ(r.counters.parked, 0);    // 1001 stays parked: not counted again
  EXPECT_TRUE(r.counters.balanced());
  EXPECT_EQ(store().customer("shop", "1002")->account_id, store().account_by_code("C-10077")->id);
  EXPECT_EQ(store().customer("shop", "1005")->name, "Tom Okafor-Smith");
  EXPECT_NE(store().parked_row("shop", "customers", "1001"), nullptr);
  EXPECT_EQ(fake_->data_requests() - before, 2);  // same second after the cursor, then later rows
  const auto reqs = fake_->server().requests();
  EXPECT_EQ(reqs[before].query_param("searchCriteria[filter_groups][0][filters][0][condition_type]"), "eq");
  EXPECT_EQ(reqs[before].query_param("searchCriteria[filter_groups][1][filters][0][field]"), "entity_id");
  EXPECT_EQ(reqs[before + 1].query_param("searchCriteria[filter_groups][0][filters][0][condition_type]"), "gt");
  EXPECT_EQ(fake_->rejected_signatures(), 0);
}

TEST_F(MagentoTest, ManyRecordsOnOneSecondAndEditsMidPaginationAreNeitherSkippedNorRepeated) {
  for (long long id = 1; id <= 25; ++id) fake_->put_customer(customer(id, "2024-06-01 12:00:00", ""));
  fake_->on_data_request([](FakeMagento& f, int index) {
    if (index != 3) return;
    f.put_customer(customer(3, "2024-06-01 12:00:05", "", "Edited"));   // already read: read again, once
    f.put_customer(customer(20, "2024-06-01 12:00:05", "", "Edited"));  // not read yet: moves to the end
  });
  core::SyncReport r = run("customers");
  EXPECT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.fetched, 26);
  EXPECT_EQ(r.counters.created, 25);
  EXPECT_EQ(r.counters.updated, 1);
  EXPECT_TRUE(r.counters.balanced());
  EXPECT_EQ(store().customers().size(), 25u);
  EXPECT_EQ(store().accounts().size(), 25u);
  EXPECT_EQ(store().customer("shop", "3")->name, "Edited No3");
  EXPECT_EQ(store().customer("shop", "20")->name, "Edited No20");
  EXPECT_EQ(r.cursor.substr(0, 22), "2024-06-01 12:00:05#20");
  // Nothing new: the overlap re-read finds every row unchanged and writes nothing.
  fake_->on_data_request({});
  r = run("customers");
  EXPECT_EQ(r.counters.created + r.counters.updated, 0);
  EXPECT_EQ(r.counters.unchanged, r.counters.fetched);
  EXPECT_EQ(fake_->rejected_signatures(), 0);
}

TEST_F(MagentoTest, LegacyPastTheEndPagingIsHarmless) {
  make_fake({.legacy_paging = true});
  for (long long id = 1; id <= 4; ++id) fake_->put_customer(customer(id, "2024-06-01 12:00:0" + std::to_string(id), ""));
  core::SyncReport r = run("customers");
  EXPECT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.created, 4);
  EXPECT_EQ(r.counters.fetched, 4);
}

TEST_F(MagentoTest, OrdersKeepExactTotalsAndWaitForTheirCustomer) {
  fake_->put_customer(customer(7, "2024-06-01 12:00:00", "C-404"));
  fake_->put_order(order(1, 7, "12345678901234.5678", "2024-06-02 00:00:00"));
  fake_->put_order(order(2, std::nullopt, "165", "2024-06-02 00:00:01"));
  fake_->put_order(order(3, std::nullopt, "0.1", "2024-06-02 00:00:02"));
  run("customers");
  core::SyncReport r = run("orders");
  EXPECT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.parked, 1);
  EXPECT_EQ(store().order("shop", "2")->grand_total, "165");
  EXPECT_EQ(store().order("shop", "3")->grand_total, "0.1");
  EXPECT_EQ(store().parked_row("shop", "orders", "1")->waits_for, "customer 7");
  core::AccountRow a;
  a.external_code = "C-404";
  a.owner = "x";
  const auto id = store().insert_account(a);
  run("customers");
  r = run("orders");
  EXPECT_EQ(r.counters.created, 1);
  EXPECT_EQ(store().order("shop", "1")->grand_total, "12345678901234.5678");
  EXPECT_EQ(store().order("shop", "1")->account_id, id);
  EXPECT_TRUE(store().parked().empty());
}

TEST_F(MagentoTest, WrongOAuthSecretIsAnAuthErrorNamingTheModeAndWritesNothing) {
  load_fixtures();
  Magento2Settings s = settings();
  s.oauth.consumer_secret = "wrong-secret";
  core::SyncError::Kind kind{};
  core::SyncReport r = run("customers", client(s), &kind);
  EXPECT_EQ(r.status, core::RunStatus::error);
  EXPECT_EQ(kind, core::SyncError::Kind::auth);
  EXPECT_NE(r.message.find("auth.type oauth1"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("Magento_Customer::customer"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find("wrong-secret"), std::string::npos);
  EXPECT_EQ(fake_->data_requests(), 2);  // one renewal (fresh signature), then given up
  EXPECT_TRUE(store().customers().empty());
  EXPECT_TRUE(store().cursors().empty());
}

TEST_F(MagentoTest, BearerIntegrationTokenRefusedBy244IsExplained) {
  load_fixtures();
  core::SyncError::Kind kind{};
  core::SyncReport r = run("customers", client(settings(AuthType::bearer)), &kind);
  EXPECT_EQ(kind, core::SyncError::Kind::auth);
  EXPECT_NE(r.message.find("standalone Bearer"), std::string::npos) << r.message;
  EXPECT_EQ(fake_->data_requests(), 1);
}

TEST_F(MagentoTest, AdminTokenIsRenewedOnceOn401) {
  load_fixtures();
  fake_->on_data_request([](FakeMagento& f, int index) {
    if (index == 1) f.expire_admin_tokens();
  });
  core::SyncReport r = run("customers", client(settings(AuthType::admin)));
  EXPECT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(fake_->token_requests(), 2);
  EXPECT_EQ(store().customers().size(), 1u);
}

TEST_F(MagentoTest, AdminLoginWithTwoFactorIsRefusedAndNeverRetried) {
  make_fake({.twofa_enforced = true});
  auto c = client(settings(AuthType::admin));
  core::SyncError::Kind kind{};
  core::SyncReport r = run("customers", c, &kind);
  EXPECT_EQ(kind, core::SyncError::Kind::auth);
  EXPECT_NE(r.message.find("two-factor"), std::string::npos) << r.message;
  r = run("customers", c, &kind);
  EXPECT_EQ(kind, core::SyncError::Kind::auth);
  EXPECT_EQ(fake_->token_requests(), 1);
  EXPECT_EQ(fake_->data_requests(), 0);
}

TEST_F(MagentoTest, BadAdminPasswordIsNotRetried) {
  Magento2Settings s = settings(AuthType::admin);
  s.password = "bad-password";
  auto c = client(s);
  core::SyncError::Kind kind{};
  run("customers", c, &kind);
  run("orders", c, &kind);
  EXPECT_EQ(kind, core::SyncError::Kind::auth);
  EXPECT_EQ(fake_->token_requests(), 1);
}

struct Fault {
  const char* name;
  FakeReply reply;
  core::SyncError::Kind kind;
  std::string in_message;
};

TEST_F(MagentoTest, EachFaultIsClassifiedAndKeepsWhatWasCommitted) {
  const std::vector<Fault> faults = {
      {"429", FakeReply::json(429, R"({"message":"Too Many Requests","trace":null})").with_header("Retry-After", "7"),
       core::SyncError::Kind::transient, "429"},
      {"500", FakeReply::json(500, FakeMagento::php_json(fixture("error-500.json"))), core::SyncError::Kind::transient,
       "500"},
      {"html 503", FakeReply::html_error(503, "Service Temporarily Unavailable", "maintenance"),
       core::SyncError::Kind::transient, "503"},
      {"truncated", FakeReply::json(200, R"({"items":[{"id":1,"updated_at":"2024-06-01 12:00:00"}]})")
                        .with_fault(FakeReply::Fault::truncate, 10),
       core::SyncError::Kind::transient, ""},
      {"malformed", FakeReply::json(200, R"({"items":[{"id":1,)"), core::SyncError::Kind::permanent, "invalid JSON"},
      {"stall", FakeReply::json(200, R"({"items":[]})").with_fault(FakeReply::Fault::stall, 5),
       core::SyncError::Kind::transient, ""},
  };
  for (const Fault& f : faults) {
    SCOPED_TRACE(f.name);
    make_fake({});
    store_ptr_ = std::make_unique<core::MemoryStore>();
    for (long long id = 1; id <= 4; ++id) fake_->put_customer(customer(id, "2024-06-01 12:00:0" + std::to_string(id), ""));
    fake_->on_data_request([&](FakeMagento& m, int index) {
      if (index == 1) m.inject({f.reply});  // the second page fails
    });
    core::SyncError::Kind kind{};
    core::SyncReport r = run("customers", client(settings()), &kind);
    fake_->server().release_stalls();
    EXPECT_EQ(r.status, core::RunStatus::error);
    EXPECT_EQ(kind, f.kind) << r.message;
    EXPECT_NE(r.message.find(f.in_message), std::string::npos) << r.message;
    // Page 1 stays committed with its cursor; nothing of page 2.
    EXPECT_EQ(store().customers().size(), 2u);
    EXPECT_EQ(store().cursors().at({"shop", "customers"}).cursor.substr(0, 21), "2024-06-01 12:00:02#2");
    // The next run goes on from there: no duplicate, nothing lost.
    fake_->on_data_request({});
    r = run("customers", client(settings()), &kind);
    EXPECT_EQ(r.status, core::RunStatus::ok) << r.message;
    EXPECT_EQ(store().customers().size(), 4u);
    EXPECT_EQ(store().accounts().size(), 4u);
  }
}

TEST(MagentoKeyset, IdsFromTwoToTheSixtyThreeAreRefusedNotWrapped) {
  const std::uint64_t too_large = std::uint64_t{1} << 63;
  const json ok = {{"entity_id", INT64_MAX}, {"updated_at", "2024-06-01 12:00:00"}};
  EXPECT_EQ(keyset_key(ok, "entity_id", "orders").id, INT64_MAX);
  const json item = {{"entity_id", too_large}, {"updated_at", "2024-06-01 12:00:00"}};
  try {
    keyset_key(item, "entity_id", "magento2 connector shop stream orders");
    FAIL() << "wrapped to a negative id";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::permanent);
    EXPECT_NE(std::string(e.what()).find("stream orders: an item has entity_id 9223372036854775808"), std::string::npos)
        << e.what();
  }
}

TEST_F(MagentoTest, APageWithAnIdAboveTwoToTheSixtyThreeFailsTheRunAndWritesNothingOfIt) {
  json huge = customer(2, "2024-06-01 12:00:01", "");
  huge["id"] = std::uint64_t{18446744073709551615ULL};
  json page = {{"items", json::array({customer(1, "2024-06-01 12:00:00", ""), huge})},
               {"search_criteria", json::object()}, {"total_count", 2}};
  fake_->inject({FakeReply::json(200, page.dump())});
  core::SyncError::Kind kind{};
  core::SyncReport r = run("customers", client(settings()), &kind);
  EXPECT_EQ(r.status, core::RunStatus::error);
  EXPECT_EQ(kind, core::SyncError::Kind::permanent);
  EXPECT_NE(r.message.find("18446744073709551615"), std::string::npos) << r.message;
  EXPECT_TRUE(store().customers().empty());
  EXPECT_TRUE(store().cursors().empty());
}

TEST_F(MagentoTest, RetryAfterIsCarriedToTheScheduler) {
  fake_->put_customer(customer(1, "2024-06-01 12:00:00", ""));
  fake_->inject({FakeReply::json(429, "{}").with_header("Retry-After", "7")});
  auto c = client(settings());
  try {
    c->get("/V1/customers/search", {{"searchCriteria[pageSize]", "1"}});
    FAIL() << "no error";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::transient);
    ASSERT_TRUE(e.retry_after_s());
    EXPECT_EQ(*e.retry_after_s(), 7.0);
  }
}

// --- Carts (SPEC §4.1 stream `carts`) ---

TEST(MagentoCartMapper, ReadsTheFixturesCartInterfaceExactly) {
  const json cart = fixture("carts-search-page1.json")["items"][0];
  // Parsed as the client parses bodies: money kept as the numbers' text.
  const json exact = parse_exact_json(cart.dump(), {}, "fixture");
  const core::IncomingCart c = map_cart(exact);
  EXPECT_EQ(c.remote_id, "9140");
  EXPECT_EQ(c.customer_remote_id, "1002");
  EXPECT_EQ(c.customer_email, "renee.dubois@example.org");
  EXPECT_TRUE(c.is_active);
  EXPECT_EQ(c.items_count, "1");
  EXPECT_EQ(c.items_qty, "1");
  EXPECT_EQ(c.currency, "EUR");
  EXPECT_EQ(c.updated_at, "2024-05-02 08:01:44");
  EXPECT_EQ(c.reserved_order_id, "");
  ASSERT_EQ(c.items.size(), 1U);
  EXPECT_EQ(c.items[0].remote_id, "8840");
  EXPECT_EQ(c.items[0].sku, "WB-100");
  EXPECT_EQ(c.items[0].price, "850");
  EXPECT_FALSE(c.invalid);
}

TEST(MagentoCartMapper, AGuestCartHasNoCustomerAndTakesTheBillingEmail) {
  const json guest = json::parse(FakeMagento::php_json(
      testing::cart_json(5, "2026-05-01 08:00:00", std::nullopt, "guest@example.net", {{1, "A", "a", "2.5", "19.99"}})));
  const core::IncomingCart c = map_cart(parse_exact_json(guest.dump(), {}, "guest"));
  EXPECT_FALSE(c.customer_remote_id);
  EXPECT_EQ(c.customer_email, "guest@example.net");
  EXPECT_EQ(c.items.at(0).qty, "2.5");
  EXPECT_EQ(c.items.at(0).price, "19.99");
  json bad = guest;
  bad["items"][0]["price"] = "#num:1.23456";
  const core::IncomingCart b = map_cart(parse_exact_json(FakeMagento::php_json(bad), {}, "bad"));
  ASSERT_TRUE(b.invalid);
  EXPECT_NE(b.invalid->find("price"), std::string::npos) << *b.invalid;
}

TEST_F(MagentoTest, CartsArePagedByKeysetAndLinkedToCustomersGuestsAndOrders) {
  fake_->put_customer(customer(7, "2024-06-01 12:00:00", ""));
  json o = order(31, std::nullopt, "10.5", "2024-06-01 12:00:00");
  o["increment_id"] = "000000031";
  fake_->put_order(o);
  // Five carts, three on one second (the entity_id tie-break), with page_size 2.
  fake_->put_cart(testing::cart_json(101, "2024-06-02 10:00:00", customer(7, "2024-06-01 12:00:00", ""), "c7@example.com",
                                     {{1, "A", "a", "3", "0.1"}, {2, "B", "b", "1", "0.2"}}));
  fake_->put_cart(testing::cart_json(102, "2024-06-02 10:00:00", std::nullopt, "guest@example.net", {{3, "C", "c", "1", "5"}}));
  fake_->put_cart(testing::cart_json(103, "2024-06-02 10:00:00", std::nullopt, "g2@example.net", {{4, "D", "d", "1", "1"}},
                                     false, "000000031", "2024-06-02 10:00:00"));
  fake_->put_cart(testing::cart_json(104, "2024-06-02 10:00:01", customer(8, "2024-06-01 12:00:00", ""), "c8@example.com",
                                     {{5, "E", "e", "1", "1"}}));  // its customer is not synced
  fake_->put_cart(testing::cart_json(105, "2024-06-02 10:00:02", std::nullopt, "g3@example.net", {}));
  ASSERT_EQ(run("customers").status, core::RunStatus::ok);
  ASSERT_EQ(run("orders").status, core::RunStatus::ok);
  core::SyncReport r = run("carts");
  EXPECT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.fetched, 5);
  EXPECT_EQ(r.counters.created, 4);
  EXPECT_EQ(r.counters.parked, 1);
  EXPECT_EQ(r.cursor.substr(0, 23), "2024-06-02 10:00:02#105");
  const core::CartRow* mine = store().cart("shop", "101");
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(mine->customer_id, store().customer("shop", "7")->id);
  EXPECT_EQ(mine->account_id, store().customer("shop", "7")->account_id);
  EXPECT_EQ(mine->subtotal, "0.5");  // 3 x 0.1 + 0.2, never 0.5000000000000001
  EXPECT_EQ(store().cart("shop", "102")->customer_email, "guest@example.net");
  EXPECT_EQ(store().cart("shop", "103")->order_id, store().order("shop", "31")->id);
  EXPECT_EQ(store().parked_row("shop", "carts", "104")->waits_for, "customer 8");
  // Every request was a keyset query on /V1/carts/search.
  for (const auto& req : fake_->server().requests())
    if (req.path.find("/carts/") != std::string::npos) {
      EXPECT_EQ(req.query_param("searchCriteria[currentPage]"), "1");
      EXPECT_EQ(req.query_param("searchCriteria[pageSize]"), "2");
    }

  // Nothing new: the re-run writes nothing (the cart of the unsynced customer stays parked, as
  // before: a re-read record that ends as before counts unchanged, not as a new parking).
  const auto ticks = store().now();
  r = run("carts");
  EXPECT_EQ(r.counters.created + r.counters.updated, 0);
  EXPECT_EQ(r.counters.unchanged, 5);
  EXPECT_EQ(r.counters.parked, 0);
  EXPECT_EQ(store().parked_row("shop", "carts", "104")->waits_for, "customer 8");
  EXPECT_EQ(store().now(), ticks + 2);  // begin_run and finish_run: no batch was applied
  EXPECT_EQ(fake_->rejected_signatures(), 0);
}

TEST(MagentoRequestSummary, NamesTheRequestByPathAndReadableCriteria) {
  QueryParams q = {{"searchCriteria[filter_groups][0][filters][0][field]", "updated_at"},
                   {"searchCriteria[filter_groups][0][filters][0][value]", "2026-11-01 10:00:00"},
                   {"searchCriteria[filter_groups][0][filters][0][condition_type]", "gt"},
                   {"searchCriteria[sortOrders][0][field]", "updated_at"},
                   {"searchCriteria[sortOrders][0][direction]", "ASC"},
                   {"searchCriteria[pageSize]", "100"},
                   {"searchCriteria[currentPage]", "1"}};
  EXPECT_EQ(request_summary("/V1/orders", q), "/rest/V1/orders updated_at>2026-11-01 10:00:00 page 1");
  q = {{"searchCriteria[filter_groups][0][filters][0][field]", "updated_at"},
       {"searchCriteria[filter_groups][0][filters][0][value]", "2026-11-01 10:00:00"},
       {"searchCriteria[filter_groups][0][filters][0][condition_type]", "eq"},
       {"searchCriteria[filter_groups][1][filters][0][field]", "entity_id"},
       {"searchCriteria[filter_groups][1][filters][0][value]", "4711"},
       {"searchCriteria[filter_groups][1][filters][0][condition_type]", "gt"},
       {"searchCriteria[currentPage]", "1"}};
  EXPECT_EQ(request_summary("/V1/carts/search", q),
            "/rest/V1/carts/search updated_at=2026-11-01 10:00:00 AND entity_id>4711 page 1");
}

TEST_F(MagentoTest, AFailedRequestIsNamedReadablyNotByItsEncodedUrl) {
  for (const std::string stream : {"customers", "orders", "carts"}) {
    SCOPED_TRACE(stream);
    make_fake({});
    fake_->inject({FakeReply::json(500, FakeMagento::php_json(fixture("error-500.json")))});
    core::SyncReport r = run(stream);
    EXPECT_EQ(r.status, core::RunStatus::error);
    const std::string path = stream == "customers" ? "/rest/V1/customers/search"
                             : stream == "orders"  ? "/rest/V1/orders"
                                                   : "/rest/V1/carts/search";
    EXPECT_NE(r.message.find("GET " + path + " page 1: HTTP 500"), std::string::npos) << r.message;
    EXPECT_EQ(r.message.find("searchCriteria"), std::string::npos) << r.message;
    EXPECT_EQ(r.message.find("%5B"), std::string::npos) << r.message;
  }
}

TEST_F(MagentoTest, TheFullResyncRereadsEveryCartAndPicksUpAChangeThatDidNotBumpUpdatedAt) {
  fake_->put_cart(testing::cart_json(201, "2024-06-01 09:00:00", std::nullopt, "a@example.net", {{1, "A", "a", "1", "5"}}));
  fake_->put_cart(testing::cart_json(202, "2024-06-02 10:00:01", std::nullopt, "b@example.net", {{2, "B", "b", "1", "6"}}));
  fake_->put_cart(testing::cart_json(203, "2024-06-02 10:00:02", std::nullopt, "c@example.net", {{3, "C", "c", "1", "7"}}));
  auto now = std::chrono::system_clock::now();
  auto c = client(settings());
  auto run_at = [&](std::chrono::system_clock::time_point t) {
    core::MatchPolicy p;
    p.connector = "shop";
    p.stream = "carts";
    core::RunOptions o;
    o.batch_size = 3;
    core::SyncEvents events;
    CartsSource source(c, [t] { return t; });
    return core::run_stream(p, source, store(), o, events);
  };
  ASSERT_EQ(run_at(now).counters.created, 3);
  // A change the store saved without a new updated_at: an incremental run cannot see it.
  fake_->put_cart(testing::cart_json(201, "2024-06-01 09:00:00", std::nullopt, "a@example.net", {{1, "A", "a", "2", "5"}}));
  core::SyncReport r = run_at(now + std::chrono::hours(1));
  EXPECT_EQ(r.counters.updated, 0);
  EXPECT_EQ(store().cart("shop", "201")->subtotal, "5");
  // full_resync_interval (7 days) later the whole stream is read again: the change lands, the
  // rest is unchanged.
  r = run_at(now + std::chrono::hours(24 * 8));
  EXPECT_EQ(r.status, core::RunStatus::ok) << r.message;
  EXPECT_EQ(r.counters.fetched, 3);
  EXPECT_EQ(r.counters.updated, 1);
  EXPECT_EQ(r.counters.unchanged, 2);
  EXPECT_EQ(store().cart("shop", "201")->subtotal, "10");
}

}  // namespace
}  // namespace erpsync::connectors::magento2
