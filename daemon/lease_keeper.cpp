#include "daemon/lease_keeper.hpp"

#include <algorithm>

#include "daemon/logging.hpp"

namespace erpsync::daemon {

namespace odbc = connectors::odbc;

LeaseKeeper::LeaseKeeper(std::string connection, std::string holder, std::chrono::milliseconds ttl)
    : connection_string_(std::move(connection)), holder_(std::move(holder)), ttl_(ttl) {
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
    odbc::AcquireResult r = odbc::acquire_lease(c, connector, holder_, ttl_);
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

std::string once_holder(const std::string& instance_id) { return instance_id + "/once"; }

}  // namespace erpsync::daemon
