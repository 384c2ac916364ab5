// The command line's promises (SPEC §7, §8, §10) through the real binary: dry runs leave the
// database untouched and list what a real run would do; bad configs and bad documents get
// clear errors with the right exit codes; logs come as text or JSON and never hold a password.

#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "e2e_fixture.hpp"

namespace erpsync::testing {
namespace {

const char* kFeed = R"(<?xml version="1.0"?>
<E>
  <C id="1" code="A-1"><N>Alpha</N><R>alice</R></C>
  <C id="2" code="A-2"><N>Beta</N><R>alice</R><P>A-1</P></C>
  <C id="3" code="X-1"><N>Taken</N><R>bob</R></C>
</E>
)";

std::string connector(const std::string& feed, const std::string& extra = "") {
  return R"([{ "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + feed +
         R"(", "records": "/E/C", "poll_interval": "5m", "default_owner": "sales",)" + extra +
         R"( "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "owner": "R", "member_of": "P" } }])";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class Cli : public E2eTest {};

TEST_P(Cli, DryRunCountsEqualTheRealRunAndLeaveNothingWritten) {
  write_config(connector(write_file("e.xml", kFeed)));
  ASSERT_EQ(erpsyncd({"migrate"}).exit_code, 0);
  query("INSERT INTO accounts (external_code, name, owner, relationship, active) VALUES ('X-1', 'Taken', 'carol', 'customer', 1)");
  const std::string before = scalar("SELECT COUNT(*) FROM accounts") + "/" + scalar("SELECT COUNT(*) FROM sync_runs");

  ProcessResult dry = erpsyncd({"--once", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.all();
  auto d = report_fields(dry.all(), "erp");
  EXPECT_EQ(d["created"], "2");
  EXPECT_EQ(d["rejected"], "1");
  // The rejection is listed with its reason and code.
  EXPECT_NE(dry.out.find("code_owned_by_other_user"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("code=X-1"), std::string::npos) << dry.out;
  // Nothing stays written: no account, no run row, no cursor, no rejection.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts") + "/" + scalar("SELECT COUNT(*) FROM sync_runs"), before);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_cursors"), "0");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections"), "0");

  ProcessResult real = erpsyncd({"--once"});
  ASSERT_EQ(real.exit_code, 0) << real.all();
  auto r = report_fields(real.all(), "erp");
  for (const char* k : {"fetched", "created", "adopted", "updated", "unchanged", "superseded", "parked", "rejected", "failed"})
    EXPECT_EQ(d[k], r[k]) << k;
}

TEST_P(Cli, DryRunOnAnEmptyDatabaseIsRefusedWithExitTwo) {
  write_config(connector(write_file("e.xml", kFeed)));
  ProcessResult dry = erpsyncd({"--once", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 2) << dry.all();
  EXPECT_NE(dry.all().find("schema"), std::string::npos) << dry.all();
}

TEST_P(Cli, AMalformedDocumentFailsTheRunNamingFileAndPositionAndWritesNothing) {
  const std::string feed = write_file("e.xml", "<E><C id=\"1\" code=\"A-1\"><N>Alpha</N></E>");
  write_config(connector(feed));
  ProcessResult run = erpsyncd({"--once"});
  EXPECT_EQ(run.exit_code, 1) << run.all();
  EXPECT_NE(run.all().find(feed), std::string::npos) << run.all();
  EXPECT_NE(run.all().find("byte"), std::string::npos) << run.all();
  auto r = report_fields(run.all(), "erp");
  EXPECT_EQ(r["status"], "error");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "0");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_cursors"), "0");
  EXPECT_EQ(scalar("SELECT status FROM sync_runs"), "error");
}

TEST_P(Cli, AShrunkSnapshotIsRefusedAndNothingIsMarkedMissing) {
  const std::string feed = write_file("e.xml", kFeed);
  write_config(connector(feed));
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  write_file("e.xml", "<E><C id=\"1\" code=\"A-1\"><N>Alpha</N><R>alice</R></C></E>");
  ProcessResult run = erpsyncd({"--once"});
  EXPECT_EQ(run.exit_code, 1) << run.all();
  EXPECT_NE(run.all().find("max_shrink"), std::string::npos) << run.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE missing_since IS NOT NULL"), "0");
}

TEST_P(Cli, RecordsAbsentFromTheNextSnapshotAreMissingNeverDeleted) {
  const std::string feed = write_file("e.xml", kFeed);
  write_config(connector(feed, R"( "max_shrink": "50%",)"));
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  write_file("e.xml", "<E><C id=\"1\" code=\"A-1\"><N>Alpha</N><R>alice</R></C><C id=\"3\" code=\"X-1\"><N>T</N><R>bob</R></C></E>");
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(report_fields(run.all(), "erp")["missing"], "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'A-2'"), "1");
  EXPECT_EQ(scalar("SELECT remote_id FROM bindings WHERE missing_since IS NOT NULL"), "2");
}

TEST_P(Cli, ConfigErrorsNameFileLineAndKeyAndExitTwo) {
  const std::string feed = write_file("e.xml", kFeed);
  write_config(connector(feed, R"( "poll_intervall": "5m", "stable_for": "soon",)"));
  ProcessResult check = erpsyncd({"--check-config"});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find(config_path_), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("poll_intervall"), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("stable_for"), std::string::npos) << check.err;
  // --once refuses the same file before touching the database.
  EXPECT_EQ(erpsyncd({"--once"}).exit_code, 2);
}

TEST_P(Cli, UnknownFlagsAndConnectorsAreUsageErrors) {
  write_config(connector(write_file("e.xml", kFeed)));
  EXPECT_EQ(erpsyncd({"--bogus"}).exit_code, 2);
  ProcessResult r = erpsyncd({"--once", "--connector", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope"), std::string::npos);
}

TEST_P(Cli, JsonLogsCarryTheReportAsFieldsAndNoPassword) {
  write_config(connector(write_file("e.xml", kFeed)));
  // Switch the log format by rewriting the config.
  std::string cfg = read_all(config_path_);
  cfg.replace(cfg.find("\"text\""), 6, "\"json\"");
  write_file("erpsync.json", cfg, false);
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  bool found = false;
  std::istringstream lines(run.err);
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not a JSON line: " << line;
    if (j.value("event", "") == "sync") {
      found = true;
      EXPECT_EQ(j["connector"], "erp");
      EXPECT_EQ(j["created"], 3);
      EXPECT_EQ(j["rejected"], 0);
    }
  }
  EXPECT_TRUE(found) << run.err;
}

TEST_P(Cli, APasswordInTheConnectionStringNeverReachesTheLog) {
  if (GetParam() == Engine::sqlite) GTEST_SKIP() << "SQLite connections carry no password";
  write_config(connector(write_file("e.xml", kFeed)));
  // A wrong password: the connect error is logged, the password is not.
  std::string cfg = read_all(config_path_);
  const auto at = cfg.find("Pwd=");
  ASSERT_NE(at, std::string::npos);
  cfg.replace(at, cfg.find(';', at) - at, "Pwd=Canary-Secret-7731");
  write_file("erpsync.json", cfg, false);
  ProcessResult run = erpsyncd({"--once"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_EQ(run.all().find("Canary-Secret-7731"), std::string::npos) << run.all();
}

// Every line of `text` that starts with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  return out;
}

TEST_P(Cli, RemoteControlCharactersAndHugeValuesReachNeitherLogsNorTablesRaw) {
  // Codes and remote ids with a forged report line behind CR LF and terminal escapes are
  // rejected (invalid_field) and reach a warning line and the tables escaped as their rejection
  // rows store them; record 3's code of 10,000 characters is rejected as too long and stored cut
  // to its column (with a hash of the whole), on every engine.
  const std::string code = "E-1\u001b[31m\r\nsync connector=erp status=ok";
  nlohmann::json items = nlohmann::json::array();
  items.push_back({{"id", "1"}, {"code", code}, {"name", "Evil\u001b]0;x\u0007"}});
  items.push_back({{"id", "2\u001b[2J"}, {"code", code}, {"name", "Twin"}});
  items.push_back({{"id", "3"}, {"code", std::string(10'000, 'L')}, {"name", "Long"}});
  const std::string feed = write_file("e.json", nlohmann::json{{"items", items}}.dump());
  write_config(R"([{ "name": "erp", "type": "feed", "format": "json", "url": "file://)" + feed +
               R"(", "records": "/items", "poll_interval": "5m", "default_owner": "sales",
                   "fields": { "remote_id": "/id", "external_code": "/code", "name": "/name" } }])");
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_NE(report_fields(run.all(), "erp")["rejected"], "0") << run.all();
  std::string shown = run.all();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"report"}, {"rejections", "list"}}) {
    ProcessResult r = erpsyncd(args);
    EXPECT_EQ(r.exit_code, 0) << r.all();
    EXPECT_NE(r.out.find("E-1\\x1b[31m\\r\\nsync connector=erp"), std::string::npos) << r.out;  // there, escaped
    shown += r.all();
  }
  // The log shows the rejection row's value as stored: escaped once, spelled as in the tables.
  EXPECT_NE(run.err.find("E-1\\x1b[31m\\r\\nsync connector=erp"), std::string::npos) << run.err;
  EXPECT_EQ(shown.find('\x1b'), std::string::npos) << shown;
  EXPECT_EQ(shown.find('\r'), std::string::npos) << shown;
  EXPECT_EQ(shown.find('\x07'), std::string::npos) << shown;
  EXPECT_TRUE(lines_starting(shown, "sync ").empty()) << shown;  // no forged line of its own
  // The long code: cut to its column in the rejection row (and so in the log), at 60 in the tables.
  EXPECT_NE(run.err.find(std::string(50, 'L') + "LLLLL\u2026"), std::string::npos) << run.err;
  EXPECT_EQ(shown.find(std::string(201, 'L')), std::string::npos);
}

ERPSYNC_E2E_ON_ALL_ENGINES(Cli);

}  // namespace
}  // namespace erpsync::testing
