// libFuzzer target: the CSV row reader, the CSV mapper (companies and a contacts file) and the
// windows-1252 transcoder in front of it (SPEC §4.3 "CSV", "Encodings") on untrusted exports.
// The columns are those of examples/csv (the seeds are such exports). The first input byte picks the dialect and encoding; the rest is split at the first 0xFF byte
// into the companies file and the contacts file. Property: nothing crashes, only
// core::SyncError is thrown, every record is mapped, what the reader reads again from a row's
// start is the row it read, and the file read in pieces (of a size the first byte picks) gives
// the rows, the error and the records of its whole text.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>
#include <string>
#include <string_view>

#include "connectors/feed/csv_reader.hpp"
#include "connectors/feed/document_bytes.hpp"
#include "connectors/feed/mapper.hpp"
#include "connectors/feed/transcode.hpp"
#include "core/errors.hpp"

namespace {

using namespace erpsync;

connectors::feed::FeedConfig feed_config(char delimiter, bool header, bool cp1252) {
  connectors::feed::FeedConfig f;
  f.format = connectors::feed::FeedFormat::csv;
  f.csv.delimiter = delimiter;
  f.csv.header = header;
  f.csv.skip_lines = header ? 1 : 0;
  f.encoding = cp1252 ? "windows-1252" : "utf-8";
  auto col = [&](const char* named, const char* numbered) { return connectors::feed::FieldPath{header ? named : numbered, std::nullopt}; };
  using core::Field;
  f.fields[static_cast<std::size_t>(Field::external_code)] = col("Kundennummer", "1");
  f.fields[static_cast<std::size_t>(Field::name)] = col("Firma", "2");
  connectors::feed::FieldPath rel = col("Kundenart", "3");
  rel.map = std::map<std::string, std::string>{{"K", "customer"}, {"I", "prospect"}};
  f.fields[static_cast<std::size_t>(Field::relationship)] = rel;
  f.fields[static_cast<std::size_t>(Field::active)] = col("Gesperrt", "4");
  connectors::feed::FeedContactsConfig contacts;
  contacts.fields[static_cast<std::size_t>(core::ContactField::remote_id)] = col("Ansprechpartner", "1");
  contacts.fields[static_cast<std::size_t>(core::ContactField::last_name)] = col("Nachname", "3");
  f.contacts = contacts;
  f.csv.company_key = header ? "Kundennummer" : "2";
  return f;
}

// A document read like a file, `cap` bytes a read at most.
class PieceBytes final : public connectors::feed::DocumentBytes {
 public:
  PieceBytes(std::string_view text, std::size_t cap) : text_(text), cap_(cap) {}
  std::uint64_t size() const override { return text_.size(); }
  std::size_t read_at(std::uint64_t offset, char* into, std::size_t n) const override {
    if (offset >= text_.size()) return 0;
    const std::size_t got = std::min({n, cap_, static_cast<std::size_t>(text_.size() - offset)});
    std::copy_n(text_.data() + offset, got, into);
    return got;
  }
  const std::string& location() const override { return location_; }

 private:
  std::string_view text_;
  std::size_t cap_;
  std::string location_ = "fuzz";
};

// Every row (fields, line, offset, damage) and the error that ended the reading, as one string.
template <class MakeReader>
std::string rows_read(MakeReader&& make) {
  std::string out;
  try {
    connectors::feed::CsvReader reader = make();
    connectors::feed::CsvRow row;
    while (reader.next(row)) {
      out += std::to_string(row.line) + "@" + std::to_string(row.offset) + (row.error ? "!" + *row.error : "") + ":";
      for (const std::string& f : row.fields) out += std::to_string(f.size()) + "=" + f;
      out += "\n";
    }
  } catch (const core::SyncError& e) {
    out += std::string("error: ") + e.what();
  }
  return out;
}

void pieces_match_text(std::string_view text, connectors::feed::CsvDialect d, std::size_t cap) {
  using connectors::feed::CsvReader;
  const PieceBytes bytes(text, cap);
  std::string whole = rows_read([&] { return CsvReader(text, d, 1, "fuzz"); });
  std::string pieces = rows_read([&] { return CsvReader(bytes, d, 1, "fuzz", cap); });
  // A NUL byte fails the whole text at once, pieces once the one holding it is read: the same
  // error, after the rows before it.
  if (text.find('\0') != std::string_view::npos) {
    whole = whole.substr(whole.rfind("error: ") == std::string::npos ? 0 : whole.rfind("error: "));
    pieces = pieces.substr(pieces.rfind("error: ") == std::string::npos ? 0 : pieces.rfind("error: "));
  }
  if (whole != pieces) __builtin_trap();
}

void reader_round_trip(std::string_view text, connectors::feed::CsvDialect d) {
  using connectors::feed::CsvReader;
  using connectors::feed::CsvRow;
  try {
    CsvReader reader(text, d, 0, "fuzz");
    CsvRow row, again;
    while (reader.next(row)) {
      CsvReader r = CsvReader::resume(text, d, "fuzz", row.offset, row.line);
      if (!r.next(again) || again.fields != row.fields || again.line != row.line) __builtin_trap();
    }
  } catch (const core::SyncError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const char delimiter = (mode & 3) == 0 ? ',' : (mode & 3) == 1 ? ';' : (mode & 3) == 2 ? '\t' : '|';
  const bool header = (mode & 4) == 0;
  const bool cp1252 = (mode & 8) != 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto split = rest.find('\xFF');
  const std::string_view companies = rest.substr(0, split);
  const std::string_view contacts = split == std::string_view::npos ? std::string_view() : rest.substr(split + 1);

  reader_round_trip(companies, {delimiter, '"'});
  static constexpr std::size_t kCaps[] = {1, 2, 3, 5, 8, 13, 64, 4096};
  const std::size_t cap = kCaps[(mode >> 4) & 7];
  pieces_match_text(companies, {delimiter, '"'}, cap);
  if (cp1252) {
    connectors::feed::Transcoder t("windows-1252");
    const std::string utf8 = t.to_utf8(companies);
    if (utf8.size() < companies.size()) __builtin_trap();  // every byte becomes at least one
  }
  connectors::ParseLimits limits;
  limits.max_bytes = 1 << 20;
  auto mapper = connectors::feed::make_mapper(feed_config(delimiter, header, cp1252), limits);
  std::vector<core::IncomingAccount> records;
  bool whole_failed = false;
  try {
    mapper->load_contacts(std::string(contacts), "fuzz contacts");
    const std::size_t n = mapper->load(companies, "fuzz");
    records = mapper->map(0, n);
    if (records.size() != n) __builtin_trap();
    for (std::size_t i = 0; i < n; ++i)
      if (mapper->remote_id(i) != records[i].get(core::Field::remote_id)) __builtin_trap();
  } catch (const core::SyncError&) {
    whole_failed = true;
  }
  // The same files read in pieces map to the same records (or fail alike).
  auto streamed = connectors::feed::make_mapper(feed_config(delimiter, header, cp1252), limits);
  try {
    streamed->load_contacts_from(std::make_unique<PieceBytes>(contacts, cap), "fuzz contacts");
    const std::size_t n = streamed->load_from(std::make_unique<PieceBytes>(companies, cap), "fuzz");
    const auto again = streamed->map(0, n);
    if (whole_failed || again.size() != records.size()) __builtin_trap();
    for (std::size_t i = 0; i < again.size(); ++i)
      if (again[i].values != records[i].values || again[i].invalid != records[i].invalid ||
          again[i].contacts.size() != records[i].contacts.size())
        __builtin_trap();
  } catch (const core::SyncError&) {
    if (!whole_failed) __builtin_trap();
  }
  return 0;
}
