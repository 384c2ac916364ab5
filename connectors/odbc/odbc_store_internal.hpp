#pragma once
// For tests and the benchmark only: what they reach inside an OdbcStore. Production code goes
// through core::Store, OdbcStore's own methods and OdbcStore::admin().

#include "connectors/odbc/odbc_store.hpp"

namespace erpsync::connectors::odbc {

// The store's live connection (reconnected if it was lost), to inspect or prepare the database
// a test runs against.
Connection& raw_connection(OdbcStore& store);

}  // namespace erpsync::connectors::odbc
