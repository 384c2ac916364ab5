// Command-line promises of SPEC §7 not covered elsewhere, through the real binary: --help and
// --version, `migrate --print-sql` (prints, applies nothing), and `database.migrate: "off"`
// (the daemon touches no schema: it runs on one a DBA applied, and fails on none).

#include <fstream>
#include <iterator>

#include "e2e_fixture.hpp"

namespace erpsync::testing {
namespace {

const char* kFeed = R"(<E><C id="1" code="A-1"><N>Alpha</N></C></E>)";

std::string feed_connector(const std::string& feed) {
  return R"([{ "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + feed +
         R"(", "records": "/E/C", "default_owner": "sales",
             "fields": { "remote_id": "@id", "external_code": "@code", "name": "N" } }])";
}

class Commands : public E2eTest {
 protected:
  // The configuration with `"migrate": value` in its database section.
  void set_migrate(const std::string& value) {
    write_config(feed_connector(write_file("e.xml", kFeed)));
    std::string cfg = read(config_path_);
    const std::string key = "\"batch_size\": 3";
    cfg.replace(cfg.find(key), key.size(), key + ", \"migrate\": \"" + value + "\"");
    write_file("erpsync.json", cfg, false);
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST(CommandLine, HelpAndVersionNeedNoConfigurationAndExitZero) {
  ProcessResult help = run_process({std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.all();
  for (const char* text : {"--config FILE", "--once", "migrate [--print-sql]", "rename-connector",
                           "merge --account ID --into ID [--dry-run]", "tree CODE [--json]", "Exit"})
    EXPECT_NE(help.out.find(text), std::string::npos) << text << "\n" << help.out;
  ProcessResult version = run_process({std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd", "--version"});
  EXPECT_EQ(version.exit_code, 0) << version.all();
  EXPECT_EQ(version.out.rfind("erpsyncd ", 0), 0u) << version.out;
  EXPECT_NE(version.out.find_first_of("0123456789"), std::string::npos) << version.out;
}

TEST_P(Commands, MigratePrintSqlPrintsTheSchemaAndAppliesNothing) {
  write_config(feed_connector(write_file("e.xml", kFeed)));
  ProcessResult print = erpsyncd({"migrate", "--print-sql"});
  ASSERT_EQ(print.exit_code, 0) << print.all();
  for (const char* table : {"accounts", "bindings", "sync_runs", "sync_rejections", "sync_cursors"})
    EXPECT_NE(print.out.find(table), std::string::npos) << table;
  EXPECT_NE(print.out.find("CREATE TABLE"), std::string::npos) << print.out;
  // Nothing was applied: a dry run still finds no schema (exit 2), `migrate` then applies it.
  EXPECT_EQ(erpsyncd({"--once", "--dry-run"}).exit_code, 2);
  ASSERT_EQ(erpsyncd({"migrate"}).exit_code, 0);
  EXPECT_EQ(erpsyncd({"--once", "--dry-run"}).exit_code, 0);
}

TEST_P(Commands, MigrateOffNeverTouchesTheSchema) {
  set_migrate("off");
  // No schema, and the daemon creates none: the run fails, the tables stay absent.
  ProcessResult none = erpsyncd({"--once"});
  EXPECT_NE(none.exit_code, 0) << none.all();
  EXPECT_ANY_THROW(scalar("SELECT COUNT(*) FROM sync_runs"));
  // A schema a DBA applied (here: `migrate` under the default) is used as it is.
  set_migrate("auto");
  ASSERT_EQ(erpsyncd({"migrate"}).exit_code, 0);
  set_migrate("off");
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(report_fields(run.all(), "erp")["created"], "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'A-1'"), "1");
}

ERPSYNC_E2E_ON_ALL_ENGINES(Commands);

}  // namespace
}  // namespace erpsync::testing
