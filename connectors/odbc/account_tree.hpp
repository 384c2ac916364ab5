#pragma once
// `erpsyncd tree CODE` (SPEC §7): the Member-of group of an Account read from erpsync's own
// tables — its top parent (followed up member_of_id), every Account under it (level by level),
// the accounts whose link is still pending (member_of_code names a member, member_of_id not set
// yet), the top's own pending parent, and the open `member_of_cycle` rejections of the members
// (links rule 6 refused). Formatting is the daemon's (daemon/tree_view.hpp).
//
// Bounded: at most kMaxGroupDepth levels up and down and kMaxGroupMembers accounts (a larger
// group is cut and says so), a statement per level.
//
// Thread-safety: the connection's (one thread at a time).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "connectors/odbc/odbc.hpp"

namespace erpsync::connectors::odbc {

inline constexpr int kMaxGroupDepth = 64;
inline constexpr std::size_t kMaxGroupMembers = 5000;

struct GroupMember {
  std::int64_t id = 0;
  std::optional<std::int64_t> parent;  // member_of_id; nullopt for the top (and pending children)
  std::string code, name, owner, relationship;
  bool active = true;
  std::string member_of_code;  // the parent's code as the source named it
  int depth = 0;               // 0: the top
  bool pending = false;        // linked by code only: member_of_id not set yet
};

// An open member_of_cycle rejection of a member's code: the link that was refused.
struct RefusedLink {
  std::string code;     // the member whose link was refused
  std::string message;  // the rejection's message (names the link and the cycle)
  std::string since;    // first_seen
};

struct AccountGroup {
  std::int64_t asked = 0;  // the id of the Account asked for
  // In tree order (depth first, children by code, then name, then id), the top first.
  std::vector<GroupMember> members;
  std::string top_pending_parent;  // the top's member_of_code when its parent is not linked
  bool cycle_above = false;        // walking up met an Account twice (a cycle typed in the CRM)
  bool truncated = false;          // more than kMaxGroupMembers accounts, or deeper than kMaxGroupDepth
  std::vector<RefusedLink> refused;
};

// The group of the Account whose External Code is `code` (exact), nullopt when none has it.
// Throws OdbcError.
std::optional<AccountGroup> load_account_group(Connection& c, const std::string& code);

}  // namespace erpsync::connectors::odbc
