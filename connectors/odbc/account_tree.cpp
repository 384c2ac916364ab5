#include "connectors/odbc/account_tree.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "connectors/odbc/sql_text.hpp"

namespace erpsync::connectors::odbc {
namespace {

const std::string kColumns =
    "SELECT id, member_of_id, external_code, name, owner, relationship, active, member_of_code FROM accounts WHERE ";

GroupMember member_of_row(const Row& r) {
  GroupMember m;
  m.id = to_i64(r[0]);
  if (r[1]) m.parent = to_i64(r[1]);
  m.code = str(r[2]);
  m.name = str(r[3]);
  m.owner = str(r[4]);
  m.relationship = str(r[5]);
  m.active = str(r[6]) != "0";
  m.member_of_code = str(r[7]);
  return m;
}

std::optional<GroupMember> read_one(Connection& c, const std::string& where, const Param& key) {
  const auto rows = c.query(kColumns + where, {key});
  if (rows.empty()) return std::nullopt;
  return member_of_row(rows.front());
}

// Rows of `kColumns + head` with `keys` bound in chunks (head ends in "IN ").
template <class Keys, class Fn>
void each_in(Connection& c, const std::string& head, const Keys& keys, bool as_int, Fn&& fn) {
  for (const auto& part : sql::chunks(keys, sql::kInChunk)) {
    std::vector<Param> params;
    for (const auto& k : part) params.push_back(as_int ? Param::i64(std::stoll(k)) : Param::str(k));
    for (const Row& r : c.query(head + "(" + sql::marks(part.size()) + ")", params)) fn(r);
  }
}

bool before(const GroupMember& a, const GroupMember& b) {
  // Coded accounts first (by code), then the uncoded by name and id.
  return std::make_tuple(a.code.empty(), a.code, a.name, a.id) < std::make_tuple(b.code.empty(), b.code, b.name, b.id);
}

}  // namespace

std::optional<AccountGroup> load_account_group(Connection& c, const std::string& code) {
  auto asked = read_one(c, "external_code = ?", Param::str(code));
  if (!asked) return std::nullopt;
  AccountGroup g;
  g.asked = asked->id;

  // Up to the top parent.
  GroupMember top = *asked;
  std::set<std::int64_t> seen = {top.id};
  for (int depth = 0; top.parent; ++depth) {
    if (depth >= kMaxGroupDepth) {
      g.truncated = true;
      break;
    }
    auto parent = read_one(c, "id = ?", Param::i64(*top.parent));
    if (!parent) break;  // a dangling link (the parent was deleted in the CRM): this is the top
    if (!seen.insert(parent->id).second) {
      g.cycle_above = true;
      break;
    }
    top = *parent;
  }
  if (!top.parent && !top.member_of_code.empty()) g.top_pending_parent = top.member_of_code;
  top.parent.reset();
  top.pending = false;

  // Down, level by level: linked children, and accounts waiting for a member's code.
  std::map<std::int64_t, std::vector<GroupMember>> children;  // parent id → children
  std::set<std::int64_t> in_group = {top.id};
  std::vector<GroupMember> level = {top};
  std::size_t count = 1;
  for (int depth = 0; !level.empty(); ++depth) {
    if (depth >= kMaxGroupDepth) {
      g.truncated = true;
      break;
    }
    std::set<std::string> ids, codes;
    std::map<std::string, std::int64_t> id_by_code;
    for (const auto& m : level) {
      ids.insert(std::to_string(m.id));
      if (!m.code.empty()) {
        codes.insert(m.code);
        id_by_code[m.code] = m.id;
      }
    }
    std::vector<GroupMember> next;
    auto take = [&](GroupMember m, std::int64_t parent, bool pending) {
      if (!in_group.insert(m.id).second) return;  // met twice: a cycle typed in the CRM
      if (count >= kMaxGroupMembers) {
        g.truncated = true;
        return;
      }
      ++count;
      m.pending = pending;
      children[parent].push_back(m);
      next.push_back(std::move(m));
    };
    each_in(c, kColumns + "member_of_id IN ", ids, true, [&](const Row& r) {
      GroupMember m = member_of_row(r);
      const std::int64_t parent = *m.parent;
      take(std::move(m), parent, false);
    });
    each_in(c, kColumns + "member_of_id IS NULL AND member_of_code IN ", codes, false, [&](const Row& r) {
      GroupMember m = member_of_row(r);
      auto p = id_by_code.find(m.member_of_code);
      if (p != id_by_code.end()) take(std::move(m), p->second, true);
    });
    level = std::move(next);
  }

  // Tree order: depth first, siblings sorted.
  std::vector<std::pair<GroupMember, int>> stack = {{top, 0}};
  while (!stack.empty()) {
    auto [m, depth] = std::move(stack.back());
    stack.pop_back();
    m.depth = depth;
    auto kids = children.find(m.id);
    g.members.push_back(std::move(m));
    if (kids == children.end()) continue;
    std::vector<GroupMember>& list = kids->second;
    std::sort(list.begin(), list.end(), before);
    for (auto it = list.rbegin(); it != list.rend(); ++it) stack.emplace_back(*it, depth + 1);
  }

  // Links rule 6 refused, by the members' codes.
  std::set<std::string> member_codes;
  for (const auto& m : g.members)
    if (!m.code.empty()) member_codes.insert(m.code);
  for (const auto& part : sql::chunks(member_codes, sql::kInChunk)) {
    std::vector<Param> params;
    for (const auto& k : part) params.push_back(Param::str(k));
    for (const Row& r : c.query("SELECT external_code, message, first_seen FROM sync_rejections WHERE reason = "
                                "'member_of_cycle' AND resolved_at IS NULL AND external_code IN (" +
                                    sql::marks(part.size()) + ") ORDER BY external_code, first_seen",
                                params))
      g.refused.push_back({str(r[0]), str(r[1]), str(r[2])});
  }
  return g;
}

}  // namespace erpsync::connectors::odbc
