#include "daemon/service.hpp"

#include <signal.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include "daemon/logging.hpp"
#include "daemon/run_log.hpp"
#include "daemon/wiring.hpp"

namespace erpsync::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// The signals the service handles synchronously (blocked, then waited for with sigtimedwait):
// no async handler runs in the middle of a database call.
sigset_t service_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

bool termination_pending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

// Per connector: when it runs next, how its last runs went.
struct ConnectorState {
  Clock::time_point next_run;
  Clock::time_point last_ok;
  int consecutive_failures = 0;
  bool auth_failed = false;  // waits for a reload
  bool alarmed = false;      // the "no ok run for 3 intervals" alarm was raised
  std::string last_summary;
};

// RunLog that also keeps the watchdog fed while batches make progress, and stops on SIGTERM.
class ServiceRunLog final : public core::SyncEvents {
 public:
  ServiceRunLog(RunLog& inner, bool watchdog) : inner_(inner), watchdog_(watchdog) {}
  void on_rejection(const core::RejectionWrite& r) override { inner_.on_rejection(r); }
  void on_decision(const core::Decision& d) override { inner_.on_decision(d); }
  void on_progress(const core::Counters& c) override {
    inner_.on_progress(c);
    if (watchdog_) sd_notify(0, "WATCHDOG=1");
  }
  void on_redecide(int attempt, const std::string& what) override { inner_.on_redecide(attempt, what); }
  bool stop_requested() override { return termination_pending(); }

 private:
  RunLog& inner_;
  bool watchdog_;
};

class Service {
 public:
  Service(std::string path, config::Config cfg) : path_(std::move(path)), cfg_(std::move(cfg)) {}

  int run() {
    auto log = logger("daemon");
    const sigset_t signals = service_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    try {
      store_ = open_store(cfg_, StoreMode::normal);
    } catch (const StoreOpenRefused& e) {
      log->error("{}", cfg_.redact(e.what()));
      return 2;
    } catch (const std::exception& e) {
      log->error("cannot open the database: {}", cfg_.redact(e.what()));
      return 1;
    }
    std::uint64_t watchdog_usec = 0;
    watchdog_ = sd_watchdog_enabled(0, &watchdog_usec) > 0;
    const auto watchdog_every = watchdog_ ? std::chrono::microseconds(watchdog_usec / 2) : std::chrono::hours(1);

    schedule_all(Clock::now());
    sd_notify(0, "READY=1");
    log->info("erpsyncd ready: {} connector(s) from {}", cfg_.connectors.size(), path_);
    notify_status();

    auto next_watchdog = Clock::now() + watchdog_every;
    for (;;) {
      const auto now = Clock::now();
      if (watchdog_ && now >= next_watchdog) {
        sd_notify(0, "WATCHDOG=1");
        next_watchdog = now + watchdog_every;
      }
      if (const config::ConnectorConfig* due = next_due(now)) {
        // A pending SIGTERM stops the run between batches and is then taken by sigtimedwait.
        run_connector(*due);
      }
      auto wake = std::min(next_watchdog, earliest_run());
      const auto wait = std::max(milliseconds(0), duration_cast<milliseconds>(wake - Clock::now()));
      timespec ts{static_cast<time_t>(wait.count() / 1000), static_cast<long>((wait.count() % 1000) * 1000000)};
      const int sig = sigtimedwait(&signals, nullptr, &ts);
      if (sig == SIGTERM || sig == SIGINT) {
        sd_notify(0, "STOPPING=1");
        log->info("stopping on {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return 0;
      }
      if (sig == SIGHUP) reload();
    }
  }

 private:
  void schedule_all(Clock::time_point now) {
    for (const auto& c : cfg_.connectors) {
      if (!c.enabled) continue;
      auto& st = state_[c.name];
      st.next_run = now;
      st.last_ok = now;
    }
  }

  const config::ConnectorConfig* next_due(Clock::time_point now) {
    const config::ConnectorConfig* best = nullptr;
    Clock::time_point best_time = now;
    for (const auto& c : cfg_.connectors) {
      if (!c.enabled) continue;
      auto& st = state_[c.name];
      if (st.auth_failed || st.next_run > now) continue;
      if (!best || st.next_run < best_time) {
        best = &c;
        best_time = st.next_run;
      }
    }
    return best;
  }

  Clock::time_point earliest_run() {
    auto t = Clock::now() + std::chrono::hours(24);
    for (const auto& c : cfg_.connectors)
      if (c.enabled && !state_[c.name].auth_failed) t = std::min(t, state_[c.name].next_run);
    return t;
  }

  // A little jitter, so that connectors with equal intervals do not start in lockstep.
  milliseconds jitter(milliseconds interval) {
    const auto max = std::max<long long>(1, interval.count() / 20);
    return milliseconds(std::uniform_int_distribution<long long>(0, max)(rng_));
  }

  void run_connector(const config::ConnectorConfig& conn) {
    auto& st = state_[conn.name];
    bool ok = true;
    std::optional<core::SyncError::Kind> failure;
    std::string summary;
    for (const std::string& stream : streams_of(conn)) {
      RunLog inner(logger(conn.name), conn.name, stream, false);
      ServiceRunLog events(inner, watchdog_);
      core::SyncError::Kind kind = core::SyncError::Kind::transient;
      core::SyncReport report = run_connector_stream(cfg_, conn, stream, *store_, events, &kind);
      report.message = cfg_.redact(report.message);
      log_report(*logger(conn.name), report);
      summary += (summary.empty() ? "" : ", ") + stream + " " + report.status + " fetched=" +
                 std::to_string(report.counters.fetched) + " rejected=" + std::to_string(report.counters.rejected);
      if (report.status == "error") {
        ok = false;
        failure = kind;
      }
      if (report.status == "stopped") return;
    }
    const auto now = Clock::now();
    const auto interval = duration_cast<milliseconds>(conn.poll_interval);
    st.last_summary = summary;
    if (ok) {
      st.consecutive_failures = 0;
      st.last_ok = now;
      st.alarmed = false;
      st.next_run = now + interval + jitter(interval);
    } else {
      ++st.consecutive_failures;
      if (failure == core::SyncError::Kind::auth) {
        st.auth_failed = true;
        logger(conn.name)->error("connector={} authentication failed: it waits for a configuration reload (SIGHUP)", conn.name);
      }
      // Exponential backoff with full jitter, capped at the poll interval.
      const long long base = std::min<long long>(interval.count(), 1000LL << std::min(st.consecutive_failures, 20));
      st.next_run = now + milliseconds(std::uniform_int_distribution<long long>(base / 2, base)(rng_));
      if (!st.alarmed && now - st.last_ok >= 3 * interval) {
        st.alarmed = true;
        logger(conn.name)->error("connector={} has had no successful run for {} poll intervals (last: {})",
                                 conn.name, (now - st.last_ok) / interval, summary);
      }
    }
    notify_status();
  }

  void notify_status() {
    std::string status;
    for (const auto& c : cfg_.connectors) {
      if (!c.enabled) continue;
      const auto& st = state_[c.name];
      if (!status.empty()) status += "; ";
      status += c.name + ": " + (st.last_summary.empty() ? "waiting" : st.last_summary);
      if (st.alarmed) status += " (NO OK RUN FOR 3 INTERVALS)";
      if (st.auth_failed) status += " (AUTH FAILED, reload to retry)";
    }
    sd_notifyf(0, "STATUS=%s", status.c_str());
  }

  void reload() {
    auto log = logger("daemon");
    sd_notify(0, "RELOADING=1");
    config::LoadResult r = config::load_config(path_);
    if (!r.ok()) {
      for (const auto& e : r.errors) log->error("reload refused: {}", e.to_string());
      log->error("reload refused ({} error(s)); the previous configuration keeps running", r.errors.size());
      sd_notify(0, "READY=1");
      return;
    }
    config::Config next = std::move(*r.config);
    for (const auto& w : next.warnings) log->warn("{}", w.to_string());
    const bool db_changed = next.database.connection != cfg_.database.connection;
    std::map<std::string, ConnectorState> kept;
    const auto now = Clock::now();
    for (const auto& c : next.connectors) {
      auto it = state_.find(c.name);
      ConnectorState st;
      if (it != state_.end() && !db_changed) {
        st = it->second;
        st.auth_failed = false;  // a reload is what an auth failure waits for
        if (st.consecutive_failures > 0) st.next_run = now;
      } else {
        st.next_run = now;
        st.last_ok = now;
      }
      kept[c.name] = st;
    }
    if (db_changed) {
      try {
        store_ = open_store(next, StoreMode::normal);
      } catch (const std::exception& e) {
        log->error("reload refused: the new database cannot be opened: {}; the previous configuration keeps running",
                   next.redact(e.what()));
        sd_notify(0, "READY=1");
        return;
      }
    }
    try {
      LogSettings ls{next.log.level, next.log.format == config::LogFormat::json ? "json" : "text",
                     next.log.file.value_or("")};
      configure_logging(ls);
    } catch (const std::exception& e) {
      log->error("reload: log settings refused: {}", e.what());
    }
    cfg_ = std::move(next);
    state_ = std::move(kept);
    log->info("configuration reloaded from {}: {} connector(s)", path_, cfg_.connectors.size());
    sd_notify(0, "READY=1");
    notify_status();
  }

  std::string path_;
  config::Config cfg_;
  std::unique_ptr<connectors::odbc::OdbcStore> store_;
  std::map<std::string, ConnectorState> state_;
  bool watchdog_ = false;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace

int serve(const std::string& config_path, config::Config cfg) {
  Service service(config_path, std::move(cfg));
  return service.run();
}

}  // namespace erpsync::daemon
