// SPEC §8 and §5 security promises, through the real erpsyncd binary:
//   - no secret reaches a log line: runs with known canary secrets (a ${file:} basic-auth
//     password, a bearer token, an OAuth2 client secret, PWD= in the ODBC connection string),
//     in text and JSON log formats at debug level, on the error paths (401s, a refused token,
//     a wrong database password, an unopenable database) and in the admin commands; every
//     line of output is searched for every canary;
//   - no SQL is built from data: a feed whose every field holds quotes, backslashes, SQL,
//     LIKE wildcards and emoji is synced on every engine, read back byte-identical, matched
//     exactly on the next run, and the schema is intact;
//   - a world-readable config file holding an inline secret gives a warning.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "reliability_support.hpp"
#include "support/fake_http_server.hpp"
#include "support/odbc_query.hpp"
#include "support/process.hpp"
#include "support/test_databases.hpp"

namespace erpsync::testing {
namespace {

using ::testing::HasSubstr;

const std::string kFilePassword = "canary-file-pass-7f3a9c";
const std::string kBearer = "canary-bearer-tok-51e2d0";
const std::string kClientSecret = "canary-client-secret-c0ffee";
const std::string kOdbcPwd = "canary-odbc-pwd-9b41d7";
const std::vector<std::string> kCanaries = {kFilePassword, kBearer, kClientSecret, kOdbcPwd};

// Every line of `output` holding a canary (or its base64 / URL-encoded forms' telling parts).
std::vector<std::string> leaking_lines(const std::string& output) {
  std::vector<std::string> leaks;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line))
    for (const std::string& c : kCanaries)
      if (line.find(c) != std::string::npos || line.find(c.substr(c.size() - 10)) != std::string::npos) {
        leaks.push_back(line);
        break;
      }
  return leaks;
}

std::string connectors_json(const FakeHttpServer& server, const std::string& password_file) {
  const std::string fields = R"("fields": { "remote_id": "/id", "external_code": "/code", "name": "/name" })";
  return R"([
    { "name": "basic-erp", "type": "feed", "format": "json", "records": "/items", "default_owner": "sales",
      "url": ")" + server.url("/basic") + R"(", "timeout": "5s",
      "auth": { "type": "basic", "username": "sync", "password": "${file:)" + password_file + R"(}" }, )" + fields + R"( },
    { "name": "bearer-erp", "type": "feed", "format": "json", "records": "/items", "default_owner": "sales",
      "url": ")" + server.url("/bearer") + R"(", "timeout": "5s",
      "auth": { "type": "bearer", "token": ")" + kBearer + R"(" }, )" + fields + R"( },
    { "name": "oauth-erp", "type": "feed", "format": "json", "records": "/items", "default_owner": "sales",
      "url": ")" + server.url("/oauth-data") + R"(", "timeout": "5s",
      "auth": { "type": "oauth2_client_credentials", "token_url": ")" + server.url("/token") + R"(",
                "client_id": "client-1", "client_secret": ")" + kClientSecret + R"(", "scope": "api" }, )" + fields + R"( }
  ])";
}

class SecretsInLogs : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    // Every remote refuses the credentials, and says so echoing them back (as some do).
    server_.on("GET", "/basic", FakeReply::json(401, R"({"error":"bad password )" + kFilePassword + R"("})"));
    server_.on("GET", "/bearer", FakeReply::json(401, R"({"error":"invalid token )" + kBearer + R"("})"));
    server_.on("POST", "/token", FakeReply::json(401, R"({"error":"invalid_client","secret":")" + kClientSecret + R"("})"));
    password_file_ = dir_.write("basic.pass", kFilePassword + "\n", false);
    ::chmod(password_file_.c_str(), 0600);
  }

  std::string write_config(const std::string& connection) {
    const std::string path = dir_.write(
        "erpsync.json",
        "{ \"database\": { \"connection\": \"" + connection + "\" },\n  \"log\": { \"level\": \"debug\", \"format\": \"" +
            GetParam() + "\" },\n  \"connectors\": " + connectors_json(server_, password_file_) + " }\n",
        false);
    ::chmod(path.c_str(), 0600);
    return path;
  }

  ProcessResult erpsyncd(const std::string& config, std::vector<std::string> args) {
    std::vector<std::string> argv = {erpsyncd_path(), "--config", config};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv);
  }

  ScratchDir dir_{"erpsync-secrets"};
  FakeHttpServer server_;
  std::string password_file_;
};

TEST_P(SecretsInLogs, AuthFailuresAndAdminCommandsNeverLogASecret) {
  const std::string db = (dir_.path() / "crm.db").string();
  const std::string config = write_config("Driver=SQLite3;Database=" + db + ";PWD=" + kOdbcPwd + ";");

  const ProcessResult once = erpsyncd(config, {"--once"});
  EXPECT_EQ(once.exit_code, 1) << once.all();
  EXPECT_THAT(once.all(), HasSubstr("401"));
  // The secrets were really in play: the remotes received them.
  bool bearer_sent = false, basic_sent = false, secret_sent = false;
  for (const RecordedRequest& r : server_.requests()) {
    if (r.header("Authorization").value_or("") == "Bearer " + kBearer) bearer_sent = true;
    if (r.path == "/basic" && r.header("Authorization").value_or("").rfind("Basic ", 0) == 0) basic_sent = true;
    if (r.path == "/token" && (r.body.find(kClientSecret) != std::string::npos ||
                               r.header("Authorization").value_or("").rfind("Basic ", 0) == 0))
      secret_sent = true;
  }
  EXPECT_TRUE(bearer_sent && basic_sent && secret_sent);

  std::string all = once.all();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--check-config"}, {"report"}, {"--once", "--dry-run"}, {"rejections", "list"}}) {
    const ProcessResult r = erpsyncd(config, args);
    all += r.all();
  }
  const auto leaks = leaking_lines(all);
  EXPECT_TRUE(leaks.empty()) << leaks.size() << " lines with a secret, first: " << leaks.front();
}

TEST_P(SecretsInLogs, DatabaseErrorsNeverLogThePassword) {
  // An unopenable SQLite file with a password in the connection string.
  std::string config = write_config("Driver=SQLite3;Database=/nonexistent-dir/x/crm.db;PWD=" + kOdbcPwd + ";");
  ProcessResult r = erpsyncd(config, {"--once"});
  EXPECT_NE(r.exit_code, 0) << r.all();
  std::string all = r.all();
  all += erpsyncd(config, {"report"}).all();
  all += erpsyncd(config, {"migrate"}).all();

  // A wrong password on a real server.
  if (const char* pg = std::getenv("ODBC_PG"); pg && *pg) {
    std::string conn = pg;
    const auto at = conn.find("Pwd=");
    ASSERT_NE(at, std::string::npos);
    conn = conn.substr(0, at) + "Pwd=" + kOdbcPwd + ";";
    config = write_config(conn);
    r = erpsyncd(config, {"--once"});
    EXPECT_NE(r.exit_code, 0) << r.all();
    EXPECT_FALSE(r.all().empty());
    all += r.all();
    all += erpsyncd(config, {"report"}).all();
  }
  const auto leaks = leaking_lines(all);
  EXPECT_TRUE(leaks.empty()) << leaks.size() << " lines with a secret, first: " << leaks.front();
}

TEST_P(SecretsInLogs, AMagentoAdminTokenEchoedInAnErrorReachesNeitherLogNorSyncRuns) {
  // The token is no configured secret: the daemon learns it from the login answer.
  const std::string token = "canary-admin-token-3d9f1c";
  server_.on("POST", "/rest/V1/integration/admin/token", FakeReply::json(200, "\"" + token + "\""));
  server_.on("GET", "/rest/V1/customers/search",
             FakeReply::json(400, R"({"message":"request refused for token )" + token + R"("})"));
  const std::string db = (dir_.path() / "crm.db").string();
  const std::string connection = "Driver=SQLite3;Database=" + db;
  const std::string config = dir_.write(
      "erpsync.json",
      "{ \"database\": { \"connection\": \"" + connection + "\" },\n  \"log\": { \"level\": \"debug\", \"format\": \"" +
          GetParam() + R"(" },
  "connectors": [ { "name": "shop", "type": "magento2", "base_url": ")" + server_.url("/") + R"(",
    "auth": { "type": "admin", "username": "sync", "password": ")" + kFilePassword + R"(" },
    "default_owner": "ecommerce", "account_code_attribute": "erp_account_code", "streams": ["customers"] } ] }
)",
      false);
  ::chmod(config.c_str(), 0600);

  const ProcessResult once = erpsyncd(config, {"--once"});
  EXPECT_EQ(once.exit_code, 1) << once.all();
  EXPECT_THAT(once.all(), HasSubstr("400"));
  bool token_used = false;
  for (const RecordedRequest& r : server_.requests())
    token_used = token_used || r.header("Authorization").value_or("") == "Bearer " + token;
  EXPECT_TRUE(token_used);
  EXPECT_EQ(once.all().find(token), std::string::npos) << once.all();
  const ProcessResult report = erpsyncd(config, {"report"});
  EXPECT_EQ(report.all().find(token), std::string::npos) << report.all();
  // The run's row says what failed, without the token.
  const std::string message = odbc_scalar(connection, "SELECT message FROM sync_runs WHERE connector = 'shop'");
  EXPECT_THAT(message, HasSubstr("400"));
  EXPECT_THAT(message, HasSubstr("***"));
  EXPECT_EQ(message.find(token), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(LogFormats, SecretsInLogs, ::testing::Values("text", "json"));

TEST(WorldReadableConfig, InlineSecretGivesAWarning) {
  ScratchDir dir("erpsync-perm");
  const std::string path = dir.write(
      "erpsync.json",
      R"({ "database": { "connection": "Driver=SQLite3;Database=)" + (dir.path() / "x.db").string() + R"(" },
        "connectors": [ { "name": "erp", "type": "feed", "format": "json", "records": "/items",
          "url": "http://127.0.0.1:9/x", "default_owner": "sales",
          "auth": { "type": "bearer", "token": ")" + kBearer + R"(" },
          "fields": { "external_code": "/code" } } ] })",
      false);
  ::chmod(path.c_str(), 0644);
  const ProcessResult r = run_process({erpsyncd_path(), "--config", path, "--check-config"});
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_THAT(r.all(), HasSubstr("world-readable"));
  EXPECT_THAT(r.all(), ::testing::Not(HasSubstr(kBearer)));

  ::chmod(path.c_str(), 0600);
  const ProcessResult quiet = run_process({erpsyncd_path(), "--config", path, "--check-config"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.all();
  EXPECT_THAT(quiet.all(), ::testing::Not(HasSubstr("world-readable")));
}

// ---- no SQL built from data ------------------------------------------------------------------

const std::vector<std::string> kHostile = {
    "'); DROP TABLE accounts;--",
    "O'Brien \"quoted\" \\ back\\\\slash",
    "100% _under_ %_% x",
    "emoji \xF0\x9F\x98\x80\xF0\x9F\x8F\xA2 \xC3\xBC",
    "Robert'); DELETE FROM bindings WHERE ('1'='1",
    "`; UPDATE accounts SET owner='x'; --",
};

class HostileData : public ::testing::TestWithParam<Engine> {};

TEST_P(HostileData, EveryFieldIsStoredByteIdenticalAndMatchedExactly) {
  std::string skip;
  auto db = TempDatabase::create(GetParam(), skip);
  if (!db) GTEST_SKIP() << skip;
  ScratchDir dir("erpsync-hostile");

  nlohmann::json items = nlohmann::json::array();
  for (std::size_t k = 0; k < kHostile.size(); ++k) {
    const std::string& v = kHostile[k];
    items.push_back({{"id", v},
                     {"code", v},
                     {"name", v + " name"},
                     {"owner", v.substr(0, 30)},
                     {"parent", k == 0 ? "" : kHostile[0]},
                     {"email", v + "@x"},
                     {"phone", v.substr(0, 20)},
                     {"vat", v.substr(0, 30)},
                     {"street", v},
                     {"city", v},
                     {"postcode", v},
                     {"country", v}});
  }
  // A code that differs only by a LIKE wildcard must be another account.
  items.push_back({{"id", "w1"}, {"code", "100X _under_ %_% x"}, {"name", "wildcard twin"}, {"owner", "sales"}});
  const std::string feed = dir.write("feed.json", nlohmann::json{{"items", items}}.dump());
  const std::string config = dir.write(
      "erpsync.json", R"({ "database": { "connection": ")" + db->connection_string() + R"(", "batch_size": 3 },
      "connectors": [ { "name": "erp", "type": "feed", "format": "json", "records": "/items", "default_owner": "sales",
        "url": "file://)" + feed + R"(", "fields": { "remote_id": "/id", "external_code": "/code", "name": "/name",
        "owner": "/owner", "member_of": "/parent", "email": "/email", "phone": "/phone", "vat": "/vat",
        "street": "/street", "city": "/city", "postcode": "/postcode", "country": "/country" } } ] })",
      false);

  const ProcessResult first = run_process({erpsyncd_path(), "--config", config, "--once"});
  ASSERT_EQ(first.exit_code, 0) << first.all();
  EXPECT_THAT(first.all(), HasSubstr("created=" + std::to_string(kHostile.size() + 1))) << first.all();

  const std::string c = db->connection_string();
  for (const char* t : {"accounts", "contacts", "customers", "orders", "bindings", "sync_cursors", "sync_runs",
                        "sync_rejections", "sync_parked", "sync_leases"})
    EXPECT_NO_THROW(odbc_query(c, std::string("SELECT COUNT(*) FROM ") + t)) << t << " was damaged";

  std::set<std::vector<std::string>> expected, actual;
  for (std::size_t k = 0; k < kHostile.size(); ++k) {
    const std::string& v = kHostile[k];
    expected.insert({v, v + " name", v.substr(0, 30), k == 0 ? "<null>" : kHostile[0], v + "@x", v.substr(0, 20),
                     v.substr(0, 30), v, v, v, v});
  }
  for (const Row& r : odbc_query(c,
                                 "SELECT a.external_code, a.name, a.owner, p.external_code, a.email, a.phone, a.vat, "
                                 "a.street, a.city, a.postcode, a.country FROM accounts a "
                                 "LEFT JOIN accounts p ON p.id = a.member_of_id WHERE a.name <> 'wildcard twin'")) {
    std::vector<std::string> row;
    for (const auto& v : r) row.push_back(v ? *v : "<null>");
    actual.insert(row);
  }
  EXPECT_EQ(actual, expected);
  std::set<std::string> remote_ids;
  for (const Row& r : odbc_query(c, "SELECT remote_id FROM bindings WHERE entity = 'account'"))
    remote_ids.insert(r.at(0).value_or(""));
  for (const std::string& v : kHostile) EXPECT_TRUE(remote_ids.count(v)) << v;

  // New bytes, same records: everything is found again by exact code and remote id.
  dir.write("feed.json", nlohmann::json{{"items", items}}.dump(2));
  const ProcessResult second = run_process({erpsyncd_path(), "--config", config, "--once"});
  ASSERT_EQ(second.exit_code, 0) << second.all();
  EXPECT_THAT(second.all(), HasSubstr("unchanged=" + std::to_string(kHostile.size() + 1))) << second.all();
  EXPECT_EQ(odbc_scalar(c, "SELECT COUNT(*) FROM accounts"), std::to_string(kHostile.size() + 1));
}

std::string engine_param(const ::testing::TestParamInfo<Engine>& info) { return std::string(engine_name(info.param)); }

INSTANTIATE_TEST_SUITE_P(Engines, HostileData, ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb),
                         engine_param);

}  // namespace
}  // namespace erpsync::testing
