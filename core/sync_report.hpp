#pragma once
// The result of one run of one connector stream: the report line of SPEC §8 and the
// sync_runs row are both built from this.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "core/outcome.hpp"

namespace erpsync::core {

struct SyncReport {
  std::string connector, stream;
  std::int64_t run_id = 0;
  std::string status = "ok";  // ok | error
  Counters counters;
  std::int64_t duration_ms = 0;
  std::string cursor;            // the cursor after the run (as stored)
  bool source_unchanged = false; // a file feed whose bytes did not change
  std::string message;           // the error, when status=error
  // When the run failed: what kind of failure (the scheduler's backoff depends on it) and how
  // long the remote asked us to wait (HTTP Retry-After), if it said. Not part of the line.
  std::optional<SyncError::Kind> error_kind;
  std::optional<double> retry_after_s;

  // key=value pairs in SPEC §8's fixed order; warnings= and missing= only when non-zero.
  std::vector<std::pair<std::string, std::string>> to_fields() const;
  // "sync connector=... stream=... run=... status=ok fetched=... ... cursor=\"...\""
  std::string to_line() const;
};

// Quotes a value for a key=value line when it is empty or holds spaces, quotes or '='.
std::string quote_if_needed(const std::string& v);

}  // namespace erpsync::core
