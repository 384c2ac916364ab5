// SPEC §4.3 "CSV": streamed — a CSV feed's memory does not grow with the number of rows. erpsyncd
// --once syncs a CSV export of 200,000 companies (about 90 MB: each row carries a long column no
// field maps, as ERP exports do) with their contacts in a second file into SQLite, then a copy
// with new bytes, the same records and one more (every record decided again against the stored
// state); the child's peak resident set (wait4's ru_maxrss) stays under 64 MiB each time, well
// below the companies file alone — a run that held the file whole could not. What does grow with
// the rows (the engine's set of remote ids, the contacts index) is a few MB here. SQLite only:
// the bound is the daemon's, not the engine's.

#include <gtest/gtest.h>
#include <utime.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include "e2e_fixture.hpp"

namespace erpsync::testing {
namespace {

constexpr std::size_t kCompanies = 200000;
constexpr std::size_t kBound = std::size_t{64} << 20;

// The files are written row by row, never built in this process: a child's peak resident set
// (ru_maxrss) starts from its parent's, whose memory it shared until exec.

// An export that finished a minute ago (SPEC §4.3 stable_for).
void age(const std::string& path) {
  const time_t t = time(nullptr) - 60;
  utimbuf times{t, t};
  ASSERT_EQ(utime(path.c_str(), &times), 0);
}

// The companies file of generation `title`, with `extra` rows after the others; its size.
std::size_t write_companies(const std::string& path, const std::string& title, const std::string& extra) {
  const std::string notes(400, 'n');
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << title << "\nid;code;name;city;notes\n";
    for (std::size_t i = 1; i <= kCompanies; ++i)
      out << "C-" << i << ";K" << i << ";\"Company " << i << "; GmbH\";Berlin;" << notes << "\r\n";
    out << extra;
  }
  age(path);
  return std::filesystem::file_size(path);
}

// One contact for every fourth company, in the order of the companies.
void write_contacts(const std::string& path, const std::string& title) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << title << "\nid;company;last\n";
    for (std::size_t i = 4; i <= kCompanies; i += 4) out << "P-" << i << ";C-" << i << ";Rossi\n";
  }
  age(path);
}

class CsvDocumentMemory : public E2eTest {};

TEST_P(CsvDocumentMemory, ALargeExportSyncsInLessMemoryThanTheFileOnTheFirstAndTheNextRun) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "peak RSS under AddressSanitizer measures the sanitizer's own memory";
#endif
  const std::string feed = write_file("kunden.csv", "");
  const std::string people = write_file("kontakte.csv", "");
  const std::size_t size = write_companies(feed, "export 1", "");
  ASSERT_GT(size, kBound + (std::size_t{16} << 20)) << "the file must be larger than the bound";
  write_contacts(people, "contacts 1");
  write_config(R"([{ "name": "erp", "type": "feed", "format": "csv", "url": "file://)" + feed + R"(",
      "csv": { "delimiter": ";", "skip_lines": 1 }, "poll_interval": "5m", "default_owner": "sales",
      "fields": { "remote_id": "id", "external_code": "code", "name": "name", "city": "city" },
      "contacts": { "url": "file://)" + people + R"(", "company_key": "company",
                    "fields": { "remote_id": "id", "last_name": "last" } } }])",
               "", /*batch_size=*/500);

  const ProcessResult run1 = erpsyncd({"--once"});
  ASSERT_EQ(run1.exit_code, 0) << run1.err.substr(0, 2000);
  auto r1 = report_fields(run1.all(), "erp", "accounts");
  EXPECT_EQ(r1["status"], "ok") << run1.all().substr(0, 2000);
  EXPECT_EQ(r1["created"], std::to_string(kCompanies));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts"), std::to_string(kCompanies / 4));
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = 'K199999'"), "Company 199999; GmbH");
  EXPECT_LE(run1.peak_rss_bytes, kBound) << "first run: peak " << (run1.peak_rss_bytes >> 20) << " MiB, file "
                                         << (size >> 20) << " MiB";

  write_contacts(people, "contacts 2");
  write_companies(feed, "export 2", "C-new;KNEW;New GmbH;Rom;x\r\n");
  const ProcessResult run2 = erpsyncd({"--once"});
  ASSERT_EQ(run2.exit_code, 0) << run2.err.substr(0, 2000);
  auto r2 = report_fields(run2.all(), "erp", "accounts");
  EXPECT_EQ(r2["created"], "1") << run2.all().substr(0, 2000);
  EXPECT_EQ(r2["unchanged"], std::to_string(kCompanies));
  EXPECT_LE(run2.peak_rss_bytes, kBound) << "next run: peak " << (run2.peak_rss_bytes >> 20) << " MiB";
}

INSTANTIATE_TEST_SUITE_P(E2e, CsvDocumentMemory, ::testing::Values(Engine::sqlite), engine_param_name);

}  // namespace
}  // namespace erpsync::testing
