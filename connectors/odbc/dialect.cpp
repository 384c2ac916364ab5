#include "connectors/odbc/dialect.hpp"

#include "connectors/odbc/sql_text.hpp"

namespace erpsync::connectors::odbc {

std::string SqlDialect::key_list(std::string_view sql_head, std::vector<Param>& params, std::size_t fixed,
                                 bool /*as_int*/) const {
  return sql::padded_in_list(sql_head, params, fixed);
}

const SqlDialect& sql_dialect(Dialect d) {
  switch (d) {
    case Dialect::sqlite: return sqlite_dialect();
    case Dialect::postgresql: return postgresql_dialect();
    case Dialect::mariadb: return mariadb_dialect();
  }
  return sqlite_dialect();
}

}  // namespace erpsync::connectors::odbc
