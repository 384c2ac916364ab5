#pragma once
// What `erpsyncd tree CODE [--json]` prints (SPEC §7): an AccountGroup as indented text for a
// terminal or a journalctl-width log, or as one JSON object for scripts. Pure functions.
//
// Text: a title line, then one line per Account in tree order, indented two spaces per level:
//   code (or "(no code)"), #id, "name", owner=..., the relationship, [inactive], [pending link]
// the asked-for Account marked with "=>" in the first column and "<== CODE" at the end; a line
// per refused link under its Account ("! refused member_of link: ..."); the top's pending parent
// above it. Names are cut at 40 characters, messages at 100; every value from the database has
// its control characters escaped (core/text_escape.hpp), so a line stays one line.
// JSON: {"code", "top", "accounts": [{"id", "code", "name", "owner", "relationship", "active",
// "parent_id", "depth", "pending", "asked"}], "pending_parent", "refused": [{"code", "message",
// "since"}], "cycle_above", "truncated"}; strings as stored (JSON escapes them), invalid UTF-8
// replaced.

#include <string>

#include "connectors/odbc/account_tree.hpp"

namespace erpsync::daemon {

std::string tree_text(const connectors::odbc::AccountGroup& g, const std::string& code);
std::string tree_json(const connectors::odbc::AccountGroup& g, const std::string& code);

}  // namespace erpsync::daemon
