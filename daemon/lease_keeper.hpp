#pragma once
// LeaseKeeper: the connector leases this process holds (SPEC §10), on a database connection of
// its own, renewed by a thread of its own every lease_ttl/3, so that a long run or a slow source
// never lets a held lease lapse while the process is alive. A paused process (SIGSTOP, a stall)
// stops renewing along with everything else — which is the point: its leases expire, another
// instance takes them, and the fencing check in every commit (OdbcStore::set_fence) refuses
// the paused process's late writes.
//
// Who holds: the instance (cluster.instance_id) and this process's identity (see
// this_process_identity()). A lease of the same instance whose process is gone — a restarted
// service or `--once` on the same host, or the instance moved to another host — is taken back
// at once; one whose process still runs (an admin's `--once` beside the service on its host,
// both with the host name as instance_id) is waited for or reported, never taken.
//
// Thread-safety: every public member may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "connectors/odbc/leases.hpp"
#include "connectors/odbc/odbc.hpp"

namespace erpsync::daemon {

// This process as sync_leases.process: "<pid>:<start time in clock ticks>@<boot id>" — the
// pid alone could be reused after a restart, the start time and boot id cannot.
std::string this_process_identity();

// True when `identity` (as this_process_identity() writes it) names a process that no longer
// runs: another boot (a reboot, or another host), no process with that pid, or one whose start
// time differs (the pid was reused). What it cannot tell counts as running (never take a lease
// on a guess).
bool process_gone(const std::string& identity);

class LeaseKeeper {
 public:
  // `connection` is the database connection string (ODBC errors never carry its password);
  // `table_prefix` is database.table_prefix (the leases are in its sync_leases).
  LeaseKeeper(std::string connection, std::string holder, std::chrono::milliseconds ttl,
              std::string table_prefix = {});
  // Stops the renewal thread. Leases still held are not released (release_all() does that):
  // they lapse after the TTL unless this holder starts again and takes them back.
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  const std::string& holder() const { return holder_; }
  std::chrono::milliseconds ttl() const { return ttl_; }

  // Takes `connector`'s lease, or confirms (renews) one already held. Not acquired: `held_by`
  // says who holds it. Throws core::SyncError (an OdbcError) when the database cannot be used.
  connectors::odbc::AcquireResult acquire(const std::string& connector);

  // Acquires, polling while another holder has it, for at most `wait` (judged by this
  // process's clock; expiry itself by the database's). The last answer when it gave up.
  connectors::odbc::AcquireResult acquire_within(const std::string& connector, std::chrono::milliseconds wait);

  // The lease was found lost (a fenced commit was refused): stop renewing it.
  void forget(const std::string& connector);
  // Gives the lease up now (best effort: a failure is logged and the lease lapses on its own).
  void release(const std::string& connector);
  void release_all();

 private:
  void renew_loop();
  void renew_held();                          // with mu_ held
  connectors::odbc::Connection& connection();  // with mu_ held; (re)connects
  void on_error(const std::exception& e);     // with mu_ held

  const std::string connection_string_;
  const connectors::odbc::TableNames tables_;  // database.table_prefix
  const std::string holder_;
  const std::string process_ = this_process_identity();
  const std::chrono::milliseconds ttl_;

  std::mutex mu_;  // guards everything below
  std::shared_ptr<connectors::odbc::Environment> env_;
  std::unique_ptr<connectors::odbc::Connection> conn_;
  std::map<std::string, connectors::odbc::Lease> held_;
  bool renew_failing_ = false;  // logged once per outage
  bool stop_ = false;
  std::condition_variable wake_;
  std::thread renewer_;
};

}  // namespace erpsync::daemon
