#include "bench/magento_bench.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "config/config.hpp"
#include "connectors/http/http_client.hpp"
#include "connectors/magento2/client.hpp"
#include "connectors/magento2/source.hpp"
#include "connectors/registry.hpp"
#include "core/engine.hpp"
#include "support/fake_magento.hpp"

namespace erpsync::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Record i (1-based): customer 100000+i without an ERP code (so each gets an Account of its
// own, SPEC §4.1), its order 500000+i and its cart 700000+i. updated_at differs per record (one second apart, in
// the past) so that keyset paging has a strict order.
std::string stamp(std::size_t i) {
  const std::time_t t = 1767225600 + static_cast<std::time_t>(i);  // 2026-01-01 00:00:00 UTC + i s
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

json customer(std::size_t i) {
  const std::string n = std::to_string(i);
  const long long id = 100000 + static_cast<long long>(i);
  return {{"id", id},
          {"group_id", 1},
          {"default_billing", std::to_string(id)},
          {"created_at", stamp(i)},
          {"updated_at", stamp(i)},
          {"email", "buyer" + n + "@shop" + n + ".example"},
          {"firstname", "Anna"},
          {"lastname", "Rossi" + n},
          {"store_id", 1},
          {"website_id", 1},
          {"addresses", json::array({{{"id", id},
                                      {"customer_id", id},
                                      {"company", "Buyer " + n + " GmbH"},
                                      {"street", json::array({"Werkstattweg " + n})},
                                      {"city", "Berlin"},
                                      {"postcode", "10115"},
                                      {"country_id", "DE"},
                                      {"telephone", "+49 30 " + n},
                                      {"default_billing", true}}})}};
}

json order(std::size_t i) {
  const std::string n = std::to_string(i);
  return {{"entity_id", 500000 + static_cast<long long>(i)},
          {"increment_id", "0000" + n},
          {"customer_id", 100000 + static_cast<long long>(i)},
          {"customer_is_guest", 0},
          {"customer_email", "buyer" + n + "@shop" + n + ".example"},
          {"grand_total", "#num:" + std::to_string(100 + i % 900) + ".50"},
          {"order_currency_code", "EUR"},
          {"status", "pending"},
          {"state", "new"},
          {"created_at", stamp(i)},
          {"updated_at", stamp(i)}};
}

// Customer i's cart 700000+i: active, two lines, updated with the customer.
json cart(std::size_t i) {
  const std::string n = std::to_string(i);
  return testing::cart_json(700000 + static_cast<long long>(i), stamp(i), customer(i), "buyer" + n + "@shop" + n + ".example",
                            {{static_cast<long long>(2 * i), "WB-" + n, "Workbench " + n, "2", "850.5"},
                             {static_cast<long long>(2 * i + 1), "ST-1", "Stool", "3", "0.1"}});
}

// The fake in a child process: started by the constructor (which returns once it serves),
// stopped by finish(), which returns the child's CPU seconds.
class FakeMagentoProcess {
 public:
  explicit FakeMagentoProcess(std::size_t n) {
    int up[2], down[2];
    if (pipe(up) != 0 || pipe(down) != 0) throw std::runtime_error("bench: pipe() failed");
    std::fflush(stdout);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("bench: fork() failed");
    if (pid_ == 0) {
      close(up[0]);
      close(down[1]);
      {
        testing::FakeMagento shop;
        for (std::size_t i = 1; i <= n; ++i) {
          shop.put_customer(customer(i));
          shop.put_order(order(i));
          shop.put_cart(cart(i));
        }
        const std::string url = shop.base_url() + "\n";
        if (write(up[1], url.data(), url.size()) != static_cast<ssize_t>(url.size())) _exit(3);
        char c;
        while (read(down[0], &c, 1) > 0) {
        }
        if (shop.rejected_signatures() != 0) _exit(4);
      }
      _exit(0);
    }
    close(up[1]);
    close(down[0]);
    to_child_ = down[1];
    std::string line;
    char c;
    while (read(up[0], &c, 1) == 1 && c != '\n') line += c;
    close(up[0]);
    if (line.empty()) {
      finish();
      throw std::runtime_error("bench: the fake Magento did not start");
    }
    base_url_ = line;
  }
  ~FakeMagentoProcess() {
    if (pid_ > 0) finish();
  }
  const std::string& base_url() const { return base_url_; }

  // Stops the child; its CPU seconds (user + system). Throws when it saw a bad signature.
  double finish() {
    close(to_child_);
    int status = 0;
    rusage usage{};
    wait4(pid_, &status, 0, &usage);
    pid_ = -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
      throw std::runtime_error("bench: the fake Magento refused a request signature");
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
  std::string base_url_;
};

std::string connector_json(const std::string& base_url, std::size_t page_size) {
  const testing::FakeMagento::Options o;
  return R"({
  "database": { "connection": "Driver=SQLite3;Database=/dev/null" },
  "connectors": [ {
    "name": "shop", "type": "magento2", "base_url": ")" +
         base_url + R"(",
    "auth": { "type": "oauth1", "consumer_key": ")" +
         o.consumer_key + R"(", "consumer_secret": ")" + o.consumer_secret + R"(", "access_token": ")" +
         o.access_token + R"(", "access_token_secret": ")" + o.access_token_secret + R"(" },
    "poll_interval": "15m", "default_owner": "ecommerce", "account_code_attribute": "erp_account_code",
    "page_size": )" +
         std::to_string(page_size) + R"(, "streams": ["customers", "orders", "carts"]
  } ]
})";
}

}  // namespace

MagentoResult run_magento(connectors::odbc::OdbcStore& store, const std::string& workdir, std::size_t n,
                          std::size_t batch_size, void (*reset_peak)(), double (*peak_mb)()) {
  MagentoResult result;
  // Pages of 1,000 at every N: the fake answers the connector's keyset queries from its
  // (updated_at, entity_id) index in O(page + log N), so its time no longer grows with N per page,
  // and the sync's peak RSS is set by a page of this size, not by N.
  result.page_size = 1000;
  FakeMagentoProcess fake(n);

  const std::string config_file = workdir + "/bench-magento.json";
  std::ofstream(config_file, std::ios::trunc) << connector_json(fake.base_url(), result.page_size);
  config::LoadResult loaded = config::load_config(config_file, connectors::connector_types());
  if (!loaded.ok()) {
    std::string why;
    for (const auto& e : loaded.errors) why += e.file + ": " + e.key + ": " + e.message + "\n";
    throw std::runtime_error("benchmark Magento connector config refused:\n" + why);
  }
  const config::ConnectorConfig conn = loaded.config->connectors.at(0);

  core::RunOptions options;
  options.batch_size = batch_size;
  options.instance = "bench";
  core::SyncEvents events;
  for (int round = 0; round < 2; ++round) {
    for (const char* stream : {"customers", "orders", "carts"}) {
      MagentoRun run;
      run.stream = stream;
      reset_peak();
      const auto before = store.statement_stats();
      const auto t0 = Clock::now();
      {
        auto http = std::make_shared<connectors::http::CurlHttpClient>(connectors::magento2::http_options(conn));
        auto client = std::make_shared<connectors::magento2::Magento2Client>(
            connectors::magento2::settings_from_config(conn), std::move(http));
        if (run.stream == "orders") {
          connectors::magento2::OrdersSource source(client);
          run.report = core::run_stream(conn.match_policy(stream), source, store, options, events);
        } else if (run.stream == "carts") {
          connectors::magento2::CartsSource source(client);
          run.report = core::run_stream(conn.match_policy(stream), source, store, options, events);
        } else {
          connectors::magento2::CustomersSource source(client);
          run.report = core::run_stream(conn.match_policy(stream), source, store, options, events);
        }
      }
      run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      run.peak_mb = peak_mb();
      const auto after = store.statement_stats();
      run.statements = after.executed - before.executed;
      run.writes = after.writes - before.writes;
      result.runs.push_back(std::move(run));
    }
  }
  result.server_cpu_seconds = fake.finish();
  return result;
}

}  // namespace erpsync::bench
