#pragma once
// FeedSource: a `feed` connector's one stream, "accounts" (SPEC §4.3), as the engine polls it.
//
// begin() reads the whole document (through its DocumentReader), hashes it and, when the hash
// equals the one kept with the stream's cursor, reports the source unchanged and yields no
// records. Otherwise it parses the document and selects the records; next_page() maps them.
// By default the whole document is one page (SPEC §3 rule 7: duplicate remote ids within one
// document are superseded, so the engine must see them together); FeedConfig::page_size > 0
// splits it (tests, and HTTP pages later).
//
// Without a `cursor` the feed is a full snapshot: snapshot_size is the record count (for
// max_shrink, decided by the engine) and pages carry no cursor.
//
// Thread-safety: one run at a time (the engine never runs a connector twice at once).

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "connectors/feed/mapper.hpp"
#include "connectors/feed/reader.hpp"
#include "core/source.hpp"

namespace erpsync::connectors::feed {

class FeedSource final : public core::AccountSource {
 public:
  // `reader` supplies the document's bytes.
  FeedSource(std::string connector, const config::FeedConfig& feed, std::unique_ptr<DocumentReader> reader);

  // The source for a configured feed connector: a FileReader for file:// URLs. Throws
  // core::SyncError{permanent} for a URL this build cannot read (http(s) is not supported yet).
  static std::unique_ptr<FeedSource> create(const config::ConnectorConfig& connector, Clock& clock = system_clock());

  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return !cursor_configured_; }
  core::SourceStart begin(const core::CursorState& cursor) override;
  std::optional<core::SourcePage> next_page() override;

 private:
  std::string connector_;
  std::string stream_ = "accounts";
  bool cursor_configured_;
  std::size_t page_size_;
  std::unique_ptr<DocumentReader> reader_;
  std::unique_ptr<DocumentMapper> mapper_;
  std::size_t count_ = 0;
  std::size_t next_ = 0;
};

}  // namespace erpsync::connectors::feed
