#pragma once
// FaultyStore: a core::Store decorator that makes one chosen call fail, the way leveldb's
// fault_injection_test.cc wraps Env. Every call is forwarded to the inner store; the call
// named by the armed Fault (the Nth call of one operation, counted from 1 since arm()) fails
// instead, in one of three ways:
//
//   before        throws SyncError{transient} without calling the inner store: the statement,
//                 the commit or the connection failed before anything reached the database.
//   lost_ack      calls the inner store (which commits), then throws SyncError{transient}:
//                 the commit's acknowledgement was lost, its outcome is unknown to the caller.
//   action_first  runs the fault's action (e.g. terminating the database session from the
//                 outside), then calls the inner store, which must fail on its own; the error
//                 it throws is passed on. If the inner call succeeds anyway, the fault did not
//                 take: fired() stays true and took_effect() false.
//
// A fault fires once; later calls pass through (a retry sees a healthy store). Apart from the
// armed fault, `refuses` makes the store refuse chosen batches every time (a bad row).
//
// Thread-safety: like every Store, one thread at a time (apply may run on the engine's writer
// thread beside the inner store's reads ahead, which do not pass through here).

#include <functional>
#include <map>
#include <string>

#include "core/ports/store.hpp"

namespace erpsync::testing {

enum class StoreOp { load_cursor, load_state, apply, begin_run, finish_run, replayable_rejections, mark_missing };
std::string to_string(StoreOp op);

struct StoreFault {
  enum class Mode { before, lost_ack, action_first };
  StoreOp op = StoreOp::apply;
  int nth = 1;  // 1 = the first call of `op` after arm()
  Mode mode = Mode::before;
  std::function<void()> action;  // action_first only
  std::string describe() const;
};

class FaultyStore final : public core::Store {
 public:
  explicit FaultyStore(core::Store& inner) : inner_(inner) {}

  // Arms `fault` and resets the call counts. Replaces an earlier fault.
  void arm(StoreFault fault);
  void disarm() { armed_ = false; }
  bool fired() const { return fired_; }
  bool took_effect() const { return took_effect_; }
  // Calls of `op` since the last arm() (or since construction).
  int calls(StoreOp op) const;

  // Called after every call the inner store completed (a lost acknowledgement's too, before
  // it is thrown): tests count committed writes or dump the database after each.
  std::function<void(StoreOp)> on_success;

  // A database constraint other than a unique one (a CHECK or NOT NULL constraint, a value too
  // long for its column): every apply of a batch for which this returns true throws
  // SyncError{permanent}, as the ODBC store does for such an error, without reaching the inner
  // store. Independent of the armed fault; such an apply counts as a call of apply.
  std::function<bool(const core::WriteBatch&)> refuses;

  core::CursorState load_cursor(const std::string& connector, const std::string& stream) override;
  core::StateSnapshot load_state(const core::BatchKeys& keys) override;
  void apply(const core::WriteBatch& batch) override;
  std::int64_t begin_run(const std::string& connector, const std::string& stream,
                         const std::string& instance) override;
  void finish_run(std::int64_t run_id, const std::string& status, const core::Counters& counters,
                  const std::string& message) override;
  std::vector<core::StoredRejection> replayable_rejections(const std::string& connector,
                                                           const std::string& stream) override;
  std::int64_t mark_missing(const std::string& connector, const std::string& stream,
                            const core::KeySet& seen) override;
  core::CommerceState load_commerce_state(const core::CommerceKeys& keys) override;
  std::vector<core::StoredParked> parked_records(const std::string& connector, const std::string& stream,
                                                 std::chrono::seconds park_ttl) override;
  void end_dry_run() override { inner_.end_dry_run(); }
  // The inner store's own: its reads ahead are neither counted nor faulted (a read ahead that
  // fails only makes the engine read the ordinary way), while the applies they overlap are.
  // on_success and the faults of apply then run on the engine's writer thread.
  core::LookAhead* look_ahead() override { return inner_.look_ahead(); }

 private:
  // Counts the call; runs `call` through the armed fault when it is this one.
  template <typename Fn>
  auto guarded(StoreOp op, Fn&& call) -> decltype(call());

  core::Store& inner_;
  StoreFault fault_;
  bool armed_ = false;
  bool fired_ = false;
  bool took_effect_ = false;
  std::map<StoreOp, int> calls_;
};

}  // namespace erpsync::testing
