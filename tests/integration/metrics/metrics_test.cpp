// The Prometheus endpoint (SPEC §8): runs recorded in the registry, scraped over loopback.

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/metrics.hpp"
#include "version.hpp"

namespace erpsync::daemon {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using ::testing::Not;

struct Answer {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

Answer request(std::uint16_t port, http::verb method, const std::string& target) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req(method, target, 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return {res.result_int(), std::string(res[http::field::content_type]), res.body()};
}

Answer scrape(const MetricsServer& server) { return request(server.port(), http::verb::get, "/metrics"); }

core::SyncReport report(const std::string& connector, const std::string& stream, const std::string& status,
                        std::int64_t duration_ms) {
  const core::RunStatus run_status = status == "ok"      ? core::RunStatus::ok
                                     : status == "error" ? core::RunStatus::error
                                                         : core::RunStatus::stopped;
  core::SyncReport r;
  r.connector = connector;
  r.stream = stream;
  r.status = run_status;
  r.duration_ms = duration_ms;
  return r;
}

// 2026-11-21 10:00:00 UTC, and later instants from it.
std::chrono::system_clock::time_point at(std::int64_t plus_ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(1795255200000LL + plus_ms));
}

// Every line of `family` (its samples), in order.
std::string lines_of(const std::string& body, const std::string& family) {
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find('\n', pos);
    std::string line = body.substr(pos, end - pos);
    pos = end == std::string::npos ? body.size() : end + 1;
    if (line.starts_with(family + "{") || line.starts_with(family + " ")) out += line + "\n";
  }
  return out;
}

class MetricsEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    // Appendix A's first run, then a failed run of another connector.
    core::SyncReport run1 = report("erp", "accounts", "ok", 3200);
    run1.run_id = 1;
    run1.counters.fetched = 9;
    run1.counters.created = 5;
    run1.counters.superseded = 1;
    run1.counters.rejected = 3;
    run1.counters.warnings = 1;
    registry_.record_run(run1, at(0));
    registry_.set_open("erp", "accounts", 3, 0);

    core::SyncReport failed = report("shop", "customers", "error", 40);
    failed.message = "HTTP 503";
    registry_.record_run(failed, at(500));
    registry_.set_open("shop", "customers", 0, 2);
    registry_.set_abandoned_carts("shop", 4);
    registry_.set_lease_held("erp", true);
    registry_.set_lease_held("shop", false);  // another instance syncs it

    server_ = MetricsServer::start("127.0.0.1:0", registry_);
  }

  MetricsRegistry registry_;
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsEndpoint, ServesEveryFamilyWithExactSeriesAndValues) {
  const Answer a = scrape(*server_);
  ASSERT_EQ(a.status, 200u);
  EXPECT_EQ(a.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const std::string expected = std::string("# HELP erpsync_build_info erpsync version of this process (always 1).\n"
                                           "# TYPE erpsync_build_info gauge\n"
                                           "erpsync_build_info{version=\"") + kVersion + "\"} 1\n" + R"(# HELP erpsync_runs_total Finished runs by status (ok, error, stopped).
# TYPE erpsync_runs_total counter
erpsync_runs_total{connector="erp",stream="accounts",status="error"} 0
erpsync_runs_total{connector="erp",stream="accounts",status="ok"} 1
erpsync_runs_total{connector="shop",stream="customers",status="error"} 1
erpsync_runs_total{connector="shop",stream="customers",status="ok"} 0
# HELP erpsync_run_failures_total Runs that ended with status=error.
# TYPE erpsync_run_failures_total counter
erpsync_run_failures_total{connector="erp",stream="accounts"} 0
erpsync_run_failures_total{connector="shop",stream="customers"} 1
# HELP erpsync_run_duration_seconds Duration of finished runs.
# TYPE erpsync_run_duration_seconds histogram
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="0.1"} 0
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="0.5"} 0
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="1"} 0
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="2.5"} 0
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="5"} 1
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="10"} 1
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="30"} 1
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="60"} 1
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="300"} 1
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="900"} 1
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="3600"} 1
erpsync_run_duration_seconds_bucket{connector="erp",stream="accounts",le="+Inf"} 1
erpsync_run_duration_seconds_sum{connector="erp",stream="accounts"} 3.2
erpsync_run_duration_seconds_count{connector="erp",stream="accounts"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="0.1"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="0.5"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="1"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="2.5"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="5"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="10"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="30"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="60"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="300"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="900"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="3600"} 1
erpsync_run_duration_seconds_bucket{connector="shop",stream="customers",le="+Inf"} 1
erpsync_run_duration_seconds_sum{connector="shop",stream="customers"} 0.04
erpsync_run_duration_seconds_count{connector="shop",stream="customers"} 1
# HELP erpsync_records_fetched_total Records read from the source (the sum of the outcomes).
# TYPE erpsync_records_fetched_total counter
erpsync_records_fetched_total{connector="erp",stream="accounts"} 9
erpsync_records_fetched_total{connector="shop",stream="customers"} 0
# HELP erpsync_records_total Records by outcome.
# TYPE erpsync_records_total counter
erpsync_records_total{connector="erp",stream="accounts",outcome="created"} 5
erpsync_records_total{connector="erp",stream="accounts",outcome="adopted"} 0
erpsync_records_total{connector="erp",stream="accounts",outcome="updated"} 0
erpsync_records_total{connector="erp",stream="accounts",outcome="unchanged"} 0
erpsync_records_total{connector="erp",stream="accounts",outcome="superseded"} 1
erpsync_records_total{connector="erp",stream="accounts",outcome="parked"} 0
erpsync_records_total{connector="erp",stream="accounts",outcome="rejected"} 3
erpsync_records_total{connector="erp",stream="accounts",outcome="failed"} 0
erpsync_records_total{connector="shop",stream="customers",outcome="created"} 0
erpsync_records_total{connector="shop",stream="customers",outcome="adopted"} 0
erpsync_records_total{connector="shop",stream="customers",outcome="updated"} 0
erpsync_records_total{connector="shop",stream="customers",outcome="unchanged"} 0
erpsync_records_total{connector="shop",stream="customers",outcome="superseded"} 0
erpsync_records_total{connector="shop",stream="customers",outcome="parked"} 0
erpsync_records_total{connector="shop",stream="customers",outcome="rejected"} 0
erpsync_records_total{connector="shop",stream="customers",outcome="failed"} 0
# HELP erpsync_records_missing_total Bound records a full snapshot no longer held (never deleted).
# TYPE erpsync_records_missing_total counter
erpsync_records_missing_total{connector="erp",stream="accounts"} 0
erpsync_records_missing_total{connector="shop",stream="customers"} 0
# HELP erpsync_warnings_total Warnings (records written with a refused member_of link).
# TYPE erpsync_warnings_total counter
erpsync_warnings_total{connector="erp",stream="accounts"} 1
erpsync_warnings_total{connector="shop",stream="customers"} 0
# HELP erpsync_last_run_timestamp_seconds Unix time the last run ended, whatever its status.
# TYPE erpsync_last_run_timestamp_seconds gauge
erpsync_last_run_timestamp_seconds{connector="erp",stream="accounts"} 1795255200
erpsync_last_run_timestamp_seconds{connector="shop",stream="customers"} 1795255200.5
# HELP erpsync_last_success_timestamp_seconds Unix time the last run with status=ok ended.
# TYPE erpsync_last_success_timestamp_seconds gauge
erpsync_last_success_timestamp_seconds{connector="erp",stream="accounts"} 1795255200
# HELP erpsync_open_rejections Unresolved rejections (sync_rejections without resolved_at).
# TYPE erpsync_open_rejections gauge
erpsync_open_rejections{connector="erp",stream="accounts"} 3
erpsync_open_rejections{connector="shop",stream="customers"} 0
# HELP erpsync_parked_records Parked records waiting for what they refer to (sync_parked).
# TYPE erpsync_parked_records gauge
erpsync_parked_records{connector="erp",stream="accounts"} 0
erpsync_parked_records{connector="shop",stream="customers"} 2
# HELP erpsync_abandoned_carts Magento carts that are active, hold items and were not updated for the connector's abandoned_after.
# TYPE erpsync_abandoned_carts gauge
erpsync_abandoned_carts{connector="shop"} 4
# HELP erpsync_lease_held 1 while this process holds the connector's lease, 0 while another instance does.
# TYPE erpsync_lease_held gauge
erpsync_lease_held{connector="erp"} 1
erpsync_lease_held{connector="shop"} 0
)";
  EXPECT_EQ(a.body, expected);
  EXPECT_EQ(a.body, registry_.render());
}

TEST_F(MetricsEndpoint, ASecondScrapeIsTheSameUntilTheNextRunAndThenCountsOn) {
  const Answer first = scrape(*server_);
  const Answer second = scrape(*server_);
  ASSERT_EQ(second.status, 200u);
  EXPECT_EQ(first.body, second.body);

  // Appendix A's second run: counters add up, the gauges move, nothing else changes.
  core::SyncReport run2 = report("erp", "accounts", "ok", 800);
  run2.run_id = 2;
  run2.counters.fetched = 10;
  run2.counters.updated = 2;
  run2.counters.unchanged = 5;
  run2.counters.superseded = 1;
  run2.counters.rejected = 2;
  run2.counters.warnings = 1;
  registry_.record_run(run2, at(60000));
  registry_.set_open("erp", "accounts", 2, 0);

  const std::string third = scrape(*server_).body;
  EXPECT_EQ(lines_of(third, "erpsync_records_fetched_total"),
            "erpsync_records_fetched_total{connector=\"erp\",stream=\"accounts\"} 19\n"
            "erpsync_records_fetched_total{connector=\"shop\",stream=\"customers\"} 0\n");
  EXPECT_THAT(lines_of(third, "erpsync_records_total"),
              HasSubstr("erpsync_records_total{connector=\"erp\",stream=\"accounts\",outcome=\"created\"} 5\n"
                        "erpsync_records_total{connector=\"erp\",stream=\"accounts\",outcome=\"adopted\"} 0\n"
                        "erpsync_records_total{connector=\"erp\",stream=\"accounts\",outcome=\"updated\"} 2\n"
                        "erpsync_records_total{connector=\"erp\",stream=\"accounts\",outcome=\"unchanged\"} 5\n"
                        "erpsync_records_total{connector=\"erp\",stream=\"accounts\",outcome=\"superseded\"} 2\n"
                        "erpsync_records_total{connector=\"erp\",stream=\"accounts\",outcome=\"parked\"} 0\n"
                        "erpsync_records_total{connector=\"erp\",stream=\"accounts\",outcome=\"rejected\"} 5\n"));
  EXPECT_EQ(lines_of(third, "erpsync_runs_total"),
            "erpsync_runs_total{connector=\"erp\",stream=\"accounts\",status=\"error\"} 0\n"
            "erpsync_runs_total{connector=\"erp\",stream=\"accounts\",status=\"ok\"} 2\n"
            "erpsync_runs_total{connector=\"shop\",stream=\"customers\",status=\"error\"} 1\n"
            "erpsync_runs_total{connector=\"shop\",stream=\"customers\",status=\"ok\"} 0\n");
  EXPECT_EQ(lines_of(third, "erpsync_run_duration_seconds_count"),
            "erpsync_run_duration_seconds_count{connector=\"erp\",stream=\"accounts\"} 2\n"
            "erpsync_run_duration_seconds_count{connector=\"shop\",stream=\"customers\"} 1\n");
  EXPECT_THAT(third, HasSubstr("erpsync_run_duration_seconds_bucket{connector=\"erp\",stream=\"accounts\",le=\"1\"} 1\n"));
  EXPECT_THAT(third, HasSubstr("erpsync_run_duration_seconds_sum{connector=\"erp\",stream=\"accounts\"} 4\n"));
  EXPECT_EQ(lines_of(third, "erpsync_last_success_timestamp_seconds"),
            "erpsync_last_success_timestamp_seconds{connector=\"erp\",stream=\"accounts\"} 1795255260\n");
  EXPECT_EQ(lines_of(third, "erpsync_open_rejections"),
            "erpsync_open_rejections{connector=\"erp\",stream=\"accounts\"} 2\n"
            "erpsync_open_rejections{connector=\"shop\",stream=\"customers\"} 0\n");
  // A scrape after that, with nothing recorded in between, is the same again.
  EXPECT_EQ(scrape(*server_).body, third);
}

TEST_F(MetricsEndpoint, AFailedRunKeepsTheLastSuccessTimeAndCountsAFailure) {
  registry_.record_run(report("erp", "accounts", "error", 100), at(120000));
  const std::string body = scrape(*server_).body;
  EXPECT_EQ(lines_of(body, "erpsync_last_success_timestamp_seconds"),
            "erpsync_last_success_timestamp_seconds{connector=\"erp\",stream=\"accounts\"} 1795255200\n");
  EXPECT_THAT(lines_of(body, "erpsync_last_run_timestamp_seconds"),
              HasSubstr("erpsync_last_run_timestamp_seconds{connector=\"erp\",stream=\"accounts\"} 1795255320\n"));
  EXPECT_THAT(lines_of(body, "erpsync_run_failures_total"),
              HasSubstr("erpsync_run_failures_total{connector=\"erp\",stream=\"accounts\"} 1\n"));
}

TEST_F(MetricsEndpoint, AStoppedRunIsCountedByItsStatusAndIsNotAFailure) {
  registry_.record_run(report("erp", "accounts", "stopped", 100), at(1000));
  const std::string body = scrape(*server_).body;
  EXPECT_THAT(body, HasSubstr("erpsync_runs_total{connector=\"erp\",stream=\"accounts\",status=\"stopped\"} 1\n"));
  EXPECT_THAT(body, HasSubstr("erpsync_run_failures_total{connector=\"erp\",stream=\"accounts\"} 0\n"));
}

TEST_F(MetricsEndpoint, TheDefaultTimestampIsTheWallClock) {
  const auto before = std::chrono::system_clock::now();
  registry_.record_run(report("clock", "accounts", "ok", 1));
  const auto after = std::chrono::system_clock::now();
  const std::string line = lines_of(registry_.render(), "erpsync_last_success_timestamp_seconds");
  const auto pos = line.find("connector=\"clock\"");
  ASSERT_NE(pos, std::string::npos) << line;
  const double t = std::stod(line.substr(line.find("} ", pos) + 2));
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  EXPECT_GE(t * 1000, static_cast<double>(duration_cast<milliseconds>(before.time_since_epoch()).count()));
  EXPECT_LE(t * 1000, static_cast<double>(duration_cast<milliseconds>(after.time_since_epoch()).count()));
}

TEST_F(MetricsEndpoint, RetainOnlyDropsTheSeriesOfRemovedConnectors) {
  registry_.retain_only({"erp"});
  const std::string body = scrape(*server_).body;
  EXPECT_THAT(body, HasSubstr("connector=\"erp\""));
  EXPECT_THAT(body, Not(HasSubstr("connector=\"shop\"")));
}

TEST_F(MetricsEndpoint, AnswersNotFoundElsewhereAndMethodNotAllowedForOtherMethods) {
  const Answer root = request(server_->port(), http::verb::get, "/");
  EXPECT_EQ(root.status, 404u);
  EXPECT_THAT(root.body, Not(HasSubstr("erpsync_")));
  EXPECT_EQ(request(server_->port(), http::verb::get, "/metrics/extra").status, 404u);
  EXPECT_EQ(request(server_->port(), http::verb::get, "/metricsx").status, 404u);
  const Answer post = request(server_->port(), http::verb::post, "/metrics");
  EXPECT_EQ(post.status, 405u);
  EXPECT_THAT(post.body, Not(HasSubstr("erpsync_")));
  // A query string (some scrapers add one) still reaches the metrics.
  EXPECT_EQ(request(server_->port(), http::verb::get, "/metrics?name[]=x").status, 200u);
}

TEST_F(MetricsEndpoint, BindsOnlyTheConfiguredAddress) {
  EXPECT_EQ(server_->local_address(), "127.0.0.1:" + std::to_string(server_->port()));
  // 127.0.0.2 is loopback too, but not the address asked for: nothing listens there.
  net::io_context ioc;
  tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.2"), server_->port()), ec);
  EXPECT_EQ(ec, net::error::connection_refused);
}

TEST_F(MetricsEndpoint, ARequestOverTheSizeLimitIsClosedWithoutAnAnswer) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
  const std::string huge = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  boost::system::error_code ec;
  net::write(socket, net::buffer(huge), ec);  // may fail once the server closed its end
  std::string got;
  net::read(socket, net::dynamic_buffer(got), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_THAT(got, Not(HasSubstr("200 OK")));
  // The server goes on serving.
  EXPECT_EQ(scrape(*server_).status, 200u);
}

TEST(MetricsServer, ASilentClientIsDisconnectedAfterTheTimeout) {
  MetricsRegistry registry;
  MetricsServer::Options options;
  options.timeout = std::chrono::milliseconds(200);
  auto server = MetricsServer::start("127.0.0.1:0", registry, options);
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server->port()));
  const auto start = std::chrono::steady_clock::now();
  std::string got;
  boost::system::error_code ec;
  net::read(socket, net::dynamic_buffer(got), ec);  // blocks until the server closes
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_TRUE(got.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
}

TEST(MetricsServer, IdleConnectionsCannotStarveAScrape) {
  // As many silent connections as the server keeps (16), then scrapes: each gets its answer
  // at once instead of being turned away until the idle ones time out (10 s).
  MetricsRegistry registry;
  auto server = MetricsServer::start("127.0.0.1:0", registry);
  net::io_context ioc;
  std::vector<tcp::socket> idle;
  for (int i = 0; i < MetricsServer::Options{}.max_connections; ++i) {
    idle.emplace_back(ioc);
    idle.back().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server->port()));
  }
  for (int i = 0; i < 3; ++i) {
    Answer a;
    ASSERT_NO_THROW(a = scrape(*server)) << "scrape " << i;
    EXPECT_EQ(a.status, 200u);
    EXPECT_THAT(a.body, HasSubstr("erpsync_build_info"));
  }
  // The oldest idle connection made room: the server closed it (a read returns at once).
  std::string got;
  boost::system::error_code ec;
  net::read(idle.front(), net::dynamic_buffer(got), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_TRUE(got.empty());
}

TEST(MetricsServer, RefusesAMalformedListenAddressAndAnAddressInUse) {
  MetricsRegistry registry;
  for (const char* bad : {"", "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:70000", ":9464",
                          "::1:9464", "[::1]9464", "example.com:9464"})
    EXPECT_THROW(MetricsServer::start(bad, registry), std::invalid_argument) << bad;
  auto first = MetricsServer::start("127.0.0.1:0", registry);
  EXPECT_THROW(MetricsServer::start("127.0.0.1:" + std::to_string(first->port()), registry), std::system_error);
}

TEST(MetricsServer, ParsesListenAddresses) {
  auto v4 = parse_listen("127.0.0.1:9464");
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 9464);
  EXPECT_TRUE(v4.loopback);
  auto local = parse_listen("localhost:9464");
  EXPECT_EQ(local.host, "127.0.0.1");
  auto v6 = parse_listen("[::1]:9464");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_TRUE(v6.loopback);
  EXPECT_FALSE(parse_listen("0.0.0.0:9464").loopback);
}

TEST(MetricsRegistry, EscapesLabelValues) {
  MetricsRegistry registry;
  registry.set_open("a\"b\\c\nd", "s", 1, 0);
  EXPECT_THAT(registry.render(), HasSubstr("erpsync_open_rejections{connector=\"a\\\"b\\\\c\\nd\",stream=\"s\"} 1\n"));
}

TEST(MetricsRegistry, AnEmptyRegistryHasOnlyTheBuildInfoSample) {
  MetricsRegistry registry;
  std::string samples;
  const std::string body = registry.render();
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find('\n', pos);
    std::string line = body.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with("#")) samples += line + "\n";
  }
  EXPECT_EQ(samples, std::string("erpsync_build_info{version=\"") + kVersion + "\"} 1\n");
}

}  // namespace
}  // namespace erpsync::daemon

namespace erpsync::daemon {
namespace {

TEST(MetricsRegistry, LeaseHeldIsOnePerConnectorThisProcessHoldsAndZeroWhileAnotherDoes) {
  MetricsRegistry registry;
  registry.set_lease_held("erp", true);
  registry.set_lease_held("shop", false);
  EXPECT_EQ(lines_of(registry.render(), "erpsync_lease_held"),
            "erpsync_lease_held{connector=\"erp\"} 1\nerpsync_lease_held{connector=\"shop\"} 0\n");
  registry.set_lease_held("erp", false);  // lost to another instance
  registry.retain_only({"erp"});          // shop removed by a reload
  EXPECT_EQ(lines_of(registry.render(), "erpsync_lease_held"), "erpsync_lease_held{connector=\"erp\"} 0\n");
}

}  // namespace
}  // namespace erpsync::daemon
