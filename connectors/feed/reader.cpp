#include "connectors/feed/reader.hpp"

#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>
#include <utility>

#include "core/errors.hpp"

namespace erpsync::connectors::feed {
namespace {

class RealClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

constexpr int kMaxStableWaits = 10;

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Closes its descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

// A file opened by FileReader::open(): read at offsets with pread, up to the size it had then.
class FileBytes final : public DocumentBytes {
 public:
  FileBytes(UniqueFd fd, const struct stat& st, std::string path, std::string what)
      : fd_(std::move(fd)), opened_(st), path_(std::move(path)), what_(std::move(what)) {}

  std::uint64_t size() const override { return static_cast<std::uint64_t>(opened_.st_size); }
  const std::string& location() const override { return path_; }

  std::size_t read_at(std::uint64_t offset, char* into, std::size_t n) const override {
    if (offset >= size()) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, size() - offset));
    std::size_t filled = 0;
    while (filled < n) {
      const ssize_t got = ::pread(fd_.get(), into + filled, n - filled, static_cast<off_t>(offset + filled));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0)
        throw core::SyncError(core::SyncError::Kind::transient,
                              what_ + ": error reading " + path_ + ": " + std::strerror(errno));
      if (got == 0) changed("it is now shorter than when it was opened");
      filled += static_cast<std::size_t>(got);
    }
    return n;
  }

  void check_unchanged() const override {
    struct stat now {};
    if (::fstat(fd_.get(), &now) != 0)
      throw core::SyncError(core::SyncError::Kind::transient,
                            what_ + ": cannot read " + path_ + ": " + std::strerror(errno));
    if (now.st_size != opened_.st_size)
      changed(now.st_size < opened_.st_size ? "it is now shorter than when it was opened"
                                            : "it is now longer than when it was opened");
    if (now.st_mtim.tv_sec != opened_.st_mtim.tv_sec || now.st_mtim.tv_nsec != opened_.st_mtim.tv_nsec)
      changed("its modification time moved since it was opened");
  }

 private:
  [[noreturn]] void changed(const char* how) const {
    throw core::SyncError(core::SyncError::Kind::transient,
                          what_ + ": " + path_ + " changed while it was read (" + how +
                              ": written to in place); it is read again at the next run. Drop exports atomically "
                              "(write a temporary file, then rename it)");
  }

  UniqueFd fd_;
  struct stat opened_;
  std::string path_;
  std::string what_;
};

}  // namespace

std::unique_ptr<DocumentBytes> DocumentReader::open() {
  FetchedDocument doc = read();
  return std::make_unique<MemoryBytes>(std::move(doc.bytes), std::move(doc.location));
}

FetchedDocument DocumentReader::read(const std::string& url) {
  throw core::SyncError(core::SyncError::Kind::permanent,
                        "cannot read " + url + " from " + location() + ": this source has no further pages");
}

Clock& system_clock() {
  static RealClock clock;
  return clock;
}

std::string file_url_path(const std::string& url) {
  if (url.rfind("file://", 0) != 0) return {};
  std::string rest = url.substr(7);
  if (rest.rfind("localhost/", 0) == 0) rest = rest.substr(9);
  if (rest.empty() || rest[0] != '/') return {};
  std::string out;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && hex(rest[i + 1]) >= 0 &&
        hex(rest[i + 2]) >= 0) {
      out += static_cast<char>(hex(rest[i + 1]) * 16 + hex(rest[i + 2]));
      i += 2;
    } else {
      out += rest[i];
    }
  }
  return out;
}

FileReader::FileReader(std::string path, std::int64_t max_size, std::chrono::milliseconds stable_for, Clock& clock,
                       std::string what)
    : path_(std::move(path)), max_size_(max_size), stable_for_(stable_for), clock_(clock), what_(std::move(what)) {}

int FileReader::open_checked(struct ::stat& st) {
  using core::SyncError;
  // Opened first, then judged on the descriptor (fstat): what is checked is what is read, with
  // no window for the path to be swapped in between. O_NOFOLLOW: a symbolic link as the file
  // itself is refused; O_NONBLOCK: a FIFO planted at the path cannot hang the open.
  UniqueFd fd;
  for (int waits = 0;; ++waits) {
    fd = UniqueFd(::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0 && errno == ELOOP)
      throw SyncError(SyncError::Kind::permanent,
                      what_ + ": " + path_ +
                          " is a symbolic link; a feed file is opened without following links (O_NOFOLLOW): point "
                          "url at the file itself");
    if (fd.get() < 0)
      throw SyncError(SyncError::Kind::transient, what_ + ": cannot read " + path_ + ": " + std::strerror(errno));
    if (::fstat(fd.get(), &st) != 0)
      throw SyncError(SyncError::Kind::transient, what_ + ": cannot read " + path_ + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
      throw SyncError(SyncError::Kind::permanent, what_ + ": " + path_ + " is not a regular file");
    auto mtime = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                                        std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
    auto age = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - mtime);
    if (age >= stable_for_) break;
    if (waits == kMaxStableWaits)
      throw SyncError(SyncError::Kind::transient, what_ + ": " + path_ + " is still being written (modified less than " +
                                                      std::to_string(stable_for_.count()) + " ms ago, " +
                                                      std::to_string(kMaxStableWaits) + " times in a row)");
    // Younger than stable_for: wait until it is old enough, then look again (it may have
    // been replaced meanwhile: opened anew). A clock behind the file's mtime waits stable_for
    // at most per round.
    auto wait = stable_for_ - std::max(age, std::chrono::milliseconds(0));
    clock_.sleep_for(std::min(wait, stable_for_));
  }
  if (st.st_size > max_size_)
    throw SyncError(SyncError::Kind::permanent, what_ + ": " + path_ + " is " + std::to_string(st.st_size) +
                                                    " bytes, larger than max_size " + std::to_string(max_size_));
  return fd.release();
}

std::unique_ptr<DocumentBytes> FileReader::open() {
  struct stat st {};
  UniqueFd fd(open_checked(st));
  return std::make_unique<FileBytes>(std::move(fd), st, path_, what_);
}

FetchedDocument FileReader::read() {
  using core::SyncError;
  struct stat st {};
  UniqueFd fd(open_checked(st));
  FetchedDocument doc;
  doc.location = path_;
  // Read at most max_size + 1 bytes: a file that grew past the cap since fstat() is refused.
  // In 4 KiB pages: asking a 40 MB buffer for transparent huge pages (MADV_HUGEPAGE) made the
  // opening slower here, 0.17 -> 0.25 s (the kernel zeroes, and may compact for, each 2 MiB
  // page at its first touch), and a long-running daemon's memory only gets more fragmented.
  doc.bytes.resize(static_cast<std::size_t>(st.st_size));
  // The size fstat() gave in large reads, then whatever the file grew by in small ones.
  auto read_some = [&](char* into, std::size_t n) {
    for (;;) {
      const ssize_t got = ::read(fd.get(), into, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR)
        throw SyncError(SyncError::Kind::transient, what_ + ": error reading " + path_ + ": " + std::strerror(errno));
    }
  };
  std::size_t filled = 0;
  while (filled < doc.bytes.size()) {
    const std::size_t got = read_some(doc.bytes.data() + filled, doc.bytes.size() - filled);
    if (got == 0) break;  // shrank since fstat()
    filled += got;
  }
  doc.bytes.resize(filled);
  char extra[4096];
  while (const std::size_t got = read_some(extra, sizeof extra)) {
    doc.bytes.append(extra, got);
    if (static_cast<std::int64_t>(doc.bytes.size()) > max_size_)
      throw SyncError(SyncError::Kind::permanent,
                      what_ + ": " + path_ + " grew larger than max_size " + std::to_string(max_size_) + " while read");
  }
  return doc;
}

std::optional<std::size_t> FileReader::size_hint() const {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path_, ec);
  if (ec) return std::nullopt;
  return static_cast<std::size_t>(size);
}

}  // namespace erpsync::connectors::feed
