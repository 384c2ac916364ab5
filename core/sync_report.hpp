#pragma once
// The result of one run of one connector stream: the report line of SPEC §8 and the
// sync_runs row are both built from this.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "core/outcome.hpp"

namespace erpsync::core {

// How a run ended: every record handled (ok), a failure ended it (error), or a stop request
// ended it between batches (stopped: what was committed stays, the cursor covers exactly that).
enum class RunStatus { ok, error, stopped };
std::string_view to_string(RunStatus s);  // "ok" | "error" | "stopped", as in sync_runs.status

// The outcome of one run, and the only one: the engine fills it, the daemon reads nothing else.
struct SyncReport {
  std::string connector, stream;
  std::int64_t run_id = 0;
  RunStatus status = RunStatus::ok;
  Counters counters;
  std::int64_t duration_ms = 0;
  std::string cursor;            // the cursor after the run (as stored)
  bool source_unchanged = false; // a file feed whose bytes did not change
  std::string message;           // the error, when status=error
  // When the run failed: what kind of failure (the retry policy depends on it) and how long the
  // remote asked us to wait (HTTP Retry-After), if it said. Not part of the line.
  std::optional<SyncError::Kind> error_kind;
  std::optional<double> retry_after_s;

  bool ok() const { return status == RunStatus::ok; }
  // Ends the report as failed by `e` (status, message, kind, Retry-After).
  void fail(const SyncError& e);

  // key=value pairs in SPEC §8's fixed order; warnings= and missing= only when non-zero.
  std::vector<std::pair<std::string, std::string>> to_fields() const;
  // "sync connector=... stream=... run=... status=ok fetched=... ... cursor=\"...\""
  std::string to_line() const;
};

// Quotes a value for a key=value line when it is empty or holds spaces, quotes or '='.
std::string quote_if_needed(const std::string& v);
// The same for a value already in its shown form (value_check.hpp: fit_column(), shown(), whose
// backslashes are its escapes): control characters and quotes escaped, backslashes kept, so that
// a log line shows a rejection row's values as the row stores them, not escaped twice.
std::string quote_shown_if_needed(const std::string& v);

}  // namespace erpsync::core
