#include "daemon/retry_policy.hpp"

#include <algorithm>

namespace erpsync::daemon {

NextStep next_step(const core::SyncReport& report) {
  if (report.status != core::RunStatus::error) return NextStep::run_again;
  switch (report.error_kind.value_or(core::SyncError::Kind::permanent)) {
    case core::SyncError::Kind::transient: return NextStep::retry;
    case core::SyncError::Kind::auth: return NextStep::hold;
    case core::SyncError::Kind::permanent:
    case core::SyncError::Kind::lease_lost: return NextStep::give_up;
  }
  return NextStep::give_up;
}

std::chrono::milliseconds backoff(int failures, std::chrono::milliseconds poll_interval,
                                  std::optional<double> retry_after_s, std::mt19937_64& rng) {
  const long long cap = std::max<long long>(
      1, std::min<long long>(poll_interval.count(), 1000LL << std::clamp(failures, 0, 20)));
  std::chrono::milliseconds delay(std::uniform_int_distribution<long long>(cap / 2, cap)(rng));
  if (retry_after_s) delay = std::max(delay, std::chrono::milliseconds(static_cast<long long>(*retry_after_s * 1000)));
  return delay;
}

}  // namespace erpsync::daemon
