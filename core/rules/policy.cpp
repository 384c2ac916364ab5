#include "core/rules/policy.hpp"

#include "core/rules/normalize.hpp"

namespace erpsync::core {

// The raw value is trimmed first: a source that pads its salesperson column with blanks means
// the same person (and "   " means no owner at all).
std::optional<std::string> resolve_owner(const MatchPolicy& policy, const std::string& raw_owner) {
  const std::string value = normalize_code(raw_owner);
  if (value.empty()) {
    if (policy.default_owner.empty()) return std::nullopt;
    return policy.default_owner;
  }
  if (policy.owners) {
    auto it = policy.owners->find(value);
    if (it == policy.owners->end() || it->second.empty()) return std::nullopt;
    return it->second;
  }
  return value;
}

}  // namespace erpsync::core
