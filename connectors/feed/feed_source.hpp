#pragma once
// FeedSource: a `feed` connector's one stream, "accounts" (SPEC §4.3), as the engine polls it.
//
// A CSV feed (SPEC §4.3 "CSV") is read like an XML document, file or URL, except that it has no
// paging (an export is one file), that a file is streamed (below), and that its contacts come
// from a second file, opened with the first in begin() and handed to the mapper
// (DocumentMapper::load_contacts_from, load_contacts over HTTP); a file feed's
// content hash then covers both files, so either one changing is a new snapshot. A contact row
// goes with the company record whose remote id its company key is; the rows no record takes
// (their company is not in this companies file) are handed, once the last page has been mapped,
// to the ContactHandoff given with hand_contacts_to(), for the feed's "contacts" stream
// (FeedContactsSource): there they attach to their company's Account when the store has it, and
// wait for it otherwise (SPEC §3 rule 10). The contacts stream commits the files' content hash
// as its cursor with those rows; the files count as unchanged only when both streams' hashes
// are theirs, so that rows a failed contacts run did not take are read again.
//
// file:// CSV feeds read their files in pieces and never hold them (DocumentReader::open(),
// mapper.hpp): memory does not grow with the number of rows (SPEC §4.3 "Streamed") beyond the
// engine's set of remote ids; the content hash is computed as the files are read.
//
// Other file:// feeds: begin() reads the whole document (through its DocumentReader), hashes it and,
// when the hash equals the one kept with the stream's cursor, reports the source unchanged and
// yields no records. Otherwise it parses the document in place (the bytes read are the document
// pugixml's nodes point into: it is in memory once) and selects the records; next_page() maps
// them in slices of kFileSliceRecords (FeedConfig::page_size > 0 sets another size), so that
// only one slice of mapped records exists at a time. SPEC §3 rule 7 supersedes duplicate remote
// ids across the whole document: begin() finds the records whose remote id appears again later
// (a pass over the remote ids alone) and each slice lists its own in SourcePage::superseded.
//
// http(s):// feeds: every fetched page is one SourcePage (rule 7 supersedes within it), its
// records mapped with the same mappers. `paging`:
//   none       one request.
//   page       param = start, start + 1, ... (size_param = size when set); a page with fewer
//              than `size` records is the last.
//   offset     param = 0, size, 2·size, ... (size_param = size when set); same end rule.
//   next_link  the URL at `next_link` in each page's body (relative links resolved against the
//              page's URL) until it is absent or empty. A link to another origin (scheme, host,
//              port) is refused — the credentials must not follow it — and a link to any page
//              this run has read already (A → B → A, not only A → A) is refused as a loop; both
//              are permanent errors.
// A page byte-identical to the one before it ends page/offset paging (a server that repeats
// its last page past the end, as Magento 2.3 does, delivers nothing twice).
// A run that never ends is bounded (SPEC §10): more than `max_pages` pages in one run, or, for a
// snapshot (whose pages are held until the engine takes them), pages adding up to more than
// `max_snapshot_size` bytes, is a permanent error naming the connector and the last page.
//
// With a `cursor` the feed is not a snapshot (nothing is marked missing, max_shrink does not
// apply) and pages are fetched one at a time in next_page(). The first request carries
// `cursor.param` = `template` with {cursor} replaced by the stored cursor − cursor_overlap (a
// whole day for granularity "day", see cursor_time.hpp), or by `start_date` when nothing is
// stored yet (no filter at all without either), plus order_param = order when configured.
// Each page's cursor_after is the greatest (change time, remote id) of the stored cursor and
// every record read so far (cursor_time.hpp's format); a record whose `cursor.field` is empty
// or not a time does not move it (the record itself is still synced).
//
// Without a cursor the feed is a full snapshot: begin() fetches every page up front, so that
// snapshot_size (for max_shrink) is known before anything is written and a page that fails
// fails the run before any record is. Pages carry no cursor.
//
// FeedContactsSource: a CSV feed's "contacts" stream, the contact rows its "accounts" run handed
// over (ContactHandoff) as one page, whose cursor_after is the files' content hash (a file://
// feed's; none over http(s)), committed with the rows. Not a snapshot (nothing is marked missing:
// a contact that went with its company is bound in the same stream). The source is `unchanged`
// when the files were; a handoff the accounts run did not fill gives no records (the run still
// retries what is parked or rejected).
//
// Thread-safety: one run at a time (the engine never runs a connector twice at once).

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "connectors/feed/feed_conf.hpp"
#include "connectors/feed/cursor_time.hpp"
#include "connectors/feed/mapper.hpp"
#include "connectors/feed/reader.hpp"
#include "connectors/feed/url.hpp"
#include "core/ports/source.hpp"

namespace erpsync::connectors::feed {

// What a CSV feed's "accounts" run hands to its "contacts" run: the contact rows no company row
// took. One per connector runner (daemon/wiring.cpp), outliving the runs of its streams; the
// accounts run's source writes it (on the thread that maps its last page) and the contacts run,
// which starts after the accounts run and its source have ended, reads it.
struct ContactHandoff {
  enum class State {
    none,       // the accounts run did not read the files to the end (it failed, or did not run)
    unchanged,  // both files byte-identical to the last successful run: nothing was read
    read,       // `contacts` holds this run's unclaimed rows
  };
  State state = State::none;
  std::vector<core::IncomingContactRecord> contacts;
  std::string content_hash;  // read: the files' content hash (the contacts stream's cursor)
};

// Connector-level settings a feed source needs besides its FeedConfig.
struct FeedSourceOptions {
  std::chrono::milliseconds cursor_overlap{30'000};
  std::optional<std::string> start_date;  // UTC "YYYY-MM-DD[ HH:MM:SS]"
};

class FeedSource final : public core::AccountSource {
 public:
  // Records per page of a file's document when FeedConfig::page_size is 0: a few batches' worth.
  static constexpr std::size_t kFileSliceRecords = 2000;
  // document_bytes_hint() of a file:// CSV feed at most: its files are never held, so the engine's
  // allowance beside them (the quiet prefetch, twice the document) must not grow with them
  // either (SPEC §4.3 "Streamed"). 32 MiB of prefetch takes the bindings of some 150,000 rows; a
  // larger export's re-sync reads them batch by batch, which measured as fast as an XML feed's
  // prefetched re-sync (docs/performance.md).
  static constexpr std::size_t kCsvDocumentBytesHint = std::size_t{16} << 20;

  // `reader` supplies the documents: read() the configured URL, read(url) further pages.
  // `contacts_reader` reads a CSV feed's contacts file (csv.contacts_url) with read(); when null,
  // an http(s) contacts URL is read with reader->read(url) and a file:// one by a FileReader.
  FeedSource(std::string connector, const FeedConfig& feed, std::unique_ptr<DocumentReader> reader,
             FeedSourceOptions options = {}, std::unique_ptr<DocumentReader> contacts_reader = nullptr);

  // The source for a configured feed connector: a FileReader for file:// URLs, an HttpReader
  // over a CurlHttpClient (client_options() of the feed) for http(s)://. Throws
  // core::SyncError{permanent} for any other URL.
  static std::unique_ptr<FeedSource> create(const config::ConnectorConfig& connector, Clock& clock = system_clock());

  const std::string& stream() const override { return stream_; }
  bool is_snapshot() const override { return !cursor_configured_; }
  core::SourceStart begin(const core::CursorState& cursor) override;
  std::optional<core::SourcePage> next_page() override;
  // The files' size (the contacts file's included); for a CSV feed at most kCsvDocumentBytesHint.
  std::optional<std::size_t> document_bytes_hint() override;

  // The URL of the first request begin() prepared (for tests and debug logs).
  const std::string& first_url() const { return first_url_; }

  // A feed with a contacts file: where each run's unclaimed contact rows go (see above). begin()
  // resets it; unset, they are not handed anywhere.
  // `contacts_cursor` is the contacts stream's stored cursor: the content hash of the files its
  // last committed rows came from (begin() reads the files as changed unless it is theirs).
  void hand_contacts_to(std::shared_ptr<ContactHandoff> handoff, std::string contacts_cursor) {
    handoff_ = std::move(handoff);
    contacts_cursor_ = std::move(contacts_cursor);
  }

 private:
  // A CSV feed's contacts file (SPEC §4.3 "CSV"), or nullopt when the feed has none.
  std::optional<FetchedDocument> read_contacts();
  // The same to be read in pieces (a file), or null.
  std::unique_ptr<DocumentBytes> open_contacts();
  // begin() of a file:// CSV feed: its files read in pieces, never held (mapper.hpp).
  core::SourceStart begin_csv_file(const core::CursorState& cursor);
  // Keeps start.content_hash as this run's; true (and `start` says so) when the files are those
  // of the last successful run (the contacts stream's too).
  bool files_unchanged(const core::CursorState& cursor, core::SourceStart& start);
  std::optional<core::SourcePage> next_file_page();
  // The end of the records: the unclaimed contact rows go to the handoff (once per run).
  void hand_over_contacts();
  // The ascending indices of the loaded document's records whose remote id appears again later
  // in it; empty when the document is one page.
  std::vector<std::size_t> superseded_in_document() const;
  std::optional<core::SourcePage> next_http_page();
  // Loads `doc` into the mapper and decides the URL after it (sets done_ when none). Returns its
  // record count, or nullopt for a page/offset page identical to the one before (the end).
  std::optional<std::size_t> load_page(const FetchedDocument& doc, const std::string& url);
  std::string page_url(std::int64_t index) const;
  std::string what(const std::string& location) const { return "feed " + connector_ + " " + location; }

  std::string connector_;
  std::string stream_ = "accounts";
  FeedConfig feed_;
  FeedSourceOptions options_;
  bool cursor_configured_;
  bool http_;
  int tz_offset_min_ = 0;
  std::size_t page_size_;
  std::unique_ptr<DocumentReader> reader_;
  std::unique_ptr<DocumentMapper> mapper_;
  std::unique_ptr<DocumentReader> contacts_reader_;
  std::shared_ptr<ContactHandoff> handoff_;
  std::string contacts_cursor_;
  std::string content_hash_;  // this run's, file:// feeds
  bool handed_over_ = false;
  // file://
  std::size_t count_ = 0;
  std::size_t next_ = 0;
  std::vector<std::size_t> superseded_;
  // http(s)://
  std::string base_url_;   // the configured URL with the cursor's parameters
  std::string first_url_;
  std::string next_url_;   // the page to fetch next
  std::int64_t page_index_ = 0;  // pages fetched so far in this run
  // Every URL this run has read → its redacted location (for the loop's message).
  std::unordered_map<std::string, std::string> seen_pages_;
  bool done_ = true;
  std::string previous_body_hash_;
  std::deque<std::pair<FetchedDocument, std::string>> prefetched_;  // snapshots: (page, URL)
  std::optional<CursorPosition> best_;
};

class FeedContactsSource final : public core::ContactSource {
 public:
  explicit FeedContactsSource(std::shared_ptr<ContactHandoff> from) : from_(std::move(from)) {}

  const std::string& stream() const override { return stream_; }
  core::SourceStart begin(const core::CursorState& cursor) override;
  std::optional<core::Page<core::IncomingContactRecord>> next_page() override;

 private:
  std::string stream_ = "contacts";
  std::shared_ptr<ContactHandoff> from_;
  bool read_ = false;                                 // the accounts run handed rows over
  std::vector<core::IncomingContactRecord> records_;  // this run's, until next_page() takes them
  std::string content_hash_;
};

}  // namespace erpsync::connectors::feed
