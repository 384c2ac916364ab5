#include "e2e_fixture.hpp"

#include <sys/stat.h>
#include <utime.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

namespace erpsync::testing {

void E2eTest::SetUp() {
  std::random_device rd;
  dir_ = std::filesystem::temp_directory_path() / ("erpsync-e2e-" + std::to_string(rd()));
  std::filesystem::create_directories(dir_);
  std::string skip_reason;
  db_ = TempDatabase::create(GetParam(), skip_reason);
  if (!db_) GTEST_SKIP() << skip_reason;
}

void E2eTest::TearDown() {
  db_.reset();
  if (!HasFailure()) std::filesystem::remove_all(dir_);
  else std::cerr << "kept test folder " << dir_ << "\n";
}

std::string engine_param_name(const ::testing::TestParamInfo<Engine>& info) {
  return std::string(engine_name(info.param));
}

std::string E2eTest::write_file(const std::string& name, const std::string& content, bool old_mtime) {
  const auto path = dir_ / name;
  std::ofstream(path, std::ios::binary) << content;
  if (old_mtime) {
    // An export that finished a minute ago (SPEC §4.3 stable_for).
    const time_t t = time(nullptr) - 60;
    utimbuf times{t, t};
    utime(path.c_str(), &times);
  }
  return path.string();
}

std::string E2eTest::write_config(const std::string& connectors_json, const std::string& extra_top_level,
                                  int batch_size) {
  std::ostringstream cfg;
  cfg << "// end-to-end test configuration\n{\n"
      << "  \"database\": { \"connection\": \"" << connection() << "\", \"batch_size\": " << batch_size << " },\n"
      << "  \"log\": { \"level\": \"info\", \"format\": \"text\" },\n"
      << extra_top_level << "  \"connectors\": " << connectors_json << "\n}\n";
  config_path_ = write_file("erpsync.json", cfg.str(), false);
  return config_path_;
}

ProcessResult E2eTest::erpsyncd(std::vector<std::string> args, const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {std::string(ERPSYNC_BINARY_DIR) + "/daemon/erpsyncd", "--config", config_path_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, env);
}

std::map<std::string, std::string> E2eTest::report_fields(const std::string& output, const std::string& connector,
                                                           const std::string& stream) {
  std::map<std::string, std::string> fields;
  std::istringstream lines(output);
  std::string line;
  const std::string key = "sync connector=" + connector + " ";
  while (std::getline(lines, line)) {
    const auto at = line.find(key);
    if (at == std::string::npos) continue;
    if (!stream.empty() && line.find(" stream=" + stream + " ") == std::string::npos) continue;
    fields.clear();
    std::istringstream words(line.substr(at + 5));
    std::string word;
    while (words >> word) {
      const auto eq = word.find('=');
      if (eq != std::string::npos) fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
  }
  return fields;
}

}  // namespace erpsync::testing
