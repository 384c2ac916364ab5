// Records that come back and the admin's commands (SPEC §3 "Rejections come back", §7):
// rejections resolved by a change in the CRM or the config alone, `rejections retry`,
// `resync`, `rename-connector`, `report`, and retention.

#include "e2e_fixture.hpp"

namespace erpsync::testing {
namespace {

const char* kFeed = R"(<E>
  <C id="1" code="K-1"><N>Kept</N><R>alice</R></C>
  <C id="2" code="K-2"><N>Owned</N><R>carol</R></C>
  <C id="3" code="K-3"><N>Unknown rep</N><R>zz-new</R></C>
</E>)";

std::string connector(const std::string& feed, const std::string& owners) {
  return R"([{ "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + feed +
         R"(", "records": "/E/C", "poll_interval": "5m", "default_owner": "sales", "owners": )" + owners +
         R"(, "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "owner": "R" } }])";
}

class Admin : public E2eTest {
 protected:
  void first_run_with_two_rejections() {
    feed_ = write_file("e.xml", kFeed);
    write_config(connector(feed_, R"({ "alice": "alice", "carol": "carol" })"));
    ASSERT_EQ(erpsyncd({"migrate"}).exit_code, 0);
    query("INSERT INTO accounts (external_code, name, owner, relationship, active) VALUES ('K-2', 'Owned', 'bob', 'customer', 1)");
    ProcessResult run = erpsyncd({"--once"});
    ASSERT_EQ(run.exit_code, 0) << run.all();
    ASSERT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE resolved_at IS NULL"), "2");
  }
  std::string feed_;
};

TEST_P(Admin, ACrmReassignmentAndANewOwnersEntryResolveExactlyThoseRejectionsWithNoChangeAtTheSource) {
  first_run_with_two_rejections();
  query("UPDATE accounts SET owner = 'carol' WHERE external_code = 'K-2'");
  write_config(connector(feed_, R"({ "alice": "alice", "carol": "carol", "zz-new": "zed" })"));
  // The export is byte-identical: the source sends nothing, the replays do the work.
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  auto r = report_fields(run.all(), "erp");
  EXPECT_EQ(r["source"], "unchanged");
  EXPECT_EQ(r["fetched"], "2");
  EXPECT_EQ(r["updated"], "1");  // K-2 bound to the reassigned account
  EXPECT_EQ(r["created"], "1");  // K-3 with its now-known owner
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE resolved_at IS NULL"), "0");
  EXPECT_EQ(scalar("SELECT owner FROM accounts WHERE external_code = 'K-3'"), "zed");
  // A replay that ends as before counts nothing: a third run is quiet.
  ProcessResult quiet = erpsyncd({"--once"});
  EXPECT_EQ(report_fields(quiet.all(), "erp")["fetched"], "0");
}

TEST_P(Admin, RejectionsRetryResolvesNowWithoutReadingTheSource) {
  first_run_with_two_rejections();
  query("UPDATE accounts SET owner = 'carol' WHERE external_code = 'K-2'");
  // The export disappears: retry must not need it.
  std::filesystem::remove(feed_);
  ProcessResult retry = erpsyncd({"rejections", "retry", "--connector", "erp"});
  ASSERT_EQ(retry.exit_code, 0) << retry.all();
  // K-2 syncs; K-3 is rejected again as before, which counts nothing.
  EXPECT_NE(retry.out.find("now synced=1"), std::string::npos) << retry.out;
  EXPECT_NE(retry.out.find("updated=1"), std::string::npos) << retry.out;
  auto open = query("SELECT remote_id, reason FROM sync_rejections WHERE resolved_at IS NULL");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0][0], "3");
  EXPECT_EQ(open[0][1], "unknown_owner");
  ProcessResult list = erpsyncd({"rejections", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("unknown_owner"), std::string::npos) << list.out;
}

TEST_P(Admin, ResyncRereadsAnUnchangedFileAndRenameCarriesEverythingOver) {
  first_run_with_two_rejections();
  ProcessResult skip = erpsyncd({"--once"});
  EXPECT_EQ(report_fields(skip.all(), "erp")["source"], "unchanged");
  ASSERT_EQ(erpsyncd({"resync", "--connector", "erp"}).exit_code, 0);
  ProcessResult reread = erpsyncd({"--once"});
  auto r = report_fields(reread.all(), "erp");
  EXPECT_EQ(r.count("source"), 0u) << reread.all();
  EXPECT_EQ(r["unchanged"], "1");

  ProcessResult ren = erpsyncd({"rename-connector", "erp", "erp-main"});
  ASSERT_EQ(ren.exit_code, 0) << ren.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE connector = 'erp'"), "0");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE connector = 'erp-main'"), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM customers WHERE channel = 'erp-main'"), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE connector = 'erp-main'"), "2");
  // Renaming onto a name that has data is refused and changes nothing.
  ProcessResult again = erpsyncd({"rename-connector", "erp-main", "erp-main"});
  EXPECT_EQ(again.exit_code, 2);

  ProcessResult report = erpsyncd({"report", "--last", "1"});
  ASSERT_EQ(report.exit_code, 0) << report.all();
  EXPECT_NE(report.out.find("Recent runs"), std::string::npos);
  EXPECT_NE(report.out.find("code_owned_by_other_user"), std::string::npos) << report.out;
}

TEST_P(Admin, RetentionPurgesOldRunsAndResolvedRejectionsOnly) {
  first_run_with_two_rejections();
  query("UPDATE sync_runs SET finished_at = '2020-01-01 00:00:00.000' WHERE id = (SELECT MIN(id) FROM sync_runs)");
  query("UPDATE sync_rejections SET resolved_at = '2020-01-01 00:00:00.000' WHERE remote_id = '2'");
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_NE(run.all().find("retention: removed 1 old run(s) and 1 resolved rejection(s)"), std::string::npos) << run.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE remote_id = '2'"), "0");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE remote_id = '3'"), "1");
}

ERPSYNC_E2E_ON_ALL_ENGINES(Admin);

}  // namespace
}  // namespace erpsync::testing
