#pragma once
// The SyncEvents port: what a run tells its observer (the daemon logs it; tests record it).
// Default: nothing.

#include <string>

#include "core/outcome.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

class SyncEvents {
 public:
  virtual ~SyncEvents() = default;
  // A new or changed rejection (or member_of_cycle warning): logged once at warn.
  virtual void on_rejection(const RejectionWrite&) {}
  // Every decided record, in arrival order (dry runs list adoptions and rejections from it).
  virtual void on_decision(const Decision&) {}
  // After every committed batch, with the run's counters so far.
  virtual void on_progress(const Counters&) {}
  // A batch lost a race on a unique constraint and is decided again.
  virtual void on_redecide(int /*attempt*/, const std::string& /*what*/) {}
  // Asked between batches: true ends the run early (SIGTERM). What was committed stays, the
  // cursor covers exactly that, and the report says status=stopped.
  virtual bool stop_requested() { return false; }
};

}  // namespace erpsync::core
