#include "core/outcome.hpp"

#include <array>

namespace erpsync::core {
namespace {
constexpr std::array<std::string_view, 8> kOutcomes = {
    "created", "adopted", "updated", "unchanged", "superseded", "parked", "rejected", "failed"};
constexpr std::array<std::string_view, 9> kReasons = {
    "missing_external_code", "code_owned_by_other_user", "code_in_use", "unknown_owner",
    "member_of_cycle", "account_owned_by_other_user", "ambiguous_match", "account_not_found",
    "invalid_field"};
}  // namespace

std::string_view to_string(Outcome o) { return kOutcomes[static_cast<std::size_t>(o)]; }
std::string_view to_string(RejectReason r) { return kReasons[static_cast<std::size_t>(r)]; }

std::optional<RejectReason> reject_reason_from_string(std::string_view s) {
  for (std::size_t i = 0; i < kReasons.size(); ++i)
    if (kReasons[i] == s) return static_cast<RejectReason>(i);
  return std::nullopt;
}

bool is_replayable(RejectReason r) {
  switch (r) {
    case RejectReason::code_owned_by_other_user:
    case RejectReason::account_owned_by_other_user:
    case RejectReason::ambiguous_match:
    case RejectReason::unknown_owner:
    case RejectReason::account_not_found:
      return true;
    default:
      return false;
  }
}

void Counters::count(Outcome o) {
  ++fetched;
  switch (o) {
    case Outcome::created: ++created; break;
    case Outcome::adopted: ++adopted; break;
    case Outcome::updated: ++updated; break;
    case Outcome::unchanged: ++unchanged; break;
    case Outcome::superseded: ++superseded; break;
    case Outcome::parked: ++parked; break;
    case Outcome::rejected: ++rejected; break;
    case Outcome::failed: ++failed; break;
  }
}

bool Counters::balanced() const {
  return fetched == created + adopted + updated + unchanged + superseded + parked + rejected + failed;
}

Counters& Counters::operator+=(const Counters& o) {
  fetched += o.fetched; created += o.created; adopted += o.adopted; updated += o.updated;
  unchanged += o.unchanged; superseded += o.superseded; parked += o.parked;
  rejected += o.rejected; failed += o.failed; warnings += o.warnings; missing += o.missing;
  return *this;
}

}  // namespace erpsync::core
