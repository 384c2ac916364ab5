#pragma once
// Connector leases (SPEC §10): one process at a time syncs a connector, coordinated through
// the `sync_leases` table of the database everyone already shares — no cluster protocol.
//
//   sync_leases(connector PK, holder, fencing_token, expires_at)
//
// Contracts:
//   - acquire/renew/release are atomic conditional statements; expiry is judged by the
//     database server's clock (the expressions below use the server's UTC now), never by the
//     clocks of the hosts, which may disagree.
//   - every acquisition increments the connector's fencing token; a released lease keeps its
//     row (expires_at in the past), so a token is never handed out twice.
//   - a holder takes its own lease back at once (a restarted process with the same holder
//     name), and anyone takes a lease whose expires_at has passed.
//   - check_fence() runs inside the writer's transaction, as its last statement before COMMIT:
//     it locks the lease row (FOR UPDATE on PostgreSQL and MariaDB; SQLite's write lock is
//     already held by then) and says whether the lease still carries the writer's token. An
//     acquirer's UPDATE of that row therefore waits for the writer's commit, so a commit that
//     passed the check happened while the lease was the writer's.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "connectors/odbc/odbc.hpp"

namespace erpsync::connectors::odbc {

// A lease this process holds: what every fenced commit checks.
struct Lease {
  std::string connector;
  std::string holder;
  std::int64_t fencing_token = 0;
};

// A lease row as the database has it.
struct LeaseRow {
  std::string connector, holder;
  std::int64_t fencing_token = 0;
  std::string expires_at;  // UTC, as the database prints it
  bool expired = false;    // by the database server's clock
  bool released = false;   // given up by its holder (expired too)
};

struct AcquireResult {
  std::optional<Lease> lease;          // set when acquired
  std::optional<LeaseRow> held_by;     // otherwise: who holds it, until when
};

// Takes `connector`'s lease for `holder` for `ttl` when it is free, expired or already
// `holder`'s. Uses `conn` in autocommit mode (its own short transaction). Throws OdbcError.
AcquireResult acquire_lease(Connection& conn, const std::string& connector, const std::string& holder,
                            std::chrono::milliseconds ttl);

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
