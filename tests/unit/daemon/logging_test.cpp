// The log sink (SPEC §8, §10): every line redacted with the process's secrets (configured and
// learnt at run time), text lines one line each with control characters escaped and values
// cut at 200 characters, JSON lines complete and still JSON. Also the run message stored
// through RedactingStore.

#include "daemon/logging.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "connectors/http/redact.hpp"
#include "reference_store/memory_store.hpp"
#include "daemon/redacting_store.hpp"

namespace erpsync::daemon {
namespace {

const std::string kConfigured = "canary-configured-pass-1f9e";
const std::string kLearned = "canary-learned-admin-tok-77ab";

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class LogSink : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("erpsync-log-" + std::to_string(::getpid()) + "-" + GetParam() + ".log"))
                .string();
    std::filesystem::remove(path_);
    LogSettings s;
    s.format = GetParam();
    s.file = path_;
    s.secrets = {kConfigured};
    configure_logging(s);
    connectors::http::process_secrets().add_learned(kLearned);
  }
  void TearDown() override {
    configure_logging(LogSettings{});
    std::filesystem::remove(path_);
  }
  std::string path_;
};

TEST_P(LogSink, NoSecretAndNoRawControlCharacterLeavesAndEachMessageIsOneLine) {
  const std::string code(10'000, 'C');
  logger("erp")->warn("rejected connector=erp code={} reason=invalid_field message=\"{}\"", code,
                      "bad\r2026-12-07 00:00:00.000 info [erp] sync connector=erp status=ok\x1b[2K");
  logger("erp")->error("login failed: password {} token {} conn Driver=X;PWD=hunter2-odbc;", kConfigured, kLearned);
  const auto lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find(kConfigured), std::string::npos) << line;
    EXPECT_EQ(line.find(kLearned), std::string::npos) << line;
    EXPECT_EQ(line.find("hunter2-odbc"), std::string::npos) << line;
    EXPECT_EQ(line.find('\r'), std::string::npos) << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  }
  if (GetParam() == "text") {
    // The 10,000-character code is cut to 200; the forged line is visibly part of the value.
    EXPECT_NE(lines[0].find("code=" + std::string(200, 'C') + "... reason=invalid_field"), std::string::npos) << lines[0];
    EXPECT_EQ(lines[0].find(std::string(201, 'C')), std::string::npos);
    EXPECT_NE(lines[0].find("message=\"bad\\r2026-12-07"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("\\x1b[2K\""), std::string::npos) << lines[0];
    EXPECT_NE(lines[1].find("password *** token *** conn Driver=X;PWD=***;"), std::string::npos) << lines[1];
  } else {
    // JSON stays complete: the whole code, the control characters as JSON escapes.
    const auto j = nlohmann::json::parse(lines[0]);
    const std::string message = j.at("message");
    EXPECT_NE(message.find("code=" + code + " reason"), std::string::npos);
    EXPECT_NE(message.find("bad\r2026-12-07"), std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(lines[1]).at("message"), "login failed: password *** token *** conn Driver=X;PWD=***;");
  }
}

TEST_P(LogSink, AStructuredMessageHasItsFieldsRedacted) {
  nlohmann::json fields = {{"event", "sync"}, {"error", "401 for token " + kLearned}, {"fetched", 3}};
  logger("erp")->info("{}", fields.dump());
  const auto lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find(kLearned), std::string::npos) << lines[0];
  if (GetParam() == "json") {
    const auto j = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(j.at("error"), "401 for token ***");
    EXPECT_EQ(j.at("fetched"), 3);
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, LogSink, ::testing::Values("text", "json"));

TEST(TextLogMessage, CutsEachValueAndKeepsKeysAndShortValues) {
  EXPECT_EQ(text_log_message("a=1 b=\"two words\" plain", 5), "a=1 b=\"two w...\" plain");
  EXPECT_EQ(text_log_message("k=" + std::string(9, 'x'), 4), "k=xxxx...");
  EXPECT_EQ(text_log_message("word\nforged line", 200), "word\\nforged line");
  // A quote escaped inside a quoted value does not end it.
  EXPECT_EQ(text_log_message("m=\"a \\\" b c d\" z=1", 3), "m=\"a \\...\" z=1");
  // A report's error gets more room, and is cut too.
  EXPECT_EQ(text_log_message("x=abcdef error=\"abcdef\"", 2, 4), "x=ab... error=\"abcd...\"");
}

TEST(RedactingStore, TheRunMessageIsStoredRedacted) {
  configure_logging(LogSettings{"info", "text", "", {kConfigured}});
  connectors::http::process_secrets().add_learned(kLearned);
  core::MemoryStore inner;
  RedactingStore store(inner);
  const auto run = store.begin_run("shop", "customers", "host-a");
  store.finish_run(run, "error", {}, "GET failed: " + kLearned + " / " + kConfigured + " / PWD=odbc-pass;");
  ASSERT_EQ(inner.runs().count(run), 1u);
  EXPECT_EQ(inner.runs().at(run).message, "GET failed: *** / *** / PWD=***;");
}

}  // namespace
}  // namespace erpsync::daemon
