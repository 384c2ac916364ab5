#pragma once
// TableNames: the names of erpsync's tables, indexes and constraints under
// `database.table_prefix` (SPEC §5 "Whose database"). The store's SQL is written with the bare
// names (accounts, sync_runs, accounts_name_key_ix, ...); a Connection given a prefix renders each
// statement text once, when it prepares it, by prefixing every identifier that names one of
// erpsync's objects:
//   - a table of the schema (table_bases()), or
//   - an index or constraint of it: a table's name, '_', and a name ending in "_ix", "_key" or
//     "_pkey" (the schema's naming rule, migrations.cpp).
// Quoted text ('...', "...", `...`) and comments are left as they are: stream names such as
// 'accounts' are values, never tables.
//
// Thread-safety: immutable after construction.

#include <string>
#include <string_view>
#include <vector>

namespace erpsync::connectors::odbc {

// The longest prefix accepted: every name stays within PostgreSQL's 63 and MariaDB's 64
// characters.
inline constexpr std::size_t kMaxTablePrefix = 32;

// The bare names of the tables erpsync creates, schema_version included.
const std::vector<std::string>& table_bases();

// Empty when `prefix` is a usable table prefix (a letter or '_' first, then letters, digits and
// '_', at most kMaxTablePrefix characters), else what is wrong with it.
std::string table_prefix_problem(std::string_view prefix);

class TableNames {
 public:
  TableNames() = default;
  // Throws std::invalid_argument when table_prefix_problem(prefix) is not empty.
  explicit TableNames(std::string prefix);

  const std::string& prefix() const { return prefix_; }
  // The name of erpsync's table (or index) `base` in this database.
  std::string operator()(std::string_view base) const { return prefix_ + std::string(base); }
  // `sql` with every name of erpsync's objects prefixed (see above); `sql` itself without a prefix.
  std::string render(std::string_view sql) const;

 private:
  std::string prefix_;
};

// True when the identifier `word` names one of erpsync's tables, indexes or constraints.
bool names_erpsync_object(std::string_view word);

}  // namespace erpsync::connectors::odbc
