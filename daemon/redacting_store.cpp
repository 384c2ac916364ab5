#include "daemon/redacting_store.hpp"

#include "daemon/logging.hpp"

namespace erpsync::daemon {

core::CursorState RedactingStore::load_cursor(const std::string& connector, const std::string& stream) {
  return inner_.load_cursor(connector, stream);
}

core::StateSnapshot RedactingStore::load_state(const core::BatchKeys& keys) { return inner_.load_state(keys); }

void RedactingStore::apply(const core::WriteBatch& batch) { inner_.apply(batch); }

std::int64_t RedactingStore::begin_run(const std::string& connector, const std::string& stream,
                                       const std::string& instance) {
  return inner_.begin_run(connector, stream, instance);
}

void RedactingStore::finish_run(std::int64_t run_id, const std::string& status, const core::Counters& counters,
                                const std::string& message) {
  inner_.finish_run(run_id, status, counters, redact_secrets(message));
}

std::vector<core::StoredRejection> RedactingStore::replayable_rejections(const std::string& connector,
                                                                         const std::string& stream) {
  return inner_.replayable_rejections(connector, stream);
}

std::int64_t RedactingStore::mark_missing(const std::string& connector, const std::string& stream,
                                          const core::KeySet& seen) {
  return inner_.mark_missing(connector, stream, seen);
}

core::CommerceState RedactingStore::load_commerce_state(const core::CommerceKeys& keys) {
  return inner_.load_commerce_state(keys);
}

std::vector<core::StoredParked> RedactingStore::parked_records(const std::string& connector, const std::string& stream,
                                                               std::chrono::seconds park_ttl) {
  return inner_.parked_records(connector, stream, park_ttl);
}

void RedactingStore::end_dry_run() { inner_.end_dry_run(); }

}  // namespace erpsync::daemon
