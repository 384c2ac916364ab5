#pragma once
// Failures (not outcomes): what a run catches at its one catch site and classifies.
// Library errors (curl codes, HTTP statuses, SQLSTATEs, XML-RPC faults) are translated into
// SyncError at the edge, so nothing above connectors/ sees a library-specific code.

#include <optional>
#include <stdexcept>
#include <string>

namespace erpsync::core {

class SyncError : public std::runtime_error {
 public:
  enum class Kind {
    transient,   // retry with backoff: timeouts, 5xx, 429, lost DB connection, lock timeouts
    permanent,   // retrying the same thing will not help: malformed document, other 4xx, schema errors
    auth,        // authentication failed after one renewal: back off until the config is reloaded
    lease_lost,  // another process took the connector's lease over (SPEC §10): the batch was rolled
                 // back; this process stops the connector and runs it again only once it holds the
                 // lease anew (never a retry of the same run)
  };
  SyncError(Kind kind, const std::string& what, std::optional<double> retry_after_s = std::nullopt)
      : std::runtime_error(what), kind_(kind), retry_after_s_(retry_after_s) {}
  Kind kind() const { return kind_; }
  // Seconds the remote asked us to wait (HTTP Retry-After), if it said.
  std::optional<double> retry_after_s() const { return retry_after_s_; }

 private:
  Kind kind_;
  std::optional<double> retry_after_s_;
};

// Thrown by Store::apply when a unique constraint was violated (another writer won a race,
// or the database holds a row the snapshot did not show). Nothing of the batch was written;
// the engine reloads the state and re-decides.
class ConstraintViolation : public SyncError {
 public:
  explicit ConstraintViolation(const std::string& what) : SyncError(Kind::transient, what) {}
};

}  // namespace erpsync::core
