#include "support/faulty_store.hpp"

#include <type_traits>

#include "core/errors.hpp"

namespace erpsync::testing {

std::string to_string(StoreOp op) {
  switch (op) {
    case StoreOp::load_cursor: return "load_cursor";
    case StoreOp::load_state: return "load_state";
    case StoreOp::apply: return "apply";
    case StoreOp::begin_run: return "begin_run";
    case StoreOp::finish_run: return "finish_run";
    case StoreOp::replayable_rejections: return "replayable_rejections";
    case StoreOp::mark_missing: return "mark_missing";
  }
  return "?";
}

std::string StoreFault::describe() const {
  const char* m = mode == Mode::before ? "fails" : mode == Mode::lost_ack ? "commits, then loses its acknowledgement"
                                                                          : "loses its connection";
  return to_string(op) + " call " + std::to_string(nth) + " " + m;
}

void FaultyStore::arm(StoreFault fault) {
  fault_ = std::move(fault);
  armed_ = true;
  fired_ = false;
  took_effect_ = false;
  calls_.clear();
}

int FaultyStore::calls(StoreOp op) const {
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

template <typename Fn>
auto FaultyStore::guarded(StoreOp op, Fn&& call) -> decltype(call()) {
  const int n = ++calls_[op];
  // The inner call, then on_success (for writes: the call committed).
  auto forward = [&]() -> decltype(call()) {
    if constexpr (std::is_void_v<decltype(call())>) {
      call();
      if (on_success) on_success(op);
    } else {
      auto result = call();
      if (on_success) on_success(op);
      return result;
    }
  };
  if (!armed_ || fired_ || fault_.op != op || fault_.nth != n) return forward();
  fired_ = true;
  const std::string what = "injected fault: " + fault_.describe();
  switch (fault_.mode) {
    case StoreFault::Mode::before:
      took_effect_ = true;
      throw core::SyncError(core::SyncError::Kind::transient, what);
    case StoreFault::Mode::lost_ack:
      forward();
      took_effect_ = true;
      throw core::SyncError(core::SyncError::Kind::transient, what);
    case StoreFault::Mode::action_first:
      if (fault_.action) fault_.action();
      try {
        return forward();
      } catch (...) {
        took_effect_ = true;
        throw;
      }
  }
  return forward();
}

core::CursorState FaultyStore::load_cursor(const std::string& connector, const std::string& stream) {
  return guarded(StoreOp::load_cursor, [&] { return inner_.load_cursor(connector, stream); });
}

core::StateSnapshot FaultyStore::load_state(const core::BatchKeys& keys) {
  return guarded(StoreOp::load_state, [&] { return inner_.load_state(keys); });
}

void FaultyStore::apply(const core::WriteBatch& batch) {
  guarded(StoreOp::apply, [&] {
    if (refuses && refuses(batch))
      throw core::SyncError(core::SyncError::Kind::permanent,
                            "apply: [23514] a CHECK constraint refused a row of the batch (injected)");
    inner_.apply(batch);
  });
}

std::int64_t FaultyStore::begin_run(const std::string& connector, const std::string& stream,
                                    const std::string& instance) {
  return guarded(StoreOp::begin_run, [&] { return inner_.begin_run(connector, stream, instance); });
}

void FaultyStore::finish_run(std::int64_t run_id, const std::string& status, const core::Counters& counters,
                             const std::string& message) {
  guarded(StoreOp::finish_run, [&] { inner_.finish_run(run_id, status, counters, message); });
}

std::vector<core::StoredRejection> FaultyStore::replayable_rejections(const std::string& connector,
                                                                      const std::string& stream) {
  return guarded(StoreOp::replayable_rejections, [&] { return inner_.replayable_rejections(connector, stream); });
}

std::int64_t FaultyStore::mark_missing(const std::string& connector, const std::string& stream,
                                       const core::KeySet& seen) {
  return guarded(StoreOp::mark_missing, [&] { return inner_.mark_missing(connector, stream, seen); });
}

core::CommerceState FaultyStore::load_commerce_state(const core::CommerceKeys& keys) {
  return inner_.load_commerce_state(keys);
}

std::vector<core::StoredParked> FaultyStore::parked_records(const std::string& connector, const std::string& stream,
                                                            std::chrono::seconds park_ttl) {
  return inner_.parked_records(connector, stream, park_ttl);
}

}  // namespace erpsync::testing
