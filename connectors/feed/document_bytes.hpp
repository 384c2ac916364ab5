#pragma once
// A document's bytes as a reader reads them at offsets (SPEC §4.3, §11): a file read in pieces
// (FileReader::open, reader.hpp), or a body held in memory (an HTTP response, a test's text).
// A CSV feed reads its files through this, so that what it holds does not grow with the number
// of rows; formats parsed whole (XML, JSON) read the whole document instead.
//
// Thread-safety: one reader at a time (a file's reads move no shared position: pread).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace erpsync::connectors::feed {

class DocumentBytes {
 public:
  virtual ~DocumentBytes() = default;
  DocumentBytes() = default;
  DocumentBytes(const DocumentBytes&) = delete;
  DocumentBytes& operator=(const DocumentBytes&) = delete;

  // The document's size, fixed when it was opened.
  virtual std::uint64_t size() const = 0;
  // Copies up to n bytes at `offset` into `into`; returns how many: at least 1 unless `offset`
  // is at or past the end (0), and fewer than n only as the source decides (files and memory
  // give min(n, size() - offset)). Throws core::SyncError{transient} naming the document when they cannot be read —
  // for a file, also when it is shorter than when opened (rewritten in place meanwhile).
  virtual std::size_t read_at(std::uint64_t offset, char* into, std::size_t n) const = 0;
  // The whole document as one view when it is held in memory (readers then read it in place,
  // without copying pieces); nullopt for a file.
  virtual std::optional<std::string_view> in_memory() const { return std::nullopt; }
  // The file path or URL, for messages.
  virtual const std::string& location() const = 0;
  // Throws core::SyncError{transient} when the document is no longer the one opened: a file
  // written to in place since (its size or modification time changed). A file replaced by
  // another (rename) is not: the descriptor still reads the one opened. Held in memory: never.
  virtual void check_unchanged() const {}
};

// A document held in memory, owned (`bytes`) or viewed (`view`, which must outlive it).
class MemoryBytes final : public DocumentBytes {
 public:
  MemoryBytes(std::string bytes, std::string location)
      : owned_(std::move(bytes)), view_(owned_), location_(std::move(location)) {}
  static MemoryBytes viewing(std::string_view view, std::string location) { return MemoryBytes(view, std::move(location)); }

  std::uint64_t size() const override { return view_.size(); }
  std::size_t read_at(std::uint64_t offset, char* into, std::size_t n) const override;
  std::optional<std::string_view> in_memory() const override { return view_; }
  const std::string& location() const override { return location_; }

 private:
  MemoryBytes(std::string_view view, std::string location) : view_(view), location_(std::move(location)) {}
  std::string owned_;
  std::string_view view_;
  std::string location_;
};

// Reads a document once from start to end in pieces of `piece` bytes (the last one shorter).
// Calls `on_piece(std::string_view)` for each; then checks the document is unchanged.
template <class OnPiece>
void for_each_piece(const DocumentBytes& doc, std::size_t piece, OnPiece&& on_piece);

// The whole document as one string (formats parsed whole). Throws as read_at().
std::string read_all(const DocumentBytes& doc);

// The SHA-256 (lowercase hex) of the whole document, read in pieces: what core::sha256_hex of
// its bytes gives, without holding them. Throws as read_at() and check_unchanged().
std::string sha256_hex(const DocumentBytes& doc);

// ---- implementation ----

template <class OnPiece>
void for_each_piece(const DocumentBytes& doc, std::size_t piece, OnPiece&& on_piece) {
  if (const std::optional<std::string_view> whole = doc.in_memory()) {
    on_piece(*whole);
    return;
  }
  std::string buffer(piece, '\0');
  for (std::uint64_t at = 0; at < doc.size();) {
    const std::size_t got = doc.read_at(at, buffer.data(), static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), doc.size() - at)));
    if (got == 0) break;
    on_piece(std::string_view(buffer.data(), got));
    at += got;
  }
  doc.check_unchanged();
}

}  // namespace erpsync::connectors::feed
