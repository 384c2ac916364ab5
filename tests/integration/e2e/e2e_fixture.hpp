#pragma once
// End-to-end fixture: a temporary folder with a config file, feed files and a database, and
// the real erpsyncd binary run as a process against it.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/odbc_query.hpp"
#include "support/process.hpp"
#include "support/test_databases.hpp"

namespace erpsync::testing {

// Parameterised by engine: every end-to-end scenario runs on SQLite, PostgreSQL and MariaDB
// (a fresh database per test; an engine that is not configured is skipped with the reason).
class E2eTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The fresh database's connection string.
  std::string connection() const { return db_->connection_string(); }

  std::string write_file(const std::string& name, const std::string& content, bool old_mtime = true);
  // Writes erpsync.json with `connectors_json` (a JSON array text) and returns its path.
  std::string write_config(const std::string& connectors_json, const std::string& extra_top_level = "",
                           int batch_size = 3);
  ProcessResult erpsyncd(std::vector<std::string> args, const std::map<std::string, std::string>& env = {});

  std::vector<Row> query(const std::string& sql) { return odbc_query(connection(), sql); }
  std::string scalar(const std::string& sql) { return odbc_scalar(connection(), sql); }

  // The last "sync connector=NAME ..." line's fields from `output`.
  static std::map<std::string, std::string> report_fields(const std::string& output, const std::string& connector,
                                                          const std::string& stream = "");

  std::filesystem::path dir_;
  std::string config_path_;
  std::unique_ptr<TempDatabase> db_;
};

// Names parameterised tests after the engine: AppendixA/E2e.Runs/postgresql.
std::string engine_param_name(const ::testing::TestParamInfo<Engine>& info);

#define ERPSYNC_E2E_ON_ALL_ENGINES(Suite)                                                             \
  INSTANTIATE_TEST_SUITE_P(E2e, Suite,                                                                 \
                           ::testing::Values(Engine::sqlite, Engine::postgresql, Engine::mariadb), \
                           engine_param_name)

}  // namespace erpsync::testing
