// SPEC §5 "any ODBC connection string": a DSN from an odbc.ini works as well as a DSN-less
// Driver= string (the odbc.ini is the process's own, named by ODBCINI).

#include "e2e_fixture.hpp"

namespace erpsync::testing {
namespace {

class Dsn : public E2eTest {};

TEST_P(Dsn, ADsnFromOdbcIniSyncsLikeADriverString) {
  const std::string feed = write_file("e.xml", R"(<E><C id="1" code="D-1"><N>Via DSN</N></C></E>)");
  const std::string ini = write_file("odbc.ini", "[erpsync_e2e]\nDriver=SQLite3\nDatabase=" + db_->name() + "\n", false);
  config_path_ = write_file("erpsync.json", R"({ "database": { "connection": "DSN=erpsync_e2e" },
    "connectors": [ { "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + feed + R"(",
      "records": "/E/C", "poll_interval": "5m", "default_owner": "sales",
      "fields": { "remote_id": "@id", "external_code": "@code", "name": "N" } } ] })", false);
  // Under ASan, unixODBC's odbc.ini path leaves allocations of a driver module it has already
  // unloaded (LeakSanitizer shows them as "<unknown module>", which no module-name suppression
  // in tests/lsan.supp can match): leak detection is off for this one child process only.
  ProcessResult run = erpsyncd({"--once"}, {{"ODBCINI", ini}, {"LSAN_OPTIONS", "detect_leaks=0"}});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(report_fields(run.all(), "erp")["created"], "1");
  // Read back through the fixture's Driver= string: the same database.
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = 'D-1'"), "Via DSN");
}

INSTANTIATE_TEST_SUITE_P(E2e, Dsn, ::testing::Values(Engine::sqlite), engine_param_name);

}  // namespace
}  // namespace erpsync::testing
