#pragma once
// Connector leases (SPEC §10): one process at a time syncs a connector, coordinated through
// the `sync_leases` table of the database everyone already shares — no cluster protocol.
//
//   sync_leases(connector PK, holder, fencing_token, expires_at, process)
//
// `holder` is the instance (cluster.instance_id); `process` says which process of it holds the
// lease (see daemon/lease_keeper.hpp for its form), so that a holder can tell a dead
// predecessor of its own instance from a live sibling.
//
// Contracts:
//   - acquire/renew/release are atomic conditional statements; expiry is judged by the
//     database server's clock (the expressions below use the server's UTC now), never by the
//     clocks of the hosts, which may disagree.
//   - every acquisition increments the connector's fencing token; a released lease keeps its
//     row (expires_at in the past), so a token is never handed out twice.
//   - anyone takes a lease whose expires_at has passed; a process takes a lease of its own
//     instance back at once when the caller's `may_take_over` says the process holding it is
//     gone (a restarted process with the same instance_id, SPEC §10).
//   - check_fence() runs inside the writer's transaction, as its last statement before COMMIT:
//     it locks the lease row (FOR UPDATE on PostgreSQL and MariaDB; SQLite's write lock is
//     already held by then) and says whether the lease still carries the writer's token. An
//     acquirer's UPDATE of that row therefore waits for the writer's commit, so a commit that
//     passed the check happened while the lease was the writer's.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "connectors/odbc/odbc.hpp"

namespace erpsync::connectors::odbc {

// A lease this process holds: what every fenced commit checks.
struct Lease {
  std::string connector;
  std::string holder;   // the instance
  std::int64_t fencing_token = 0;
  std::string process;  // which process of the instance
};

// Who asks for a lease.
struct Claimant {
  std::string holder;   // the instance
  std::string process;  // this process
};

// A lease row as the database has it.
struct LeaseRow {
  std::string connector, holder;
  std::int64_t fencing_token = 0;
  std::string expires_at;  // UTC, as the database prints it
  bool expired = false;    // by the database server's clock
  bool released = false;   // given up by its holder (expired too)
  std::string process;     // "" when unknown
};

struct AcquireResult {
  std::optional<Lease> lease;          // set when acquired
  std::optional<LeaseRow> held_by;     // otherwise: who holds it, until when
};

// Decides whether a live lease held by the claimant's own instance may be taken over at once
// (its process is gone). Never called for other instances' leases.
using TakeOverCheck = std::function<bool(const LeaseRow&)>;

// Takes `connector`'s lease for `who` for `ttl` when it is free, expired, already this
// process's, or held by a process of the same instance that `may_take_over` says is gone.
// Uses `conn` in autocommit mode (its own short transactions). Throws OdbcError.
AcquireResult acquire_lease(Connection& conn, const std::string& connector, const Claimant& who,
                            std::chrono::milliseconds ttl, const TakeOverCheck& may_take_over = {});

// Extends a held lease by `ttl` from the server's now. False when the lease no longer carries
// `lease`'s token (another process took it over). Throws OdbcError.
bool renew_lease(Connection& conn, const Lease& lease, std::chrono::milliseconds ttl);

// Gives a held lease up (expires it now); a lease taken over meanwhile is left alone.
// Throws OdbcError.
void release_lease(Connection& conn, const Lease& lease);

// Inside the caller's open transaction (see the contract above): true when the lease row
// still carries `lease`'s holder and token. Throws OdbcError.
bool check_fence(Connection& conn, const Lease& lease);

// Every lease row, by connector, with `expired` judged by the server's clock (for `report`).
std::vector<LeaseRow> list_leases(Connection& conn);

}  // namespace erpsync::connectors::odbc
