#pragma once
// Record outcomes, rejection reasons and the per-run counters of SPEC §3 ("Counters").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace erpsync::core {

// Every fetched record ends in exactly one of these.
enum class Outcome : std::uint8_t { created, adopted, updated, unchanged, superseded, parked, rejected, failed };
std::string_view to_string(Outcome o);

// The exact snake_case strings of SPEC §3; they are stored in sync_rejections.reason.
enum class RejectReason : std::uint8_t {
  missing_external_code,
  code_owned_by_other_user,
  code_in_use,
  unknown_owner,
  member_of_cycle,  // a warning: the record is written without the link
  account_owned_by_other_user,
  ambiguous_match,
  account_not_found,
  invalid_field,
};
std::string_view to_string(RejectReason r);
std::optional<RejectReason> reject_reason_from_string(std::string_view s);
// Reasons an admin can remove in the CRM or config: replayed from the stored payload at the
// start of every run (SPEC §3 "Rejections come back").
bool is_replayable(RejectReason r);

struct Counters {
  std::int64_t fetched = 0, created = 0, adopted = 0, updated = 0, unchanged = 0, superseded = 0,
               parked = 0, rejected = 0, failed = 0, warnings = 0, missing = 0;

  void count(Outcome o);
  // fetched == created + adopted + updated + unchanged + superseded + parked + rejected + failed
  bool balanced() const;
  Counters& operator+=(const Counters& o);
};

}  // namespace erpsync::core
