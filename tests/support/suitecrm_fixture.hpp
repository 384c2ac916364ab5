#pragma once
// SuiteCRM 7's tables in a test database (database.crm "suitecrm"): the project's own fixture
// tests/fixtures/suitecrm/suitecrm7_tables.sql, written from /reference/suitecrm.md (CI cannot
// download SuiteCRM), with its users (admin, erpsync, alice, bob; carol inactive, dave
// deleted).

#include <string>

namespace erpsync::testing {

// users.id of the fixture's users.
inline constexpr const char* kSuiteAdminId = "1";
inline constexpr const char* kSuiteSyncUserId = "7c1e58a2-0d1b-7a53-11f0-5e2b00000001";
inline constexpr const char* kSuiteAliceId = "7c1e58a2-0d1b-7a53-11f0-5e2b00000002";
inline constexpr const char* kSuiteBobId = "7c1e58a2-0d1b-7a53-11f0-5e2b00000003";

// Creates the fixture's tables and rows in the (MariaDB) database of `connection`. Throws
// std::runtime_error naming the statement that failed.
void create_suitecrm_tables(const std::string& connection);

}  // namespace erpsync::testing
