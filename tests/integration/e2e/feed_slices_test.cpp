// A file feed larger than one slice (FeedSource::kFileSliceRecords records), through the real
// binary on every engine: the document reaches the engine in slices, yet a remote id repeated
// in a later slice supersedes the earlier one (SPEC §3 rule 7), records the next export lacks
// are marked missing once the whole snapshot is in, and a snapshot that shrank too much is
// refused before anything is written.

#include "connectors/feed/feed_source.hpp"
#include "e2e_fixture.hpp"

namespace erpsync::testing {
namespace {

// Records at positions 1..n with remote id = position and code C-<id>, except the positions in
// `repeat` which carry another record's id (and code); names say the position.
std::string export_xml(std::size_t n, const std::map<std::size_t, std::size_t>& repeat) {
  std::string out = "<?xml version=\"1.0\"?>\n<Export>\n";
  for (std::size_t i = 1; i <= n; ++i) {
    const std::size_t id = repeat.count(i) ? repeat.at(i) : i;
    out += "  <C id=\"" + std::to_string(id) + "\"><Code>C-" + std::to_string(id) + "</Code><Name>at " +
           std::to_string(i) + "</Name><Rep>jsmith</Rep></C>\n";
  }
  return out + "</Export>\n";
}

const char* kConnectors = R"([{
  "name": "erp", "type": "feed", "format": "xml", "url": "file://FEED",
  "records": "/Export/C", "poll_interval": "5m", "default_owner": "sales",
  "fields": { "remote_id": "@id", "external_code": "Code", "name": "Name", "owner": "Rep" }
}])";

class FeedSlices : public E2eTest {
 protected:
  std::string configure(const std::string& content) {
    const std::string feed = write_file("export.xml", content);
    std::string c = kConnectors;
    c.replace(c.find("FEED"), 4, feed);
    write_config(c);
    return feed;
  }
};

TEST_P(FeedSlices, RepeatsAcrossSlicesMissingAfterTheWholeSnapshotAndTheShrinkGuard) {
  constexpr std::size_t kSlice = connectors::feed::FeedSource::kFileSliceRecords;
  const std::size_t n = 2 * kSlice + 500;    // three slices
  const std::size_t repeat_at = 2 * kSlice + 400;  // in the third slice, repeating id 10 of the first
  configure(export_xml(n, {{repeat_at, 10}}));

  ProcessResult run1 = erpsyncd({"--once"});
  ASSERT_EQ(run1.exit_code, 0) << run1.all();
  auto r1 = report_fields(run1.all(), "erp");
  EXPECT_EQ(r1["status"], "ok");
  EXPECT_EQ(r1["fetched"], std::to_string(n));
  EXPECT_EQ(r1["created"], std::to_string(n - 1));
  EXPECT_EQ(r1["superseded"], "1");
  EXPECT_EQ(r1["failed"], "0");
  // The later record is the one synced, once.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'C-10'"), "1");
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = 'C-10'"), "at " + std::to_string(repeat_at));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE connector = 'erp' AND entity = 'account'"),
            std::to_string(n - 1));

  // The next export lacks everything past position 2·kSlice (shrink ~10%): those ids are marked
  // missing, id 10 comes back at its own position (renamed to "at 10").
  const std::size_t n2 = 2 * kSlice;
  write_file("export.xml", export_xml(n2, {}));
  ProcessResult run2 = erpsyncd({"--once"});
  ASSERT_EQ(run2.exit_code, 0) << run2.all();
  auto r2 = report_fields(run2.all(), "erp");
  EXPECT_EQ(r2["status"], "ok");
  EXPECT_EQ(r2["updated"], "1");
  EXPECT_EQ(r2["unchanged"], std::to_string(n2 - 1));
  const std::string missing = std::to_string(n - 1 - n2);  // ids n2+1..n, less the repeat's position
  EXPECT_EQ(r2["missing"], missing);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE connector = 'erp' AND missing_since IS NOT NULL"), missing);
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = 'C-10'"), "at 10");

  // An export that shrank by more than max_shrink (20%) is refused: nothing written, nothing
  // more marked missing, even though its first slices hold changed records.
  std::string shrunk = export_xml(kSlice, {});
  for (std::size_t pos = shrunk.find("</Name>"); pos != std::string::npos; pos = shrunk.find("</Name>", pos + 9))
    shrunk.insert(pos, " v2");
  write_file("export.xml", shrunk);
  const std::string before = scalar("SELECT MAX(updated_at) FROM accounts");
  ProcessResult run3 = erpsyncd({"--once"});
  auto r3 = report_fields(run3.all(), "erp");
  EXPECT_EQ(r3["status"], "error") << run3.all();
  EXPECT_NE(run3.all().find("max_shrink"), std::string::npos) << run3.all();
  EXPECT_EQ(scalar("SELECT MAX(updated_at) FROM accounts"), before);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE connector = 'erp' AND missing_since IS NOT NULL"), missing);
}

ERPSYNC_E2E_ON_ALL_ENGINES(FeedSlices);

}  // namespace
}  // namespace erpsync::testing
