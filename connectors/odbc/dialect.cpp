#include "connectors/odbc/dialect.hpp"

namespace erpsync::connectors::odbc {

const SqlDialect& sql_dialect(Dialect d) {
  switch (d) {
    case Dialect::sqlite: return sqlite_dialect();
    case Dialect::postgresql: return postgresql_dialect();
    case Dialect::mariadb: return mariadb_dialect();
  }
  return sqlite_dialect();
}

}  // namespace erpsync::connectors::odbc
