// One bad value never stops the good records, on any engine (SPEC §10): a feed of 40 good
// companies and 4 bad ones (a 65-character code, a 129-character remote id, a 65-character
// owner, a NUL byte inside a code) syncs the 40 and rejects the 4 alone (`invalid_field`), each
// with a rejection row that fits its columns (values shortened and escaped, the payload kept
// whole). The next export with the same records is quiet: nothing updated, no rejection logged
// again.

#include <gmock/gmock.h>

#include <set>
#include <sstream>

#include "core/rules/value_check.hpp"
#include "e2e_fixture.hpp"

namespace erpsync::testing {
namespace {

using ::testing::HasSubstr;

const std::string kLongCode(65, 'C');
const std::string kLongRemoteId(129, 'r');
const std::string kLongOwner(65, 'o');

std::string item(const std::string& id, const std::string& code_json, const std::string& rep) {
  return R"({"id": ")" + id + R"(", "code": ")" + code_json + R"(", "name": "Company )" + id + R"(", "rep": ")" + rep +
         "\"}";
}

// 40 good companies, then the 4 bad ones. `padding` changes the bytes, not the records.
std::string export_json(const std::string& padding = "") {
  std::string items;
  for (int i = 1; i <= 40; ++i) items += item(std::to_string(i), "C-" + std::to_string(100 + i), "jsmith") + ",\n";
  items += item("41", kLongCode, "jsmith") + ",\n";
  items += item(kLongRemoteId, "C-142", "jsmith") + ",\n";
  items += item("43", "C-143", kLongOwner) + ",\n";
  items += item("44", R"(C-\u0000-44)", "jsmith") + "\n";
  return "{\"items\": [\n" + items + "]}" + padding + "\n";
}

std::size_t chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// The report's counters that `expected` names, as "key=value" words, for one readable comparison.
std::string counters_of(const std::map<std::string, std::string>& report, const std::string& expected) {
  std::istringstream words(expected);
  std::string word, out;
  while (words >> word) {
    const std::string key = word.substr(0, word.find('='));
    const auto it = report.find(key);
    out += (out.empty() ? "" : " ") + key + "=" + (it == report.end() ? "?" : it->second);
  }
  return out;
}

std::size_t count_lines(const std::string& output, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = output.find(part); at != std::string::npos; at = output.find(part, at + 1)) ++n;
  return n;
}

class BadValues : public E2eTest {
 protected:
  void configure(const std::string& content) {
    const std::string feed = write_file("export.json", content);
    write_config(R"([{ "name": "erp", "type": "feed", "format": "json", "url": "file://)" + feed + R"(",
      "records": "/items", "poll_interval": "5m", "default_owner": "sales",
      "fields": { "remote_id": "/id", "external_code": "/code", "name": "/name", "owner": "/rep" } }])");
  }

  // erpsyncd --once: it exits 0, its report has the counters `expected` names, and it logs
  // `logged` rejections.
  void sync_once(const std::string& expected, std::size_t logged) {
    const ProcessResult run = erpsyncd({"--once"});
    EXPECT_EQ(run.exit_code, 0) << run.all();
    EXPECT_EQ(counters_of(report_fields(run.all(), "erp"), expected), expected) << run.all();
    EXPECT_EQ(count_lines(run.all(), "reason=invalid_field"), logged) << run.all();
  }
};

TEST_P(BadValues, FortyGoodCompaniesSyncFourBadOnesAreRejectedAloneWithRowsThatFitAndTheNextRunIsQuiet) {
  configure(export_json());
  sync_once("status=ok fetched=44 created=40 updated=0 rejected=4 failed=0", 4);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "40");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'C-144'"), "0");

  // The rejection rows: one per bad record, every identity column within its size.
  const auto rows = query(
      "SELECT remote_id, external_code, incoming_owner, message, payload FROM sync_rejections "
      "WHERE connector = 'erp' AND reason = 'invalid_field' ORDER BY remote_id");
  ASSERT_EQ(rows.size(), 4u);
  std::map<std::string, Row> by_id;
  for (const Row& row : rows) {
    ASSERT_TRUE(row[0]);
    EXPECT_LE(chars(*row[0]), core::kMaxRemoteId);
    EXPECT_LE(chars(row[1].value_or("")), core::kMaxExternalCode);
    EXPECT_LE(chars(row[2].value_or("")), core::kMaxOwner);
    by_id[*row[0]] = row;
  }
  const std::string long_id_key = core::rejection_key(kLongRemoteId);
  EXPECT_EQ(chars(long_id_key), core::kMaxRemoteId);
  ASSERT_EQ(by_id.count("41") + by_id.count(long_id_key) + by_id.count("43") + by_id.count("44"), 4u);
  EXPECT_EQ(*by_id["41"][1], core::fit_column(kLongCode, core::kMaxExternalCode));
  EXPECT_THAT(*by_id["41"][3], HasSubstr("external_code is 65 characters long"));
  EXPECT_THAT(*by_id[long_id_key][3], HasSubstr("remote_id is 129 characters long"));
  EXPECT_THAT(*by_id[long_id_key][4], HasSubstr(kLongRemoteId)) << "the payload keeps the whole value";
  EXPECT_EQ(*by_id["43"][2], core::fit_column(kLongOwner, core::kMaxOwner));
  EXPECT_THAT(*by_id["43"][3], HasSubstr("owner is 65 characters long"));
  EXPECT_EQ(*by_id["44"][1], "C-\\x00-44") << "shown escaped, not cut at the NUL";
  EXPECT_THAT(*by_id["44"][3], HasSubstr("external_code holds a NUL byte"));
  EXPECT_THAT(*by_id["44"][4], HasSubstr(R"(C-\u0000-44)"));

  // The same records in a new export: the good ones unchanged, the bad ones rejected again,
  // counted but not logged again, every row found again (times_seen 2), nothing updated.
  configure(export_json(" "));
  sync_once("status=ok fetched=44 created=0 updated=0 unchanged=40 rejected=4 failed=0", 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections"), "4");
  EXPECT_EQ(scalar("SELECT MIN(times_seen) FROM sync_rejections"), "2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "40");
}

ERPSYNC_E2E_ON_ALL_ENGINES(BadValues);

}  // namespace
}  // namespace erpsync::testing
