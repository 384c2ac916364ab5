// erpsync in a database a CRM application shares (SPEC §5 "Whose database"): a CRM's own
// `accounts` table (SuiteCRM's shape) is refused before any DDL, naming the table and
// database.table_prefix, and stays untouched; under a prefix every command works beside it; a
// migration that fails leaves no half schema where the engine's DDL is transactional.

#include <signal.h>

#include <algorithm>

#include "e2e_fixture.hpp"
#include "support/child_process.hpp"

namespace erpsync::testing {
namespace {

const char* kFeed = R"(<E>
  <C id="1" code="K-1"><N>Acme</N><R>alice</R></C>
  <C id="2" code="K-2"><N>Beta</N><R>nobody-known</R></C>
</E>)";

class CrmDatabase : public E2eTest {
 protected:
  // erpsync.json for the feed, with `table_prefix` when not empty.
  void configure(const std::string& table_prefix) {
    if (feed_.empty()) feed_ = write_file("e.xml", kFeed);
    std::string prefix = table_prefix.empty() ? "" : R"(, "table_prefix": ")" + table_prefix + "\"";
    config_path_ = write_file("erpsync.json",
                              R"({ "database": { "connection": ")" + connection() + "\"" + prefix +
                                  R"( }, "log": { "level": "info", "format": "text" },
  "connectors": [{ "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + feed_ +
                                  R"(", "records": "/E/C", "poll_interval": "5m", "owners": { "alice": "alice" },
    "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "owner": "R" } }] })",
                              false);
  }
  // SuiteCRM's `accounts` (reference/suitecrm.md, a few of its columns) with one Account.
  void create_suitecrm_accounts() {
    query("CREATE TABLE accounts (id CHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(150) NULL, "
          "date_entered " + std::string(GetParam() == Engine::postgresql ? "TIMESTAMP" : "DATETIME") + " NULL, "
          "deleted SMALLINT DEFAULT 0, assigned_user_id CHAR(36) NULL, account_type VARCHAR(50) NULL, "
          "phone_office VARCHAR(100) NULL, parent_id CHAR(36) NULL)");
    query("INSERT INTO accounts (id, name, deleted, assigned_user_id, account_type, phone_office) VALUES "
          "('5a0e1c7e-2b1d-4c4e-9a53-000000000001', 'Crm Own Ltd', 0, '1', 'Customer', '+44 20 1234')");
  }
  std::string crm_row() {
    auto rows = query("SELECT id, name, deleted, assigned_user_id, account_type, phone_office FROM accounts");
    std::string out;
    for (const auto& r : rows)
      for (const auto& v : r) out += v.value_or("NULL") + "|";
    return out;
  }
  std::vector<std::string> tables() {
    return erpsync::testing::odbc_tables(connection(), GetParam());
  }
  std::string feed_;
};

TEST_P(CrmDatabase, ACrmsAccountsTableIsRefusedUntouchedAndAPrefixLetsErpsyncLiveBesideIt) {
  create_suitecrm_accounts();
  const std::string before = crm_row();
  configure("");
  ProcessResult refused = erpsyncd({"--once"});
  EXPECT_EQ(refused.exit_code, 2) << refused.all();
  EXPECT_NE(refused.all().find("\"accounts\""), std::string::npos) << refused.all();
  EXPECT_NE(refused.all().find("database.table_prefix"), std::string::npos) << refused.all();
  EXPECT_EQ(refused.all().find("no such column"), std::string::npos) << refused.all();
  EXPECT_EQ(tables(), std::vector<std::string>{"accounts"});  // nothing created: no schema_version
  EXPECT_EQ(crm_row(), before);
  EXPECT_EQ(erpsyncd({"migrate"}).exit_code, 2);
  EXPECT_EQ(tables(), std::vector<std::string>{"accounts"});

  configure("erpsync_");
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(report_fields(run.all(), "erp")["created"], "1") << run.all();
  EXPECT_EQ(scalar("SELECT name FROM erpsync_accounts WHERE external_code = 'K-1'"), "Acme");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_sync_rejections WHERE resolved_at IS NULL"), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_sync_leases"), "1");
  const auto t = tables();
  EXPECT_TRUE(std::find(t.begin(), t.end(), "erpsync_schema_version") != t.end());
  EXPECT_TRUE(std::find(t.begin(), t.end(), "schema_version") == t.end());
  EXPECT_TRUE(std::find(t.begin(), t.end(), "sync_runs") == t.end());
  EXPECT_EQ(crm_row(), before);

  ProcessResult report = erpsyncd({"report", "--last", "1"});
  ASSERT_EQ(report.exit_code, 0) << report.all();
  EXPECT_NE(report.out.find("Recent runs"), std::string::npos) << report.out;
  EXPECT_NE(report.out.find("unknown_owner"), std::string::npos) << report.out;
  ProcessResult rejections = erpsyncd({"rejections", "list"});
  ASSERT_EQ(rejections.exit_code, 0) << rejections.all();
  EXPECT_NE(rejections.out.find("unknown_owner"), std::string::npos) << rejections.out;
  EXPECT_EQ(erpsyncd({"resync", "--connector", "erp"}).exit_code, 0);
  ProcessResult again = erpsyncd({"--once"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_accounts"), "1");
  ProcessResult printed = erpsyncd({"migrate", "--print-sql"});
  ASSERT_EQ(printed.exit_code, 0) << printed.all();
  EXPECT_NE(printed.out.find("CREATE TABLE IF NOT EXISTS erpsync_accounts ("), std::string::npos) << printed.out;
  EXPECT_EQ(printed.out.find("EXISTS accounts"), std::string::npos) << printed.out;
  EXPECT_EQ(crm_row(), before);
}

TEST_P(CrmDatabase, AMigrationThatFailsLeavesNoHalfSchema) {
  if (GetParam() == Engine::mariadb) GTEST_SKIP() << "MariaDB commits DDL implicitly: checked before, not rolled back";
  // An object in the way that the shape check accepts (a view with sync_leases' columns): the
  // migration creates most of the schema, then cannot add a column to the view and fails.
  query("CREATE VIEW erpsync_sync_leases AS SELECT 'c' AS connector, 'h' AS holder, 1 AS fencing_token, "
        "'2026-01-01 00:00:00.000' AS expires_at");
  configure("erpsync_");
  ProcessResult failed = erpsyncd({"--once"});
  EXPECT_NE(failed.exit_code, 0) << failed.all();
  EXPECT_NE(failed.all().find("erpsync_sync_leases"), std::string::npos) << failed.all();
  EXPECT_EQ(tables(), std::vector<std::string>{"erpsync_sync_leases"});  // as it was
  query("DROP VIEW erpsync_sync_leases");
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_accounts"), "1");
}

TEST_P(CrmDatabase, TheServiceSyncsUnderItsLeaseBesideTheCrmsTables) {
  using namespace std::chrono_literals;
  create_suitecrm_accounts();
  const std::string before = crm_row();
  configure("erpsync_");
  NotifySocket notify((dir_ / "notify.sock").string());
  ChildProcess daemon({std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd", "--config", config_path_},
                      {{"NOTIFY_SOCKET", notify.path()}});
  ASSERT_TRUE(notify.wait_for("READY=1", 30s)) << daemon.output();
  ASSERT_TRUE(daemon.wait_for_output("sync connector=erp", 30s)) << daemon.output();
  // The lease keeper's own connection takes the prefixed table too.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_sync_leases WHERE connector = 'erp'"), "1");
  EXPECT_EQ(scalar("SELECT name FROM erpsync_accounts WHERE external_code = 'K-1'"), "Acme");
  daemon.signal(SIGTERM);
  auto code = daemon.wait_exit(30s);
  ASSERT_TRUE(code.has_value()) << daemon.output();
  EXPECT_EQ(*code, 0) << daemon.output();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_sync_runs WHERE status = 'running'"), "0");
  EXPECT_EQ(crm_row(), before);
}

ERPSYNC_E2E_ON_ALL_ENGINES(CrmDatabase);

}  // namespace
}  // namespace erpsync::testing
