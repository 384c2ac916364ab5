#pragma once
// Rows of a CSV export (SPEC §4.3 "CSV"), read one at a time from a text held by the caller or
// from a document read in pieces (DocumentBytes: a file), so that nothing grows with the number
// of rows: the reader holds one piece and the row being read (a row longer than a piece grows
// it). What it reads does not depend on where pieces end.
//
// Fields are separated by the delimiter; a field that starts with the quote may hold the
// delimiter, line breaks and doubled quotes ("" is one ");
// rows end at CRLF, LF or a lone CR; a UTF-8 byte order mark at the start is skipped; blank
// lines are not rows. Line numbers are those an editor shows: the first line is 1, every line
// break counts, including those inside quoted fields.
//
// What is not CSV at all fails the whole document (core::SyncError{permanent}, naming `what` and
// the line): a NUL byte (a binary file), or a quoted field still open at the end of the file. A
// row that is only damaged (text after a closing quote) is read as far as it goes and says so
// in CsvRow::error, for the mapper to reject that record alone; so is a stray quote inside an
// unquoted field, which is kept as text (ERPs write `12" Rohr` unquoted).
//
// A document's bytes are read as they are: delimiter, quote, CR and LF are the ASCII bytes, so
// the document is UTF-8 or an encoding where those bytes mean only those characters (the mapper
// decodes values; see mapper.hpp). A UTF-8 byte order mark is skipped in any encoding (in a
// single-byte code page its three bytes would be "ï»¿", never the start of a column name).
//
// No I/O of its own (a DocumentBytes reads the file). Thread-safety: one reader per thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/feed/document_bytes.hpp"

namespace erpsync::connectors::feed {

struct CsvDialect {
  char delimiter = ',';
  char quote = '"';
};

struct CsvRow {
  std::vector<std::string> fields;
  std::size_t line = 0;      // the line the row starts on (1-based, as an editor numbers them)
  std::uint64_t offset = 0;  // the byte offset of its start in the document
  std::optional<std::string> error;  // set for a damaged row (see above)
};

class CsvReader {
 public:
  // Bytes read from a document at a time (the last piece of a document may be shorter).
  static constexpr std::size_t kPiece = std::size_t{1} << 20;

  // Over `text` held by the caller. Starts after the byte order mark and `skip_lines` physical
  // lines (title lines of an export; they are skipped as lines, quotes in them mean nothing).
  // `what` names the document in errors. Throws core::SyncError{permanent} when `text` holds a
  // NUL byte.
  CsvReader(std::string_view text, CsvDialect dialect, int skip_lines, std::string what);
  // Over `doc` (which must outlive the reader), read in pieces of `piece` bytes. The same rows
  // as over its whole text; a NUL byte fails the reader when the piece holding it is read (from
  // the constructor or next()). Also throws what doc.read_at() throws.
  CsvReader(const DocumentBytes& doc, CsvDialect dialect, int skip_lines, std::string what,
            std::size_t piece = kPiece);
  CsvReader(CsvReader&& other) noexcept;
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;
  CsvReader& operator=(CsvReader&&) = delete;

  // Reads the next row into `row` (its fields' strings are reused); false at the end of the
  // document — for a DocumentBytes, once it was read to its end and found unchanged
  // (check_unchanged()). Throws core::SyncError{permanent} for a quoted field that the document
  // ends inside.
  bool next(CsvRow& row);

  // A reader at a row start that next() reported (its offset and line) in a document an earlier
  // reader has checked: reads that row again without looking at the rest of the document.
  static CsvReader resume(std::string_view text, CsvDialect dialect, std::string what, std::uint64_t offset,
                          std::size_t line);
  // The same in a document read in pieces; `piece` small when one row is wanted (it grows for
  // a longer row).
  static CsvReader resume(const DocumentBytes& doc, CsvDialect dialect, std::string what, std::uint64_t offset,
                          std::size_t line, std::size_t piece);

 private:
  enum class Step { done, end, need_more };

  CsvReader(CsvDialect dialect, std::string what) : dialect_(dialect), what_(std::move(what)) {}
  // Starts reading `doc` at `offset` (line `line`).
  void open(const DocumentBytes& doc, std::uint64_t offset, std::size_t line, std::size_t piece);
  void skip_bom_and_lines(int skip_lines);
  Step skip_line();
  Step read_row(CsvRow& row);
  // Keeps the window's bytes from `keep` (the start of the row being read, on line `keep_line`)
  // and appends the next piece. Precondition: !at_end_.
  void refill(std::size_t keep, std::size_t keep_line);
  // Fails the document when window bytes [from, text_.size()) hold a NUL; the window's byte
  // `known` is on line `known_line`.
  void check_nul(std::size_t from, std::size_t known, std::size_t known_line) const;
  // Consumes a line break at pos_ (CRLF, LF or CR) and counts it; false when none is there.
  bool line_break();

  CsvDialect dialect_;
  std::string what_;
  const DocumentBytes* doc_ = nullptr;  // null: text_ is the whole document
  std::size_t piece_ = kPiece;
  std::string buffer_;       // holds the window, for a DocumentBytes (its size is its capacity)
  std::string_view text_;    // the window: the document's bytes [base_, base_ + text_.size())
  std::uint64_t base_ = 0;
  bool at_end_ = true;       // the window reaches the end of the document
  std::size_t pos_ = 0;      // in the window
  std::size_t line_ = 1;
};

}  // namespace erpsync::connectors::feed
