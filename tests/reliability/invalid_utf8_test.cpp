// SPEC §10 "invalid UTF-8: that record rejected (invalid_field); the batch goes on", through
// the real erpsyncd into each engine: a JSON file feed and a Magento customers page (served by
// the fake Magento, OAuth verified) each hold one record with ill-formed bytes among valid
// ones. Only that record is rejected, with a message that says so; the others are written;
// the rejection's stored payload is valid UTF-8 on every engine (PostgreSQL refuses
// anything else), and a second run finds the same state.

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "reliability_support.hpp"
#include "support/fake_magento.hpp"
#include "support/odbc_query.hpp"
#include "support/process.hpp"
#include "support/test_databases.hpp"

namespace erpsync::testing {
namespace {

using nlohmann::json;

json customer(long long id, const std::string& lastname) {
  return {{"id", id}, {"group_id", 1}, {"created_at", "2026-01-01 00:00:00"}, {"updated_at", "2026-05-01 08:00:00"},
          {"email", "c" + std::to_string(id) + "@example.com"}, {"firstname", "Ann"}, {"lastname", lastname},
          {"store_id", 1}, {"website_id", 1}, {"addresses", json::array()}};
}

class InvalidUtf8 : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    std::string skip;
    db_ = TempDatabase::create(GetParam(), skip);
    if (!db_) GTEST_SKIP() << skip;
  }

  std::string scalar(const std::string& sql) { return odbc_scalar(db_->connection_string(), sql); }

  ScratchDir dir_{"erpsync-utf8"};
  std::unique_ptr<TempDatabase> db_;
  FakeMagento shop_;
};

TEST_P(InvalidUtf8, OnlyTheRecordWithIllFormedBytesIsRejectedInAJsonFeedAndAMagentoPage) {
  // The ERP feed: 20 companies; company 7's name holds a truncated sequence and a stray byte.
  std::string feed = R"({"items":[)";
  for (int i = 1; i <= 20; ++i) {
    const std::string name = i == 7 ? std::string("Bad \xC3\x28 name \xFF") : "Company " + std::to_string(i);
    feed += (i > 1 ? "," : "") + std::string(R"({"id":")") + std::to_string(i) + R"(","code":"C-)" +
            std::to_string(i) + R"(","name":")" + name + R"("})";
  }
  feed += "]}";
  const std::string feed_path = dir_.write("erp.json", feed);

  // The shop: one page of three customers, the middle one's lastname ill-formed (raw bytes in
  // the body: the fake's own serialiser would escape them).
  json page = {{"items", json::array({customer(1001, "Good"), customer(1002, "PLACEHOLDER"), customer(1003, "Fine")})},
               {"search_criteria", json::object()},
               {"total_count", 3}};
  std::string body = page.dump();
  body.replace(body.find("PLACEHOLDER"), 11, "Bad \xED\xA0\x80 \xF8");
  shop_.inject({FakeReply::json(200, body)});

  const auto& o = shop_.options();
  const std::string config = dir_.write(
      "erpsync.json",
      R"({ "database": { "connection": ")" + db_->connection_string() + R"(" },
        "log": { "level": "info", "format": "text" },
        "connectors": [
          { "name": "erp", "type": "feed", "format": "json", "url": "file://)" + feed_path + R"(",
            "records": "/items", "poll_interval": "5m", "default_owner": "sales",
            "fields": { "remote_id": "/id", "external_code": "/code", "name": "/name" } },
          { "name": "shop", "type": "magento2", "base_url": ")" + shop_.base_url() + R"(",
            "auth": { "type": "oauth1", "consumer_key": ")" + o.consumer_key + R"(", "consumer_secret": ")" +
          o.consumer_secret + R"(", "access_token": ")" + o.access_token + R"(", "access_token_secret": ")" +
          o.access_token_secret + R"(" },
            "poll_interval": "5m", "default_owner": "ecommerce", "account_code_attribute": "erp_account_code",
            "page_size": 10, "streams": ["customers"] } ] })",
      false);
  std::filesystem::permissions(config, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  for (int run = 1; run <= 2; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    const ProcessResult r = run_process({erpsyncd_path(), "--config", config, "--once"});
    ASSERT_EQ(r.exit_code, 0) << r.all();
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code LIKE 'C-%'"), "19");
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'C-7'"), "0");
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE connector = 'erp' AND remote_id = '7' AND "
                     "reason = 'invalid_field' AND message LIKE '%not valid UTF-8%'"),
              "1");
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM customers WHERE channel = 'shop'"), "2");
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM customers WHERE channel = 'shop' AND remote_id = '1002'"), "0");
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE connector = 'shop' AND remote_id = '1002' AND "
                     "reason = 'invalid_field' AND message LIKE '%lastname is not valid UTF-8%'"),
              "1");
    // Nothing else rejected. The stored payload keeps every valid byte and holds the marker
    // (U+FDD0) where each ill-formed byte was: valid UTF-8 that every engine stores.
    EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections"), "2");
    EXPECT_NE(scalar("SELECT payload FROM sync_rejections WHERE connector = 'erp'").find("Bad \xEF\xB7\x90( name \xEF\xB7\x90"),
              std::string::npos);
    if (run == 1) shop_.inject({FakeReply::json(200, body)});  // the same page again
  }
  EXPECT_EQ(shop_.rejected_signatures(), 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, InvalidUtf8,
                         ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb),
                         [](const auto& info) { return std::string(engine_name(info.param)); });

}  // namespace
}  // namespace erpsync::testing
