// SPEC §10 and §5 on SQLite, whose "server" is the file: the disk fills up mid-sync, and the
// database file is read-only. Both through the real erpsyncd --once over the generated export.
//
// Disk full without root or mounts: the child runs under RLIMIT_FSIZE (prlimit) with SIGXFSZ
// ignored, so a write past the limit fails with EFBIG, which SQLite reports as SQLITE_FULL —
// what a full disk gives. Read-only: the file is mode 0444 and, when the tests run as root
// (CI), the child drops to `nobody` (setpriv), since root ignores file modes.
//
// Asserted: exit status 1; an error naming the database file; nothing half-written
// (PRAGMA integrity_check is ok, no duplicate row, no account the uninterrupted run does not
// have, no run left `running`, the cursor unchanged; read-only: the database unchanged); and once the fault is removed, a rerun reaches
// exactly the uninterrupted run's end state.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "db_dump.hpp"
#include "reliability_support.hpp"
#include "support/odbc_query.hpp"
#include "support/process.hpp"
#include "support/test_databases.hpp"

namespace erpsync::testing {
namespace {

namespace fs = std::filesystem;
constexpr int kRecords = 1500;

class SqliteFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    reference_ = TempDatabase::create(Engine::sqlite, skip);
    if (!reference_) GTEST_SKIP() << skip;
    for (const char* tool : {"/usr/bin/prlimit", "/usr/bin/setpriv"})
      if (::access(tool, X_OK) != 0) GTEST_SKIP() << tool << " is missing (util-linux)";
    // Readable and traversable by `nobody` (the read-only case as root); the database file's
    // folder stays writable by its owner only.
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                     fs::perms::others_read | fs::perms::others_exec);
    db_path_ = (dir_.path() / "erpsync.db").string();
    connection_ = "Driver=SQLite3;Database=" + db_path_ + ";Timeout=10000;";
    config_ = write_config("erpsync.json", connection_);
    reference_config_ = write_config("reference.json", reference_->connection_string());
  }

  std::string write_config(const std::string& name, const std::string& connection) {
    return dir_.write(name,
                      "{ \"database\": { \"connection\": \"" + connection + "\", \"batch_size\": 50 },\n"
                      "  \"log\": { \"level\": \"warn\", \"format\": \"text\" },\n"
                      "  \"connectors\": [" + generated_feed_connector("erp", (dir_.path() / "export.xml").string()) +
                          "] }\n",
                      false);
  }

  // Writes generation `g` of the export and syncs it into the reference, uninterrupted.
  Dump reference_generation(int g) {
    dir_.write("export.xml", generated_export(kRecords, g));
    const ProcessResult r = run_process({erpsyncd_path(), "--config", reference_config_, "--once"});
    EXPECT_EQ(r.exit_code, 0) << r.all();
    return dump_database(reference_->connection_string());
  }

  ProcessResult once(std::vector<std::string> prefix = {}) {
    prefix.insert(prefix.end(), {erpsyncd_path(), "--config", config_, "--once"});
    return run_process(prefix);
  }

  // An account of `partial` (by External Code, the first field of its dump row) that the
  // uninterrupted run does not have; "" when none. Its other fields may legitimately differ
  // after a failed run (a parent link still pending, resolved by a later batch).
  static std::string unknown_account(const Dump& expected, const Dump& partial) {
    std::set<std::string> codes;
    for (const auto& row : expected.at("accounts")) codes.insert(row.substr(0, row.find('|')));
    for (const auto& row : partial.at("accounts"))
      if (!codes.count(row.substr(0, row.find('|')))) return row;
    return "";
  }

  ScratchDir dir_{"erpsync-sqlite-faults"};
  std::unique_ptr<TempDatabase> reference_;
  std::string db_path_, connection_, config_, reference_config_;
};

TEST_F(SqliteFaults, DiskFullMidSyncFailsCleanlyAndARerunCompletes) {
  const Dump expected = reference_generation(1);
  // The schema first, without a limit: the fault must land in the sync, among data batches.
  const ProcessResult migrate = run_process({erpsyncd_path(), "--config", config_, "migrate"});
  ASSERT_EQ(migrate.exit_code, 0) << migrate.all();
  const auto empty_size = fs::file_size(db_path_);

  // Room for a few batches, not for the export: the limit is per file (database and journal).
  const std::string limit = std::to_string(empty_size + 96 * 1024);
  const ProcessResult full =
      run_process({"/bin/sh", "-c", "trap '' XFSZ; exec \"$@\"", "sh", "/usr/bin/prlimit", "--fsize=" + limit, "--",
                   erpsyncd_path(), "--config", config_, "--once"});
  EXPECT_EQ(full.exit_code, 1) << full.all();
  EXPECT_NE(full.all().find(db_path_), std::string::npos) << "the error does not name the database file:\n" << full.all();
  EXPECT_NE(full.all().find("full"), std::string::npos) << full.all();

  EXPECT_EQ(odbc_scalar(connection_, "PRAGMA integrity_check"), "ok");
  const Dump partial = dump_database(connection_);
  EXPECT_TRUE(duplicate_rows(partial).empty()) << duplicate_rows(partial).front();
  EXPECT_EQ(rows_of(partial, "sync_cursors"), 0u) << "the cursor was written by a run that failed";
  EXPECT_LT(rows_of(partial, "accounts"), rows_of(expected, "accounts")) << "the limit did not bite mid-sync";
  EXPECT_EQ(unknown_account(expected, partial), "") << "an account the uninterrupted run does not have";
  EXPECT_EQ(odbc_scalar(connection_, "SELECT COUNT(*) FROM sync_runs WHERE status = 'running'"), "0");

  // Space again: the rerun ends where the uninterrupted run ended.
  const ProcessResult rerun = once();
  ASSERT_EQ(rerun.exit_code, 0) << rerun.all();
  EXPECT_EQ(dump_diff(expected, dump_database(connection_)), "");
  EXPECT_EQ(odbc_scalar(connection_, "PRAGMA integrity_check"), "ok");
}

TEST_F(SqliteFaults, ReadOnlyDatabaseFileFailsCleanlyAndARerunCompletes) {
  const Dump first = reference_generation(1);
  ASSERT_EQ(once().exit_code, 0);
  ASSERT_EQ(dump_diff(first, dump_database(connection_)), "");
  const Dump before = dump_database(connection_);
  const Dump expected = reference_generation(2);  // also writes generation 2 for the next run

  fs::permissions(db_path_, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  std::vector<std::string> as_other;
  if (::geteuid() == 0)  // root writes whatever the mode says: run as someone who cannot
    as_other = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"};
  fs::permissions(config_, fs::perms::others_read, fs::perm_options::add);
  const ProcessResult ro = once(as_other);
  EXPECT_EQ(ro.exit_code, 1) << ro.all();
  EXPECT_NE(ro.all().find(db_path_), std::string::npos) << "the error does not name the database file:\n" << ro.all();
  EXPECT_NE(ro.all().find("read-only"), std::string::npos) << ro.all();

  EXPECT_EQ(odbc_scalar(connection_, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(dump_diff(before, dump_database(connection_)), "") << "a read-only run changed the database";

  fs::permissions(db_path_, fs::perms::owner_write, fs::perm_options::add);
  const ProcessResult rerun = once();
  ASSERT_EQ(rerun.exit_code, 0) << rerun.all();
  EXPECT_EQ(dump_diff(expected, dump_database(connection_)), "");
}

}  // namespace
}  // namespace erpsync::testing
