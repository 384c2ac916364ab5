#include "connectors/feed/csv_reader.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/errors.hpp"

namespace erpsync::connectors::feed {
namespace {

[[noreturn]] void not_csv(const std::string& what, std::size_t line, const std::string& why) {
  throw core::SyncError(core::SyncError::Kind::permanent,
                        what + ": not a CSV file: " + why + " at line " + std::to_string(line) +
                            " (check that the export is the CSV file configured, whole, with the configured delimiter "
                            "and quote)");
}

// The line byte `offset` of `text` is on, when byte 0 is on line `line`, counted as CsvReader
// counts (CRLF, LF and a lone CR are one break each).
std::size_t line_at(std::string_view text, std::size_t offset, std::size_t line) {
  for (std::size_t i = 0; i < offset && i < text.size(); ++i)
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))) ++line;
  return line;
}

}  // namespace

CsvReader::CsvReader(std::string_view text, CsvDialect dialect, int skip_lines, std::string what)
    : CsvReader(dialect, std::move(what)) {
  text_ = text;
  check_nul(0, 0, 1);
  skip_bom_and_lines(skip_lines);
}

CsvReader::CsvReader(const DocumentBytes& doc, CsvDialect dialect, int skip_lines, std::string what,
                     std::size_t piece)
    : CsvReader(dialect, std::move(what)) {
  open(doc, 0, 1, piece);
  skip_bom_and_lines(skip_lines);
}

CsvReader::CsvReader(CsvReader&& other) noexcept
    : dialect_(other.dialect_),
      what_(std::move(other.what_)),
      doc_(other.doc_),
      piece_(other.piece_),
      buffer_(std::move(other.buffer_)),
      text_(doc_ ? std::string_view(buffer_.data(), other.text_.size()) : other.text_),
      base_(other.base_),
      at_end_(other.at_end_),
      pos_(other.pos_),
      line_(other.line_) {}

CsvReader CsvReader::resume(std::string_view text, CsvDialect dialect, std::string what, std::uint64_t offset,
                            std::size_t line) {
  CsvReader r(dialect, std::move(what));
  r.text_ = text;
  r.pos_ = static_cast<std::size_t>(std::min<std::uint64_t>(offset, text.size()));
  r.line_ = line;
  return r;
}

CsvReader CsvReader::resume(const DocumentBytes& doc, CsvDialect dialect, std::string what, std::uint64_t offset,
                            std::size_t line, std::size_t piece) {
  CsvReader r(dialect, std::move(what));
  r.open(doc, offset, line, piece);
  return r;
}

void CsvReader::open(const DocumentBytes& doc, std::uint64_t offset, std::size_t line, std::size_t piece) {
  line_ = line;
  if (const std::optional<std::string_view> whole = doc.in_memory()) {
    text_ = *whole;  // held in memory: read in place
    pos_ = static_cast<std::size_t>(std::min<std::uint64_t>(offset, text_.size()));
    if (offset == 0) check_nul(0, 0, line);
    return;
  }
  doc_ = &doc;
  piece_ = std::max<std::size_t>(piece, 1);
  base_ = offset;
  at_end_ = base_ >= doc.size();
  text_ = std::string_view(buffer_.data(), 0);
  if (!at_end_) refill(0, line);
}

void CsvReader::refill(std::size_t keep, std::size_t keep_line) {
  const std::size_t kept = text_.size() - keep;
  std::memmove(buffer_.data(), buffer_.data() + keep, kept);
  base_ += keep;
  pos_ -= std::min(pos_, keep);
  // A row longer than a piece doubles what is read next, so that a long row costs its length.
  const std::size_t want = std::max(piece_, kept);
  if (buffer_.size() < kept + want) buffer_.resize(kept + want);  // grows only: no refill pays a clear
  const std::size_t got = doc_->read_at(base_ + kept, buffer_.data() + kept, want);
  text_ = std::string_view(buffer_.data(), kept + got);
  at_end_ = got == 0 || base_ + text_.size() >= doc_->size();
  check_nul(kept, 0, keep_line);
}

void CsvReader::check_nul(std::size_t from, std::size_t known, std::size_t known_line) const {
  if (from >= text_.size()) return;
  if (const void* nul = std::memchr(text_.data() + from, '\0', text_.size() - from)) {
    const auto at = static_cast<std::size_t>(static_cast<const char*>(nul) - text_.data());
    not_csv(what_, line_at(text_.substr(known), at - known, known_line), "a NUL byte (a binary file?)");
  }
}

void CsvReader::skip_bom_and_lines(int skip_lines) {
  // A byte order mark needs the document's first three bytes in the window.
  while (!at_end_ && text_.size() < 3) refill(0, line_);
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  for (int i = 0; i < skip_lines;) {
    const std::size_t start = pos_, start_line = line_;
    const Step step = skip_line();
    if (step == Step::need_more) {
      pos_ = start;
      line_ = start_line;
      refill(start, start_line);
      continue;
    }
    if (step == Step::end) break;
    ++i;
  }
}

CsvReader::Step CsvReader::skip_line() {
  if (pos_ >= text_.size()) return at_end_ ? Step::end : Step::need_more;
  while (pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
  line_break();
  // A CR at the window's end may be the first half of a CRLF.
  return pos_ >= text_.size() && !at_end_ ? Step::need_more : Step::done;
}

bool CsvReader::line_break() {
  if (pos_ >= text_.size()) return false;
  if (text_[pos_] == '\r') {
    ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
  } else if (text_[pos_] == '\n') {
    ++pos_;
  } else {
    return false;
  }
  ++line_;
  return true;
}

bool CsvReader::next(CsvRow& row) {
  for (;;) {
    // A row is read whole from one window: when it runs into the window's end before the
    // document's, the window is refilled from the row's start (blank lines before it included)
    // and the row read again, so that pieces never split what is read.
    const std::size_t start = pos_, start_line = line_;
    const Step step = read_row(row);
    if (step == Step::done) return true;
    if (step == Step::end) {
      if (doc_) doc_->check_unchanged();
      return false;
    }
    pos_ = start;
    line_ = start_line;
    refill(start, start_line);
  }
}

CsvReader::Step CsvReader::read_row(CsvRow& row) {
  while (line_break()) {
  }  // blank lines are not rows
  if (pos_ >= text_.size()) return at_end_ ? Step::end : Step::need_more;
  std::size_t count = 0;
  row.error.reset();
  row.line = line_;
  row.offset = base_ + pos_;
  const char delim = dialect_.delimiter;
  const char quote = dialect_.quote;
  // The next field's string, reusing the row's earlier ones (and their capacity).
  auto next_field = [&]() -> std::string& {
    if (count == row.fields.size()) row.fields.emplace_back();
    std::string& field = row.fields[count++];
    field.clear();
    return field;
  };
  for (;;) {
    std::string& field = next_field();
    if (pos_ < text_.size() && text_[pos_] == quote) {
      const std::size_t opened = line_;
      ++pos_;
      for (;;) {
        const std::size_t close = text_.find(quote, pos_);
        if (close == std::string_view::npos) {
          if (!at_end_) return Step::need_more;
          not_csv(what_, opened, "a quoted field opened and never closed");
        }
        for (std::size_t i = pos_; i < close; ++i)
          if (text_[i] == '\n' || (text_[i] == '\r' && text_[i + 1] != '\n')) ++line_;
        field.append(text_.substr(pos_, close - pos_));
        pos_ = close + 1;
        if (pos_ < text_.size() && text_[pos_] == quote) {  // "" is one quote
          field += quote;
          ++pos_;
          continue;
        }
        break;
      }
      // Blanks after the closing quote are padding (`"Müller" ;`), unless they are the delimiter.
      while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t') && text_[pos_] != delim) ++pos_;
      if (pos_ < text_.size() && text_[pos_] != delim && text_[pos_] != '\n' && text_[pos_] != '\r') {
        if (!row.error) row.error = "column " + std::to_string(count) + " has text after its closing quote";
        while (pos_ < text_.size() && text_[pos_] != delim && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
      }
    } else {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] != delim && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
      field.assign(text_.substr(start, pos_ - start));
    }
    if (pos_ < text_.size() && text_[pos_] == delim) {
      ++pos_;
      continue;
    }
    line_break();
    row.fields.resize(count);
    // Whatever ran into the window's end (a field, a quote that may be doubled, a CR that may
    // be the first half of a CRLF) may go on in the next piece.
    return pos_ >= text_.size() && !at_end_ ? Step::need_more : Step::done;
  }
}

}  // namespace erpsync::connectors::feed
