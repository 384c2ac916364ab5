// CSV read in pieces (SPEC §4.3 "CSV": streamed; SPEC §11): the row reader over a DocumentBytes
// reads the same rows, lines and offsets whatever the piece size — a quoted CRLF, a doubled
// quote, a CR of a CRLF, a byte order mark, a UTF-8 or Windows-1252 character split between two
// pieces, a last row without a line break — and never asks for more than a piece or the row it
// is reading; the CSV mapper maps the same records and hands over the same contact rows from
// files read in pieces as from the whole text, finds rule 7's repeats across the file, and
// converts each value from a legacy encoding on its own (a UTF-16 file whole); a file written to
// in place while it is read fails the run, one replaced by a rename does not; the streamed
// content hash is the hash of the bytes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <iconv.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>

#include "connectors/feed/csv_reader.hpp"
#include "connectors/feed/document_bytes.hpp"
#include "connectors/feed/mapper.hpp"
#include "connectors/feed/reader.hpp"
#include "connectors/feed/transcode.hpp"
#include "core/errors.hpp"
#include "core/rules/payload.hpp"

namespace erpsync::connectors::feed {
namespace {

namespace fs = std::filesystem;
using core::ContactField;
using core::Field;
using ::testing::HasSubstr;

// A document read like a file (never in memory), giving at most `cap` bytes a read, remembering
// the largest read asked for.
class PieceBytes final : public DocumentBytes {
 public:
  explicit PieceBytes(std::string text, std::string location = "f.csv", std::size_t cap = SIZE_MAX)
      : text_(std::move(text)), location_(std::move(location)), cap_(cap) {}
  std::uint64_t size() const override { return text_.size(); }
  std::size_t read_at(std::uint64_t offset, char* into, std::size_t n) const override {
    largest_read = std::max(largest_read, n);
    ++reads;
    if (offset >= text_.size()) return 0;
    const std::size_t got = std::min({n, cap_, static_cast<std::size_t>(text_.size() - offset)});
    std::copy_n(text_.data() + offset, got, into);
    return got;
  }
  const std::string& location() const override { return location_; }
  void check_unchanged() const override { ++checked; }

  mutable std::size_t largest_read = 0;
  mutable int reads = 0;
  mutable int checked = 0;

 private:
  std::string text_;
  std::string location_;
  std::size_t cap_;
};

std::vector<CsvRow> rows_of(CsvReader& r) {
  std::vector<CsvRow> out;
  CsvRow row;
  while (r.next(row)) out.push_back(row);
  return out;
}

// Rows, lines, offsets and damage as one comparable string.
std::string shown(const std::vector<CsvRow>& rows) {
  std::string out;
  for (const CsvRow& r : rows) {
    out += std::to_string(r.line) + "@" + std::to_string(r.offset) + (r.error ? "!" + *r.error : "") + ":";
    for (const std::string& f : r.fields) out += "[" + f + "]";
    out += "\n";
  }
  return out;
}

// Documents whose awkward spots a piece boundary falls on for some piece size.
const std::vector<std::string>& awkward_documents() {
  static const std::vector<std::string> docs = {
      // BOM, a title line skipped, a quoted CRLF, doubled quotes, padding after a closing quote
      "\xEF\xBB\xBFTitel \"offen\r\nid;name;street\r\n1;\"M\xC3\xBCller \"\"&\"\" S\xC3\xB6hne\";\"Hauptstr. 1\r\n"
      "Hinterhaus\"  \r\n\r\n2;Beta;x\r3;\"a\"\"\";\"\"\n",
      // Windows-1252 bytes, lone CRs, blank lines, damaged row, last row without a line break
      "id;name\n\n10;K\xF6hler\r11;\"bad\"x;y\r\n\r\n12;Stra\xDF" "e",
      // a last row that ends in a quoted field, no line break
      "a,b\n1,\"two\nlines\"",
  };
  return docs;
}

TEST(CsvPieces, EveryPieceSizeReadsTheRowsOfTheWholeText) {
  for (const std::string& doc : awkward_documents()) {
    const int skip = doc.rfind("\xEF\xBB\xBF", 0) == 0 ? 1 : 0;
    const CsvDialect d = doc.find(';') != std::string::npos ? CsvDialect{';', '"'} : CsvDialect{',', '"'};
    CsvReader whole(doc, d, skip, "f.csv");
    const std::string expected = shown(rows_of(whole));
    ASSERT_FALSE(expected.empty());
    for (std::size_t piece = 1; piece <= doc.size() + 1; ++piece) {
      PieceBytes bytes(doc);
      CsvReader r(bytes, d, skip, "f.csv", piece);
      EXPECT_EQ(shown(rows_of(r)), expected) << "piece " << piece << " of\n" << doc;
      EXPECT_EQ(bytes.checked, 1) << "the end of the document checks it is unchanged";
    }
  }
}

TEST(CsvPieces, ReadsNoMoreThanAPieceOrTheRowBeingRead) {
  std::string doc = "id;name\n";
  for (int i = 0; i < 20000; ++i) doc += std::to_string(i) + ";Company " + std::to_string(i) + "\n";
  doc += "20000;\"" + std::string(10000, 'x') + "\"\n";  // one row longer than a piece
  PieceBytes bytes(doc);
  CsvReader r(bytes, {';', '"'}, 0, "f.csv", 4096);
  const std::vector<CsvRow> rows = rows_of(r);
  ASSERT_EQ(rows.size(), 20002u);
  EXPECT_EQ(rows.back().fields[1].size(), 10000u);
  EXPECT_LE(bytes.largest_read, 2 * 10010u) << "a long row costs about its length, not the document";
  EXPECT_GT(bytes.reads, static_cast<int>(doc.size() / 4096)) << "the document is read in pieces";
}

TEST(CsvPieces, ResumingAtARowReadsThatRowFromItsOffset) {
  const std::string& doc = awkward_documents()[0];
  CsvReader whole(doc, {';', '"'}, 1, "f.csv");
  for (const CsvRow& row : rows_of(whole)) {
    PieceBytes bytes(doc);
    CsvReader r = CsvReader::resume(bytes, {';', '"'}, "f.csv", row.offset, row.line, 3);
    CsvRow again;
    ASSERT_TRUE(r.next(again));
    EXPECT_EQ(shown({again}), shown({row}));
  }
}

TEST(CsvPieces, ANulByteInALaterPieceOrAQuoteNeverClosedFailsNamingTheLine) {
  std::string doc = "a;b\n1;2\n3;\"x\r\ny\"\n";
  doc += std::string("5;") + '\0' + "\n";
  PieceBytes nul(doc);
  try {
    CsvReader r(nul, {';', '"'}, 0, "f.csv", 5);
    rows_of(r);
    FAIL() << "expected not CSV";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::permanent);
    EXPECT_THAT(e.what(), HasSubstr("a NUL byte"));
    EXPECT_THAT(e.what(), HasSubstr("at line 5"));
  }
  PieceBytes open("a;b\n1;2\n3;\"never closed\n4;5\n6;7\n");
  try {
    CsvReader r(open, {';', '"'}, 0, "f.csv", 4);
    rows_of(r);
    FAIL() << "expected not CSV";
  } catch (const core::SyncError& e) {
    EXPECT_THAT(e.what(), HasSubstr("a quoted field opened and never closed at line 3"));
  }
}

// ---- the mapper over pieces --------------------------------------------------------------------

FeedConfig contacts_feed(const std::string& encoding) {
  FeedConfig f;
  f.format = FeedFormat::csv;
  f.csv.delimiter = ';';
  f.encoding = encoding;
  f.fields[static_cast<std::size_t>(Field::remote_id)] = FieldPath{"Nr", {}};
  f.fields[static_cast<std::size_t>(Field::name)] = FieldPath{"Firma", {}};
  FeedContactsConfig contacts;
  contacts.fields[static_cast<std::size_t>(ContactField::remote_id)] = FieldPath{"Id", {}};
  contacts.fields[static_cast<std::size_t>(ContactField::last_name)] = FieldPath{"Name", {}};
  f.contacts = contacts;
  f.csv.company_key = "Kunde";
  return f;
}

std::string shown(const std::vector<core::IncomingAccount>& recs) {
  std::string out;
  for (const auto& r : recs) {
    out += r.get(Field::remote_id) + "|" + r.get(Field::name) + (r.invalid ? "!" + *r.invalid : "");
    for (const auto& c : r.contacts) out += " <" + c.get(ContactField::remote_id) + "," + c.get(ContactField::last_name) + ">";
    out += "\n";
  }
  return out;
}

std::string shown(const std::vector<core::IncomingContactRecord>& contacts) {
  std::string out;
  for (const auto& c : contacts)
    out += c.company_remote_id + "/" + c.remote_id + "/" + c.last_name + (c.invalid ? "!" + *c.invalid : "") + "\n";
  return out;
}

// Windows-1252 companies whose umlauts, a quoted CRLF, and a byte the code page lacks fall on
// piece boundaries, and contacts out of the companies' order, one of a company not in the file.
const std::string kCompanies1252 =
    "Nr;Firma\r\n10;M\xFCller & S\xF6hne\r\n11;\"Stra\xDF" "e\r\nHof\"\r\n12;Bad\x81" "Byte\r\n13;\xC4rzte\r\n";
const std::string kContacts1252 = "Id;Kunde;Name\n1;12;Alpha\n2;10;J\xFCrgen\n3;99;Orphan \xD6\n4;10;Gamma\n5;11\n";

TEST(CsvPieces, TheMapperMapsTheSameRecordsAndContactsFromPiecesAsFromTheText) {
  const FeedConfig feed = contacts_feed("windows-1252");
  auto whole = make_mapper(feed, {});
  whole->load_contacts(std::string(kContacts1252), "c.csv");
  ASSERT_EQ(whole->load(kCompanies1252, "k.csv"), 4u);
  const std::string records = shown(whole->map(0, 4));
  const std::string orphans = shown(whole->unclaimed_contacts());
  EXPECT_THAT(records, HasSubstr("10|Müller & Söhne <2,Jürgen> <4,Gamma>"));
  EXPECT_THAT(records, HasSubstr("11|Straße\r\nHof!c.csv line 6: 2 columns"));
  EXPECT_THAT(records, HasSubstr("12|Bad\xEF\xBF\xBD" "Byte!name holds a byte that windows-1252 does not define"));
  EXPECT_EQ(orphans, "99/3/Orphan Ö\n");

  for (std::size_t piece : {1u, 2u, 3u, 5u, 7u, 16u}) {
    auto m = make_mapper(feed, {});
    m->load_contacts_from(std::make_unique<PieceBytes>(kContacts1252, "c.csv", piece), "c.csv");
    // Mapped one record at a time, as slices would, and once out of order (from a checkpoint).
    ASSERT_EQ(m->load_from(std::make_unique<PieceBytes>(kCompanies1252, "k.csv", piece), "k.csv"), 4u);
    std::vector<core::IncomingAccount> recs;
    for (std::size_t i = 0; i < 4; ++i) recs.push_back(m->map(i, i + 1).at(0));
    EXPECT_EQ(shown(recs), records) << "piece " << piece;
    EXPECT_EQ(shown(m->unclaimed_contacts()), orphans);
    EXPECT_EQ(shown(m->map(2, 3)), shown(std::vector<core::IncomingAccount>{recs[2]}));
  }
}

TEST(CsvPieces, AUtf16FileIsConvertedWholeAndMapsLikeItsUtf8) {
  const std::string utf8 = "Nr;Firma\n10;Müller\n11;Ärzte\n";
  iconv_t cd = ::iconv_open("UTF-16", "UTF-8");
  ASSERT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string utf16(4 * utf8.size() + 4, '\0');
  char* in = const_cast<char*>(utf8.data());
  char* out = utf16.data();
  std::size_t in_left = utf8.size(), out_left = utf16.size();
  ASSERT_NE(::iconv(cd, &in, &in_left, &out, &out_left), static_cast<std::size_t>(-1));
  utf16.resize(utf16.size() - out_left);
  ::iconv_close(cd);
  EXPECT_FALSE(Transcoder("UTF-16").splits_at_ascii());
  EXPECT_TRUE(Transcoder("windows-1252").splits_at_ascii());
  EXPECT_TRUE(Transcoder("iso-8859-15").splits_at_ascii());

  FeedConfig feed = contacts_feed("UTF-16");
  feed.contacts.reset();
  auto m = make_mapper(feed, {});
  ASSERT_EQ(m->load_from(std::make_unique<PieceBytes>(utf16, "k.csv", 3), "k.csv"), 2u);
  EXPECT_EQ(shown(m->map(0, 2)), "10|Müller\n11|Ärzte\n");
}

TEST(CsvPieces, RepeatedRemoteIdsAcrossTheFileAreFoundForRule7) {
  FeedConfig feed = contacts_feed("utf-8");
  feed.contacts.reset();
  std::string doc = "Nr;Firma\n";
  for (int i = 0; i < 3000; ++i) doc += (i % 1000 == 7 ? std::string("R") : std::to_string(i)) + ";x\n";
  doc += "5;again\n";
  auto m = make_mapper(feed, {});
  m->hash_remote_ids_above(100);
  ASSERT_EQ(m->load_from(std::make_unique<PieceBytes>(doc, "k.csv", 100), "k.csv"), 3001u);
  const std::optional<std::vector<std::size_t>> superseded = m->superseded_records();
  ASSERT_TRUE(superseded);
  EXPECT_EQ(*superseded, (std::vector<std::size_t>{5, 7, 1007}));  // "R" at 7, 1007, 2007; "5" at 5, 3000
  EXPECT_EQ(m->remote_id(2007), "R");
  EXPECT_EQ(m->remote_id(3000), "5");

  auto few = make_mapper(feed, {});
  few->hash_remote_ids_above(5000);  // one page: the engine finds repeats within it
  ASSERT_EQ(few->load_from(std::make_unique<PieceBytes>(doc), "k.csv"), 3001u);
  EXPECT_FALSE(few->superseded_records());
}

// ---- files -------------------------------------------------------------------------------------

class CsvFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("erpsync_csv_pieces_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    return p.string();
  }
  // The file's mtime an hour back, so that stable_for has passed.
  static void age(const std::string& path) {
    struct timeval times[2];
    ::gettimeofday(&times[0], nullptr);
    times[0].tv_sec -= 3600;
    times[1] = times[0];
    ASSERT_EQ(::utimes(path.c_str(), times), 0);
  }
  fs::path dir_;
};

TEST_F(CsvFile, TheStreamedHashIsTheHashOfTheBytes) {
  std::string text;
  for (int i = 0; i < 300000; ++i) text += std::to_string(i) + ";row\n";  // several 1 MiB pieces
  const std::string path = write("k.csv", text);
  age(path);
  FileReader reader(path, 1 << 30, std::chrono::seconds(5), system_clock(), "feed erp");
  const std::unique_ptr<DocumentBytes> bytes = reader.open();
  EXPECT_EQ(bytes->size(), text.size());
  EXPECT_FALSE(bytes->in_memory());
  EXPECT_EQ(sha256_hex(*bytes), core::sha256_hex(text));
  EXPECT_EQ(read_all(*bytes), text);
}

TEST_F(CsvFile, AFileWrittenToInPlaceWhileReadFailsTheRunAndOneRenamedOverDoesNot) {
  const std::string path = write("k.csv", "id\n1\n2\n3\n");
  age(path);
  FileReader reader(path, 1 << 20, std::chrono::seconds(5), system_clock(), "feed erp");

  std::unique_ptr<DocumentBytes> renamed_over = reader.open();
  const std::string other = write("k.csv.tmp", "id\n9\n");
  fs::rename(other, path);
  EXPECT_EQ(read_all(*renamed_over), "id\n1\n2\n3\n") << "the descriptor reads the file opened";

  age(path);
  std::unique_ptr<DocumentBytes> truncated = reader.open();
  ASSERT_EQ(::truncate(path.c_str(), 2), 0);
  try {
    read_all(*truncated);
    FAIL() << "expected a transient error";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), core::SyncError::Kind::transient);
    EXPECT_THAT(e.what(), HasSubstr("feed erp: " + path + " changed while it was read"));
  }

  write("k.csv", "id\n1\n2\n3\n");
  age(path);
  std::unique_ptr<DocumentBytes> appended = reader.open();
  std::ofstream(path, std::ios::app) << "4\n";
  EXPECT_THROW(
      {
        CsvReader r(*appended, {';', '"'}, 0, "k.csv");
        rows_of(r);
      },
      core::SyncError);
}

}  // namespace
}  // namespace erpsync::connectors::feed
