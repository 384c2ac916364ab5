// SPEC Appendix A, through the real binary, a real XML file and SQLite over ODBC: both runs,
// their report lines, and the rows they leave.

#include "e2e_fixture.hpp"

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

class AppendixA : public E2eTest {};

TEST_P(AppendixA, BothRunsReportAndStoreWhatTheSpecSays) {
  const std::string feed = write_file("export.xml", export_xml("C-1 Ltd"));
  write_config(connectors_for(feed));

  // The CRM already holds X-9, owned by carol.
  ProcessResult m = erpsyncd({"migrate"});
  ASSERT_EQ(m.exit_code, 0) << m.all();
  query("INSERT INTO accounts (external_code, name, owner, relationship, active, created_at, updated_at) "
        "VALUES ('X-9', 'X-9 Ltd', 'carol', 'customer', 1, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')");

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
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'C-1'"), "1");
  EXPECT_EQ(scalar("SELECT p.external_code FROM accounts c JOIN accounts p ON p.id = c.member_of_id "
                   "WHERE c.external_code = 'C-2'"), "C-3");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'S-1' AND member_of_id IS NULL"), "1");
  EXPECT_EQ(scalar("SELECT owner FROM accounts WHERE external_code = 'D-1'"), "sales");
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = 'D-1'"), "D-1 Ltd");
  EXPECT_EQ(scalar("SELECT owner FROM accounts WHERE external_code = 'X-9'"), "carol");
  // One b2b Customer and one binding per created account.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM customers WHERE channel = 'erp' AND kind = 'b2b'"), "5");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE connector = 'erp' AND entity = 'account'"), "5");
  auto rej = query("SELECT remote_id, reason, existing_owner, incoming_owner FROM sync_rejections "
                   "WHERE resolved_at IS NULL ORDER BY remote_id, reason");
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
  query("UPDATE accounts SET owner = 'dave' WHERE external_code = 'X-9'");
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

  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = 'C-1'"), "C-1 Group");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE remote_id = '4' AND resolved_at IS NOT NULL"), "1");
  EXPECT_EQ(scalar("SELECT times_seen FROM sync_rejections WHERE remote_id = '5'"), "2");
  EXPECT_EQ(scalar("SELECT times_seen FROM sync_rejections WHERE remote_id = '9'"), "2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_runs WHERE connector = 'erp' AND status = 'ok'"), "2");
  // Rejections seen again unchanged are counted, not logged again.
  EXPECT_EQ(run2.all().find("reason=missing_external_code"), std::string::npos) << run2.all();
}

TEST_P(AppendixA, ASecondRunOverTheSameFileWritesNothing) {
  const std::string feed = write_file("export.xml", export_xml("C-1 Ltd"));
  write_config(connectors_for(feed));
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  const std::string before = scalar("SELECT MAX(updated_at) FROM accounts");
  ProcessResult again = erpsyncd({"--once"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  auto r = report_fields(again.all(), "erp");
  EXPECT_EQ(r["created"], "0");
  EXPECT_EQ(r["updated"], "0");
  EXPECT_EQ(r["source"], "unchanged");
  EXPECT_EQ(scalar("SELECT MAX(updated_at) FROM accounts"), before);
}

ERPSYNC_E2E_ON_ALL_ENGINES(AppendixA);

}  // namespace
}  // namespace erpsync::testing
