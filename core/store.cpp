#include "core/store.hpp"

#include "core/errors.hpp"

namespace erpsync::core {

std::optional<StateSnapshot> Store::load_quiet_state(const BatchKeys&) { return std::nullopt; }

void Store::prefetch_quiet_stream(const std::string&, const std::string&, const std::function<bool()>&) {}

CommerceState Store::load_commerce_state(const CommerceKeys&) {
  throw SyncError(SyncError::Kind::permanent,
                  "this store does not support commerce streams (Magento customers and orders) yet");
}

std::vector<StoredParked> Store::parked_records(const std::string&, const std::string&, std::chrono::seconds) {
  throw SyncError(SyncError::Kind::permanent, "this store does not support parked records yet");
}

}  // namespace erpsync::core
