#pragma once
// The benchmark's Magento scenario (SPEC §11: "the fake Magento over loopback"): N customers
// N orders and N carts (one each) served by the test kit's FakeMagento (tests/support/fake_magento.*,
// OAuth 1.0a verified on every request) in a child process, synced with the real code
// (Magento2Client over CurlHttpClient, Magento2Source, core::run_commerce_stream, OdbcStore).
// The child keeps the N records and their JSON off this process's peak RSS, which is then the
// sync's own: a paged source's memory must not grow with N (< 64 MB at N = 1M).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "connectors/odbc/odbc_store.hpp"
#include "core/sync_report.hpp"

namespace erpsync::bench {

struct MagentoRun {
  std::string stream;  // customers | orders
  core::SyncReport report;
  double seconds = 0;
  double peak_mb = 0;  // VmHWM of this process during the run
  std::uint64_t statements = 0, writes = 0;
};

struct MagentoResult {
  std::vector<MagentoRun> runs;      // customers, orders, carts; then the same again (the re-run)
  double server_cpu_seconds = 0;     // CPU time of the fake's process (filtering, sorting, JSON)
  std::size_t page_size = 0;
};

// Serves n customers and n orders and syncs both streams twice into `store` (the second run
// reads only what changed since the cursor: nothing). Throws std::runtime_error when the fake
// cannot be started. `reset_peak` and `peak_mb` measure this process (the bench's helpers).
// `workdir` receives the connector's config file.
MagentoResult run_magento(connectors::odbc::OdbcStore& store, const std::string& workdir, std::size_t n,
                          std::size_t batch_size, void (*reset_peak)(), double (*peak_mb)());

}  // namespace erpsync::bench
