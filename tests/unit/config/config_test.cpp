// Config loading (SPEC §6): every error names its file and line/key; includes; ${...}
// secrets; the option table refuses what this build cannot do yet.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"
#include "config/jsonc.hpp"
#include "config/options.hpp"
#include "connectors/feed/feed_conf.hpp"
#include "connectors/registry.hpp"
#include "unit/config/config_test_support.hpp"

namespace erpsync::config {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using connectors::feed::FeedConfig;
using connectors::feed::FeedFormat;

using testkit::all_errors;
using testkit::feed_config;
using testkit::find_error;
using testkit::load_config;
using testkit::TempDir;

// The option table with every connector type of this build.
const OptionTable& table() {
  static const OptionTable t(connectors::connector_types());
  return t;
}
std::span<const OptionSpec> options() { return table().options(); }
const OptionSpec* find_option(std::string_view path) { return table().find(path); }

constexpr const char* kMinimal = R"({
  "database": { "connection": "Driver=SQLite3;Database=/tmp/x.db" }
})";

// SPEC §6's example, verbatim.
constexpr const char* kSpecExample = R"jsonc({
  "database": { "connection": "Driver=SQLite3;Database=/var/lib/erpsync/erpsync.db", "batch_size": 500 },
  "log": { "level": "info", "format": "text" },             // text | json
  "workers": 2,
  "metrics": { "listen": "127.0.0.1:9464" },                // optional Prometheus endpoint
  "cluster": { "instance_id": "host-a", "lease_ttl": "30s" }, // leases; instance_id defaults to the host name
  "retention": { "runs": "90d", "resolved_rejections": "90d" },
  "include": "connectors.d/*.json",
  "connectors": [
    { "name": "shop", "type": "magento2", "base_url": "https://shop.example.com",
      "auth": { "type": "oauth1", "consumer_key": "${credential:mg-ck}", "consumer_secret": "${credential:mg-cs}",
                "access_token": "${credential:mg-at}", "access_token_secret": "${credential:mg-ats}" },
      "poll_interval": "5m",
      "default_owner": "ecommerce", "account_code_attribute": "erp_account_code",
      "page_size": 100, "streams": ["customers", "orders"] },
    { "name": "odoo", "type": "odoo", "url": "https://erp.example.com", "db": "prod",
      "user": "sync@example.com", "password": "${file:/etc/erpsync/odoo.pass}",
      "poll_interval": "10m", "owners": { "john.smith@example.com": "jsmith" }, "default_owner": "sales" },
    { "name": "sap-export", "type": "feed", "url": "file:///srv/erp/accounts.xml",
      "format": "xml", "records": "/Export/Customer", "poll_interval": "15m",
      "fields": { "external_code": "@code", "name": "Name", "owner": "SalesRep",
                  "member_of": "ParentCode", "email": "Email", "phone": "Phone" },
      "default_owner": "sales" }
  ]
})jsonc";

TEST(ConfigSpecExample, EveryConnectorTypeIsSupportedAndEachUnresolvableSecretIsNamed) {
  TempDir dir;
  auto path = dir.write("erpsync.json", kSpecExample);
  auto r = load_config(path);
  ASSERT_FALSE(r.ok());
  for (const char* type_key : {"connectors[0].type", "connectors[1].type", "connectors[2].type", "metrics"})
    EXPECT_EQ(find_error(r, type_key), nullptr) << all_errors(r);
  // Magento's ${credential:} secrets need systemd's $CREDENTIALS_DIRECTORY, unset here.
  for (const char* key : {"connectors[0].auth.consumer_key", "connectors[0].auth.consumer_secret",
                          "connectors[0].auth.access_token", "connectors[0].auth.access_token_secret"}) {
    const auto* e = find_error(r, key);
    ASSERT_NE(e, nullptr) << key << "\n" << all_errors(r);
    EXPECT_EQ(e->file, path);
    EXPECT_THAT(e->message, HasSubstr("CREDENTIALS_DIRECTORY"));
  }
  EXPECT_EQ(find_error(r, "connectors[0].auth.consumer_key")->line, 11);
  // Odoo's ${file:} secret does not exist on this machine.
  const auto* odoo = find_error(r, "connectors[1].password");
  ASSERT_NE(odoo, nullptr) << all_errors(r);
  EXPECT_EQ(odoo->line, 17);
  EXPECT_THAT(odoo->message, HasSubstr("/etc/erpsync/odoo.pass"));
  // Nothing else is wrong with it: the feed connector and the top level are fine.
  EXPECT_EQ(r.errors.size(), 5u) << all_errors(r);
}

TEST(ConfigSpecExample, FeedsOnlyVariantWithMetricsLoadsTheListenAddress) {
  std::string text = kSpecExample;
  auto a = text.find("    { \"name\": \"shop\"");
  auto b = text.find("    { \"name\": \"sap-export\"", a);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  text.erase(a, b - a);
  TempDir dir;
  auto r = load_config(dir.write("erpsync.json", text));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->metrics.listen, "127.0.0.1:9464");
}

TEST(ConfigSpecExample, FeedsOnlyVariantLoadsWithDefaults) {
  std::string text = kSpecExample;
  // Drop the metrics line and the magento/odoo connectors.
  auto erase_between = [&](const std::string& from, const std::string& to) {
    auto a = text.find(from);
    auto b = text.find(to, a);
    ASSERT_NE(a, std::string::npos);
    ASSERT_NE(b, std::string::npos);
    text.erase(a, b - a);
  };
  erase_between("  \"metrics\"", "  \"cluster\"");
  erase_between("    { \"name\": \"shop\"", "    { \"name\": \"sap-export\"");
  TempDir dir;
  dir.write("connectors.d/erp-xml.json", R"({ "name": "erp-xml", "type": "feed", "url": "file:///srv/a.xml",
    "format": "xml", "records": "/Export/Customer", "fields": { "external_code": "@code" } })");
  auto r = load_config(dir.write("erpsync.json", text));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.database.connection, "Driver=SQLite3;Database=/var/lib/erpsync/erpsync.db");
  EXPECT_EQ(c.database.batch_size, 500);  // as the example sets it
  EXPECT_EQ(c.database.migrate, Migrate::auto_);
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.format, LogFormat::text);
  EXPECT_FALSE(c.log.file);
  EXPECT_EQ(c.workers, 2);
  EXPECT_FALSE(c.metrics.listen);
  EXPECT_EQ(c.cluster.instance_id, "host-a");
  EXPECT_EQ(c.cluster.lease_ttl, std::chrono::seconds(30));
  EXPECT_EQ(c.retention.runs, std::chrono::hours(24 * 90));
  ASSERT_EQ(c.connectors.size(), 2u);
  const ConnectorConfig& sap = c.connectors[0];
  EXPECT_EQ(sap.name, "sap-export");
  EXPECT_EQ(sap.type, "feed");
  EXPECT_TRUE(sap.enabled);
  EXPECT_EQ(sap.poll_interval, std::chrono::minutes(15));
  EXPECT_EQ(sap.default_owner, "sales");
  EXPECT_FALSE(sap.owners);
  EXPECT_EQ(sap.owner_authority, core::OwnerAuthority::crm);
  EXPECT_EQ(sap.park_ttl, std::chrono::hours(24 * 7));
  EXPECT_EQ(sap.cursor_overlap, std::chrono::seconds(30));
  ASSERT_NE(sap.settings_as<FeedConfig>(), nullptr);
  const FeedConfig& f = *sap.settings_as<FeedConfig>();
  EXPECT_EQ(f.url, "file:///srv/erp/accounts.xml");
  EXPECT_EQ(f.format, FeedFormat::xml);
  EXPECT_EQ(f.records, "/Export/Customer");
  ASSERT_TRUE(f.fields[static_cast<int>(core::Field::external_code)]);
  EXPECT_EQ(f.fields[static_cast<int>(core::Field::external_code)]->path, "@code");
  EXPECT_EQ(f.fields[static_cast<int>(core::Field::member_of)]->path, "ParentCode");
  EXPECT_FALSE(f.fields[static_cast<int>(core::Field::remote_id)]);
  EXPECT_DOUBLE_EQ(f.max_shrink_percent, 20.0);
  EXPECT_FALSE(f.allow_empty);
  EXPECT_EQ(f.stable_for, std::chrono::seconds(5));
  EXPECT_FALSE(f.cursor);
  EXPECT_EQ(sap.file, dir.path("erpsync.json"));
  EXPECT_EQ(c.connectors[1].name, "erp-xml");
  EXPECT_EQ(c.connectors[1].file, dir.path("connectors.d/erp-xml.json"));
  EXPECT_EQ(c.connectors[1].poll_interval, std::chrono::minutes(5));  // the declared default
  EXPECT_TRUE(r.warnings.empty());
}

TEST(ConfigDefaults, MinimalFileGetsEveryDeclaredDefault) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", kMinimal));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->cluster.instance_id, default_instance_id());
  EXPECT_FALSE(r.config->cluster.instance_id.empty());
  EXPECT_TRUE(r.config->connectors.empty());
  EXPECT_EQ(r.config->database.table_prefix, "");
}

TEST(ConfigSyntax, CommentsAreSkippedButNotInsideStrings) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", R"(// leading comment
{
  /* a block
     comment over lines */
  "database": { "connection": "Driver=x;Server=http://a/*b*/;Note=//not a comment" }, // trailing
  "log": { "file": "/var/log/a/*.log" } /* end */
})"));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->database.connection, "Driver=x;Server=http://a/*b*/;Note=//not a comment");
  EXPECT_EQ(*r.config->log.file, "/var/log/a/*.log");
}

TEST(ConfigSyntax, SyntaxErrorNamesFileLineAndColumn) {
  TempDir dir;
  auto path = dir.write("c.json", "{\n  /* comment\n  */\n  \"database\": { \"connection\": \"x\" }\n  \"log\": {}\n}\n");
  auto r = load_config(path);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, path);
  EXPECT_EQ(r.errors[0].line, 5);
  EXPECT_THAT(r.errors[0].message, HasSubstr("expected ',' or '}'"));
  EXPECT_THAT(r.errors[0].to_string(), HasSubstr(path + ":5: "));
}

TEST(ConfigSyntax, UnterminatedCommentAndStringAreErrors) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", "{\n /* never closed\n"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("unterminated /* comment (opened on line 2)"));
  r = load_config(dir.write("d.json", "{ \"database\": \"abc\n"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("unterminated string"));
}

TEST(ConfigSyntax, DuplicateKeyIsAnError) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", "{\n \"database\": { \"connection\": \"a\" },\n \"database\": {}\n}"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_THAT(r.errors[0].message, HasSubstr("duplicate key \"database\" (first on line 2)"));
}

TEST(ConfigSyntax, EmptyOrMissingFile) {
  TempDir dir;
  auto r = load_config(dir.path("absent.json"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, dir.path("absent.json"));
  EXPECT_THAT(r.errors[0].message, HasSubstr("cannot read the config file"));
  r = load_config(dir.write("e.json", ""));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("expected a value"));
  r = load_config(dir.write("a.json", "[]"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("expected a JSON object at the top"));
}

TEST(ConfigValidation, UnknownKeyNamesLineKeyAndSuggestion) {
  TempDir dir;
  auto path = dir.write("c.json", R"({
  "database": { "connection": "x",
    "batch_sise": 10 },
  "connectors": [ { "name": "a", "type": "feed", "url": "file:///a.xml", "format": "xml",
    "records": "/R", "fields": { "external_code": "@c", "nmae": "N" },
    "polling": "5m" } ]
})");
  auto r = load_config(path);
  ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
  const auto* e = find_error(r, "database.batch_sise");
  ASSERT_NE(e, nullptr) << all_errors(r);
  EXPECT_EQ(e->line, 3);
  EXPECT_EQ(e->message, "unknown key \"batch_sise\" (did you mean \"batch_size\"?)");
  e = find_error(r, "connectors[0].fields.nmae");
  ASSERT_NE(e, nullptr) << all_errors(r);
  EXPECT_EQ(e->line, 5);
  EXPECT_THAT(e->message, HasSubstr("did you mean \"name\"?"));
  e = find_error(r, "connectors[0].polling");
  ASSERT_NE(e, nullptr) << all_errors(r);
  EXPECT_EQ(e->line, 6);
  EXPECT_THAT(e->message, HasSubstr("unknown key \"polling\""));
}

TEST(ConfigValidation, UnknownTopLevelKey) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", "{\n \"database\": { \"connection\": \"x\" },\n \"wrokers\": 3\n}"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].key, "wrokers");
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_THAT(r.errors[0].message, HasSubstr("did you mean \"workers\"?"));
}

TEST(ConfigValidation, WrongTypesSayWhatWasExpected) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", R"({
  "database": { "connection": "x", "batch_size": "500", "migrate": "sometimes" },
  "workers": 0,
  "log": { "level": 3 },
  "connectors": [ { "name": "a", "type": "feed", "enabled": "yes", "url": "file:///a.xml", "format": "xml",
                    "records": "/R", "fields": { "external_code": 5 }, "owners": { "x": 1 } } ]
})"));
  EXPECT_EQ(find_error(r, "database.batch_size")->message, "expected an integer, got a string");
  EXPECT_EQ(find_error(r, "database.migrate")->message,
            "expected one of \"auto\", \"check\" or \"off\", got \"sometimes\"");
  EXPECT_EQ(find_error(r, "workers")->message, "expected an integer between 1 and 64, got 0");
  EXPECT_EQ(find_error(r, "log.level")->message, "expected a string, got an integer");
  EXPECT_EQ(find_error(r, "connectors[0].enabled")->message, "expected true or false, got a string");
  EXPECT_THAT(find_error(r, "connectors[0].fields.external_code")->message, HasSubstr("expected a path string"));
  EXPECT_EQ(find_error(r, "connectors[0].owners.x")->message, "expected a string, got an integer");
  EXPECT_EQ(find_error(r, "connectors[0].owners.x")->line, 6);
}

TEST(ConfigValidation, BadDurationsAndPercentages) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", R"({
  "database": { "connection": "x" },
  "cluster": { "lease_ttl": "30 seconds" },
  "retention": { "runs": 90 },
  "connectors": [ { "name": "a", "type": "feed", "url": "file:///a.xml", "format": "xml", "records": "/R",
     "fields": { "external_code": "@c" }, "poll_interval": "5min", "max_shrink": "20", "stable_for": "-5s" } ]
})"));
  EXPECT_EQ(r.errors.size(), 5u) << all_errors(r);
  EXPECT_THAT(find_error(r, "cluster.lease_ttl")->message,
              HasSubstr("expected a duration such as \"500ms\", \"90s\", \"5m\", \"1h\" or \"7d\", got \"30 seconds\""));
  EXPECT_EQ(find_error(r, "cluster.lease_ttl")->line, 3);
  EXPECT_THAT(find_error(r, "retention.runs")->message, HasSubstr("got an integer"));
  EXPECT_THAT(find_error(r, "connectors[0].poll_interval")->message, HasSubstr("got \"5min\""));
  EXPECT_THAT(find_error(r, "connectors[0].max_shrink")->message, HasSubstr("percentage"));
  EXPECT_THAT(find_error(r, "connectors[0].stable_for")->message, HasSubstr("got \"-5s\""));
}

TEST(ConfigValues, DurationAndPercentageParsing) {
  EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(parse_duration("5m"), std::chrono::minutes(5));
  EXPECT_EQ(parse_duration("1h"), std::chrono::hours(1));
  EXPECT_EQ(parse_duration("7d"), std::chrono::hours(24 * 7));
  EXPECT_EQ(parse_duration("0s"), std::chrono::seconds(0));
  for (const char* bad : {"", "s", "5", "5 m", "1.5h", "-1s", "5M", "1w", "5m30s", "99999999999999999999s"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
  EXPECT_EQ(parse_percentage("20%"), 20.0);
  EXPECT_EQ(parse_percentage("12.5%"), 12.5);
  EXPECT_EQ(parse_percentage("0%"), 0.0);
  EXPECT_EQ(parse_percentage("100%"), 100.0);
  for (const char* bad : {"20", "%", "101%", "-1%", "1.%", "20 %", "x%"}) EXPECT_FALSE(parse_percentage(bad)) << bad;
}

TEST(ConfigConnectors, DuplicateAndMalformedNames) {
  TempDir dir;
  auto path = dir.write("c.json", R"({
  "database": { "connection": "x" },
  "connectors": [
    { "name": "erp", "type": "feed", "url": "file:///a.xml", "format": "xml", "records": "/R", "fields": { "external_code": "@c" } },
    { "name": "erp", "type": "feed", "url": "file:///b.xml", "format": "xml", "records": "/R", "fields": { "external_code": "@c" } },
    { "name": "SAP Export", "type": "feed", "url": "file:///c.xml", "format": "xml", "records": "/R", "fields": { "external_code": "@c" } },
    { "type": "feed", "url": "file:///c.xml", "format": "xml", "records": "/R", "fields": { "external_code": "@c" } }
  ]
})");
  auto r = load_config(path);
  ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
  EXPECT_EQ(find_error(r, "connectors[1].name")->line, 5);
  EXPECT_EQ(find_error(r, "connectors[1].name")->message,
            "duplicate connector name \"erp\" (first declared in " + path + ":4)");
  EXPECT_THAT(find_error(r, "connectors[2].name")->message, HasSubstr("[a-z0-9-]+"));
  EXPECT_THAT(find_error(r, "connectors[3]")->message, HasSubstr("missing required key \"name\""));
}

TEST(ConfigConnectors, UnknownTypeAndMissingRequiredKeys) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", R"({
  "database": { "connection": "x" },
  "connectors": [
    { "name": "a", "type": "sap", "whatever": 1 },
    { "name": "b", "type": "feed", "url": "file:///a.xml" }
  ]
})"));
  EXPECT_THAT(find_error(r, "connectors[0].type")->message,
              HasSubstr("expected one of \"magento2\", \"odoo\" or \"feed\", got \"sap\""));
  EXPECT_EQ(find_error(r, "connectors[0].whatever"), nullptr);  // judged once the type is known
  std::string feed_errors = all_errors(r);
  EXPECT_THAT(feed_errors, HasSubstr("connectors[1]: missing required key \"format\""));
  EXPECT_THAT(feed_errors, HasSubstr("connectors[1]: missing required key \"records\""));
  EXPECT_THAT(feed_errors, HasSubstr("connectors[1]: missing required key \"fields\""));
}

TEST(ConfigDatabase, ATablePrefixIsAcceptedAndMustBeAnIdentifiersStart) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", R"({ "database": { "connection": "x", "table_prefix": "crm_" }, "connectors": [] })"));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->database.table_prefix, "crm_");
  auto digit = load_config(dir.write("d.json", R"({ "database": { "connection": "x", "table_prefix": "1crm_" }, "connectors": [] })"));
  ASSERT_NE(find_error(digit, "database.table_prefix"), nullptr) << all_errors(digit);
  EXPECT_THAT(find_error(digit, "database.table_prefix")->message, HasSubstr("a letter or '_' first"));
  auto long_one = load_config(dir.write("e.json", R"({ "database": { "connection": "x", "table_prefix": ")" +
                                                     std::string(33, 'p') + R"(" }, "connectors": [] })"));
  ASSERT_NE(find_error(long_one, "database.table_prefix"), nullptr) << all_errors(long_one);
  EXPECT_THAT(find_error(long_one, "database.table_prefix")->message, HasSubstr("at most 32"));
}

TEST(ConfigDatabase, SuiteCrmAsTheCrmNeedsAPrefixAndASyncUserAndChecksItsMaps) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", R"({ "database": { "connection": "x", "table_prefix": "erpsync_",
    "crm": "suitecrm", "suitecrm": { "sync_user": "erpsync", "code_field": "erp_code_c",
    "account_type_map": { "supplier": "Integrator" }, "inactive": "Inactive", "vat_field": "vat_c" } }, "connectors": [] })"));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->database.crm, CrmTarget::suitecrm);
  EXPECT_EQ(r.config->database.suitecrm.sync_user, "erpsync");
  EXPECT_EQ(r.config->database.suitecrm.code_field, "erp_code_c");
  EXPECT_EQ(r.config->database.suitecrm.account_type_map.at("supplier"), "Integrator");
  EXPECT_EQ(r.config->database.suitecrm.inactive, "Inactive");
  EXPECT_EQ(r.config->database.suitecrm.vat_field, "vat_c");

  auto defaults = load_config(dir.write("d.json", R"({ "database": { "connection": "x" }, "connectors": [] })"));
  ASSERT_TRUE(defaults.ok()) << all_errors(defaults);
  EXPECT_EQ(defaults.config->database.crm, CrmTarget::erpsync);
  EXPECT_EQ(defaults.config->database.suitecrm.code_field, "external_code_c");

  auto bare = load_config(dir.write("e.json", R"({ "database": { "connection": "x", "crm": "suitecrm" }, "connectors": [] })"));
  ASSERT_NE(find_error(bare, "database.table_prefix"), nullptr) << all_errors(bare);
  ASSERT_NE(find_error(bare, "database.suitecrm.sync_user"), nullptr) << all_errors(bare);
  auto bad = load_config(dir.write("f.json", R"({ "database": { "connection": "x", "table_prefix": "e_", "crm": "suitecrm",
    "suitecrm": { "sync_user": "s", "code_field": "code; DROP", "account_type_map": { "vendor": "Other" } } }, "connectors": [] })"));
  ASSERT_NE(find_error(bad, "database.suitecrm.code_field"), nullptr) << all_errors(bad);
  ASSERT_NE(find_error(bad, "database.suitecrm.account_type_map.vendor"), nullptr) << all_errors(bad);
  auto other = load_config(dir.write("g.json", R"({ "database": { "connection": "x", "crm": "vtiger" }, "connectors": [] })"));
  ASSERT_NE(find_error(other, "database.crm"), nullptr) << all_errors(other);
}

TEST(ConfigConnectors, CommonOptionsAreTyped) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", R"({
  "database": { "connection": "x", "migrate": "check" },
  "log": { "level": "debug", "format": "json", "file": "/var/log/erpsync.log" },
  "connectors": [ { "name": "erp-1", "type": "feed", "enabled": false, "url": "file://localhost/a.json",
     "format": "json", "records": "/customers", "fields": { "external_code": "/code", "owner": "/rep" },
     "owners": { "JS": "jsmith", "john.smith@example.com": "jsmith" }, "adopt_by": ["vat", "name"],
     "owner_authority": "source", "park_ttl": "2d", "cursor_overlap": "1m", "start_date": "2026-01-01",
     "max_shrink": "12.5%", "allow_empty": true, "stable_for": "500ms" } ]
})"));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const auto& c = r.config->connectors.at(0);
  EXPECT_EQ(r.config->database.migrate, Migrate::check);
  EXPECT_EQ(r.config->database.table_prefix, "");
  EXPECT_EQ(r.config->log.format, LogFormat::json);
  EXPECT_EQ(*r.config->log.file, "/var/log/erpsync.log");
  EXPECT_FALSE(c.enabled);
  ASSERT_TRUE(c.owners);
  EXPECT_EQ(c.owners->at("john.smith@example.com"), "jsmith");
  EXPECT_EQ(c.adopt_by, (std::vector<core::Field>{core::Field::vat, core::Field::name}));
  EXPECT_EQ(c.owner_authority, core::OwnerAuthority::source);
  EXPECT_EQ(c.park_ttl, std::chrono::hours(48));
  EXPECT_EQ(c.cursor_overlap, std::chrono::minutes(1));
  EXPECT_EQ(*c.start_date, "2026-01-01");
  EXPECT_DOUBLE_EQ(c.settings_as<FeedConfig>()->max_shrink_percent, 12.5);
  EXPECT_TRUE(c.settings_as<FeedConfig>()->allow_empty);
  EXPECT_EQ(c.settings_as<FeedConfig>()->stable_for, std::chrono::milliseconds(500));
  auto policy = c.match_policy("accounts");
  EXPECT_EQ(policy.connector, "erp-1");
  EXPECT_EQ(policy.stream, "accounts");
  EXPECT_EQ(policy.owner_authority, core::OwnerAuthority::source);
  EXPECT_EQ(r.config->connector("erp-1"), &c);
  EXPECT_EQ(r.config->connector("nope"), nullptr);
}

TEST(ConfigConnectors, BadStartDateAndTablePrefix) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", R"({
  "database": { "connection": "x", "table_prefix": "crm; DROP" },
  "connectors": [ { "name": "a", "type": "feed", "url": "file:///a.xml", "format": "xml", "records": "/R",
     "fields": { "external_code": "@c" }, "start_date": "2026-13-01" } ]
})"));
  EXPECT_THAT(find_error(r, "database.table_prefix")->message, HasSubstr("letters, digits and '_'"));
  EXPECT_THAT(find_error(r, "connectors[0].start_date")->message, HasSubstr("YYYY-MM-DD"));
}

// ---- includes -----------------------------------------------------------------------------

constexpr const char* kFeedA = R"({ "name": "a", "type": "feed", "url": "file:///a.xml", "format": "xml",
  "records": "/R", "fields": { "external_code": "@c" } })";

TEST(ConfigInclude, RelativeGlobOneConnectorPerFileInOrder) {
  TempDir dir;
  dir.write("etc/connectors.d/20-b.json", R"(// b
{ "name": "b", "type": "feed", "url": "file:///b.xml", "format": "xml", "records": "/R", "fields": { "external_code": "@c" } })");
  dir.write("etc/connectors.d/10-a.json", kFeedA);
  dir.write("etc/connectors.d/README", "not json");
  auto r = load_config(dir.write("etc/erpsync.json", R"({ "database": { "connection": "x" },
    "include": "connectors.d/*.json",
    "connectors": [ { "name": "main", "type": "feed", "url": "file:///m.xml", "format": "xml", "records": "/R",
                      "fields": { "external_code": "@c" } } ] })"));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  ASSERT_EQ(r.config->connectors.size(), 3u);
  EXPECT_EQ(r.config->connectors[0].name, "main");
  EXPECT_EQ(r.config->connectors[1].name, "a");
  EXPECT_EQ(r.config->connectors[2].name, "b");
  EXPECT_EQ(r.config->connectors[2].file, dir.path("etc/connectors.d/20-b.json"));
  EXPECT_EQ(r.config->connectors[2].line, 2);
}

TEST(ConfigInclude, NoMatchIsFine) {
  TempDir dir;
  auto r = load_config(dir.write("c.json", R"({ "database": { "connection": "x" }, "include": "missing.d/*.json" })"));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_TRUE(r.config->connectors.empty());
}

TEST(ConfigInclude, ErrorsNameTheIncludedFileAndLine) {
  TempDir dir;
  auto inc = dir.write("d/a.json", "{ \"name\": \"a\", \"type\": \"feed\", \"url\": \"file:///a.xml\",\n"
                                   "  \"format\": \"xml\", \"records\": \"/R\", \"fields\": { \"external_code\": \"@c\" },\n"
                                   "  \"poll_interval\": \"soon\" }");
  auto r = load_config(dir.write("c.json", R"({ "database": { "connection": "x" }, "include": "d/*.json" })"));
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].file, inc);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].key, "connectors[0].poll_interval");
}

TEST(ConfigInclude, DuplicateNamesAcrossFiles) {
  TempDir dir;
  auto inc = dir.write("d/a.json", kFeedA);
  auto main = dir.write("c.json", std::string(R"({ "database": { "connection": "x" }, "include": "d/*.json",
    "connectors": [ )") + kFeedA + "] }");
  auto r = load_config(main);
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].file, inc);
  EXPECT_EQ(r.errors[0].message, "duplicate connector name \"a\" (first declared in " + main + ":2)");
}

TEST(ConfigInclude, UnreadableOrMalformedIncludedFileIsAnError) {
  TempDir dir;
  fs::create_directories(dir.path("d"));
  fs::create_symlink(dir.path("nowhere.json"), dir.path("d/broken.json"));
  dir.write("d/bad.json", "{ \"name\": \"x\",, }");
  dir.write("d/list.json", "[]");
  auto main = dir.write("c.json", "{ \"database\": { \"connection\": \"x\" },\n \"include\": \"d/*.json\" }");
  auto r = load_config(main);
  ASSERT_EQ(r.errors.size(), 3u) << all_errors(r);
  EXPECT_EQ(r.errors[0].file, dir.path("d/bad.json"));
  EXPECT_EQ(r.errors[0].line, 1);
  EXPECT_EQ(r.errors[1].file, main);
  EXPECT_EQ(r.errors[1].line, 2);
  EXPECT_EQ(r.errors[1].key, "include");
  EXPECT_THAT(r.errors[1].message, HasSubstr("cannot read included file " + dir.path("d/broken.json")));
  EXPECT_EQ(r.errors[2].file, dir.path("d/list.json"));
  EXPECT_THAT(r.errors[2].message, HasSubstr("expected one connector object"));
}

// ---- ${...} references and secrets ------------------------------------------------------

TEST(ConfigSecrets, EnvFileAndCredentialReferences) {
  TempDir dir;
  setenv("ERPSYNC_TEST_DB", "erpsync.db", 1);
  dir.write("secrets/db.pass", "s3cr3t-pw\n");
  dir.write("creds/owner", "sales-team\n");
  setenv("CREDENTIALS_DIRECTORY", dir.path("creds").c_str(), 1);
  auto r = load_config(dir.write("c.json", R"({ "database": {
    "connection": "Driver=SQLite3;Database=/var/${env:ERPSYNC_TEST_DB};PWD=${file:)" + dir.path("secrets/db.pass") + R"(}" },
    "connectors": [ { "name": "a", "type": "feed", "url": "file:///a.xml", "format": "xml", "records": "/R",
      "fields": { "external_code": "@c" }, "default_owner": "${credential:owner}", "owners": { "x": "$${y}" } } ] })"));
  unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->database.connection, "Driver=SQLite3;Database=/var/erpsync.db;PWD=s3cr3t-pw");
  EXPECT_EQ(r.config->connectors[0].default_owner, "sales-team");
  EXPECT_EQ(r.config->connectors[0].owners->at("x"), "${y}");  // $${ is a literal ${
  EXPECT_THAT(r.config->secret_keys, ::testing::UnorderedElementsAre("database.connection", "connectors[0].default_owner"));
  std::string line = "connecting with " + r.config->database.connection + " owner sales-team";
  std::string red = r.config->redact(line);
  EXPECT_EQ(red.find("s3cr3t-pw"), std::string::npos) << red;
  EXPECT_EQ(red.find("sales-team"), std::string::npos) << red;
}

TEST(ConfigSecrets, RelativeFileReferenceIsRelativeToTheConfigFolder) {
  TempDir dir;
  dir.write("etc/owner.txt", "ops\n\n");  // only one trailing newline is stripped
  auto r = load_config(dir.write("etc/c.json", feed_config(R"({ "name": "a", "type": "feed", "url": "file:///a.xml",
    "format": "xml", "records": "/R", "fields": { "external_code": "@c" }, "default_owner": "${file:owner.txt}" })")));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->connectors[0].default_owner, "ops\n");
}

TEST(ConfigSecrets, UnresolvableReferencesAreClearErrors) {
  TempDir dir;
  unsetenv("ERPSYNC_TEST_UNSET");
  unsetenv("CREDENTIALS_DIRECTORY");
  auto path = dir.write("c.json", R"({
  "database": { "connection": "${env:ERPSYNC_TEST_UNSET}" },
  "log": { "file": "${file:/nonexistent/erpsync/pw}" },
  "cluster": { "instance_id": "${credential:id}" },
  "connectors": [ { "name": "a", "type": "feed", "url": "file:///a.xml", "format": "xml", "records": "/R",
      "fields": { "external_code": "@c" }, "default_owner": "${vault:x}", "owners": { "a": "${env:ERPSYNC_TEST_UNSET" } } ]
})");
  auto r = load_config(path);
  ASSERT_EQ(r.errors.size(), 5u) << all_errors(r);
  EXPECT_EQ(find_error(r, "database.connection")->line, 2);
  EXPECT_EQ(find_error(r, "database.connection")->message,
            "environment variable ERPSYNC_TEST_UNSET is not set (referenced as ${env:ERPSYNC_TEST_UNSET})");
  EXPECT_THAT(find_error(r, "log.file")->message,
              HasSubstr("cannot read /nonexistent/erpsync/pw (referenced as ${file:/nonexistent/erpsync/pw}): No such file"));
  EXPECT_THAT(find_error(r, "cluster.instance_id")->message, HasSubstr("needs $CREDENTIALS_DIRECTORY, which is not set"));
  EXPECT_THAT(find_error(r, "connectors[0].default_owner")->message, HasSubstr("unknown reference kind \"vault\""));
  EXPECT_THAT(find_error(r, "connectors[0].owners.a")->message, HasSubstr("unterminated ${...}"));
}

TEST(ConfigSecrets, MissingCredentialFile) {
  TempDir dir;
  fs::create_directories(dir.path("creds"));
  setenv("CREDENTIALS_DIRECTORY", dir.path("creds").c_str(), 1);
  auto r = load_config(dir.write("c.json", R"({ "database": { "connection": "${credential:db}" } })"));
  unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("cannot read " + dir.path("creds/db") + " (referenced as ${credential:db})"));
}

TEST(ConfigSecrets, WorldReadableFileWithInlinePasswordWarns) {
  TempDir dir;
  auto perms644 = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;
  auto text = R"({
  "database": { "connection": "Driver=PostgreSQL;Server=db;UID=erpsync;PWD=hunter22" }
})";
  auto r = load_config(dir.write("open.json", text, perms644));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].key, "database.connection");
  EXPECT_EQ(r.warnings[0].line, 2);
  EXPECT_THAT(r.warnings[0].message, HasSubstr("world-readable"));
  EXPECT_EQ(r.config->warnings.size(), 1u);
  EXPECT_EQ(r.config->redact(r.config->database.connection), "Driver=PostgreSQL;Server=db;UID=erpsync;PWD=***");

  // The same file readable by its owner only, or with the password by reference: no warning.
  EXPECT_TRUE(load_config(dir.write("closed.json", text)).warnings.empty());
  dir.write("pw", "hunter22\n");
  auto by_ref = load_config(dir.write("ref.json", R"({ "database": { "connection": "Driver=x;PWD=${file:pw}" } })", perms644));
  ASSERT_TRUE(by_ref.ok()) << all_errors(by_ref);
  EXPECT_TRUE(by_ref.warnings.empty());
}

TEST(ConfigWarnings, PlainHttpWithCredentialsWarnsNamingConnectorAndKey) {
  TempDir dir;
  auto r = load_config(dir.write("erpsync.json", R"({
  "database": { "connection": "x" },
  "connectors": [
    { "name": "erp-basic", "type": "feed", "url": "http://erp.example.com/x.json", "format": "json", "records": "/v",
      "fields": { "external_code": "/c" }, "auth": { "type": "basic", "username": "u", "password": "p4ss-word" } },
    { "name": "erp-key", "type": "feed", "url": "http://erp.example.com/x.json", "format": "json", "records": "/v",
      "fields": { "external_code": "/c" }, "headers": { "X-Tenant": "north", "X-Api-Key": "k3y-value" } },
    { "name": "bc", "type": "feed", "url": "https://api.example.com/x.json", "format": "json", "records": "/v",
      "fields": { "external_code": "/c" },
      "auth": { "type": "oauth2_client_credentials", "token_url": "http://login.example.com/token",
                "client_id": "id", "client_secret": "s3cret-value" } },
    { "name": "open-data", "type": "feed", "url": "http://data.example.com/x.json", "format": "json", "records": "/v",
      "fields": { "external_code": "/c" }, "headers": { "X-Tenant": "north" } },
    { "name": "off", "type": "feed", "enabled": false, "url": "http://erp.example.com/x.json", "format": "json",
      "records": "/v", "fields": { "external_code": "/c" }, "auth": { "type": "bearer", "token": "t0ken-value" } },
    { "name": "shop", "type": "magento2", "base_url": "http://shop.example.com", "account_code_attribute": "erp",
      "default_owner": "ecommerce", "auth": { "type": "bearer", "token": "t0ken-value" } },
    { "name": "odoo", "type": "odoo", "url": "https://odoo.example.com", "db": "prod", "user": "sync",
      "password": "p4ss-word" }
  ]
})"));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  std::vector<std::string> keys;
  for (const auto& w : r.warnings) keys.push_back(w.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"connectors[0].url", "connectors[1].url", "connectors[2].auth.token_url",
                                            "connectors[5].base_url"}));
  ASSERT_EQ(r.warnings.size(), 4u);
  EXPECT_THAT(r.warnings[0].to_string(), HasSubstr("erpsync.json:4: connectors[0].url: connector \"erp-basic\" sends "
                                                   "its credentials (auth basic) over plain http://"));
  EXPECT_THAT(r.warnings[0].message, HasSubstr("use https://"));
  EXPECT_THAT(r.warnings[1].message, HasSubstr("connector \"erp-key\" sends its credential header X-Api-Key"));
  EXPECT_THAT(r.warnings[2].message, HasSubstr("connector \"bc\" sends its OAuth2 client secret"));
  EXPECT_THAT(r.warnings[3].message, HasSubstr("connector \"shop\""));
  for (const auto& w : r.warnings)
    for (const char* secret : {"p4ss-word", "k3y-value", "s3cret-value", "t0ken-value"})
      EXPECT_THAT(w.to_string(), ::testing::Not(HasSubstr(secret)));
  EXPECT_EQ(r.config->warnings.size(), 4u);  // what the daemon logs at start and at each reload
}

TEST(ConfigSecrets, DeclaredSecretOptionsAreMarked) {
  int secrets = 0;
  for (const auto& o : options()) {
    std::string_view p = o.path;
    // contacts.company_key (SPEC §4.3 "CSV") names a column, not a credential.
    bool looks_secret = p.ends_with("password") || p.ends_with("token") || p.ends_with("secret") ||
                        p.ends_with("api_key") || (p.ends_with("_key") && !p.ends_with(".company_key")) ||
                        p.ends_with("client_id");
    EXPECT_EQ(o.secret, looks_secret) << p;
    secrets += o.secret;
  }
  EXPECT_GE(secrets, 10);
}

// ---- load_database_only ---------------------------------------------------------------------

TEST(ConfigDatabaseOnly, IgnoresUnresolvableConnectorSecrets) {
  TempDir dir;
  unsetenv("ERPSYNC_TEST_UNSET");
  auto path = dir.write("c.json", R"({
  "database": { "connection": "Driver=SQLite3;Database=/tmp/x.db", "batch_size": 100 },
  "log": { "format": "json" },
  "connectors": [ { "name": "shop", "type": "magento2", "auth": { "token": "${env:ERPSYNC_TEST_UNSET}" } } ]
})");
  EXPECT_FALSE(load_config(path).ok());
  auto r = load_database_only(path);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config->database.batch_size, 100);
  EXPECT_EQ(r.config->log.format, LogFormat::json);
  EXPECT_TRUE(r.config->connectors.empty());
}

TEST(ConfigDatabaseOnly, StillValidatesTheDatabaseSection) {
  TempDir dir;
  auto r = load_database_only(dir.write("c.json", "{ \"database\": { \"connection\": \"x\", \"migrate\": \"yes\" } }"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].key, "database.migrate");
  r = load_database_only(dir.write("d.json", "{ \"log\": {} }"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("missing required key \"database\""));
}

// ---- the option table ----------------------------------------------------------------------

TEST(OptionTable, EveryOptionHasADescriptionAndAParent) {
  for (const auto& o : options()) {
    EXPECT_FALSE(o.description.empty()) << o.path;
    std::string p(o.path);
    auto cut = p.find_last_of(".[");
    if (cut == std::string::npos) continue;
    std::string parent = p.substr(0, cut);
    if (p.substr(cut) == "[]") continue;
    if (parent.starts_with("connectors[") && parent.find('.') == std::string::npos) parent = "connectors[]";
    EXPECT_NE(find_option(parent), nullptr) << "parent of " << p;
    if (!o.default_json.empty()) EXPECT_NO_THROW((void)default_value(o)) << p;
  }
}

TEST(OptionTable, DeclaresEveryOptionSpecNames) {
  for (const char* p : {"database.connection", "database.batch_size", "database.table_prefix", "database.migrate",
                        "log.level", "log.format", "log.file", "workers", "metrics.listen", "cluster.instance_id",
                        "cluster.lease_ttl", "retention.runs", "retention.resolved_rejections", "include",
                        "connectors[].name", "connectors[].type", "connectors[].enabled", "connectors[].poll_interval",
                        "connectors[].default_owner", "connectors[].owners", "connectors[].adopt_by",
                        "connectors[].owner_authority", "connectors[].park_ttl", "connectors[].cursor_overlap",
                        "connectors[].start_date", "connectors[magento2].auth.consumer_key",
                        "connectors[magento2].auth.access_token_secret", "connectors[magento2].account_code_attribute",
                        "connectors[magento2].full_resync_interval", "connectors[odoo].protocol",
                        "connectors[odoo].api_key", "connectors[feed].cursor.granularity",
                        "connectors[feed].paging.next_link", "connectors[feed].auth.scope", "connectors[feed].max_shrink",
                        "connectors[feed].allow_empty", "connectors[feed].stable_for", "connectors[feed].headers",
                        "connectors[feed].fields.active", "connectors[feed].contacts.fields.last_name",
                        "connectors[feed].max_pages", "connectors[feed].max_snapshot_size"})
    EXPECT_NE(find_option(p), nullptr) << p;
  for (std::size_t i = 0; i < core::kFieldCount; ++i)
    EXPECT_NE(find_option("connectors[feed].fields." + std::string(core::field_name(static_cast<core::Field>(i)))), nullptr);
}

TEST(OptionTable, EveryConnectorTypeOfThisBuildIsAType) {
  EXPECT_EQ(find_option("connectors[].type")->choices, "magento2|odoo|feed");
  for (const ConnectorType* t : connectors::connector_types()) {
    EXPECT_EQ(table().type(t->name()), t);
    EXPECT_FALSE(t->options().empty()) << t->name();
    for (const auto& o : t->options())
      EXPECT_TRUE(std::string_view(o.path).starts_with("connectors[" + std::string(t->name()) + "].")) << o.path;
  }
}

TEST(OptionTable, JsonSchemaIsGeneratedFromTheTable) {
  auto s = json_schema(connectors::connector_types());
  EXPECT_EQ(s["type"], "object");
  EXPECT_EQ(s["properties"]["database"]["properties"]["batch_size"]["default"], 2000);
  EXPECT_EQ(s["properties"]["database"]["required"], nlohmann::ordered_json::array({"connection"}));
  EXPECT_EQ(s["properties"]["log"]["properties"]["format"]["enum"], nlohmann::ordered_json::array({"text", "json"}));
  const auto& variants = s["properties"]["connectors"]["items"]["oneOf"];
  ASSERT_EQ(variants.size(), 3u);
  const auto& feed = variants[2];
  EXPECT_EQ(feed["properties"]["type"]["const"], "feed");
  EXPECT_TRUE(feed["properties"].contains("poll_interval"));
  EXPECT_TRUE(feed["properties"]["fields"]["properties"].contains("relationship"));
  EXPECT_EQ(feed["additionalProperties"], false);
  EXPECT_EQ(variants[0]["properties"]["type"]["const"], "magento2");
  EXPECT_THAT(variants[0]["properties"]["base_url"]["description"].get<std::string>(), HasSubstr("base URL"));
}

TEST(Jsonc, RecordsLinesOfKeysAndItems) {
  auto r = parse_jsonc("{\n \"a\": [\n  1,\n  {\"b c\": 2}\n ]\n}");
  ASSERT_TRUE(r.doc);
  EXPECT_EQ(r.doc->line_of("a"), 2);
  EXPECT_EQ(r.doc->line_of("a[0]"), 3);
  EXPECT_EQ(r.doc->line_of("a[1][\"b c\"]"), 4);
}

TEST(Jsonc, StringsAndNumbers) {
  auto r = parse_jsonc(R"({"s": "a\"b\\c\u00e9\ud83d\ude00 // x", "i": -12, "f": 1.5e2, "t": true, "n": null})");
  ASSERT_TRUE(r.doc) << r.error.message;
  EXPECT_EQ(r.doc->root["s"], "a\"b\\c\xC3\xA9\xF0\x9F\x98\x80 // x");
  EXPECT_EQ(r.doc->root["i"], -12);
  EXPECT_EQ(r.doc->root["f"], 150.0);
  for (const char* bad : {"{\"a\": 01}", "{\"a\": 'x'}", "{\"a\": 1,}", "[1,]", "{\"a\": tru}", "{\"a\": \"\\ud800\"}"})
    EXPECT_FALSE(parse_jsonc(bad).doc) << bad;
}

}  // namespace
}  // namespace erpsync::config
