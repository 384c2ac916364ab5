#pragma once
// Where a feed's document comes from (SPEC §4.3): a small port so the HTTP reader slots in
// beside the file reader. The clock is injectable so `stable_for` waits need no real sleep in
// tests.
//
// Thread-safety: a reader is used by one run at a time.

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "connectors/feed/document_bytes.hpp"

namespace erpsync::connectors::feed {

// Wall clock and sleeping, for file mtimes and stable_for.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() = 0;
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
};
Clock& system_clock();  // the real one

struct FetchedDocument {
  std::string bytes;
  std::string location;  // file path or URL, for messages
};

class DocumentReader {
 public:
  virtual ~DocumentReader() = default;
  DocumentReader() = default;
  DocumentReader(const DocumentReader&) = delete;
  DocumentReader& operator=(const DocumentReader&) = delete;

  // The whole document. Throws core::SyncError: permanent when it is larger than the cap,
  // transient when it cannot be read now (missing, permission, still being written).
  virtual FetchedDocument read() = 0;
  // The document at `url` (HTTP feeds: further pages, next links). Same errors as read().
  // Readers without URLs (files) refuse with a permanent error.
  virtual FetchedDocument read(const std::string& url);
  // The document to read in pieces (a CSV feed's files, SPEC §11). The default is read() held
  // in memory; a file is opened with every check read() makes and read at offsets later. Same
  // errors as read().
  virtual std::unique_ptr<DocumentBytes> open();
  virtual const std::string& location() const = 0;
  // The document's size in bytes before it is read, where the reader can tell (a file).
  virtual std::optional<std::size_t> size_hint() const { return std::nullopt; }
};

// A file:// source. Reads the file once its mtime is at least `stable_for` old, waiting
// (through `clock`) while it is younger; gives up with a transient error when the file keeps
// changing for 10 waits. `what` prefixes messages (e.g. "feed erp").
//
// The file is opened with O_NOFOLLOW: when the path's last component is a symbolic link, the
// read is refused (permanent error) rather than following it wherever it points — a link
// planted in a drop folder cannot make erpsync read another file. Links in the directories
// above it are followed (they are the admin's). Type, mtime and size are judged on the opened
// descriptor (fstat), so the file checked is the file read; a FIFO or device is refused without
// blocking.
//
// open() makes the same checks and keeps the descriptor: the file is read in pieces (pread), up
// to the size fstat() gave then; a file written to in place while it is read (shorter than
// that, or with another size or mtime at check_unchanged()) is a transient error ("changed
// while read"), so that nothing read from it is taken for the file whose hash was computed.
class FileReader final : public DocumentReader {
 public:
  FileReader(std::string path, std::int64_t max_size, std::chrono::milliseconds stable_for, Clock& clock,
             std::string what);
  FetchedDocument read() override;
  using DocumentReader::read;
  std::unique_ptr<DocumentBytes> open() override;
  const std::string& location() const override { return path_; }
  std::optional<std::size_t> size_hint() const override;

 private:
  // The file opened and judged (see above): its descriptor, whose stat lands in `st`.
  int open_checked(struct ::stat& st);
  std::string path_;
  std::int64_t max_size_;
  std::chrono::milliseconds stable_for_;
  Clock& clock_;
  std::string what_;
};

// The local path of a file:// URL (percent-decoded; "file://localhost/x" allowed), or "" when
// `url` is not a file URL with an absolute path.
std::string file_url_path(const std::string& url);

}  // namespace erpsync::connectors::feed
