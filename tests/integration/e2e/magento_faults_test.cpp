// Remote faults on the attached streams through the real binary (SPEC §10): a Magento store
// that answers a maintenance page, a 503 with Retry-After, a 500 or a 429 on the first page or in
// the middle of the pagination of a `--once` is retried by the one retry policy and the run ends ok, for customers, orders and
// carts alike; the service holds an authentication failure until SIGHUP and waits at least
// what Retry-After asks for, whatever the stream's kind. Errors name the request by its path
// and readable criteria (SPEC §4.1), never by its percent-encoded URL.

#include <signal.h>

#include <fstream>
#include <iterator>

#include "e2e_fixture.hpp"
#include "support/child_process.hpp"
#include "support/fake_magento.hpp"

namespace erpsync::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json customer(long long id, const std::string& code) {
  json c = {{"id", id}, {"group_id", 1}, {"created_at", "2026-01-01 00:00:00"},
            {"updated_at", "2026-05-01 08:00:00"}, {"email", "c" + std::to_string(id) + "@example.com"},
            {"firstname", "Ann"}, {"lastname", "No" + std::to_string(id)}, {"store_id", 1}, {"website_id", 1},
            {"addresses", json::array()}};
  if (!code.empty()) c["custom_attributes"] = json::array({{{"attribute_code", "erp_account_code"}, {"value", code}}});
  return c;
}

json order(long long id) {
  return {{"entity_id", id}, {"increment_id", "00000" + std::to_string(id)}, {"customer_email", "buyer@example.com"},
          {"customer_is_guest", 1}, {"grand_total", "#num:10.5"}, {"order_currency_code", "EUR"},
          {"status", "pending"}, {"state", "new"}, {"created_at", "2026-05-01 09:00:00"},
          {"updated_at", "2026-05-01 09:00:00"}};
}

// The faults a store in trouble answers with.
struct Fault {
  const char* name;
  FakeReply reply;
  bool retry_after = false;
};

std::vector<Fault> faults() {
  return {
      {"maintenance page", FakeReply::html_error(503, "Service Unavailable", "The store is down for maintenance.")},
      {"503 with Retry-After: 1", FakeReply::text(503, "busy").with_header("Retry-After", "1"), true},
      {"500", FakeReply::json(500, R"({"message":"Internal Error. Details are available in Magento log file."})")},
      {"429 with Retry-After: 1", FakeReply::json(429, R"({"message":"Too Many Requests"})").with_header("Retry-After", "1"),
       true},
  };
}

class MagentoFaults : public E2eTest {
 protected:
  // One magento2 connector syncing `stream` alone (so the first data request is that stream's).
  void configure(const std::string& stream, const std::string& poll_interval = "5m",
                 const std::string& consumer_secret = "") {
    const auto& o = shop_.options();
    write_config(R"([
      { "name": "shop", "type": "magento2", "base_url": ")" + shop_.base_url() + R"(",
        "auth": { "type": "oauth1", "consumer_key": ")" + o.consumer_key + R"(", "consumer_secret": ")" +
                 (consumer_secret.empty() ? o.consumer_secret : consumer_secret) + R"(", "access_token": ")" +
                 o.access_token + R"(", "access_token_secret": ")" + o.access_token_secret + R"(" },
        "poll_interval": ")" + poll_interval + R"(", "default_owner": "ecommerce",
        "account_code_attribute": "erp_account_code", "page_size": 2, "streams": [")" + stream + R"("] } ])");
  }

  // Adds three records of `stream` numbered from `first` (carts: guest carts).
  void put_records(const std::string& stream, long long first) {
    for (long long id = first; id < first + 3; ++id) {
      if (stream == "customers") shop_.put_customer(customer(id, ""));
      else if (stream == "orders") shop_.put_order(order(id));
      else shop_.put_cart(cart_json(id, "2026-05-01 09:00:00", std::nullopt, "guest@example.com", {{id, "SKU-1", "Thing", "1", "9.95"}}));
    }
  }

  std::string count_of(const std::string& stream) {
    return scalar("SELECT COUNT(*) FROM " + stream + " WHERE channel = 'shop'");
  }

  // The data requests of `stream` the store received, in order.
  std::vector<RecordedRequest> data_requests(const std::string& stream) {
    const std::string route = stream == "customers" ? "/V1/customers/search"
                              : stream == "orders"  ? "/V1/orders"
                                                    : "/V1/carts/search";
    std::vector<RecordedRequest> out;
    for (RecordedRequest& r : shop_.server().requests())
      if (r.path.find(route) != std::string::npos) out.push_back(std::move(r));
    return out;
  }

  static std::string route_of(const std::string& stream) {
    return stream == "customers" ? "/V1/customers/search" : stream == "orders" ? "/V1/orders" : "/V1/carts/search";
  }

  FakeMagento shop_;
};

TEST_P(MagentoFaults, OnceRidesThroughAMaintenancePageARetryAfterA500AndA429OnEveryStream) {
  long long next_id = 1001;
  for (const std::string stream : {"customers", "orders", "carts"}) {
    int added = 0;
    for (const Fault& fault : faults()) {
      SCOPED_TRACE(stream + " answered " + fault.name);
      configure(stream);
      put_records(stream, next_id);
      next_id += 3;
      added += 3;
      const std::size_t before = data_requests(stream).size();
      // The first run of each stream fails on its first page; the later ones mid-pagination,
      // on the second page, after the first page's batch and cursor were committed.
      const bool mid = added > 3;
      const std::size_t failing = before + (mid ? 1 : 0);
      const int first_index = shop_.data_requests();
      shop_.on_data_request([&fault, mid, first_index](FakeMagento& m, int index) {
        if (index == first_index + (mid ? 1 : 0)) m.inject({fault.reply});
      });

      ProcessResult run = erpsyncd({"--once"});
      shop_.on_data_request({});
      ASSERT_EQ(run.exit_code, 0) << run.all();
      auto r = report_fields(run.all(), "shop", stream);
      EXPECT_EQ(r["status"], "ok") << run.all();
      EXPECT_NE(run.all().find("stream=" + stream + " failed transiently; retry 1 of"), std::string::npos)
          << run.all();
      // The failed request is named readably: its path and criteria, not its encoded URL.
      EXPECT_NE(run.all().find("GET /rest" + route_of(stream) + " "), std::string::npos) << run.all();
      EXPECT_EQ(run.all().find("searchCriteria%5B"), std::string::npos) << run.all();
      // Every record of the stream is in, none twice.
      EXPECT_EQ(count_of(stream), std::to_string(added)) << run.all();

      const std::vector<RecordedRequest> requests = data_requests(stream);
      ASSERT_GE(requests.size(), failing + 2);
      if (fault.retry_after) {
        // The request after the 503 came no sooner than the store asked.
        const auto waited = requests[failing + 1].received_at - requests[failing].received_at;
        EXPECT_GE(waited, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms";
      }
    }
  }
  EXPECT_EQ(shop_.rejected_signatures(), 0) << ::testing::PrintToString(shop_.failures());
}

TEST_P(MagentoFaults, OnceGivesUpAfterItsRetryBudgetWithTheErrorNamed) {
  configure("orders");
  put_records("orders", 3001);
  // More 503s than the budget: the run fails, with the kind of failure in the report.
  shop_.inject({FakeReply::text(503, "busy"), FakeReply::text(503, "busy"), FakeReply::text(503, "busy"),
                FakeReply::text(503, "busy"), FakeReply::text(503, "busy")});
  ProcessResult run = erpsyncd({"--once"});
  EXPECT_EQ(run.exit_code, 1) << run.all();
  EXPECT_NE(run.all().find("retry 3 of 3"), std::string::npos) << run.all();
  EXPECT_EQ(run.all().find("retry 4 of"), std::string::npos) << run.all();
  EXPECT_EQ(report_fields(run.all(), "shop", "orders")["status"], "error");
  EXPECT_EQ(data_requests("orders").size(), 4U);  // the first attempt and three retries
  EXPECT_EQ(scalar("SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1"), "error");
  // The error names the request readably in the log, in sync_runs.message and in the report.
  const std::string named = "GET /rest/V1/orders page 1: HTTP 503";
  EXPECT_NE(run.all().find(named), std::string::npos) << run.all();
  const std::string message = scalar("SELECT message FROM sync_runs ORDER BY id DESC LIMIT 1");
  EXPECT_NE(message.find(named), std::string::npos) << message;
  EXPECT_EQ(message.find("searchCriteria"), std::string::npos) << message;
  ProcessResult report = erpsyncd({"report"});
  EXPECT_NE(report.out.find("GET /rest/V1/orders page 1"), std::string::npos) << report.out;
}

TEST_P(MagentoFaults, AnIncrementalRunsFailedRequestShowsItsCriteriaReadably) {
  configure("carts");
  put_records("carts", 5001);
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  // The next run asks from its cursor: updated_at eq W AND entity_id gt I first.
  shop_.inject({FakeReply::text(400, "bad request")});
  ProcessResult run = erpsyncd({"--once"});
  EXPECT_EQ(run.exit_code, 1) << run.all();
  const std::string message = scalar("SELECT message FROM sync_runs WHERE stream = 'carts' ORDER BY id DESC LIMIT 1");
  EXPECT_NE(message.find("GET /rest/V1/carts/search updated_at=2026-05-01 08:59:30 AND entity_id>0 page 1: HTTP 400"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find('%'), std::string::npos) << message;
}

TEST_P(MagentoFaults, ServiceHoldsAnAuthFailureUntilSighupOnEveryStream) {
  for (const std::string stream : {"customers", "orders", "carts"}) {
    SCOPED_TRACE(stream);
    configure(stream, "1s", "Wrong-Secret-5521");
    put_records(stream, stream == "customers" ? 1001 : stream == "orders" ? 3001 : 5001);
    NotifySocket notify((dir_ / ("notify-" + stream + ".sock")).string());
    ChildProcess daemon({std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd", "--config", config_path_},
                        {{"NOTIFY_SOCKET", notify.path()}});
    ASSERT_TRUE(daemon.wait_for_output("waits for a configuration reload", 30s)) << daemon.output();
    const std::size_t refused = data_requests(stream).size();
    // Held: with a 1 s interval, several runs would have come by now; none does.
    ASSERT_FALSE(daemon.wait_for_output("sync connector=shop", 3s, 2)) << daemon.output();
    EXPECT_EQ(data_requests(stream).size(), refused);

    configure(stream, "1s");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(daemon.wait_for_output("status=ok", 30s)) << daemon.output();
    EXPECT_EQ(count_of(stream), "3");
    daemon.signal(SIGTERM);
    ASSERT_EQ(daemon.wait_exit(30s), 0) << daemon.output();
    EXPECT_EQ(daemon.output().find("Wrong-Secret-5521"), std::string::npos);
  }
}

TEST_P(MagentoFaults, ServiceWaitsWhatRetryAfterAsksOnEveryStream) {
  for (const std::string stream : {"customers", "orders", "carts"}) {
    SCOPED_TRACE(stream);
    configure(stream, "1s");
    put_records(stream, stream == "customers" ? 1001 : stream == "orders" ? 3001 : 5001);
    const std::size_t before = data_requests(stream).size();
    // A 503 and a 429, each asking for longer than the backoff's first steps (1–2 s) and the
    // poll interval, then a maintenance page and a 500: the service rides through all four.
    shop_.inject({FakeReply::text(503, "busy").with_header("Retry-After", "4"),
                  FakeReply::json(429, R"({"message":"Too Many Requests"})").with_header("Retry-After", "3"),
                  FakeReply::html_error(503, "Service Unavailable", "The store is down for maintenance."),
                  FakeReply::json(500, R"({"message":"Internal Error. Details are available in Magento log file."})")});
    NotifySocket notify((dir_ / ("notify-" + stream + ".sock")).string());
    ChildProcess daemon({std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd", "--config", config_path_},
                        {{"NOTIFY_SOCKET", notify.path()}});
    ASSERT_TRUE(daemon.wait_for_output("status=ok", 90s)) << daemon.output();
    const std::vector<RecordedRequest> requests = data_requests(stream);
    ASSERT_GE(requests.size(), before + 5);
    const auto after_503 = requests[before + 1].received_at - requests[before].received_at;
    EXPECT_GE(after_503, 4s) << std::chrono::duration_cast<std::chrono::milliseconds>(after_503).count() << " ms";
    const auto after_429 = requests[before + 2].received_at - requests[before + 1].received_at;
    EXPECT_GE(after_429, 3s) << std::chrono::duration_cast<std::chrono::milliseconds>(after_429).count() << " ms";
    EXPECT_EQ(count_of(stream), "3");
    // Each failure was logged with the request named readably.
    EXPECT_NE(daemon.output().find("GET /rest" + route_of(stream) + " page 1: HTTP 429"), std::string::npos)
        << daemon.output();
    EXPECT_EQ(daemon.output().find("searchCriteria%5B"), std::string::npos) << daemon.output();
    daemon.signal(SIGTERM);
    ASSERT_EQ(daemon.wait_exit(30s), 0) << daemon.output();
  }
}

ERPSYNC_E2E_ON_ALL_ENGINES(MagentoFaults);

}  // namespace
}  // namespace erpsync::testing
