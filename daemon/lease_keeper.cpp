#include "daemon/lease_keeper.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "daemon/logging.hpp"

namespace erpsync::daemon {

namespace odbc = connectors::odbc;

LeaseKeeper::LeaseKeeper(std::string connection, std::string holder, std::chrono::milliseconds ttl,
                         std::string table_prefix)
    : connection_string_(std::move(connection)),
      tables_(std::move(table_prefix)),
      holder_(std::move(holder)),
      ttl_(ttl) {
  renewer_ = std::thread([this] { renew_loop(); });
}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  renewer_.join();
}

odbc::Connection& LeaseKeeper::connection() {
  if (!conn_ || !conn_->connected()) {
    if (!env_) env_ = std::make_shared<odbc::Environment>();
    conn_ = std::make_unique<odbc::Connection>(env_);
    conn_->connect(connection_string_);
    conn_->set_table_names(tables_);
  }
  return *conn_;
}

void LeaseKeeper::on_error(const std::exception& e) {
  // The next call reconnects: a lost connection leaves nothing to keep, and any other error
  // leaves a connection whose state is unknown.
  conn_.reset();
  if (!renew_failing_)
    logger("daemon")->warn("leases: cannot renew in the database: {}; held leases lapse after {} ms unless it "
                           "answers again",
                           e.what(), ttl_.count());
  renew_failing_ = true;
}

odbc::AcquireResult LeaseKeeper::acquire(const std::string& connector) {
  std::lock_guard lock(mu_);
  try {
    odbc::Connection& c = connection();
    if (auto it = held_.find(connector); it != held_.end()) {
      if (odbc::renew_lease(c, it->second, ttl_)) return odbc::AcquireResult{it->second, std::nullopt};
      held_.erase(it);
    }
    odbc::AcquireResult r = odbc::acquire_lease(c, connector, odbc::Claimant{holder_, process_}, ttl_,
                                                [](const odbc::LeaseRow& row) { return process_gone(row.process); });
    if (r.lease) held_[connector] = *r.lease;
    return r;
  } catch (const std::exception&) {
    conn_.reset();
    throw;
  }
}

odbc::AcquireResult LeaseKeeper::acquire_within(const std::string& connector, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  const auto poll = std::clamp(ttl_ / 10, std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  for (;;) {
    odbc::AcquireResult r = acquire(connector);
    if (r.lease || std::chrono::steady_clock::now() + poll > deadline) return r;
    std::unique_lock lock(mu_);
    // Polls the database: a lease held elsewhere frees with no event this process could see.
    if (wake_.wait_for(lock, poll, [this] { return stop_; })) return r;
  }
}

void LeaseKeeper::forget(const std::string& connector) {
  std::lock_guard lock(mu_);
  held_.erase(connector);
}

void LeaseKeeper::release(const std::string& connector) {
  std::lock_guard lock(mu_);
  auto it = held_.find(connector);
  if (it == held_.end()) return;
  const odbc::Lease lease = it->second;
  held_.erase(it);
  try {
    odbc::release_lease(connection(), lease);
  } catch (const std::exception& e) {
    conn_.reset();
    logger("daemon")->warn("connector={} cannot release its lease: {}; it lapses after {} ms", connector, e.what(),
                           ttl_.count());
  }
}

void LeaseKeeper::release_all() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, lease] : held_) names.push_back(name);
  }
  for (const auto& name : names) release(name);
}

void LeaseKeeper::renew_held() {
  if (held_.empty()) return;
  try {
    odbc::Connection& c = connection();
    for (auto it = held_.begin(); it != held_.end();) {
      if (odbc::renew_lease(c, it->second, ttl_)) {
        ++it;
        continue;
      }
      logger(it->first)->warn("connector={} lease lost: another process took it over (fencing token {} is no "
                              "longer current); a run in flight stops at its next commit",
                              it->first, it->second.fencing_token);
      it = held_.erase(it);
    }
    if (renew_failing_) logger("daemon")->info("leases: renewing in the database again");
    renew_failing_ = false;
  } catch (const std::exception& e) {
    on_error(e);
  }
}

void LeaseKeeper::renew_loop() {
  // A third of the TTL: two renewals may fail (a slow statement, a reconnect) before it lapses.
  const auto every = std::max(ttl_ / 3, std::chrono::milliseconds(1));
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, every, [this] { return stop_; })) renew_held();
}

namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string boot_id() { return read_first_line("/proc/sys/kernel/random/boot_id"); }

// From /proc/PID/stat: the state (field 3; 'Z' for a zombie) and the start time in clock ticks
// since boot (field 22); empty when unreadable. The command name (field 2) may hold spaces and
// parentheses: fields are counted from the last ')'.
struct ProcStat {
  std::string state, start_ticks;
};

ProcStat proc_stat(const std::string& pid) {
  const std::string stat = read_first_line("/proc/" + pid + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(stat.substr(close + 1));
  ProcStat out;
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 3) out.state = field;
    if (i == 22) out.start_ticks = field;
  }
  return out;
}

}  // namespace

std::string this_process_identity() {
  const std::string pid = std::to_string(::getpid());
  return pid + ":" + proc_stat(pid).start_ticks + "@" + boot_id();
}

bool process_gone(const std::string& identity) {
  const auto colon = identity.find(':'), at = identity.find('@');
  if (colon == std::string::npos || at == std::string::npos || at < colon) return false;
  const std::string pid = identity.substr(0, colon);
  if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return false;
  const std::string boot = identity.substr(at + 1);
  if (boot != boot_id()) return true;
  // kill(pid, 0) sees processes that /proc hides (the unit's ProtectProc=invisible hides other
  // users' processes, e.g. an admin's --once run as root): ESRCH is the one sure "gone".
  if (::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH) return true;
  // The pid exists: the same process unless /proc (when readable) says it was reused or it is a
  // zombie (killed, not yet reaped by its parent).
  const ProcStat st = proc_stat(pid);
  return st.state == "Z" || (!st.start_ticks.empty() && st.start_ticks != identity.substr(colon + 1, at - colon - 1));
}

}  // namespace erpsync::daemon
