#pragma once
// The one retry policy (SPEC §10), used by the service between runs and by `--once` within
// its run: what a failed run's report asks for next, and how long to wait.
//
//   transient  retried with exponential backoff and full jitter (1 s, 2 s, 4 s, … capped at the
//              poll interval), never sooner than the remote's Retry-After;
//   auth       held: not retried until the configuration is reloaded (SIGHUP), since the same
//              credentials fail the same way;
//   permanent  `--once` does not retry (the same document fails the same way); the service
//              runs again after the same backoff, since the export may be fixed meanwhile;
//   lease_lost not retried: another process syncs the connector now (the service stands by).
//
// `--once` gives each stream its own budget of kOnceRetries retries of transient failures: a
// stream that used its budget up does not take the next stream's. Once a stream of a connector
// has used its whole budget and still failed transiently, the remote is down rather than
// blinking: the connector's later streams get one attempt each, no retries
// (once_retries_for_next_stream), so a frozen server bounds a `--once` run to about one stream's
// retries plus one request per later stream (docs/odoo.md adds it up).
//
// Thread-safety: stateless functions; the caller owns the random generator.

#include <chrono>
#include <optional>
#include <random>

#include "core/errors.hpp"
#include "core/sync_report.hpp"

namespace erpsync::daemon {

enum class NextStep {
  run_again,  // the report is ok: the next regular run
  retry,      // a transient failure: retry after backoff()
  hold,       // an auth failure: wait for a configuration reload
  give_up,    // permanent or lease_lost: no retry within `--once`
};

NextStep next_step(const core::SyncReport& report);

// The wait before retry number `failures` (1 = the first retry after one failure): uniform in
// [cap/2, cap] with cap = min(poll interval, 1 s × 2^failures), at least `retry_after_s`.
std::chrono::milliseconds backoff(int failures, std::chrono::milliseconds poll_interval,
                                  std::optional<double> retry_after_s, std::mt19937_64& rng);

// Retries of transient failures `--once` allows each stream.
inline constexpr int kOnceRetries = 3;

// The retries `--once` allows a connector's next stream: kOnceRetries, or 0 once an earlier
// stream of the connector ended in a transient failure after all its retries.
inline int once_retries_for_next_stream(bool an_earlier_stream_gave_up) {
  return an_earlier_stream_gave_up ? 0 : kOnceRetries;
}

}  // namespace erpsync::daemon
