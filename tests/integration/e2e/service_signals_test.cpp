// erpsyncd as a service, what it tells the operator and systemd while it runs (SPEC §4, §8,
// §9): the alarm of a connector with no successful run for 3 poll intervals, the progress line
// of a long run, and the watchdog ping. The real binary, a NOTIFY_SOCKET read continuously.

#include <signal.h>

#include <algorithm>

#include "e2e_fixture.hpp"
#include "support/child_process.hpp"
#include "support/fake_http_server.hpp"

namespace erpsync::testing {
namespace {

using namespace std::chrono_literals;

std::string file_connector(const std::string& name, const std::string& feed, const std::string& interval) {
  return R"({ "name": ")" + name + R"(", "type": "feed", "format": "xml", "url": "file://)" + feed +
         R"(", "records": "/E/C", "poll_interval": ")" + interval +
         R"(", "default_owner": "sales", "stable_for": "0s",
             "fields": { "remote_id": "@id", "external_code": "@code", "name": "N" } })";
}

const char* kGoodFeed = R"(<E><C id="1" code="A-1"><N>Alpha</N></C><C id="2" code="A-2"><N>Beta</N></C></E>)";

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// The whole line of `text` holding the first occurrence of `needle`, or "".
std::string line_with(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  if (at == std::string::npos) return "";
  const auto begin = text.rfind('\n', at);
  const auto from = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(from, text.find('\n', at) - from);
}

class ServiceSignals : public E2eTest {
 protected:
  std::unique_ptr<ChildProcess> start(std::map<std::string, std::string> env = {}) {
    notify_ = std::make_unique<NotifySocket>((dir_ / "notify.sock").string());
    env["NOTIFY_SOCKET"] = notify_->path();
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd", "--config", config_path_},
        env);
  }
  std::unique_ptr<NotifySocket> notify_;
};

TEST_P(ServiceSignals, NoOkRunForThreeIntervalsAlarmsOnceInTheLogAndTheStatusAndAnOkRunClearsIt) {
  // A malformed export: every run fails, retried within the 1 s interval.
  const std::string feed = write_file("a.xml", "<E><C id=\"1\" code=\"A-1\"><N>Alpha</N>");
  write_config("[" + file_connector("erp", feed, "1s") + "]");
  auto daemon = start();
  ASSERT_TRUE(notify_->wait_for("READY=1", 30s)) << daemon->output();
  const std::string alarm = "connector=erp has had no successful run for ";
  ASSERT_TRUE(daemon->wait_for_output(alarm, 30s)) << daemon->output();
  const std::string line = line_with(daemon->output(), alarm);
  EXPECT_NE(line.find(" error [erp] "), std::string::npos) << "at error level: " << line;
  EXPECT_NE(line.find(" poll intervals (last: accounts error"), std::string::npos) << line;
  const int intervals = std::stoi(line.substr(line.find(alarm) + alarm.size()));
  EXPECT_GE(intervals, 3) << line;
  EXPECT_TRUE(notify_->wait_for("erp: accounts error fetched=0 rejected=0 (NO OK RUN FOR 3 INTERVALS)", 10s))
      << daemon->output();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_runs WHERE status = 'ok'"), "0");

  // Several more failed runs: the alarm is raised once, not at every run.
  const std::size_t runs = occurrences(daemon->output(), "sync connector=erp ");
  ASSERT_TRUE(daemon->wait_for_output("sync connector=erp ", 30s, static_cast<int>(runs) + 3)) << daemon->output();
  EXPECT_EQ(occurrences(daemon->output(), alarm), 1u) << daemon->output();

  // The export fixed: the next run is ok, and the STATUS it leaves has no alarm.
  write_file("a.xml", kGoodFeed);
  ASSERT_TRUE(daemon->wait_for_output("status=ok", 30s)) << daemon->output();
  ASSERT_TRUE(notify_->wait_for("erp: accounts ok", 10s)) << daemon->output();
  for (const auto& m : notify_->messages())
    if (m.find("erp: accounts ok") != std::string::npos) {
      EXPECT_EQ(m.find("NO OK RUN"), std::string::npos) << m;
      break;
    }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "2");

  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait_exit(30s), 0) << daemon->output();
}

TEST_P(ServiceSignals, ARunOverTenSecondsLogsProgressBeforeItsReportAndAShortRunDoesNot) {
  // A changed-since feed read page by page, 3 records a page (database.batch_size is 3 too),
  // each page answered after 2 s: 6 pages, a run of about 12 s that commits a batch per page.
  FakeHttpServer server;
  server.on("GET", "/export", [](const RecordedRequest& r) {
    const int page = std::stoi(r.query_param("page").value_or("1"));
    const int first = (page - 1) * 3 + 1;
    const int last = page < 6 ? first + 2 : (page == 6 ? first : first - 1);
    std::string items;
    for (int i = first; i <= last; ++i)
      items += std::string(items.empty() ? "" : ",") + R"({"id":")" + std::to_string(i) + R"(","code":"P-)" +
               std::to_string(i) + R"(","name":"Company )" + std::to_string(i) +
               R"(","modified":"2026-11-01T10:00:)" + (i < 10 ? "0" : "") + std::to_string(i) + R"(Z"})";
    return FakeReply::json(200, R"({"items":[)" + items + "]}").with_delay(2s);
  });
  const std::string paged = R"({ "name": "paged", "type": "feed", "format": "json", "url": ")" +
                            server.url("/export") + R"(", "records": "/items", "default_owner": "sales",
      "poll_interval": "1h", "timeout": "30s",
      "cursor": { "field": "/modified", "param": "since" },
      "paging": { "type": "page", "param": "page", "size_param": "limit", "size": 3, "start": 1 },
      "fields": { "remote_id": "/id", "external_code": "/code", "name": "/name" } })";
  const std::string quick = write_file("quick.xml", kGoodFeed);
  write_config("[" + paged + ", " + file_connector("quick", quick, "1h") + "]", "  \"workers\": 2,\n");
  auto daemon = start();
  ASSERT_TRUE(daemon->wait_for_output("sync connector=paged ", 60s)) << daemon->output();
  const std::string out = daemon->output();
  EXPECT_NE(out.find("status=ok"), std::string::npos) << out;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code LIKE 'P-%'"), "16");

  const std::string progress = "progress connector=paged stream=accounts fetched=";
  const auto at = out.find(progress);
  ASSERT_NE(at, std::string::npos) << out;
  EXPECT_LT(at, out.find("sync connector=paged ")) << "the progress line comes during the run:\n" << out;
  EXPECT_NE(line_with(out, progress).find(" info [paged] "), std::string::npos) << line_with(out, progress);
  const long fetched = std::stol(out.substr(at + progress.size()));
  EXPECT_GT(fetched, 0) << out;
  EXPECT_LE(fetched, 16) << out;
  // The short run of the other connector says nothing of its progress.
  ASSERT_NE(out.find("sync connector=quick "), std::string::npos) << out;
  EXPECT_EQ(out.find("progress connector=quick"), std::string::npos) << out;

  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait_exit(30s), 0) << daemon->output();
}

TEST_P(ServiceSignals, WithWatchdogUsecItPingsAtHalfTheIntervalAndStopsPingingOnSigterm) {
  // The first run hangs 5 s on its remote: the loop pings meanwhile, and the process is still
  // up, stopping, when SIGTERM comes while the run is in flight.
  FakeHttpServer server;
  server.on("GET", "/export",
            FakeReply::json(200, R"({"items":[{"id":"1","code":"A-1","name":"Alpha"}]})").with_delay(5s));
  const std::string slow = R"({ "name": "slow", "type": "feed", "format": "json", "url": ")" +
                           server.url("/export") + R"(", "records": "/items", "default_owner": "sales",
      "poll_interval": "1h", "timeout": "30s",
      "fields": { "remote_id": "/id", "external_code": "/code", "name": "/name" } })";
  write_config("[" + slow + "]");
  auto daemon = start({{"WATCHDOG_USEC", "400000"}});
  ASSERT_TRUE(notify_->wait_for("READY=1", 30s)) << daemon->output();
  // Every 200 ms: three within 2 s (a ping a minute, the default without WATCHDOG_USEC, would not).
  EXPECT_TRUE(notify_->wait_for("WATCHDOG=1", 2s, 3)) << daemon->output();
  ASSERT_TRUE(server.wait_for_requests(1, 30s)) << daemon->output();
  ASSERT_EQ(daemon->output().find("sync connector=slow "), std::string::npos) << "the run is still in flight";

  daemon->signal(SIGTERM);
  auto code = daemon->wait_exit(30s);
  ASSERT_TRUE(code.has_value()) << daemon->output();
  EXPECT_EQ(*code, 0) << daemon->output();
  const auto messages = notify_->messages();
  const auto stopping = std::find_if(messages.begin(), messages.end(),
                                     [](const std::string& s) { return s.find("STOPPING=1") != std::string::npos; });
  ASSERT_NE(stopping, messages.end());
  for (auto it = stopping; it != messages.end(); ++it) EXPECT_EQ(it->find("WATCHDOG=1"), std::string::npos) << *it;
}

// Service behaviour does not depend on the engine: SQLite only.
INSTANTIATE_TEST_SUITE_P(E2e, ServiceSignals, ::testing::Values(Engine::sqlite), engine_param_name);

}  // namespace
}  // namespace erpsync::testing
