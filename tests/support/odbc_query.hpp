#pragma once
// A minimal ODBC client for tests: run one statement on a connection string and get every row
// back as text (NULL → nullopt). Used to assert database contents independently of the store.

#include <optional>
#include <string>
#include <vector>

#include "support/test_databases.hpp"

namespace erpsync::testing {

using Row = std::vector<std::optional<std::string>>;

// Executes `sql` (no parameters) and returns its rows; throws std::runtime_error with the
// driver's diagnostics on failure.
std::vector<Row> odbc_query(const std::string& connection, const std::string& sql);

// The single value of a one-row, one-column query ("" for NULL).
std::string odbc_scalar(const std::string& connection, const std::string& sql);

// The names of the tables and views of the database (of its current schema), sorted; the
// engine's own (sqlite_*) left out.
std::vector<std::string> odbc_tables(const std::string& connection, Engine engine);

}  // namespace erpsync::testing
