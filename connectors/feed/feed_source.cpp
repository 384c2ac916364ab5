#include "connectors/feed/feed_source.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <utility>

#include "connectors/feed/http_reader.hpp"
#include "connectors/feed/url.hpp"
#include "connectors/http/http_client.hpp"
#include "core/errors.hpp"
#include "core/rules/payload.hpp"
#include "core/text.hpp"

namespace erpsync::connectors::feed {
namespace {

using core::SyncError;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size()))
    text.replace(p, from.size(), to);
  return text;
}

}  // namespace

FeedSource::FeedSource(std::string connector, const FeedConfig& feed, std::unique_ptr<DocumentReader> reader,
                       FeedSourceOptions options, std::unique_ptr<DocumentReader> contacts_reader)
    : connector_(std::move(connector)),
      feed_(feed),
      options_(std::move(options)),
      cursor_configured_(feed.cursor.has_value()),
      http_(is_http_url(feed.url)),
      page_size_(feed.page_size > 0 ? static_cast<std::size_t>(feed.page_size) : kFileSliceRecords),
      reader_(std::move(reader)),
      contacts_reader_(std::move(contacts_reader)) {
  if (!contacts_reader_ && !feed.csv.contacts_url.empty() && !is_http_url(feed.csv.contacts_url)) {
    const std::string path = file_url_path(feed.csv.contacts_url);
    if (path.empty())
      throw SyncError(SyncError::Kind::permanent, "feed " + connector_ + ": cannot read contacts " +
                                                      feed.csv.contacts_url + ": expected a file://, http:// or https:// URL");
    contacts_reader_ =
        std::make_unique<FileReader>(path, feed.max_size, feed.stable_for, system_clock(), "feed " + connector_);
  }
  ParseLimits limits;
  limits.max_bytes = static_cast<std::size_t>(feed.max_size);
  limits.max_depth = feed.max_depth;
  mapper_ = make_mapper(feed, limits);
  mapper_->hash_remote_ids_above(page_size_);  // superseded_in_document() needs them beyond one page
  if (feed.cursor) {
    auto tz = parse_timezone(feed.cursor->timezone);
    if (!tz)
      throw SyncError(SyncError::Kind::permanent, "feed " + connector_ + ": cursor.timezone \"" +
                                                      feed.cursor->timezone +
                                                      "\" is not UTC or a fixed offset such as \"+01:00\"");
    tz_offset_min_ = *tz;
  }
}

std::unique_ptr<FeedSource> FeedSource::create(const config::ConnectorConfig& connector, Clock& clock) {
  const FeedConfig* feed = connector.settings_as<FeedConfig>();
  if (!feed)
    throw SyncError(SyncError::Kind::permanent, "connector " + connector.name + " is not a feed");
  FeedSourceOptions options{connector.cursor_overlap, connector.start_date};
  if (is_http_url(feed->url)) {
    auto client = std::make_shared<http::CurlHttpClient>(HttpReader::client_options(*feed));
    auto reader = std::make_unique<HttpReader>("feed " + connector.name, *feed, std::move(client), clock);
    return std::make_unique<FeedSource>(connector.name, *feed, std::move(reader), std::move(options));
  }
  std::string path = file_url_path(feed->url);
  if (path.empty())
    throw SyncError(SyncError::Kind::permanent, "feed " + connector.name + ": cannot read " + feed->url +
                                                    ": expected a file://, http:// or https:// URL");
  auto reader = std::make_unique<FileReader>(path, feed->max_size, feed->stable_for, clock, "feed " + connector.name);
  std::unique_ptr<DocumentReader> contacts;
  if (const std::string cpath = file_url_path(feed->csv.contacts_url); !cpath.empty())
    contacts = std::make_unique<FileReader>(cpath, feed->max_size, feed->stable_for, clock, "feed " + connector.name);
  return std::make_unique<FeedSource>(connector.name, *feed, std::move(reader), std::move(options), std::move(contacts));
}

std::optional<FetchedDocument> FeedSource::read_contacts() {
  if (feed_.format != FeedFormat::csv || !feed_.contacts || feed_.csv.contacts_url.empty()) return std::nullopt;
  if (contacts_reader_) return contacts_reader_->read();
  return reader_->read(feed_.csv.contacts_url);
}

std::unique_ptr<DocumentBytes> FeedSource::open_contacts() {
  if (feed_.format != FeedFormat::csv || !feed_.contacts || feed_.csv.contacts_url.empty()) return nullptr;
  if (contacts_reader_) return contacts_reader_->open();
  FetchedDocument doc = reader_->read(feed_.csv.contacts_url);
  return std::make_unique<MemoryBytes>(std::move(doc.bytes), std::move(doc.location));
}

bool FeedSource::files_unchanged(const core::CursorState& cursor, core::SourceStart& start) {
  content_hash_ = start.content_hash;
  const bool contacts_took_them = !handoff_ || !feed_.has_contacts_file() || contacts_cursor_ == start.content_hash;
  if (cursor.content_hash.empty() || cursor.content_hash != start.content_hash || !contacts_took_them) return false;
  start.unchanged = true;  // byte-identical to the last successful run: not a new sighting
  if (handoff_) handoff_->state = ContactHandoff::State::unchanged;
  handed_over_ = true;
  return true;
}

core::SourceStart FeedSource::begin_csv_file(const core::CursorState& cursor) {
  core::SourceStart start;
  // Each file is read three times at most, in pieces, and never held: hashed (a file unchanged
  // since the last run is read no further), scanned by the mapper (rows, rule 7, the contacts
  // index), then read again as its slices are mapped. A file written to in place meanwhile fails
  // the run (DocumentBytes::check_unchanged); one replaced by a rename is still the one opened.
  std::unique_ptr<DocumentBytes> doc = reader_->open();
  std::unique_ptr<DocumentBytes> contacts = open_contacts();
  start.content_hash = sha256_hex(*doc);
  if (contacts) start.content_hash = core::sha256_hex(start.content_hash + sha256_hex(*contacts));
  if (files_unchanged(cursor, start)) return start;
  if (contacts) {
    const std::string where = what(contacts->location());
    mapper_->load_contacts_from(std::move(contacts), where);
  }
  const std::string where = what(doc->location());
  count_ = mapper_->load_from(std::move(doc), where);
  superseded_ = superseded_in_document();
  if (!cursor_configured_) start.snapshot_size = static_cast<std::int64_t>(count_);
  return start;
}

core::SourceStart FeedSource::begin(const core::CursorState& cursor) {
  count_ = next_ = 0;
  superseded_.clear();
  handed_over_ = false;
  if (handoff_) *handoff_ = {};
  if (!http_ && feed_.format == FeedFormat::csv) return begin_csv_file(cursor);
  core::SourceStart start;
  if (!http_) {  // XML or JSON, held whole; no contacts file (that is CSV's)
    FetchedDocument doc = reader_->read();
    start.content_hash = core::sha256_hex(doc.bytes);
    if (files_unchanged(cursor, start)) return start;
    const std::string where = what(doc.location);
    try {
      count_ = mapper_->load_in_place(std::move(doc.bytes), where);
    } catch (const SyncError& in_place) {
      // The in-place parse rewrote the bytes it counted the error's line in: a fresh read
      // parsed by copy names the exact line. Should that read parse (the file was replaced in
      // between), the first error stands: this run's content hash is of the bytes that failed.
      FetchedDocument again = reader_->read();
      mapper_->load(again.bytes, where);
      throw in_place;
    }
    superseded_ = superseded_in_document();
    if (!cursor_configured_) start.snapshot_size = static_cast<std::int64_t>(count_);
    return start;
  }

  // http(s)://: the request parameters of this run.
  page_index_ = 0;
  done_ = false;
  seen_pages_.clear();
  previous_body_hash_.clear();
  prefetched_.clear();
  best_.reset();
  QueryParams params;
  if (cursor_configured_) {
    const FeedCursor& c = *feed_.cursor;
    const bool day = c.granularity == "day";
    std::optional<UtcMillis> bound;
    if (!cursor.cursor.empty()) {
      best_ = parse_cursor(cursor.cursor);
      if (!best_)
        throw SyncError(SyncError::Kind::permanent,
                        "feed " + connector_ + ": the stored cursor \"" + cursor.cursor +
                            "\" is not a time \"YYYY-MM-DD HH:MM:SS[.mmm][#id]\" (UTC); `erpsyncd resync --connector " +
                            connector_ + "` resets it");
      bound = filter_lower_bound(best_->time, options_.cursor_overlap, tz_offset_min_, day);
    } else if (options_.start_date) {
      bound = parse_time(*options_.start_date, 0);
      if (!bound)
        throw SyncError(SyncError::Kind::permanent,
                        "feed " + connector_ + ": start_date \"" + *options_.start_date + "\" is not a UTC time");
    }
    if (bound)
      params.emplace_back(c.param, replace_all(c.template_, "{cursor}", format_filter_time(*bound, tz_offset_min_, day)));
    if (!c.order_param.empty()) params.emplace_back(c.order_param, c.order);
  }
  base_url_ = with_query(feed_.url, params);
  first_url_ = next_url_ = page_url(0);

  if (!cursor_configured_) {
    // A snapshot: every page now, so that its size is known before anything is written. The
    // pages are held until the engine takes them: max_snapshot_size bounds their bytes.
    std::int64_t total = 0;
    std::int64_t bytes = 0;
    while (!done_) {
      const std::string url = next_url_;
      FetchedDocument doc = reader_->read(url);
      bytes += static_cast<std::int64_t>(doc.bytes.size());
      if (bytes > feed_.max_snapshot_size)
        throw SyncError(SyncError::Kind::permanent,
                        what(doc.location) + ": the snapshot's pages add up to more than max_snapshot_size (" +
                            std::to_string(feed_.max_snapshot_size) + " bytes) after " +
                            std::to_string(page_index_ + 1) +
                            " pages; the source may never end its paging — raise max_snapshot_size if the export "
                            "really is that large");
      auto n = load_page(doc, url);
      if (!n) break;
      total += static_cast<std::int64_t>(*n);
      prefetched_.emplace_back(std::move(doc), url);
    }
    start.snapshot_size = total;
  }
  if (std::optional<FetchedDocument> contacts = read_contacts())
    mapper_->load_contacts(std::move(contacts->bytes), what(contacts->location));
  return start;
}

std::string FeedSource::page_url(std::int64_t index) const {
  const FeedPaging& p = feed_.paging;
  QueryParams params;
  if (p.type == FeedPaging::Type::page) {
    params.emplace_back(p.param, std::to_string(p.start + index));
  } else if (p.type == FeedPaging::Type::offset) {
    params.emplace_back(p.param, std::to_string(index * p.size));
  } else {
    return base_url_;
  }
  if (!p.size_param.empty()) params.emplace_back(p.size_param, std::to_string(p.size));
  return with_query(base_url_, params);
}

std::optional<std::size_t> FeedSource::load_page(const FetchedDocument& doc, const std::string& url) {
  const std::string where = what(doc.location);
  const std::size_t n = mapper_->load(doc.bytes, where);
  ++page_index_;
  seen_pages_.emplace(url, doc.location);
  const std::string hash = core::sha256_hex(doc.bytes);
  const bool repeated = hash == previous_body_hash_;
  previous_body_hash_ = hash;
  const FeedPaging& p = feed_.paging;
  switch (p.type) {
    case FeedPaging::Type::none:
      done_ = true;
      break;
    case FeedPaging::Type::page:
    case FeedPaging::Type::offset:
      if (repeated) {
        done_ = true;
        return std::nullopt;
      }
      if (n == 0 || static_cast<std::int64_t>(n) < p.size)
        done_ = true;
      else
        next_url_ = page_url(page_index_);
      break;
    case FeedPaging::Type::next_link: {
      std::string link;
      try {
        link = core::trimmed(mapper_->document_value(p.next_link));
      } catch (const SyncError& e) {
        throw SyncError(SyncError::Kind::permanent, where + ": next link: " + e.what());
      }
      if (link.empty()) {
        done_ = true;
        break;
      }
      std::string next = resolve_url(url, link);
      if (url_origin(next).empty() || url_origin(next) != url_origin(url))
        throw SyncError(SyncError::Kind::permanent,
                        where + ": the next link at " + p.next_link + " leads to another site (" + url_origin(next) +
                            "); refused so that the feed's credentials are not sent there");
      if (auto seen = seen_pages_.find(next); seen != seen_pages_.end())
        throw SyncError(SyncError::Kind::permanent,
                        where + ": the next link at " + p.next_link + " leads back to " + seen->second +
                            ", a page this run has read already; refused as a loop (the source's paging is broken: "
                            "check its next links)");
      next_url_ = std::move(next);
      break;
    }
  }
  if (!done_ && page_index_ >= feed_.max_pages)
    throw SyncError(SyncError::Kind::permanent,
                    where + ": the source has more than max_pages (" + std::to_string(feed_.max_pages) +
                        ") pages in one run; it may never end its paging — raise max_pages if it really has that many");
  return n;
}

std::optional<core::SourcePage> FeedSource::next_page() { return http_ ? next_http_page() : next_file_page(); }

std::vector<std::size_t> FeedSource::superseded_in_document() const {
  std::vector<std::size_t> out;
  if (count_ <= page_size_) return out;  // one page: the engine applies rule 7 itself
  if (std::optional<std::vector<std::size_t>> found = mapper_->superseded_records()) return std::move(*found);
  // Hashes first (8 bytes a record, not a string each); ids compared only where hashes meet.
  std::vector<std::pair<std::uint64_t, std::size_t>> keys(count_);
  const std::vector<std::uint64_t> hashes = mapper_->remote_id_hashes();  // when the load computed them
  for (std::size_t i = 0; i < count_; ++i)
    keys[i] = {hashes.size() == count_ ? hashes[i] : std::hash<std::string>{}(mapper_->remote_id(i)), i};
  std::sort(keys.begin(), keys.end());
  // A run of equal hashes, in document order: each record whose id comes again later is
  // superseded. One entry per distinct id (usually one), not a string per record: a hostile
  // document of a million copies of one record holds one string here.
  std::unordered_map<std::string, std::size_t> last_seen;
  for (std::size_t at = 0; at < keys.size();) {
    std::size_t end = at + 1;
    while (end < keys.size() && keys[end].first == keys[at].first) ++end;
    if (end - at > 1) {
      last_seen.clear();
      for (std::size_t k = at; k < end; ++k) {
        auto [it, fresh] = last_seen.try_emplace(mapper_->remote_id(keys[k].second), keys[k].second);
        if (!fresh) {
          out.push_back(it->second);
          it->second = keys[k].second;
        }
      }
    }
    at = end;
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FeedSource::hand_over_contacts() {
  if (handed_over_) return;
  handed_over_ = true;
  if (!handoff_ || !feed_.has_contacts_file()) return;
  handoff_->contacts = mapper_->unclaimed_contacts();
  handoff_->content_hash = http_ ? std::string() : content_hash_;
  handoff_->state = ContactHandoff::State::read;
}

std::optional<core::SourcePage> FeedSource::next_file_page() {
  if (next_ >= count_) {
    hand_over_contacts();
    return std::nullopt;
  }
  std::size_t last = count_ - next_ > page_size_ ? next_ + page_size_ : count_;
  core::SourcePage page;
  page.records = mapper_->map(next_, last);
  auto from = std::lower_bound(superseded_.begin(), superseded_.end(), next_);
  auto to = std::lower_bound(from, superseded_.end(), last);
  for (auto it = from; it != to; ++it) page.superseded.push_back(*it - next_);
  next_ = last;
  if (next_ >= count_) superseded_ = {};
  return page;
}

std::optional<core::SourcePage> FeedSource::next_http_page() {
  core::SourcePage page;
  if (!cursor_configured_) {
    if (prefetched_.empty()) {
      hand_over_contacts();
      return std::nullopt;
    }
    auto [doc, url] = std::move(prefetched_.front());
    prefetched_.pop_front();
    std::size_t n = mapper_->load(doc.bytes, what(doc.location));
    page.records = mapper_->map(0, n);
    return page;
  }
  if (done_) {
    hand_over_contacts();
    return std::nullopt;
  }
  const std::string url = next_url_;
  FetchedDocument doc = reader_->read(url);
  auto n = load_page(doc, url);
  if (!n) {
    hand_over_contacts();
    return std::nullopt;
  }
  page.records = mapper_->map(0, *n);
  for (std::size_t i = 0; i < page.records.size(); ++i) {
    auto t = parse_time(mapper_->cursor_value(i), tz_offset_min_);
    if (!t) continue;
    CursorPosition pos{*t, page.records[i].get(core::Field::remote_id)};
    if (!best_ || *best_ < pos) best_ = std::move(pos);
  }
  if (best_) page.cursor_after = format_cursor(*best_);
  return page;
}

core::SourceStart FeedContactsSource::begin(const core::CursorState&) {
  // Taken once: a later run of this stream without an accounts run before it finds nothing.
  ContactHandoff taken = std::exchange(*from_, ContactHandoff{});
  core::SourceStart start;
  start.unchanged = taken.state == ContactHandoff::State::unchanged;
  read_ = taken.state == ContactHandoff::State::read;
  records_ = std::move(taken.contacts);
  content_hash_ = std::move(taken.content_hash);
  return start;
}

std::optional<core::Page<core::IncomingContactRecord>> FeedContactsSource::next_page() {
  if (!read_) return std::nullopt;
  read_ = false;
  core::Page<core::IncomingContactRecord> page;
  page.records = std::exchange(records_, {});
  page.cursor_after = std::exchange(content_hash_, {});  // may be empty (http): then no cursor
  if (page.records.empty() && page.cursor_after.empty()) return std::nullopt;
  return page;
}

std::optional<std::size_t> FeedSource::document_bytes_hint() {
  if (http_ || !reader_) return std::nullopt;
  std::optional<std::size_t> bytes = reader_->size_hint();
  if (bytes && contacts_reader_)
    if (const std::optional<std::size_t> contacts = contacts_reader_->size_hint()) *bytes += *contacts;
  // A CSV feed's files are read in pieces, not held: what the engine lets stand beside "the
  // document" (the quiet prefetch of a re-sync may take twice it) is capped like the source.
  if (bytes && feed_.format == FeedFormat::csv) *bytes = std::min(*bytes, kCsvDocumentBytesHint);
  return bytes;
}

}  // namespace erpsync::connectors::feed
