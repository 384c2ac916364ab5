#include "connectors/feed/feed_source.hpp"

#include <algorithm>
#include <cstdint>

#include "core/errors.hpp"
#include "core/payload.hpp"

namespace erpsync::connectors::feed {

FeedSource::FeedSource(std::string connector, const config::FeedConfig& feed, std::unique_ptr<DocumentReader> reader)
    : connector_(std::move(connector)),
      cursor_configured_(feed.cursor.has_value()),
      page_size_(feed.page_size > 0 ? static_cast<std::size_t>(feed.page_size) : SIZE_MAX),
      reader_(std::move(reader)) {
  ParseLimits limits;
  limits.max_bytes = static_cast<std::size_t>(feed.max_size);
  limits.max_depth = feed.max_depth;
  mapper_ = make_mapper(feed, limits);
}

std::unique_ptr<FeedSource> FeedSource::create(const config::ConnectorConfig& connector, Clock& clock) {
  const config::FeedConfig* feed = connector.feed();
  if (!feed)
    throw core::SyncError(core::SyncError::Kind::permanent, "connector " + connector.name + " is not a feed");
  std::string path = file_url_path(feed->url);
  if (path.empty())
    throw core::SyncError(core::SyncError::Kind::permanent,
                          "feed " + connector.name + ": cannot read " + feed->url +
                              ": only file:// URLs are supported by this build");
  auto reader = std::make_unique<FileReader>(path, feed->max_size, feed->stable_for, clock, "feed " + connector.name);
  return std::make_unique<FeedSource>(connector.name, *feed, std::move(reader));
}

core::SourceStart FeedSource::begin(const core::CursorState& cursor) {
  count_ = next_ = 0;
  FetchedDocument doc = reader_->read();
  core::SourceStart start;
  start.content_hash = core::sha256_hex(doc.bytes);
  if (!cursor.content_hash.empty() && cursor.content_hash == start.content_hash) {
    start.unchanged = true;  // byte-identical to the last successful run: not a new sighting
    return start;
  }
  count_ = mapper_->load(doc.bytes, "feed " + connector_ + " " + doc.location);
  if (!cursor_configured_) start.snapshot_size = static_cast<std::int64_t>(count_);
  return start;
}

std::optional<core::SourcePage> FeedSource::next_page() {
  if (next_ >= count_) return std::nullopt;
  std::size_t last = count_ - next_ > page_size_ ? next_ + page_size_ : count_;
  core::SourcePage page;
  page.records = mapper_->map(next_, last);
  next_ = last;
  return page;
}

}  // namespace erpsync::connectors::feed
