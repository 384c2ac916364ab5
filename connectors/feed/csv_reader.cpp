#include "connectors/feed/csv_reader.hpp"

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

// The line `offset` is on, counted as CsvReader counts.
std::size_t line_at(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i)
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))) ++line;
  return line;
}

}  // namespace

CsvReader::CsvReader(std::string_view text, CsvDialect dialect, int skip_lines, std::string what)
    : text_(text), dialect_(dialect), what_(std::move(what)) {
  if (const void* nul = std::memchr(text_.data(), '\0', text_.size()))
    not_csv(what_, line_at(text_, static_cast<std::size_t>(static_cast<const char*>(nul) - text_.data())),
            "a NUL byte (a binary file?)");
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  for (int i = 0; i < skip_lines && pos_ < text_.size(); ++i) {
    while (pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
    line_break();
  }
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
  while (line_break()) {
  }  // blank lines are not rows
  if (pos_ >= text_.size()) return false;
  row.fields.clear();
  row.error.reset();
  row.line = line_;
  row.offset = pos_;
  const char delim = dialect_.delimiter;
  const char quote = dialect_.quote;
  for (;;) {
    std::string field;
    if (pos_ < text_.size() && text_[pos_] == quote) {
      const std::size_t opened = line_;
      ++pos_;
      for (;;) {
        const std::size_t close = text_.find(quote, pos_);
        if (close == std::string_view::npos)
          not_csv(what_, opened, "a quoted field opened and never closed");
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
        if (!row.error)
          row.error = "column " + std::to_string(row.fields.size() + 1) + " has text after its closing quote";
        while (pos_ < text_.size() && text_[pos_] != delim && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
      }
    } else {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] != delim && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
      field.assign(text_.substr(start, pos_ - start));
    }
    row.fields.push_back(std::move(field));
    if (pos_ < text_.size() && text_[pos_] == delim) {
      ++pos_;
      continue;
    }
    line_break();
    return true;
  }
}

}  // namespace erpsync::connectors::feed
