#include "daemon/app.hpp"

#include <chrono>
#include <iostream>
#include <thread>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "config/config.hpp"
#include "connectors/feed/feed_source.hpp"
#include "connectors/odbc/odbc_store.hpp"
#include "connectors/registry.hpp"
#include "core/engine.hpp"
#include "core/text_escape.hpp"
#include "daemon/admin.hpp"
#include "daemon/lease_keeper.hpp"
#include "daemon/logging.hpp"
#include "daemon/retry_policy.hpp"
#include "daemon/run_log.hpp"
#include "daemon/service.hpp"
#include "daemon/wiring.hpp"

namespace erpsync::daemon {
namespace {

// Loads the configuration; on errors prints each as "file:line: key: message" and returns
// nullopt (the caller exits 2). Warnings stay in Config::warnings for the configured log.
std::optional<config::Config> load(const std::string& path, bool database_only) {
  config::LoadResult r = database_only ? config::load_database_only(path)
                                       : config::load_config(path, connectors::connector_types());
  if (!r.ok()) {
    for (const auto& w : r.warnings) std::cerr << "erpsyncd: warning: " << w.to_string() << "\n";
    for (const auto& e : r.errors) std::cerr << "erpsyncd: " << e.to_string() << "\n";
    std::cerr << "erpsyncd: configuration refused (" << r.errors.size() << " error"
              << (r.errors.size() == 1 ? "" : "s") << ")\n";
    return std::nullopt;
  }
  return std::move(r.config);
}

int check_config(const config::Config& cfg) {
  int enabled = 0;
  for (const auto& c : cfg.connectors) enabled += c.enabled ? 1 : 0;
  std::cout << "configuration OK: " << cfg.path << " (" << cfg.connectors.size() << " connector"
            << (cfg.connectors.size() == 1 ? "" : "s") << ", " << enabled << " enabled)\n";
  return kExitOk;
}

void print_dry_run_lists(const std::string& connector, const std::string& stream, const RunLog& log) {
  std::cout << "dry run: connector=" << connector << " stream=" << stream << "\n";
  if (log.notable().empty()) {
    std::cout << "  no adoptions, rejections or warnings\n";
    return;
  }
  for (const core::Decision& d : log.notable()) {
    std::cout << "  " << core::to_string(d.outcome);
    if (d.reason) std::cout << " " << core::to_string(*d.reason);
    std::cout << " remote_id=" << core::quote_if_needed(d.remote_id)
              << " code=" << core::quote_if_needed(d.external_code);
    if (!d.message.empty()) std::cout << " : " << core::escape_controls(d.message);
    std::cout << "\n";
  }
}

// One-off commands hold each connector's lease while they write (SPEC §10). A lease held by
// another process is waited for during one lease_ttl (a dead holder's lease lapses by then, a
// stopping service releases its own), then reported: the connector is not run.
std::optional<connectors::odbc::Lease> take_lease(LeaseKeeper& keeper, const std::string& connector) {
  auto log = logger(connector);
  connectors::odbc::AcquireResult r = keeper.acquire(connector);
  if (!r.lease && r.held_by) {
    log->info("connector={} lease held by {} until {} (database clock); waiting up to {} ms for it", connector,
              r.held_by->holder, r.held_by->expires_at, keeper.ttl().count());
    r = keeper.acquire_within(connector, keeper.ttl());
  }
  if (r.lease) return r.lease;
  log->error("connector={} not run: its lease is held by {} until {} (database clock), so another erpsyncd is "
             "syncing it; let that instance sync it, or stop it and run again",
             connector, r.held_by ? r.held_by->holder : std::string("another process"),
             r.held_by ? r.held_by->expires_at : std::string("?"));
  return std::nullopt;
}

// Takes the connector's lease for `store` (fencing its commits) and marks the runs a dead
// holder left `running` as aborted. False, logged, when the connector must not run now.
bool hold_lease(LeaseKeeper& keeper, connectors::odbc::OdbcStore& store, const std::string& connector,
                const config::Config& cfg) {
  std::optional<connectors::odbc::Lease> lease;
  try {
    lease = take_lease(keeper, connector);
  } catch (const std::exception& e) {
    logger(connector)->error("connector={} not run: cannot take its lease: {}", connector, e.what());
  }
  if (!lease) return false;
  store.set_fence(std::move(lease));
  try {
    store.abort_abandoned_runs(connector);
  } catch (const std::exception& e) {
    logger(connector)->warn("connector={} cannot mark runs left running as aborted: {}", connector, e.what());
  }
  return true;
}

int once(const config::Config& cfg, const CommandLine& cl) {
  auto dlog = logger("daemon");
  if (cl.connector && !cfg.connector(*cl.connector)) {
    std::cerr << "erpsyncd: --connector " << *cl.connector << ": no connector of that name in " << cfg.path << "\n";
    return kExitUsage;
  }
  bool failed = false;
  std::mt19937_64 rng{std::random_device{}()};
  // A dry run takes no lease: it writes nothing that stays.
  std::unique_ptr<LeaseKeeper> leases;
  if (!cl.dry_run)
    leases = std::make_unique<LeaseKeeper>(cfg.database.connection, cfg.cluster.instance_id,
                                           cfg.cluster.lease_ttl, cfg.database.table_prefix);
  for (const config::ConnectorConfig& conn : cfg.connectors) {
    if (cl.connector ? conn.name != *cl.connector : !conn.enabled) continue;
    // A dry run is one transaction per connector, rolled back at the end: its own store.
    std::unique_ptr<connectors::odbc::OdbcStore> store;
    try {
      store = open_store(cfg, cl.dry_run ? StoreMode::dry_run : StoreMode::normal);
    } catch (const StoreOpenRefused& e) {
      dlog->error("{}", e.what());
      return kExitUsage;
    }
    if (leases && !hold_lease(*leases, *store, conn.name, cfg)) {
      failed = true;
      continue;
    }
    ConnectorRunner runner(cfg, conn);
    bool gave_up = false;  // a stream of this connector failed transiently after all its retries
    for (const StreamPlan& stream : streams_of(conn)) {
      RunLog events(logger(conn.name), conn.name, stream.name, cl.dry_run);
      core::SyncReport report = runner.run(stream, *store, events);
      // The service's retry policy (retry_policy.hpp), with this stream's own budget: a
      // transient failure (a lost database connection, a 503) is retried after its backoff,
      // each attempt from the cursor the database holds. A dry run is one transaction and
      // cannot resume: it is not retried.
      const int retries = once_retries_for_next_stream(gave_up);
      if (!cl.dry_run && retries == 0 && next_step(report) == NextStep::retry)
        logger(conn.name)->warn("connector={} stream={} failed transiently; not retried, as an earlier stream of the "
                                "connector used up its retries",
                                conn.name, stream.name);
      for (int attempt = 1; !cl.dry_run && attempt <= retries && next_step(report) == NextStep::retry; ++attempt) {
        log_report(*logger(conn.name), report);
        const auto delay = backoff(attempt, std::chrono::duration_cast<std::chrono::milliseconds>(conn.poll_interval),
                                   report.retry_after_s, rng);
        logger(conn.name)->warn("connector={} stream={} failed transiently; retry {} of {} in {} ms", conn.name,
                                stream.name, attempt, retries, delay.count());
        std::this_thread::sleep_for(delay);
        report = runner.run(stream, *store, events);
      }
      gave_up = gave_up || next_step(report) == NextStep::retry;
      log_report(*logger(conn.name), report);
      if (cl.dry_run) print_dry_run_lists(conn.name, stream.name, events);
      failed = failed || !report.ok();
    }
    if (cl.dry_run) store->end_dry_run();
    else apply_retention(cfg, *store);
    if (leases) leases->release(conn.name);
  }
  return failed ? kExitFailed : kExitOk;
}

// `rejections retry`: re-evaluates the open rejections whose cause an admin can remove, now,
// from their stored payloads (what every run does first), without reading the sources. It
// needs the connectors' matching settings (owners, default_owner), so the whole config.
int retry_rejections(const config::Config& cfg, const CommandLine& cl) {
  if (cl.connector && !cfg.connector(*cl.connector)) {
    std::cerr << "erpsyncd: --connector " << *cl.connector << ": no connector of that name in " << cfg.path << "\n";
    return kExitUsage;
  }
  bool failed = false;
  LeaseKeeper leases(cfg.database.connection, cfg.cluster.instance_id, cfg.cluster.lease_ttl);
  for (const config::ConnectorConfig& conn : cfg.connectors) {
    if (cl.connector ? conn.name != *cl.connector : !conn.enabled) continue;
    try {
      auto store = open_store(cfg, StoreMode::normal);
      if (!hold_lease(leases, *store, conn.name, cfg)) {
        failed = true;
        continue;
      }
      for (const StreamPlan& stream : streams_of(conn)) {
        RunLog events(logger(conn.name), conn.name, stream.name, false);
        const core::Counters c =
            core::retry_waiting(stream.kind, conn.match_policy(stream.name), *store, run_options(cfg, conn), events);
        std::cout << "retried connector=" << conn.name << " stream=" << stream.name << " now synced=" << c.fetched
                  << " created=" << c.created << " adopted=" << c.adopted << " updated=" << c.updated
                  << " unchanged=" << c.unchanged << " rejected=" << c.rejected << "\n";
      }
      leases.release(conn.name);
    } catch (const StoreOpenRefused& e) {
      std::cerr << "erpsyncd: " << cfg.redact(e.what()) << "\n";
      return kExitUsage;
    } catch (const std::exception& e) {
      logger(conn.name)->error("rejections retry failed: {}", e.what());
      failed = true;
    }
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace

int run_command(const CommandLine& cl) {
  const bool database_only = cl.command != Command::serve && cl.command != Command::once &&
                             cl.command != Command::check_config && cl.command != Command::rejections_retry;
  std::optional<config::Config> cfg = load(cl.config_path, database_only);
  if (!cfg) return kExitUsage;
  try {
    LogSettings ls;
    ls.level = cfg->log.level;
    ls.format = cfg->log.format == config::LogFormat::json ? "json" : "text";
    ls.file = cfg->log.file.value_or("");
    ls.secrets = cfg->secret_values;
    configure_logging(ls);
  } catch (const std::exception& e) {
    std::cerr << "erpsyncd: " << cfg->path << ": " << e.what() << "\n";
    return kExitUsage;
  }
  for (const auto& w : cfg->warnings) logger("config")->warn("{}", w.to_string());

  switch (cl.command) {
    case Command::check_config: return check_config(*cfg);
    case Command::once: return once(*cfg, cl);
    case Command::serve: return serve(cl.config_path, std::move(*cfg));
    case Command::rejections_retry: return retry_rejections(*cfg, cl);
    default: return run_admin(*cfg, cl);
  }
}

}  // namespace erpsync::daemon
