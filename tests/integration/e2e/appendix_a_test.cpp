// SPEC Appendix A, through the real binary, a real XML file and the three engines over ODBC:
// both runs, their report lines, and the rows they leave — in erpsync's own tables, and in
// SuiteCRM 7's (database.crm "suitecrm", on MariaDB with the project's SuiteCRM fixture), where
// the same rules give the same reports.

#include "e2e_fixture.hpp"
#include "support/suitecrm_fixture.hpp"

namespace erpsync::testing {
namespace {

std::string export_xml(const std::string& name_of_1) {
  return R"(<?xml version="1.0"?>
<Export>
  <C id="1"><Code> C-1 </Code><Name>)" + name_of_1 + R"(</Name><Rep>jsmith</Rep></C>
  <C id="2"><Code>C-2</Code><Name>C-2 Ltd</Name><Rep>jsmith</Rep><Parent>C-3</Parent></C>
  <C id="3"><Code>C-3</Code><Name>C-3 Ltd</Name><Rep>jsmith</Rep></C>
  <C id="4"><Code>X-9</Code><Name>X-9 Ltd</Name><Rep>dave</Rep></C>
  <C id="5"><Code></Code><Name>No Code Ltd</Name><Rep>jsmith</Rep></C>
  <C id="6"><Code>S-1</Code><Name>Self Ltd</Name><Rep>jsmith</Rep><Parent>S-1</Parent></C>
  <C id="7"><Code>D-1</Code><Name>D-1 Old</Name><Rep></Rep></C>
  <C id="7"><Code>D-1</Code><Name>D-1 Ltd</Name><Rep></Rep></C>
  <C id="9"><Code>C-1</Code><Name>Copy of C-1</Name><Rep>jsmith</Rep></C>
</Export>
)";
}

const char* kConnectors = R"([{
  "name": "erp", "type": "feed", "format": "xml", "url": "file://FEED",
  "records": "/Export/C", "poll_interval": "5m", "default_owner": "sales",
  "fields": { "remote_id": "@id", "external_code": "Code", "name": "Name", "owner": "Rep", "member_of": "Parent" }
}])";

std::string connectors_for(const std::string& feed) {
  std::string c = kConnectors;
  c.replace(c.find("FEED"), 4, feed);
  return c;
}

// The Accounts where the CRM keeps them: erpsync's own `accounts`, or SuiteCRM's rows.
class AppendixA : public E2eTest {
 protected:
  virtual bool suitecrm() const { return false; }
  void configure(const std::string& feed) {
    write_config(connectors_for(feed));
    if (!suitecrm()) return;
    std::string cfg = R"({ "database": { "connection": ")" + connection() +
                      R"(", "batch_size": 3, "table_prefix": "erpsync_", "crm": "suitecrm",
      "suitecrm": { "sync_user": "erpsync" } }, "connectors": )" + connectors_for(feed) + " }";
    config_path_ = write_file("erpsync.json", cfg, false);
  }
  // erpsync's own table `t` (under the prefix with SuiteCRM).
  std::string own(const std::string& t) const { return suitecrm() ? "erpsync_" + t : t; }
  // The Accounts holding `code`.
  std::string count_with_code(const std::string& code) {
    if (!suitecrm()) return scalar("SELECT COUNT(*) FROM accounts WHERE external_code = '" + code + "'");
    return scalar("SELECT COUNT(*) FROM accounts a JOIN accounts_cstm c ON c.id_c = a.id WHERE a.deleted = 0 AND "
                  "BINARY c.external_code_c = '" + code + "'");
  }
  // The owner's login, the name, or the parent's code of the Account holding `code`.
  std::string owner_of(const std::string& code) {
    if (!suitecrm()) return scalar("SELECT owner FROM accounts WHERE external_code = '" + code + "'");
    return scalar("SELECT u.user_name FROM accounts a JOIN accounts_cstm c ON c.id_c = a.id JOIN users u ON u.id = "
                  "a.assigned_user_id WHERE a.deleted = 0 AND BINARY c.external_code_c = '" + code + "'");
  }
  std::string name_of(const std::string& code) {
    if (!suitecrm()) return scalar("SELECT name FROM accounts WHERE external_code = '" + code + "'");
    return scalar("SELECT a.name FROM accounts a JOIN accounts_cstm c ON c.id_c = a.id WHERE a.deleted = 0 AND "
                  "BINARY c.external_code_c = '" + code + "'");
  }
  std::string parent_of(const std::string& code) {
    if (!suitecrm())
      return scalar("SELECT COALESCE(MAX(p.external_code), '') FROM accounts c LEFT JOIN accounts p ON p.id = "
                    "c.member_of_id WHERE c.external_code = '" + code + "'");
    return scalar("SELECT COALESCE(MAX(pc.external_code_c), '') FROM accounts a JOIN accounts_cstm c ON c.id_c = a.id "
                  "LEFT JOIN accounts_cstm pc ON pc.id_c = a.parent_id WHERE BINARY c.external_code_c = '" + code + "'");
  }
  // An Account the CRM held before erpsync, owned by `owner`.
  void seed(const std::string& code, const std::string& name, const std::string& owner) {
    if (!suitecrm()) {
      query("INSERT INTO accounts (external_code, name, owner, relationship, active, created_at, updated_at) "
            "VALUES ('" + code + "', '" + name + "', '" + owner +
            "', 'customer', 1, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')");
      return;
    }
    query("INSERT INTO accounts (id, name, date_entered, date_modified, deleted, assigned_user_id) SELECT 'seed-" +
          code + "', '" + name + "', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0, id FROM users WHERE user_name = '" +
          owner + "'");
    query("INSERT INTO accounts_cstm (id_c, external_code_c) VALUES ('seed-" + code + "', '" + code + "')");
  }
  // An admin reassigns the Account holding `code` in the CRM.
  void reassign(const std::string& code, const std::string& owner) {
    if (!suitecrm()) {
      query("UPDATE accounts SET owner = '" + owner + "' WHERE external_code = '" + code + "'");
      return;
    }
    query("UPDATE accounts a JOIN accounts_cstm c ON c.id_c = a.id JOIN users u ON u.user_name = '" + owner +
          "' SET a.assigned_user_id = u.id WHERE c.external_code_c = '" + code + "'");
  }
  std::string last_modified() {
    return scalar(suitecrm() ? "SELECT MAX(date_modified) FROM accounts" : "SELECT MAX(updated_at) FROM accounts");
  }
  void both_runs();
  void second_run_over_the_same_file();
};

// The same on SuiteCRM's tables, whose users are the Appendix's owners.
class AppendixASuiteCrm : public AppendixA {
 protected:
  bool suitecrm() const override { return true; }
  void SetUp() override {
    E2eTest::SetUp();
    if (IsSkipped()) return;
    create_suitecrm_tables(connection());
    query("UPDATE users SET status = 'Active', deleted = NULL WHERE user_name IN ('carol', 'dave')");
    query("INSERT INTO users (id, user_name, status, deleted, is_group) VALUES ('u-jsmith', 'jsmith', 'Active', NULL, 0), "
          "('u-sales', 'sales', 'Active', NULL, 1)");
  }
};

TEST_P(AppendixA, BothRunsReportAndStoreWhatTheSpecSays) { both_runs(); }
TEST_P(AppendixASuiteCrm, BothRunsReportAndStoreWhatTheSpecSays) { both_runs(); }
TEST_P(AppendixA, ASecondRunOverTheSameFileWritesNothing) { second_run_over_the_same_file(); }
TEST_P(AppendixASuiteCrm, ASecondRunOverTheSameFileWritesNothing) { second_run_over_the_same_file(); }

void AppendixA::both_runs() {
  const std::string feed = write_file("export.xml", export_xml("C-1 Ltd"));
  configure(feed);

  // The CRM already holds X-9, owned by carol.
  ProcessResult m = erpsyncd({"migrate"});
  ASSERT_EQ(m.exit_code, 0) << m.all();
  seed("X-9", "X-9 Ltd", "carol");

  ProcessResult run1 = erpsyncd({"--once"});
  ASSERT_EQ(run1.exit_code, 0) << run1.all();
  auto r1 = report_fields(run1.all(), "erp");
  EXPECT_EQ(r1["status"], "ok");
  EXPECT_EQ(r1["fetched"], "9");
  EXPECT_EQ(r1["created"], "5");
  EXPECT_EQ(r1["adopted"], "0");
  EXPECT_EQ(r1["updated"], "0");
  EXPECT_EQ(r1["unchanged"], "0");
  EXPECT_EQ(r1["superseded"], "1");
  EXPECT_EQ(r1["parked"], "0");
  EXPECT_EQ(r1["rejected"], "3");
  EXPECT_EQ(r1["failed"], "0");
  EXPECT_EQ(r1["warnings"], "1");

  // Row 1's code was trimmed; C-2 links to C-3 which came later; S-1 has no self-link.
  EXPECT_EQ(count_with_code("C-1"), "1");
  EXPECT_EQ(parent_of("C-2"), "C-3");
  EXPECT_EQ(count_with_code("S-1"), "1");
  EXPECT_EQ(parent_of("S-1"), "");
  EXPECT_EQ(owner_of("D-1"), "sales");
  EXPECT_EQ(name_of("D-1"), "D-1 Ltd");
  EXPECT_EQ(owner_of("X-9"), "carol");
  // One b2b Customer and one binding per created account.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM " + own("customers") + " WHERE channel = 'erp' AND kind = 'b2b'"), "5");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM " + own("bindings") + " WHERE connector = 'erp' AND entity = 'account'"), "5");
  auto rej = query("SELECT remote_id, reason, existing_owner, incoming_owner FROM " + own("sync_rejections") +
                   " WHERE resolved_at IS NULL ORDER BY remote_id, reason");
  ASSERT_EQ(rej.size(), 4u);
  EXPECT_EQ(rej[0][0], "4");
  EXPECT_EQ(rej[0][1], "code_owned_by_other_user");
  EXPECT_EQ(rej[0][2], "carol");
  EXPECT_EQ(rej[0][3], "dave");
  EXPECT_EQ(rej[1][1], "missing_external_code");
  EXPECT_EQ(rej[2][0], "6");
  EXPECT_EQ(rej[2][1], "member_of_cycle");
  EXPECT_EQ(rej[3][0], "9");
  EXPECT_EQ(rej[3][1], "code_in_use");
  // The rejection names the code and both owners in the log.
  EXPECT_NE(run1.all().find("code_owned_by_other_user"), std::string::npos);

  // Between runs an admin reassigns X-9 to dave; remote id 1 is renamed at the source.
  reassign("X-9", "dave");
  write_file("export.xml", export_xml("C-1 Group"));

  ProcessResult run2 = erpsyncd({"--once"});
  ASSERT_EQ(run2.exit_code, 0) << run2.all();
  auto r2 = report_fields(run2.all(), "erp");
  EXPECT_EQ(r2["fetched"], "10");
  EXPECT_EQ(r2["created"], "0");
  EXPECT_EQ(r2["updated"], "2");
  EXPECT_EQ(r2["unchanged"], "5");
  EXPECT_EQ(r2["superseded"], "1");
  EXPECT_EQ(r2["rejected"], "2");
  EXPECT_EQ(r2["failed"], "0");
  EXPECT_EQ(r2["warnings"], "1");

  EXPECT_EQ(name_of("C-1"), "C-1 Group");
  EXPECT_EQ(owner_of("X-9"), "dave");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM " + own("sync_rejections") +
                   " WHERE remote_id = '4' AND resolved_at IS NOT NULL"), "1");
  EXPECT_EQ(scalar("SELECT times_seen FROM " + own("sync_rejections") + " WHERE remote_id = '5'"), "2");
  EXPECT_EQ(scalar("SELECT times_seen FROM " + own("sync_rejections") + " WHERE remote_id = '9'"), "2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM " + own("sync_runs") + " WHERE connector = 'erp' AND status = 'ok'"), "2");
  // Rejections seen again unchanged are counted, not logged again.
  EXPECT_EQ(run2.all().find("reason=missing_external_code"), std::string::npos) << run2.all();
}

void AppendixA::second_run_over_the_same_file() {
  const std::string feed = write_file("export.xml", export_xml("C-1 Ltd"));
  configure(feed);
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  const std::string before = last_modified();
  ProcessResult again = erpsyncd({"--once"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  auto r = report_fields(again.all(), "erp");
  EXPECT_EQ(r["created"], "0");
  EXPECT_EQ(r["updated"], "0");
  EXPECT_EQ(r["source"], "unchanged");
  EXPECT_EQ(last_modified(), before);
}

ERPSYNC_E2E_ON_ALL_ENGINES(AppendixA);
INSTANTIATE_TEST_SUITE_P(E2e, AppendixASuiteCrm, ::testing::Values(Engine::mariadb), engine_param_name);

}  // namespace
}  // namespace erpsync::testing
