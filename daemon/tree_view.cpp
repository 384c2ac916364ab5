#include "daemon/tree_view.hpp"

#include <nlohmann/json.hpp>

#include "core/text_escape.hpp"

namespace erpsync::daemon {
namespace {

using connectors::odbc::AccountGroup;
using connectors::odbc::GroupMember;

constexpr std::size_t kNameWidth = 40;
constexpr std::size_t kMessageWidth = 100;

std::string safe(const std::string& v, std::size_t width) { return core::shorten(core::escape_controls(v), width); }

std::string code_of(const GroupMember& m) { return m.code.empty() ? "(no code)" : safe(m.code, 64); }

}  // namespace

std::string tree_text(const AccountGroup& g, const std::string& code) {
  std::string out = "Member-of group of " + safe(code, 64) + ": " + std::to_string(g.members.size()) +
                    " account(s), top " + (g.members.empty() ? "-" : code_of(g.members.front())) + "\n";
  if (!g.top_pending_parent.empty())
    out += "   (the top waits for its parent " + safe(g.top_pending_parent, 64) + ", not synced yet: link pending)\n";
  if (g.cycle_above) out += "   (walking up met an account twice: the accounts above form a cycle)\n";
  for (const GroupMember& m : g.members) {
    const bool asked = m.id == g.asked;
    std::string line = asked ? "=> " : "   ";
    line += std::string(static_cast<std::size_t>(m.depth) * 2, ' ');
    line += code_of(m) + " #" + std::to_string(m.id) + " \"" + safe(m.name, kNameWidth) + "\"";
    line += " owner=" + (m.owner.empty() ? std::string("-") : safe(m.owner, 64));
    if (!m.relationship.empty()) line += " " + safe(m.relationship, 32);
    if (!m.active) line += " [inactive]";
    if (m.pending) line += " [pending link: waits for " + safe(m.member_of_code, 64) + "]";
    if (asked) line += "  <== " + safe(code, 64);
    out += line + "\n";
    for (const auto& r : g.refused) {
      if (r.code.empty() || r.code != m.code) continue;
      out += "   " + std::string(static_cast<std::size_t>(m.depth) * 2 + 2, ' ') +
             "! refused member_of link: " + safe(r.message, kMessageWidth) + "\n";
    }
  }
  if (g.truncated) out += "   (the group is larger or deeper than shown: cut)\n";
  return out;
}

std::string tree_json(const AccountGroup& g, const std::string& code) {
  using nlohmann::json;
  json accounts = json::array();
  for (const GroupMember& m : g.members) {
    json a = {{"id", m.id},
              {"code", m.code.empty() ? json(nullptr) : json(m.code)},
              {"name", m.name},
              {"owner", m.owner.empty() ? json(nullptr) : json(m.owner)},
              {"relationship", m.relationship},
              {"active", m.active},
              {"parent_id", m.parent ? json(*m.parent) : json(nullptr)},
              {"depth", m.depth},
              {"pending", m.pending},
              {"asked", m.id == g.asked}};
    accounts.push_back(std::move(a));
  }
  json refused = json::array();
  for (const auto& r : g.refused) refused.push_back({{"code", r.code}, {"message", r.message}, {"since", r.since}});
  json out = {{"code", code},
              {"top", g.members.empty() || g.members.front().code.empty() ? json(nullptr) : json(g.members.front().code)},
              {"accounts", std::move(accounts)},
              {"pending_parent", g.top_pending_parent.empty() ? json(nullptr) : json(g.top_pending_parent)},
              {"refused", std::move(refused)},
              {"cycle_above", g.cycle_above},
              {"truncated", g.truncated}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace erpsync::daemon
