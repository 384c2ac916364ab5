// Two processes on one database (SPEC §5 "constraint violation", §10 "two daemons on one
// database"): the unique constraints hold, the loser of a race is decided again (an update or
// unchanged, never a crash or a duplicate). And a connection lost mid-run is retried from the
// cursor the database holds.

#include <signal.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "e2e_fixture.hpp"
#include "support/child_process.hpp"

namespace erpsync::testing {
namespace {

using namespace std::chrono_literals;

std::string big_feed(int n) {
  std::ostringstream x;
  x << "<E>";
  for (int i = 1; i <= n; ++i) {
    x << "<C id=\"" << i << "\" code=\"K-" << i << "\"><N>Company " << i << "</N><R>alice</R>";
    if (i % 10 != 1) x << "<P>K-" << ((i - 1) / 10 * 10 + 1) << "</P>";
    x << "</C>";
  }
  x << "</E>";
  return x.str();
}

std::string connector(const std::string& name, const std::string& feed) {
  return R"({ "name": ")" + name + R"(", "type": "feed", "format": "xml", "url": "file://)" + feed +
         R"(", "records": "/E/C", "poll_interval": "5m", "default_owner": "sales",
             "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "owner": "R", "member_of": "P" } })";
}

class Concurrency : public E2eTest {
 protected:
  std::unique_ptr<ChildProcess> spawn(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd", "--config", config_path_};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<ChildProcess>(argv);
  }
};

TEST_P(Concurrency, TwoProcessesSyncingTheSameSourceAtOnceLeaveNoDuplicate) {
  constexpr int kN = 900;
  const std::string feed = write_file("big.xml", big_feed(kN));
  write_config("[" + connector("erp", feed) + ", " + connector("erp-mirror", feed) + "]");
  ASSERT_EQ(erpsyncd({"migrate"}).exit_code, 0);
  // Same connector in both (an admin's --once beside a running one), plus a second connector
  // bringing the same codes with the same owner.
  auto a = spawn({"--once"});
  auto b = spawn({"--once"});
  auto c = spawn({"--once", "--connector", "erp-mirror"});
  for (auto* p : {a.get(), b.get(), c.get()}) {
    auto code = p->wait_exit(300s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << p->output();
    EXPECT_EQ(p->output().find("status=error"), std::string::npos) << p->output();
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), std::to_string(kN));
  EXPECT_EQ(scalar("SELECT COUNT(DISTINCT external_code) FROM accounts"), std::to_string(kN));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE connector = 'erp'"), std::to_string(kN));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE connector = 'erp-mirror'"), std::to_string(kN));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM customers"), std::to_string(2 * kN));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE member_of_id IS NULL"), std::to_string(kN / 10));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections"), "0");
}

TEST_P(Concurrency, AConnectionKilledMidRunIsRetriedFromTheDatabasesCursor) {
  if (GetParam() != Engine::postgresql) GTEST_SKIP() << "kills the server session with pg_terminate_backend";
  constexpr int kN = 1500;
  const std::string feed = write_file("big.xml", big_feed(kN));
  // Debug level: every committed batch is logged, the event this test waits for.
  std::string cfg = write_config("[" + connector("erp", feed) + "]");
  {
    std::ifstream in(cfg);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("\"info\""), 6, "\"debug\"");
    write_file("erpsync.json", text, false);
  }
  ASSERT_EQ(erpsyncd({"migrate"}).exit_code, 0);
  auto run = spawn({"--once"});
  // Once a few batches are in, kill every other session on this database.
  ASSERT_TRUE(run->wait_for_output("batch committed", 120s, 5)) << run->output();
  query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
  auto code = run->wait_exit(300s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << run->output();
  EXPECT_NE(run->output().find("failed transiently; retry 1"), std::string::npos) << run->output();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), std::to_string(kN));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings"), std::to_string(kN));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM customers"), std::to_string(kN));
}

ERPSYNC_E2E_ON_ALL_ENGINES(Concurrency);

}  // namespace
}  // namespace erpsync::testing
