// SPEC §10 "database unreachable or lost mid-batch: transaction rolled back; reconnect with
// backoff; nothing lost or doubled", and §5 "Lost connection → roll back, reconnect with
// backoff, re-read the cursor", on a real server that goes away: a private PostgreSQL or
// MariaDB (tests/support/private_db_server.hpp; the shared servers are never stopped) is shut
// down (fast) while the real erpsyncd service is in the middle of a sync, and started again.
//
// The interruption is made certain, not timed: once the daemon has committed 5 batches (its
// debug log says so) it is paused with SIGSTOP, the server is stopped, and the daemon resumed,
// so the connection it holds is dead while the run still has most of the export to write.
//
// Asserted: the run ends in an error; while the server is down the daemon keeps retrying and
// logs that it cannot connect, naming the server's port and database and never the password;
// what the interrupted run left (read with the daemon paused) has no duplicate and no cursor
// ahead of its data; after the restart it reconnects on its own and a run ends ok; the database then equals a
// reference database that synced the same export uninterrupted (the canonical dump of
// db_dump.hpp), without a duplicate; no run is left `running`.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "db_dump.hpp"
#include "reliability_support.hpp"
#include "support/child_process.hpp"
#include "support/odbc_query.hpp"
#include "support/private_db_server.hpp"
#include "support/process.hpp"
#include "support/test_databases.hpp"

namespace erpsync::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kRecords = 3000;  // 60 batches of 50: the stop lands with most of them to go

class DatabaseRestart : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    std::string skip;
    reference_ = TempDatabase::create(GetParam(), skip);
    if (!reference_) GTEST_SKIP() << skip;
    server_ = PrivateDbServer::start(GetParam(), skip);
    if (!server_) GTEST_SKIP() << skip;
    feed_ = dir_.write("export.xml", generated_export(kRecords, 1));
  }

  std::string write_config(const std::string& name, const std::string& connection, const std::string& level) {
    const std::string path = dir_.write(
        name,
        "{ \"database\": { \"connection\": \"" + connection + "\", \"batch_size\": 50 },\n"
        "  \"log\": { \"level\": \"" + level + "\", \"format\": \"text\" },\n"
        "  \"cluster\": { \"instance_id\": \"restart-test\" },\n"
        "  \"connectors\": [" + generated_feed_connector("erp", feed_) + "] }\n",
        false);
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return path;
  }

  ScratchDir dir_{"erpsync-dbrestart"};
  std::unique_ptr<TempDatabase> reference_;
  std::unique_ptr<PrivateDbServer> server_;
  std::string feed_;
};

TEST_P(DatabaseRestart, ServerStoppedMidSyncAndRestartedEndsLikeAnUninterruptedRun) {
  // The reference: one uninterrupted run on the shared server.
  const ProcessResult ref = run_process({erpsyncd_path(), "--config", write_config("reference.json",
                                         reference_->connection_string(), "warn"), "--once"});
  ASSERT_EQ(ref.exit_code, 0) << ref.all();
  const Dump expected = dump_database(reference_->connection_string());
  ASSERT_GT(rows_of(expected, "accounts"), static_cast<std::size_t>(kRecords * 9 / 10));

  // The service on the private server; debug level logs every committed batch.
  const std::string config = write_config("service.json", server_->connection_string(), "debug");
  ChildProcess daemon({erpsyncd_path(), "--config", config});
  ASSERT_TRUE(daemon.wait_for_output("batch committed connector=erp", 120s, 5)) << daemon.output();
  daemon.signal(SIGSTOP);
  const std::size_t before_stop = daemon.output().size();
  server_->stop();
  daemon.signal(SIGCONT);

  // The run in flight fails; the next attempts cannot connect while the server is down.
  ASSERT_TRUE(daemon.wait_for_output("status=error", 60s)) << daemon.output();
  ASSERT_TRUE(daemon.wait_for_output("cannot open the database", 60s, 2))
      << "no second reconnect attempt while the server was down:\n"
      << daemon.output();
  const std::string while_down = daemon.output().substr(before_stop);
  EXPECT_EQ(while_down.find("status=ok"), std::string::npos) << "the run finished before the server stopped";

  // What the interruption left, read while the daemon is paused again: no duplicate, and the
  // cursor not ahead of the data (absent, since the export was not fully written).
  daemon.signal(SIGSTOP);
  server_->restart();
  const Dump interrupted = dump_database(server_->connection_string());
  daemon.signal(SIGCONT);
  EXPECT_TRUE(duplicate_rows(interrupted).empty()) << duplicate_rows(interrupted).front();
  EXPECT_LT(rows_of(interrupted, "accounts"), rows_of(expected, "accounts"));
  EXPECT_EQ(rows_of(interrupted, "sync_cursors"), 0u) << "the cursor is ahead of the data";

  ASSERT_TRUE(daemon.wait_for_output("status=ok", 120s)) << daemon.output();
  daemon.signal(SIGTERM);
  ASSERT_TRUE(daemon.wait_exit(60s).has_value()) << daemon.output();
  const std::string out = daemon.output();

  // A clear error naming the database (which server, which database), never the password.
  const std::string port = "Port=" + std::to_string(server_->port());
  bool named = false;
  for (std::size_t at = out.find("cannot open the database"); at != std::string::npos;
       at = out.find("cannot open the database", at + 1)) {
    const std::string line = out.substr(at, out.find('\n', at) - at);
    named = named || (line.find(port) != std::string::npos && line.find("Database=erp") != std::string::npos);
  }
  EXPECT_TRUE(named) << "no connect error names " << port << " and Database=erp:\n" << out;
  EXPECT_EQ(out.find(server_->password()), std::string::npos) << "the database password reached the log";

  // Nothing lost, nothing doubled; the interrupted run is not left `running`.
  const Dump actual = dump_database(server_->connection_string());
  EXPECT_EQ(dump_diff(expected, actual), "");
  EXPECT_TRUE(duplicate_rows(actual).empty()) << duplicate_rows(actual).front();
  EXPECT_EQ(odbc_scalar(server_->connection_string(), "SELECT COUNT(*) FROM sync_runs WHERE status = 'running'"), "0");
  EXPECT_NE(odbc_scalar(server_->connection_string(), "SELECT COUNT(*) FROM sync_runs WHERE status <> 'ok'"), "0")
      << "no run recorded the interruption";
}

INSTANTIATE_TEST_SUITE_P(Servers, DatabaseRestart, ::testing::Values(Engine::postgresql, Engine::mariadb),
                         [](const auto& info) { return std::string(engine_name(info.param)); });

}  // namespace
}  // namespace erpsync::testing
