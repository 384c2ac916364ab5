#include "daemon/service.hpp"

// Boost 1.74's Asio under GCC 12 in C++20 needs <utility> before its headers.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "connectors/odbc/odbc.hpp"
#include "connectors/registry.hpp"
#include "daemon/lease_keeper.hpp"
#include "daemon/logging.hpp"
#include "daemon/metrics.hpp"
#include "daemon/retry_policy.hpp"
#include "daemon/run_log.hpp"
#include "daemon/wiring.hpp"

namespace erpsync::daemon {
namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// What a worker tells the loop when a connector's run is over.
struct RunOutcome {
  bool ok = true;
  bool stopped = false;
  std::optional<core::SyncError::Kind> failure;
  std::optional<double> retry_after_s;
  std::string summary;
  // Not run because another process holds the connector's lease: who, and until when.
  std::optional<connectors::odbc::LeaseRow> held_elsewhere;
  bool lease_lost = false;  // a commit was refused by the fencing check
};

// RunLog that stops between batches once the service is stopping.
class ServiceRunLog final : public core::SyncEvents {
 public:
  ServiceRunLog(RunLog& inner, const std::atomic<bool>& stopping) : inner_(inner), stopping_(stopping) {}
  void on_rejection(const core::RejectionWrite& r) override { inner_.on_rejection(r); }
  void on_decision(const core::Decision& d) override { inner_.on_decision(d); }
  void on_progress(const core::Counters& c) override { inner_.on_progress(c); }
  void on_redecide(int attempt, const std::string& what) override { inner_.on_redecide(attempt, what); }
  bool stop_requested() override { return stopping_.load(); }

 private:
  RunLog& inner_;
  const std::atomic<bool>& stopping_;
};

// One connector as the scheduler sees it. Lives on the loop thread; while `running`, the
// worker owns `store` and reads `conf` (a snapshot that a reload replaces, never mutates).
struct Slot {
  explicit Slot(net::io_context& io) : timer(io) {}
  net::steady_timer timer;
  std::shared_ptr<const config::ConnectorConfig> conf;
  std::shared_ptr<ConnectorRunner> runner;  // rebuilt when a reload changes the connector
  std::unique_ptr<connectors::odbc::OdbcStore> store;  // this connector's own connection
  bool running = false;
  bool removed = false;  // dropped by a reload while running
  Clock::time_point last_ok = Clock::now();
  int consecutive_failures = 0;
  bool auth_failed = false;  // waits for a reload
  bool alarmed = false;      // "no ok run for 3 intervals" was raised
  std::string last_summary;
  std::string standby_for;   // the holder of the lease while another process syncs this connector
};

class Service {
 public:
  Service(std::string path, config::Config cfg)
      : path_(std::move(path)), cfg_(std::make_shared<const config::Config>(std::move(cfg))),
        signals_(io_, SIGTERM, SIGINT, SIGHUP), watchdog_timer_(io_),
        pool_(static_cast<std::size_t>(std::max(1, cfg_->workers))) {}

  int run() {
    auto log = logger("daemon");
    // Migrations happen once, before READY=1.
    try {
      apply_retention(*cfg_, *open_store(*cfg_, StoreMode::normal));
    } catch (const StoreOpenRefused& e) {
      log->error("{}", e.what());
      return 2;
    } catch (const std::exception& e) {
      log->error("cannot open the database: {}", e.what());
      return 1;
    }
    leases_ = std::make_shared<LeaseKeeper>(cfg_->database.connection, cfg_->cluster.instance_id,
                                            cfg_->cluster.lease_ttl, cfg_->database.table_prefix);
    if (cfg_->metrics.listen) {
      try {
        metrics_server_ = MetricsServer::start(*cfg_->metrics.listen, metrics_);
        log->info("metrics on http://{}/metrics", metrics_server_->local_address());
      } catch (const std::invalid_argument& e) {
        log->error("metrics.listen: {}", e.what());
        return 2;
      } catch (const std::exception& e) {
        log->error("metrics.listen: {}", e.what());
        return 1;
      }
    }
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) watchdog_every_ = std::chrono::microseconds(usec / 2);

    for (const auto& c : cfg_->connectors) add_slot(c, milliseconds(0));
    wait_signal();
    tick_watchdog();
    tick_retention();
    sd_notify(0, "READY=1");
    log->info("erpsyncd ready: {} connector(s), {} worker(s), configuration {}", slots_.size(),
              std::max(1, cfg_->workers), path_);
    notify_status();
    io_.run();
    pool_.join();
    log->info("stopped");
    return 0;
  }

 private:
  void add_slot(const config::ConnectorConfig& c, milliseconds delay) {
    if (!c.enabled) return;
    auto slot = std::make_shared<Slot>(io_);
    slot->conf = std::make_shared<const config::ConnectorConfig>(c);
    slot->runner = std::make_shared<ConnectorRunner>(*cfg_, c);
    slots_[c.name] = slot;
    schedule(slot, delay);
  }

  void schedule(const std::shared_ptr<Slot>& slot, milliseconds delay) {
    slot->timer.expires_after(delay);
    slot->timer.async_wait([this, slot](const boost::system::error_code& ec) {
      if (ec || stopping_ || slot->removed || slot->auth_failed || slot->running) return;
      start_run(slot);
    });
  }

  // Hands the connector to the worker pool; a slow connector occupies one worker and never
  // delays the others.
  void start_run(const std::shared_ptr<Slot>& slot) {
    slot->running = true;
    auto cfg = cfg_;
    auto runner = slot->runner;
    auto leases = leases_;
    net::post(pool_, [this, slot, cfg, runner, leases] {
      RunOutcome outcome = run_connector(*cfg, *slot, *runner, *leases);
      net::post(io_, [this, slot, outcome = std::move(outcome)] { finish_run(slot, outcome); });
    });
  }

  // Runs on a worker thread.
  RunOutcome run_connector(const config::Config& cfg, Slot& slot, ConnectorRunner& runner, LeaseKeeper& leases) {
    // The runner's copy, not slot.conf: a reload may replace slot.conf while this run goes on.
    const config::ConnectorConfig& conn = runner.connector();
    RunOutcome out;
    try {
      if (!slot.store) slot.store = open_store(cfg, StoreMode::normal);
    } catch (const std::exception& e) {
      out.ok = false;
      out.failure = core::SyncError::Kind::transient;
      out.summary = "database unreachable";
      logger(conn.name)->error("connector={} cannot open the database: {}", conn.name, e.what());
      return out;
    }
    // One process at a time syncs a connector (SPEC §10): the lease first, held across runs
    // (renewed by the keeper) until this process stops or loses it.
    try {
      connectors::odbc::AcquireResult lease = leases.acquire(conn.name);
      metrics_.set_lease_held(conn.name, lease.lease.has_value());
      if (!lease.lease) {
        out.ok = false;
        out.held_elsewhere = lease.held_by;
        return out;
      }
      slot.store->set_fence(std::move(lease.lease));
      slot.store->abort_abandoned_runs(conn.name);
    } catch (const std::exception& e) {
      out.ok = false;
      out.failure = core::SyncError::Kind::transient;
      out.summary = "lease unavailable";
      logger(conn.name)->error("connector={} cannot take its lease: {}", conn.name, e.what());
      slot.store.reset();
      return out;
    }
    for (const StreamPlan& stream : streams_of(conn)) {
      RunLog inner(logger(conn.name), conn.name, stream.name, false);
      ServiceRunLog events(inner, stopping_);
      core::SyncReport report = runner.run(stream, *slot.store, events);
      log_report(*logger(conn.name), report);
      metrics_.record_run(report);
      update_open(cfg, slot, conn.name, stream.name);
      out.summary += (out.summary.empty() ? "" : ", ") + stream.name + " " + std::string(core::to_string(report.status)) +
                     " fetched=" + std::to_string(report.counters.fetched) +
                     " rejected=" + std::to_string(report.counters.rejected);
      if (report.status == core::RunStatus::stopped) {
        out.stopped = true;
        return out;
      }
      if (report.status == core::RunStatus::error) {
        out.ok = false;
        out.failure = report.error_kind;
        out.retry_after_s = report.retry_after_s;
        if (report.error_kind == core::SyncError::Kind::lease_lost) {
          // Another process syncs it now: stop here, and ask for the lease again later.
          leases.forget(conn.name);
          metrics_.set_lease_held(conn.name, false);
          out.lease_lost = true;
          return out;
        }
        if (report.error_kind == core::SyncError::Kind::transient) {
          // A lost connection or a remote that is away for now: the retry, after its backoff,
          // reconnects from scratch, re-reads the cursor and runs the streams from the first.
          slot.store.reset();
          return out;
        }
      }
    }
    return out;
  }

  // Gauges of open rejections and parked records, read after each run (worker thread).
  void update_open(const config::Config& cfg, Slot& slot, const std::string& connector, const std::string& stream) {
    if (!metrics_server_ || !slot.store) return;
    try {
      const connectors::odbc::OpenCounts open = slot.store->admin().open_counts(connector, stream);
      metrics_.set_open(connector, stream, open.rejections, open.parked);
      if (const config::ConnectorConfig* conn = cfg.connector(connector))
        if (const auto cutoff = abandoned_cutoff(*conn, std::chrono::system_clock::now()); cutoff && stream == "carts")
          metrics_.set_abandoned_carts(connector, slot.store->admin().abandoned_cart_count(connector, *cutoff));
    } catch (const std::exception& e) {
      logger("daemon")->warn("metrics: cannot count open rejections, parked records and abandoned carts: {}", e.what());
    }
  }

  // Back on the loop thread.
  void finish_run(const std::shared_ptr<Slot>& slot, const RunOutcome& out) {
    slot->running = false;
    if (stopping_) {
      maybe_finish_stop();
      return;
    }
    if (slot->removed) {
      release_lease_later(slot->conf->name);
      return;
    }
    const config::ConnectorConfig& conn = *slot->conf;
    const auto now = Clock::now();
    const auto interval = duration_cast<milliseconds>(conn.poll_interval);
    slot->last_summary = out.summary;
    milliseconds delay = interval;
    if (out.held_elsewhere || out.lease_lost) {
      // Standing by: not a failure of this process (the holder alarms if it is stuck). Ask
      // again within a lease TTL, so that a dead holder's connectors move within about one TTL.
      const std::string holder = out.held_elsewhere ? out.held_elsewhere->holder : std::string("another process");
      if (slot->standby_for != holder)
        logger(conn.name)->info("connector={} is synced by {} (it holds the lease); this instance ({}) stands by",
                                conn.name, holder, leases_->holder());
      slot->standby_for = holder;
      slot->last_summary = "standby (lease held by " + holder + ")";
      slot->last_ok = now;
      slot->alarmed = false;
      const auto ttl = duration_cast<milliseconds>(cfg_->cluster.lease_ttl);
      const auto retry = std::min(interval, ttl);
      notify_status();
      schedule(slot, retry + jitter(retry));
      return;
    }
    if (!slot->standby_for.empty()) {
      logger(conn.name)->info("connector={} taken over by this instance ({}) from {}", conn.name, leases_->holder(),
                              slot->standby_for);
      slot->standby_for.clear();
    }
    if (out.ok) {
      slot->consecutive_failures = 0;
      slot->last_ok = now;
      slot->alarmed = false;
      delay = interval + jitter(interval);
    } else {
      ++slot->consecutive_failures;
      if (out.failure == core::SyncError::Kind::auth) {
        slot->auth_failed = true;
        logger(conn.name)->error("connector={} authentication failed: it waits for a configuration reload (SIGHUP)",
                                 conn.name);
      }
      // The retry policy's backoff (retry_policy.hpp), never shorter than what the remote
      // asked for (Retry-After).
      delay = backoff(slot->consecutive_failures, interval, out.retry_after_s, rng_);
      check_alarm(*slot, now);
    }
    notify_status();
    if (!slot->auth_failed) schedule(slot, delay);
  }

  // SPEC §4: a connector with no status=ok run for 3 intervals says so at error level and in
  // the systemd STATUS, so a stuck sync is never silent.
  void check_alarm(Slot& slot, Clock::time_point now) {
    const auto interval = slot.conf->poll_interval;
    if (slot.alarmed || now - slot.last_ok < 3 * interval) return;
    slot.alarmed = true;
    logger(slot.conf->name)->error("connector={} has had no successful run for {} poll intervals (last: {})",
                                   slot.conf->name, (now - slot.last_ok) / interval,
                                   slot.last_summary.empty() ? std::string("still running") : slot.last_summary);
  }

  milliseconds jitter(milliseconds interval) {
    const auto max = std::max<long long>(1, interval.count() / 20);
    return milliseconds(std::uniform_int_distribution<long long>(0, max)(rng_));
  }

  void tick_watchdog() {
    // WATCHDOG=1 comes from the loop itself: it stops when the loop stops turning.
    watchdog_timer_.expires_after(watchdog_every_);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      if (watchdog_every_ < std::chrono::hours(1)) sd_notify(0, "WATCHDOG=1");
      const auto now = Clock::now();
      bool changed = false;
      for (auto& [name, slot] : slots_) {
        const bool before = slot->alarmed;
        check_alarm(*slot, now);
        changed = changed || before != slot->alarmed;
      }
      if (changed) notify_status();
      tick_watchdog();
    });
  }

  // Retention runs at start and then every 6 hours, on a worker (it touches the database).
  void tick_retention() {
    retention_timer_.expires_after(std::chrono::hours(6));
    retention_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      auto cfg = cfg_;
      net::post(pool_, [cfg] {
        try {
          apply_retention(*cfg, *open_store(*cfg, StoreMode::normal));
        } catch (const std::exception& e) {
          logger("daemon")->warn("retention: {}", e.what());
        }
      });
      tick_retention();
    });
  }

  void wait_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();
        wait_signal();
        return;
      }
      begin_stop(sig);
    });
  }

  void begin_stop(int sig) {
    stopping_ = true;
    sd_notify(0, "STOPPING=1");
    logger("daemon")->info("stopping on {}: runs in flight end after their current batch", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    for (auto& [name, slot] : slots_) slot->timer.cancel();
    watchdog_timer_.cancel();
    retention_timer_.cancel();
    signals_.cancel();
    // A run stuck in a source call (a stalled remote, a file that never settles) must not hold
    // the stop past systemd's TimeoutStopSec: after the grace period the process exits; the
    // database rolls back whatever transaction such a run had open, and its cursor stays put.
    stop_timer_.expires_after(kStopGrace);
    stop_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      int in_flight = 0;
      for (auto& [name, slot] : slots_) in_flight += slot->running ? 1 : 0;
      logger("daemon")->warn("{} run(s) still in flight after {} s; exiting, their open transactions roll back",
                             in_flight, std::chrono::duration_cast<std::chrono::seconds>(kStopGrace).count());
      spdlog::shutdown();
      std::_Exit(0);
    });
    maybe_finish_stop();
  }

  void maybe_finish_stop() {
    for (auto& [name, slot] : slots_)
      if (slot->running) return;
    for (auto& [name, slot] : removed_)
      if (slot->running) return;
    stop_timer_.cancel();
    release_leases_at_stop();
    io_.stop();
  }

  // SIGTERM releases the leases, so that a standby takes the connectors over at once — within a
  // bound: a database that does not answer must not hold the stop past TimeoutStopSec (the
  // leases then lapse after lease_ttl instead).
  void release_leases_at_stop() {
    if (!leases_) return;
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> released = done->get_future();
    std::thread([leases = leases_, done] {
      leases->release_all();
      done->set_value();
    }).detach();
    if (released.wait_for(kLeaseReleaseBound) != std::future_status::ready)
      logger("daemon")->warn("leases: the database did not answer within {} s; they lapse after cluster.lease_ttl",
                             std::chrono::duration_cast<std::chrono::seconds>(kLeaseReleaseBound).count());
  }

  // Gives up a connector's lease on a worker (it touches the database).
  void release_lease_later(const std::string& name) {
    net::post(pool_, [leases = leases_, name] { leases->release(name); });
  }

  void notify_status() {
    std::string status;
    for (const auto& [name, slot] : slots_) {
      if (!status.empty()) status += "; ";
      status += name + ": " + (slot->last_summary.empty() ? (slot->running ? "running" : "waiting") : slot->last_summary);
      if (slot->alarmed) status += " (NO OK RUN FOR 3 INTERVALS)";
      if (slot->auth_failed) status += " (AUTH FAILED, reload to retry)";
    }
    sd_notifyf(0, "STATUS=%s", status.c_str());
  }

  void reload() {
    auto log = logger("daemon");
    sd_notify(0, "RELOADING=1");
    config::LoadResult r = config::load_config(path_, connectors::connector_types());
    if (!r.ok()) {
      for (const auto& e : r.errors) log->error("reload refused: {}", e.to_string());
      log->error("reload refused ({} error(s)); the previous configuration keeps running", r.errors.size());
      sd_notify(0, "READY=1");
      return;
    }
    auto next = std::make_shared<const config::Config>(std::move(*r.config));
    for (const auto& w : next->warnings) log->warn("{}", w.to_string());
    try {
      configure_logging(LogSettings{next->log.level, next->log.format == config::LogFormat::json ? "json" : "text",
                                    next->log.file.value_or(""), next->secret_values});
    } catch (const std::exception& e) {
      log->error("reload: log settings refused: {}", e.what());
    }
    const bool db_changed = next->database.connection != cfg_->database.connection ||
                            next->database.table_prefix != cfg_->database.table_prefix ||
                            next->database.crm != cfg_->database.crm ||
                            next->database.suitecrm != cfg_->database.suitecrm;
    if (db_changed) {
      try {
        open_store(*next, StoreMode::normal);
      } catch (const std::exception& e) {
        log->error("reload refused: the new database cannot be opened: {}; the previous configuration keeps running",
                   e.what());
        sd_notify(0, "READY=1");
        return;
      }
    }
    if (db_changed || next->cluster.instance_id != cfg_->cluster.instance_id ||
        next->cluster.lease_ttl != cfg_->cluster.lease_ttl) {
      // Runs in flight finish under the keeper they started with; it releases its leases then.
      auto previous = leases_;
      leases_ = std::make_shared<LeaseKeeper>(next->database.connection, next->cluster.instance_id,
                                              next->cluster.lease_ttl, next->database.table_prefix);
      net::post(pool_, [previous] { previous->release_all(); });
    }
    std::map<std::string, std::shared_ptr<Slot>> kept;
    for (const auto& c : next->connectors) {
      if (!c.enabled) continue;
      auto it = slots_.find(c.name);
      if (it == slots_.end()) {
        auto slot = std::make_shared<Slot>(io_);
        slot->conf = std::make_shared<const config::ConnectorConfig>(c);
        slot->runner = std::make_shared<ConnectorRunner>(*next, c);
        kept[c.name] = slot;
        schedule(slot, milliseconds(0));
        continue;
      }
      auto slot = it->second;
      slots_.erase(it);
      // Changed settings take effect at its next run; an unchanged connector keeps its timer.
      slot->conf = std::make_shared<const config::ConnectorConfig>(c);
      slot->runner = std::make_shared<ConnectorRunner>(*next, c);
      if (db_changed && !slot->running) slot->store.reset();
      if (slot->auth_failed) {  // a reload is what an auth failure waits for
        slot->auth_failed = false;
        schedule(slot, milliseconds(0));
      }
      kept[c.name] = slot;
    }
    for (auto& [name, slot] : slots_) {  // removed by the reload
      slot->removed = true;
      slot->timer.cancel();
      if (slot->running) removed_[name] = slot;
      else release_lease_later(name);
    }
    slots_ = std::move(kept);
    if (next->metrics.listen != cfg_->metrics.listen) {
      metrics_server_.reset();
      if (next->metrics.listen) {
        try {
          metrics_server_ = MetricsServer::start(*next->metrics.listen, metrics_);
        } catch (const std::exception& e) {
          log->error("reload: metrics endpoint: {}", e.what());
        }
      }
    }
    std::set<std::string> names;
    for (const auto& c : next->connectors) names.insert(c.name);
    metrics_.retain_only(names);
    cfg_ = next;
    log->info("configuration reloaded from {}: {} connector(s)", path_, slots_.size());
    sd_notify(0, "READY=1");
    notify_status();
  }

  std::string path_;
  std::shared_ptr<const config::Config> cfg_;
  MetricsRegistry metrics_;  // before the server: the server reads it until destroyed
  std::unique_ptr<MetricsServer> metrics_server_;
  std::shared_ptr<LeaseKeeper> leases_;  // workers keep the one they started with
  net::io_context io_;
  net::signal_set signals_;
  net::steady_timer watchdog_timer_;
  net::steady_timer stop_timer_{io_};
  net::steady_timer retention_timer_{io_};
  static constexpr std::chrono::seconds kStopGrace{10};
  static constexpr std::chrono::seconds kLeaseReleaseBound{3};
  std::chrono::steady_clock::duration watchdog_every_ = std::chrono::minutes(1);
  net::thread_pool pool_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  std::map<std::string, std::shared_ptr<Slot>> removed_;
  std::atomic<bool> stopping_{false};
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace

int serve(const std::string& config_path, config::Config cfg) {
  Service service(config_path, std::move(cfg));
  return service.run();
}

}  // namespace erpsync::daemon
