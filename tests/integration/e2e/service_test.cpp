// erpsyncd as a service (SPEC §7, §9; issue "The service"): the real binary started as a
// process with a NOTIFY_SOCKET read continuously, syncing on its interval, reloading on SIGHUP
// (good and bad configurations) and stopping cleanly on SIGTERM.

#include <signal.h>

#include <fstream>
#include <iterator>

#include "e2e_fixture.hpp"
#include "support/child_process.hpp"
#include "support/fake_http_server.hpp"

namespace erpsync::testing {
namespace {

using namespace std::chrono_literals;

std::string feed_connector(const std::string& name, const std::string& feed, const std::string& interval) {
  return R"({ "name": ")" + name + R"(", "type": "feed", "format": "xml", "url": "file://)" + feed +
         R"(", "records": "/E/C", "poll_interval": ")" + interval +
         R"(", "default_owner": "sales", "stable_for": "0s",
             "fields": { "remote_id": "@id", "external_code": "@code", "name": "N" } })";
}

const char* kFeed = R"(<E><C id="1" code="A-1"><N>Alpha</N></C><C id="2" code="A-2"><N>Beta</N></C></E>)";

class Service : public E2eTest {
 protected:
  std::unique_ptr<ChildProcess> start() {
    notify_ = std::make_unique<NotifySocket>((dir_ / "notify.sock").string());
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd", "--config", config_path_},
        std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify_->path()}});
  }
  std::unique_ptr<NotifySocket> notify_;
};

TEST_P(Service, BecomesReadySyncsOnItsIntervalAndStopsCleanlyOnSigterm) {
  const std::string feed = write_file("a.xml", kFeed);
  write_config("[" + feed_connector("erp", feed, "1s") + "]");
  auto daemon = start();
  ASSERT_TRUE(notify_->wait_for("READY=1", 30s)) << daemon->output();
  // The first run at start, then another one a poll interval later.
  ASSERT_TRUE(daemon->wait_for_output("sync connector=erp", 30s, 2)) << daemon->output();
  EXPECT_TRUE(notify_->wait_for("STATUS=", 5s));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "2");

  daemon->signal(SIGTERM);
  auto code = daemon->wait_exit(30s);
  ASSERT_TRUE(code.has_value()) << daemon->output();
  EXPECT_EQ(*code, 0) << daemon->output();
  EXPECT_TRUE(notify_->wait_for("STOPPING=1", 1s));
  // Nothing is left `running`.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_runs WHERE status = 'running'"), "0");
}

TEST_P(Service, ReloadTakesAGoodConfigAndRefusesABadOneKeepingTheOld) {
  const std::string a = write_file("a.xml", kFeed);
  const std::string b = write_file("b.xml", R"(<E><C id="9" code="B-9"><N>Gamma</N></C></E>)");
  write_config("[" + feed_connector("erp", a, "1h") + "]");
  auto daemon = start();
  ASSERT_TRUE(notify_->wait_for("READY=1", 30s)) << daemon->output();
  ASSERT_TRUE(daemon->wait_for_output("sync connector=erp", 30s)) << daemon->output();

  // A bad config: refused with the key named; the service keeps running.
  write_config("[" + feed_connector("erp", a, "1h").replace(2, 6, "\"nmae\"") + "]");
  daemon->signal(SIGHUP);
  ASSERT_TRUE(daemon->wait_for_output("reload refused", 30s)) << daemon->output();
  EXPECT_NE(daemon->output().find("nmae"), std::string::npos) << daemon->output();

  // A good one: the added connector runs at once.
  write_config("[" + feed_connector("erp", a, "1h") + ", " + feed_connector("erp2", b, "1h") + "]");
  daemon->signal(SIGHUP);
  ASSERT_TRUE(daemon->wait_for_output("sync connector=erp2", 30s)) << daemon->output();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'B-9'"), "1");
  EXPECT_TRUE(notify_->wait_for("READY=1", 5s, 3));

  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait_exit(30s), 0) << daemon->output();
}

TEST_P(Service, PlainHttpWithCredentialsWarnsAtStartAndAtEachReloadNamingTheConnector) {
  FakeHttpServer erp;
  erp.on("GET", "/export.xml", FakeReply::xml(200, kFeed));
  const std::string http_feed =
      R"({ "name": "erp-http", "type": "feed", "format": "xml", "url": ")" + erp.url("/export.xml") +
      R"(", "records": "/E/C", "poll_interval": "1h", "default_owner": "sales",
          "auth": { "type": "bearer", "token": "plain-http-t0ken" },
          "fields": { "remote_id": "@id", "external_code": "@code", "name": "N" } })";
  write_config("[" + http_feed + "]");
  const std::string warning = "connector \"erp-http\" sends its credentials (auth bearer) over plain http://";
  auto daemon = start();
  ASSERT_TRUE(notify_->wait_for("READY=1", 30s)) << daemon->output();
  ASSERT_TRUE(daemon->wait_for_output(warning, 30s)) << daemon->output();
  ASSERT_TRUE(daemon->wait_for_output("sync connector=erp-http", 30s)) << daemon->output();
  const std::string at_start = daemon->output();
  EXPECT_EQ(at_start.find(warning), at_start.rfind(warning)) << "once at start:\n" << at_start;
  daemon->signal(SIGHUP);
  ASSERT_TRUE(daemon->wait_for_output(warning, 30s, 2)) << daemon->output();
  EXPECT_EQ(daemon->output().find("plain-http-t0ken"), std::string::npos) << daemon->output();
  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait_exit(30s), 0) << daemon->output();
}

TEST_P(Service, ARotatedFileSecretTakesEffectOnReloadAndNeitherValueIsLogged) {
  // The remote accepts only the new token; the daemon starts with the old one.
  FakeHttpServer server;
  server.on("GET", "/feed", [](const RecordedRequest& r) {
    if (r.header("Authorization").value_or("") == "Bearer new-token-2222-rotated")
      return FakeReply::json(200, R"({"items":[{"id":"1","code":"A-1","name":"Alpha"}]})");
    return FakeReply::json(401, R"({"error":"invalid token"})");
  });
  const std::string token = write_file("token", "old-token-1111-expired\n", false);
  write_config(R"([{ "name": "erp", "type": "feed", "format": "json", "url": ")" + server.url("/feed") +
               R"(", "records": "/items", "poll_interval": "1s", "default_owner": "sales", "timeout": "5s",
                   "auth": { "type": "bearer", "token": "${file:)" + token + R"(}" },
                   "fields": { "remote_id": "/id", "external_code": "/code", "name": "/name" } }])");
  auto daemon = start();
  ASSERT_TRUE(notify_->wait_for("READY=1", 30s)) << daemon->output();
  // Refused: the connector waits for a reload (a new secret) before it tries again.
  ASSERT_TRUE(daemon->wait_for_output("waits for a configuration reload", 30s)) << daemon->output();
  EXPECT_NE(daemon->output().find("401"), std::string::npos) << daemon->output();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "0");

  // Rotated in the file: the reload reads it again, the next run authenticates.
  write_file("token", "new-token-2222-rotated\n", false);
  daemon->signal(SIGHUP);
  ASSERT_TRUE(daemon->wait_for_output("status=ok", 60s)) << daemon->output();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'A-1'"), "1");
  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait_exit(30s), 0) << daemon->output();
  EXPECT_EQ(daemon->output().find("old-token-1111-expired"), std::string::npos) << daemon->output();
  EXPECT_EQ(daemon->output().find("new-token-2222-rotated"), std::string::npos) << daemon->output();
}

TEST_P(Service, ABadConfigAtStartExitsTwoBeforeReady) {
  write_config(R"([{ "name": "Bad Name", "type": "feed" }])");
  auto daemon = start();
  auto code = daemon->wait_exit(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  for (const auto& m : notify_->messages()) EXPECT_EQ(m.find("READY=1"), std::string::npos);
}

// Service behaviour does not depend on the engine: SQLite only.
INSTANTIATE_TEST_SUITE_P(E2e, Service, ::testing::Values(Engine::sqlite), engine_param_name);

}  // namespace
}  // namespace erpsync::testing

namespace erpsync::testing {
namespace {

using namespace std::chrono_literals;

class ServiceWorkers : public Service {};

TEST_P(ServiceWorkers, ASlowConnectorNeverDelaysTheOthersAndDoesNotHoldTheStop) {
  const std::string fast = write_file("fast.xml", kFeed);
  // A file that is still "being written" (fresh mtime, stable_for 1h): its run waits, occupying
  // one worker.
  const std::string slow = write_file("slow.xml", kFeed, /*old_mtime=*/false);
  std::string slow_conn = feed_connector("slow", slow, "1h");
  const std::string settled = "\"stable_for\": \"0s\"";
  slow_conn.replace(slow_conn.find(settled), settled.size(), "\"stable_for\": \"1h\"");
  write_config("[" + slow_conn + ", " + feed_connector("fast", fast, "1s") + "]", "  \"workers\": 2,\n");
  auto daemon = start();
  ASSERT_TRUE(notify_->wait_for("READY=1", 30s)) << daemon->output();
  // The fast connector keeps its interval while the slow one is stuck.
  ASSERT_TRUE(daemon->wait_for_output("sync connector=fast", 30s, 3)) << daemon->output();
  EXPECT_EQ(daemon->output().find("sync connector=slow"), std::string::npos) << daemon->output();

  const auto t0 = std::chrono::steady_clock::now();
  daemon->signal(SIGTERM);
  auto code = daemon->wait_exit(60s);
  ASSERT_TRUE(code.has_value()) << daemon->output();
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s) << "the stop waited for the stuck run";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'A-1'"), "1");
}

INSTANTIATE_TEST_SUITE_P(E2e, ServiceWorkers, ::testing::Values(Engine::sqlite), engine_param_name);

}  // namespace
}  // namespace erpsync::testing

namespace erpsync::testing {
namespace {

using namespace std::chrono_literals;

std::string many_records(int n) {
  std::string x = "<E>";
  for (int i = 1; i <= n; ++i)
    x += "<C id=\"" + std::to_string(i) + "\" code=\"M-" + std::to_string(i) + "\"><N>Company " + std::to_string(i) + "</N></C>";
  return x + "</E>";
}

class ServiceStop : public Service {};

TEST_P(ServiceStop, SigtermMidSyncCommitsOrRollsBackTheBatchAndTheNextStartCompletes) {
  const std::string feed = write_file("big.xml", many_records(3000));
  write_config("[" + feed_connector("erp", feed, "1h") + "]");
  {
    std::ifstream in(config_path_);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("\"info\""), 6, "\"debug\"");  // a line per committed batch: the event waited for
    write_file("erpsync.json", text, false);
  }
  auto daemon = start();
  ASSERT_TRUE(daemon->wait_for_output("batch committed", 60s, 3)) << daemon->output();
  daemon->signal(SIGTERM);
  auto code = daemon->wait_exit(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << daemon->output();
  EXPECT_NE(daemon->output().find("status=stopped"), std::string::npos) << daemon->output();
  // Consistent: nothing `running`, every account has its binding and customer, none twice.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_runs WHERE status = 'running'"), "0");
  const std::string accounts = scalar("SELECT COUNT(*) FROM accounts");
  EXPECT_NE(accounts, "3000") << "the stop should have come before the end";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings"), accounts);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM customers"), accounts);

  // The next start finishes the job.
  auto again = start();
  ASSERT_TRUE(again->wait_for_output("sync connector=erp", 120s)) << again->output();
  again->signal(SIGTERM);
  ASSERT_EQ(again->wait_exit(30s), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "3000");
  EXPECT_EQ(scalar("SELECT COUNT(DISTINCT external_code) FROM accounts"), "3000");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings"), "3000");
}

TEST_P(ServiceStop, TheMetricsEndpointAgreesWithSyncRuns) {
  const std::string feed = write_file("a.xml", kFeed);
  write_config("[" + feed_connector("erp", feed, "1h") + "]", "  \"metrics\": { \"listen\": \"127.0.0.1:0\" },\n");
  auto daemon = start();
  ASSERT_TRUE(daemon->wait_for_output("sync connector=erp", 30s)) << daemon->output();
  const std::string out = daemon->output();
  const auto at = out.find("metrics on http://");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string url = out.substr(at + 11, out.find('\n', at) - at - 11);
  ProcessResult scrape = run_process({"/usr/bin/curl", "-s", url});
  ASSERT_EQ(scrape.exit_code, 0) << url;
  const std::string created = scalar("SELECT created FROM sync_runs WHERE connector = 'erp'");
  EXPECT_NE(scrape.out.find("erpsync_records_total{connector=\"erp\",stream=\"accounts\",outcome=\"created\"} " + created),
            std::string::npos) << scrape.out;
  EXPECT_NE(scrape.out.find("erpsync_last_success_timestamp_seconds{connector=\"erp\""), std::string::npos) << scrape.out;
  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait_exit(30s), 0);
}

INSTANTIATE_TEST_SUITE_P(E2e, ServiceStop, ::testing::Values(Engine::sqlite, Engine::postgresql), engine_param_name);

}  // namespace
}  // namespace erpsync::testing
