#pragma once
// Rows of a CSV export (SPEC §4.3 "CSV"), read one at a time from a document held by the caller:
// nothing grows with the number of rows. Fields are separated by the delimiter; a field that
// starts with the quote may hold the delimiter, line breaks and doubled quotes ("" is one ");
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
// Pure: no I/O. Thread-safety: one reader per thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace erpsync::connectors::feed {

struct CsvDialect {
  char delimiter = ',';
  char quote = '"';
};

struct CsvRow {
  std::vector<std::string> fields;
  std::size_t line = 0;    // the line the row starts on (1-based, as an editor numbers them)
  std::size_t offset = 0;  // the byte offset of its start in the document
  std::optional<std::string> error;  // set for a damaged row (see above)
};

class CsvReader {
 public:
  // Starts after the byte order mark and `skip_lines` physical lines (title lines of an export;
  // they are skipped as lines, quotes in them mean nothing). `what` names the document in errors.
  // Throws core::SyncError{permanent} when `text` holds a NUL byte.
  CsvReader(std::string_view text, CsvDialect dialect, int skip_lines, std::string what);

  // Reads the next row into `row`; false at the end of the document. Throws
  // core::SyncError{permanent} for a quoted field that the document ends inside.
  bool next(CsvRow& row);

  // A reader at a row start that next() reported (its offset and line) in a document an earlier
  // reader has checked: reads that row again without looking at the rest of the document.
  static CsvReader resume(std::string_view text, CsvDialect dialect, std::string what, std::size_t offset,
                          std::size_t line) {
    CsvReader r(text, dialect, std::move(what));
    r.pos_ = offset;
    r.line_ = line;
    return r;
  }

 private:
  CsvReader(std::string_view text, CsvDialect dialect, std::string what)
      : text_(text), dialect_(dialect), what_(std::move(what)) {}
  // Consumes a line break at pos_ (CRLF, LF or CR) and counts it; false when none is there.
  bool line_break();

  std::string_view text_;
  CsvDialect dialect_;
  std::string what_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

}  // namespace erpsync::connectors::feed
