#include "connectors/odbc/table_names.hpp"

#include <stdexcept>

namespace erpsync::connectors::odbc {
namespace {

bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// The end of the quoted text opening at `i` (its closing quote doubled escapes it).
std::size_t skip_quoted(std::string_view sql, std::size_t i) {
  const char q = sql[i];
  for (++i; i < sql.size(); ++i) {
    if (sql[i] != q) continue;
    if (i + 1 < sql.size() && sql[i + 1] == q) {
      ++i;
      continue;
    }
    return i + 1;
  }
  return sql.size();
}

}  // namespace

const std::vector<std::string>& table_bases() {
  static const std::vector<std::string> t = {"schema_version", "accounts", "contacts", "customers",
                                             "orders", "bindings", "sync_cursors", "sync_runs",
                                             "sync_rejections", "sync_parked", "sync_leases",
                                             "sync_merges", "carts", "cart_items"};
  return t;
}

std::string table_prefix_problem(std::string_view prefix) {
  if (prefix.size() > kMaxTablePrefix)
    return "at most " + std::to_string(kMaxTablePrefix) + " characters (table and index names must stay "
           "within the engines' identifier limits), got " + std::to_string(prefix.size());
  if (!prefix.empty() && !ident_start(prefix.front()))
    return "expected a letter or '_' first (it begins SQL table names)";
  for (char c : prefix)
    if (!ident_char(c)) return "expected letters, digits and '_' only (it becomes part of SQL table names)";
  return {};
}

bool names_erpsync_object(std::string_view word) {
  for (const auto& t : table_bases()) {
    if (word == t) return true;
    if (word.size() > t.size() + 1 && word.substr(0, t.size()) == t && word[t.size()] == '_' &&
        (ends_with(word, "_ix") || ends_with(word, "_key") || ends_with(word, "_pkey")))
      return true;
  }
  return false;
}

TableNames::TableNames(std::string prefix) : prefix_(std::move(prefix)) {
  if (auto problem = table_prefix_problem(prefix_); !problem.empty())
    throw std::invalid_argument("database.table_prefix \"" + prefix_ + "\": " + problem);
}

std::string TableNames::render(std::string_view sql) const {
  if (prefix_.empty()) return std::string(sql);
  std::string out;
  out.reserve(sql.size() + 8 * prefix_.size());
  for (std::size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      std::size_t end = skip_quoted(sql, i);
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      std::size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = sql.size();
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (ident_start(c)) {
      std::size_t end = i;
      while (end < sql.size() && ident_char(sql[end])) ++end;
      std::string_view word = sql.substr(i, end - i);
      if (names_erpsync_object(word)) out += prefix_;
      out.append(word);
      i = end;
    } else if (c >= '0' && c <= '9') {  // a number (or a word that starts with digits) as it is
      std::size_t end = i;
      while (end < sql.size() && ident_char(sql[end])) ++end;
      out.append(sql.substr(i, end - i));
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace erpsync::connectors::odbc
