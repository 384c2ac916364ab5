// The feed connector's options (connectors/feed/feed_conf.*) through the config loader: HTTP
// auth, paging and cursor read and checked, URLs and paths checked for their format, value
// maps and contacts read, the shipped connector files loaded.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "connectors/feed/feed_conf.hpp"
#include "unit/config/config_test_support.hpp"

namespace erpsync::connectors::feed {
namespace {

namespace fs = std::filesystem;
using config::testkit::all_errors;
using config::testkit::feed_config;
using config::testkit::find_error;
using config::testkit::load_config;
using config::testkit::TempDir;
using ::testing::HasSubstr;

TEST(ConfigFeed, HttpFeedsWithAuthPagingAndCursorAreRead) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", feed_config(R"({ "name": "a", "type": "feed",
    "url": "https://erp.example.com/x.json", "format": "json", "records": "/v", "fields": { "external_code": "/c" },
    "auth": { "type": "bearer", "token": "t0ken-value" }, "headers": { "Prefer": "odata.maxpagesize=50" },
    "paging": { "type": "offset", "param": "skip", "size_param": "top", "size": 50 },
    "cursor": { "field": "/m", "param": "$filter", "template": "m gt {cursor}", "timezone": "+01:00",
                "granularity": "day", "order_param": "$orderby", "order": "m" },
    "timeout": "30s", "tls": { "verify": false, "ca_file": "/etc/ssl/x.pem" } })")));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const FeedConfig& f = *r.config->connectors.at(0).settings_as<FeedConfig>();
  EXPECT_EQ(f.auth.type, FeedAuth::Type::bearer);
  EXPECT_EQ(f.auth.token.reveal(), "t0ken-value");
  EXPECT_EQ(f.headers.at("Prefer"), "odata.maxpagesize=50");
  EXPECT_EQ(f.paging.type, FeedPaging::Type::offset);
  EXPECT_EQ(f.paging.param, "skip");
  EXPECT_EQ(f.paging.size, 50);
  ASSERT_TRUE(f.cursor);
  EXPECT_EQ(f.cursor->template_, "m gt {cursor}");
  EXPECT_EQ(f.cursor->timezone, "+01:00");
  EXPECT_EQ(f.cursor->granularity, "day");
  EXPECT_EQ(f.timeout, std::chrono::seconds(30));
  EXPECT_FALSE(f.tls.verify);
}

TEST(ConfigFeed, HttpOptionsAreCheckedForTheirValues) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", feed_config(R"({ "name": "a", "type": "feed",
    "url": "https://erp.example.com/x.json", "format": "json", "records": "/v", "fields": { "external_code": "/c" },
    "auth": { "type": "oauth2_client_credentials", "token_url": "login.example.com/token", "client_id": "i",
              "client_secret": "s" },
    "paging": { "type": "next_link", "next_link": "@odata.nextLink" },
    "cursor": { "field": "m", "param": "$filter", "template": "m gt now", "timezone": "Europe/Berlin",
                "order_param": "$orderby" },
    "tls": { "client_cert": "/etc/c.pem" } },
    { "name": "b", "type": "feed", "url": "file:///srv/a.json", "format": "json", "records": "/v",
      "fields": { "external_code": "/c" }, "auth": { "type": "bearer", "token": "t" },
      "cursor": { "field": "/m", "param": "since" } })")));
  EXPECT_THAT(find_error(r, "connectors[0].auth.token_url")->message, HasSubstr("expected an http:// or https:// URL"));
  EXPECT_THAT(find_error(r, "connectors[0].paging.next_link")->message, HasSubstr("expected a JSON Pointer"));
  EXPECT_THAT(find_error(r, "connectors[0].cursor.field")->message, HasSubstr("expected a JSON Pointer"));
  EXPECT_THAT(find_error(r, "connectors[0].cursor.template")->message, HasSubstr("containing {cursor}"));
  EXPECT_THAT(find_error(r, "connectors[0].cursor.timezone")->message, HasSubstr("fixed offset such as \"+01:00\""));
  EXPECT_THAT(find_error(r, "connectors[0].cursor")->message, HasSubstr("order_param and order go together"));
  EXPECT_THAT(find_error(r, "connectors[0].tls.client_cert")->message, HasSubstr("not supported yet"));
  EXPECT_THAT(find_error(r, "connectors[1].auth")->message, HasSubstr("only for http:// and https:// feeds"));
  EXPECT_THAT(find_error(r, "connectors[1].cursor")->message, HasSubstr("only for http:// and https:// feeds"));
}

TEST(ConfigFeed, FileUrlsMustBeAbsolute) {
  TempDir dir;
  auto base = R"("type": "feed", "format": "xml", "records": "/R", "fields": { "external_code": "@c" })";
  auto r = load_config(dir.write("c.json", feed_config(std::string(R"({ "name": "a", "url": "file://relative.xml", )") +
                                                        base + R"(}, { "name": "b", "url": "ftp://x/y.xml", )" + base + "}")));
  EXPECT_THAT(find_error(r, "connectors[0].url")->message, HasSubstr("absolute file URL"));
  EXPECT_THAT(find_error(r, "connectors[1].url")->message, HasSubstr("expected a file://, http:// or https:// URL"));
}

TEST(ConfigFeed, PathsAreCheckedForTheirFormat) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", feed_config(R"(
    { "name": "x", "type": "feed", "url": "file:///a.xml", "format": "xml", "records": "/Export/[",
      "fields": { "external_code": "@code", "name": "Name[", "relationship": { "path": "@t", "map": { "C": "client" } } } },
    { "name": "j", "type": "feed", "url": "file:///a.json", "format": "json", "records": "customers",
      "fields": { "external_code": "/code", "name": "/a~2b" },
      "contacts": { "records": "/contacts", "fields": { "email": "email" } } })")));
  EXPECT_THAT(find_error(r, "connectors[0].records")->message, HasSubstr("bad XPath \"/Export/[\""));
  EXPECT_THAT(find_error(r, "connectors[0].fields.name")->message, HasSubstr("bad XPath"));
  EXPECT_THAT(find_error(r, "connectors[0].fields.relationship.map.C")->message,
              HasSubstr("maps to \"client\": expected one of \"customer\""));
  EXPECT_THAT(find_error(r, "connectors[1].records")->message, HasSubstr("expected a JSON Pointer"));
  EXPECT_THAT(find_error(r, "connectors[1].fields.name")->message, HasSubstr("bad JSON Pointer"));
  EXPECT_THAT(find_error(r, "connectors[1].contacts.fields.email")->message, HasSubstr("expected a JSON Pointer"));
}

TEST(ConfigFeed, ExternalCodeMappingIsRequired) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", feed_config(R"({ "name": "a", "type": "feed", "url": "file:///a.xml",
    "format": "xml", "records": "/R", "fields": { "name": "Name" } })")));
  EXPECT_THAT(find_error(r, "connectors[0].fields")->message, HasSubstr("missing required key \"external_code\""));
}

TEST(ConfigFeed, ValueMapsAndContactsAreRead) {
  TempDir dir;
  std::string fixture = std::string(ERPSYNC_SOURCE_DIR) + "/tests/fixtures/feed/feed-xml.json";
  std::ifstream in(fixture);
  std::string conn((std::istreambuf_iterator<char>(in)), {});
  auto r = load_config(dir.write("c.json", feed_config(conn)));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const FeedConfig& f = *r.config->connectors.at(0).settings_as<FeedConfig>();
  const auto& rel = f.fields[static_cast<int>(core::Field::relationship)];
  ASSERT_TRUE(rel && rel->map);
  EXPECT_EQ(rel->path, "@type");
  EXPECT_EQ(rel->map->at("R"), "reseller");
  ASSERT_TRUE(f.contacts);
  EXPECT_EQ(f.contacts->records, "Contacts/Contact");
  EXPECT_EQ(f.contacts->fields[static_cast<int>(core::ContactField::first_name)]->path, "First");
  EXPECT_FALSE(f.contacts->fields[static_cast<int>(core::ContactField::active)]);
}

TEST(ConfigFeed, HttpFixturesLoad) {
  // The Business Central and bearer JSON connector files load as they are, secrets resolved
  // from the environment and systemd credentials.
  TempDir dir;
  setenv("BC_TENANT", "t", 1);
  setenv("BC_COMPANY", "c", 1);
  dir.write("creds/bc-client-id", "id\n");
  dir.write("creds/bc-client-secret", "secret\n");
  dir.write("creds/erp-token", "tok\n");
  setenv("CREDENTIALS_DIRECTORY", dir.path("creds").c_str(), 1);
  fs::create_directories(dir.path("d"));
  for (const char* name : {"business-central.json", "feed-json.json"}) {
    fs::copy_file(std::string(ERPSYNC_SOURCE_DIR) + "/tests/fixtures/feed/" + name, dir.path(std::string("d/") + name),
                  fs::copy_options::overwrite_existing);
  }
  auto r = load_config(dir.write("c.json", R"({ "database": { "connection": "x" }, "include": "d/*.json" })"));
  unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const FeedConfig& bc = *r.config->connectors.at(0).settings_as<FeedConfig>();
  EXPECT_EQ(bc.url, "https://api.businesscentral.dynamics.com/v2.0/t/production/api/v2.0/companies(c)/customers");
  EXPECT_EQ(bc.auth.type, FeedAuth::Type::oauth2_client_credentials);
  EXPECT_EQ(bc.auth.client_secret.reveal(), "secret");
  EXPECT_EQ(bc.paging.type, FeedPaging::Type::next_link);
  ASSERT_TRUE(bc.cursor);
  EXPECT_EQ(bc.cursor->field, "/lastModifiedDateTime");
  EXPECT_EQ(r.config->connectors.at(1).settings_as<FeedConfig>()->auth.token.reveal(), "tok");
  // Credentials are known to the log redaction.
  EXPECT_EQ(r.config->redact("secret tok"), "*** ***");
}

}  // namespace
}  // namespace erpsync::connectors::feed
