#pragma once
// Prometheus metrics (SPEC §8): a registry the service updates after each run, and an HTTP
// endpoint that serves it in the text exposition format 0.0.4 on GET /metrics.
//
// Series, per connector and stream (labels connector="...", stream="..."):
//   erpsync_runs_total{status}                  counter  runs by status (ok | error | stopped)
//   erpsync_run_failures_total                  counter  runs that ended status=error
//   erpsync_run_duration_seconds                histogram  run durations (buckets kDurationBuckets)
//   erpsync_records_fetched_total               counter  records read (= sum of the outcomes)
//   erpsync_records_total{outcome}              counter  created adopted updated unchanged
//                                                        superseded parked rejected failed
//   erpsync_records_missing_total               counter  bound records a snapshot no longer holds
//   erpsync_warnings_total                      counter  warnings (refused member_of links)
//   erpsync_last_run_timestamp_seconds          gauge    end of the last run, any status
//   erpsync_last_success_timestamp_seconds      gauge    end of the last status=ok run
//   erpsync_open_rejections                     gauge    unresolved sync_rejections rows
//   erpsync_parked_records                      gauge    sync_parked rows
// per connector (label connector="..."):
//   erpsync_lease_held                          gauge    1 while this process holds the
//                                                        connector's lease, 0 while another
//                                                        instance does (SPEC §10)
// and erpsync_build_info{version} 1. A connector and stream appear once something was
// recorded for them. Counters start at zero with the process (Prometheus handles resets).
//
// Thread-safety: MetricsRegistry is safe to use from any thread (one mutex). MetricsServer
// serves from its own thread; start() and the destructor are called from one thread.
//
// Asio and Beast stay inside metrics.cpp: this header needs neither.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/sync_report.hpp"

namespace erpsync::daemon {

class MetricsRegistry {
 public:
  // Upper bounds (seconds) of the run-duration histogram buckets; +Inf is implied.
  static constexpr std::array<double, 11> kDurationBuckets = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};

  // Counts one finished run of report.connector / report.stream: its status, duration and
  // record counters, at `finished` (the last-run and last-success times). Every status
  // counts its records (the batches a failed or stopped run committed are in the database).
  void record_run(const core::SyncReport& report);
  void record_run(const core::SyncReport& report, std::chrono::system_clock::time_point finished);

  // Sets the open-rejection and parked-record gauges of a connector and stream (the service
  // reads them from the database after each run).
  void set_open(const std::string& connector, const std::string& stream, std::int64_t rejections,
                std::int64_t parked);

  // Sets the abandoned-cart gauge of a Magento connector (SPEC §4.1; the service counts them
  // in the database after each run of its carts stream).
  void set_abandoned_carts(const std::string& connector, std::int64_t carts);

  // Whether this process holds `connector`'s lease (the service sets it at each run).
  void set_lease_held(const std::string& connector, bool held);

  // Drops every series of the connectors not in `connectors` (after a reload removed some).
  void retain_only(const std::set<std::string>& connectors);

  // The whole registry in the text exposition format 0.0.4, series sorted by connector and
  // stream, each family preceded by its # HELP and # TYPE lines.
  std::string render() const;

 private:
  struct Series {
    std::map<std::string, std::int64_t> runs;  // by status
    std::int64_t failures = 0;
    std::array<std::uint64_t, kDurationBuckets.size()> buckets{};  // non-cumulative counts
    std::uint64_t duration_count = 0;
    double duration_sum = 0;
    core::Counters records;
    std::optional<double> last_run, last_success;  // Unix seconds
    std::optional<std::int64_t> open_rejections, parked;
  };
  using Key = std::pair<std::string, std::string>;  // connector, stream

  mutable std::mutex mu_;
  std::map<Key, Series> series_;
  std::map<std::string, bool> lease_held_;
  std::map<std::string, std::int64_t> abandoned_carts_;  // by connector
};

// "host:port" parsed: an IPv4 literal, "[IPv6]" literal or "localhost", and a port 0..65535.
struct ListenAddress {
  std::string host;  // the literal, without brackets ("localhost" becomes 127.0.0.1)
  std::uint16_t port = 0;
  bool loopback = false;
};
// Throws std::invalid_argument naming what is wrong ("metrics.listen: ...").
ListenAddress parse_listen(std::string_view listen);

class MetricsServer {
 public:
  struct Options {
    std::chrono::milliseconds timeout{10'000};  // to read a request, and to write the answer
    std::size_t max_request_bytes = 8192;       // request line + headers + body
    // Open connections at most. At the limit a new connection closes the oldest one still
    // waiting for its request (idle sockets cannot starve a scraper); it is refused only when
    // every open connection is being answered.
    int max_connections = 16;
  };

  // Binds `listen` (see parse_listen; only that address) and serves `registry` on GET /metrics
  // from a thread of its own until destroyed. `registry` must outlive the server. Throws
  // std::invalid_argument for a malformed address and std::system_error when it cannot bind.
  static std::unique_ptr<MetricsServer> start(const std::string& listen, const MetricsRegistry& registry);
  static std::unique_ptr<MetricsServer> start(const std::string& listen, const MetricsRegistry& registry,
                                              Options options);

  // Stops accepting, closes open connections and joins the thread.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound address and port ("127.0.0.1:9464"); the port is the real one when 0 was asked.
  std::string local_address() const;
  std::uint16_t port() const;

  struct Impl;

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace erpsync::daemon
