#include "support/suitecrm_fixture.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/test_databases.hpp"

namespace erpsync::testing {

void create_suitecrm_tables(const std::string& connection) {
  const std::string path = std::string(ERPSYNC_SOURCE_DIR) + "/tests/fixtures/suitecrm/suitecrm7_tables.sql";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::string line, statement;
  while (std::getline(in, line)) {
    if (line.rfind("--", 0) == 0) continue;
    statement += line + "\n";
    if (!line.empty() && line.back() == ';') {
      statement.pop_back();
      statement.pop_back();  // the ';' and the newline
      if (auto err = run_sql(connection, statement); !err.empty())
        throw std::runtime_error(path + ": " + err + "\n" + statement);
      statement.clear();
    }
  }
}

}  // namespace erpsync::testing
