#pragma once
// Feed mappers (SPEC §4.3): a parsed XML, JSON or CSV document → IncomingAccount records, as the
// connector's `records`, `fields` and `contacts` say. Pure: no I/O; the document's bytes come
// from a DocumentReader.
//
// Decisions where SPEC is silent:
//   - XML values are XPath string values (an element's text, an attribute's value; functions
//     such as concat() work too), trimmed of surrounding white space: indentation is layout,
//     not data. JSON strings are kept as they are.
//   - JSON numbers and booleans become their JSON text ("10001", "1.5", "true"); null and an
//     absent key are "" (SPEC: absent and empty are alike). An object or array where a value
//     is expected makes the record invalid (`invalid_field`), naming the field and path.
//   - Value maps ({path, map}): a value found in the map is translated. An empty value stays
//     empty (unless the map has a "" key). A value not in the map is kept as it is, except
//     for `relationship`, where a value that is not already one of SPEC's relationships
//     (customer, prospect, partner, reseller, distributor, supplier, other) makes the record
//     invalid (`invalid_field`, naming the value and the map).
//   - `active` is passed through raw; the matcher reads it (true/false, 1/0, yes/no, y/n, any
//     case; empty = true) and rejects anything else as invalid_field.
//   - Remote ids are defaulted with core::default_remote_id (SPEC §3 rule 8).
//   - CSV values are trimmed of surrounding white space, as XML values are (exports pad columns);
//     a field's path is a header column name (the first column of that name), or the column's
//     number from 1 when `csv.header` is false. A mapped column the header lacks fails the
//     document (the export is not the one configured). A row whose column count differs from
//     the header's (or, without a header, the first row's) is that record's invalid_field,
//     naming the file and the row's line; its columns are still mapped as far as they go, so
//     that the rejection carries its remote id.
//
// Thread-safety: a mapper is used by one run at a time.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "connectors/feed/document_bytes.hpp"
#include "connectors/feed/feed_conf.hpp"
#include "connectors/http/bounded_parse.hpp"
#include "core/record.hpp"
#include "core/rules/contacts.hpp"

namespace erpsync::connectors::feed {

class DocumentMapper {
 public:
  virtual ~DocumentMapper() = default;
  DocumentMapper() = default;
  DocumentMapper(const DocumentMapper&) = delete;
  DocumentMapper& operator=(const DocumentMapper&) = delete;

  // Parses `text` (replacing any earlier document) and selects the records. Returns how many.
  // Throws core::SyncError{permanent} naming `what` (connector and file/URL) and the position
  // for a malformed, too large or too deep document, or one whose `records` path does not
  // lead to records (JSON: not an array).
  virtual std::size_t load(std::string_view text, const std::string& what) = 0;

  // The same for a document the mapper may keep and rewrite: XML is parsed in place (its nodes
  // point into `text`, kept until the next load), so the document exists once in memory. JSON
  // has no in-place parse: `text` is parsed and released. Errors as load(), except that an XML
  // error's line is counted in the rewritten bytes (the byte offset is exact).
  virtual std::size_t load_in_place(std::string&& text, const std::string& what) = 0;

  // format csv with a contacts block: the contacts file (SPEC §4.3 "CSV"), kept and indexed by
  // its company_key column until the next call; map() attaches to each company record the
  // contact rows whose company_key equals the record's remote id. Call it before map(). Throws
  // like load(). Other formats have their contacts inside the records: no effect.
  virtual void load_contacts(std::string&& /*text*/, const std::string& /*what*/) {}

  // load_in_place of a document to be read in pieces from `doc`, which the mapper keeps until
  // the next load. The default reads it whole; CSV reads its rows from `doc` again as map() maps
  // them. Errors as load(), and what `doc`'s reads throw (a file changed while read).
  virtual std::size_t load_from(std::unique_ptr<DocumentBytes> doc, const std::string& what);
  // load_contacts of a contacts file to be read in pieces from `doc` (kept likewise).
  virtual void load_contacts_from(std::unique_ptr<DocumentBytes> doc, const std::string& what);

  // SPEC §3 rule 7 across the loaded document, where the mapper found it while loading (CSV,
  // for a document of more than hash_remote_ids_above records): the ascending indices of the
  // records whose remote id appears again later in it. nullopt where it did not (then
  // remote_id_hashes() and remote_id() give the ids).
  virtual std::optional<std::vector<std::size_t>> superseded_records() const { return std::nullopt; }

  // format csv with a contacts file: its rows that no record map() has mapped since
  // load_contacts took no company row of (their company key is no record's remote id, or the row
  // is too short to hold one), in file order, as contact records of their own for the feed's
  // "contacts" stream (SPEC §4.3 "CSV", §3 rule 10: they wait for their company). Call it once
  // map() has mapped every record. Other formats: none.
  virtual std::vector<core::IncomingContactRecord> unclaimed_contacts() const { return {}; }

  // The remote id record `index` of the loaded document maps to (as map() would give it,
  // defaulted by SPEC §3 rule 8), without mapping the rest of the record when the remote id or
  // external code field gives it. For SPEC §3 rule 7 across the slices of one document.
  virtual std::string remote_id(std::size_t index) const = 0;

  // Asks load_in_place to hash (std::hash<std::string>) the remote id of every record of a
  // document of more than `records` records while it loads it, where that saves reading each
  // record again for remote_id(). Not set: never.
  void hash_remote_ids_above(std::size_t records) { hash_remote_ids_above_ = records; }

  // Those hashes for the document loaded last, in record order, handed over once; empty when
  // they were not computed (then remote_id() gives the ids).
  virtual std::vector<std::uint64_t> remote_id_hashes() { return {}; }

  // Maps records [first, last) of the loaded document, in document order.
  virtual std::vector<core::IncomingAccount> map(std::size_t first, std::size_t last) const = 0;

  // The text at the feed's `cursor.field` in record `index` of the loaded document (trimmed for
  // XML; a JSON string or number), "" when absent, not a value, or no cursor is configured.
  virtual std::string cursor_value(std::size_t index) const = 0;

  // The text at `path` from the loaded document's root (an XPath for XML, a JSON Pointer for
  // JSON), "" when absent or null. Used for next links. Throws core::SyncError{permanent} for a
  // path that does not compile, or (JSON) one that leads to an object or array.
  virtual std::string document_value(const std::string& path) const = 0;

 protected:
  std::size_t hash_remote_ids_above_ = static_cast<std::size_t>(-1);
};

// The mapper for `feed.format`, reading the document in `feed.encoding` (an XML declaration's
// encoding wins): converted to UTF-8 first, a record holding a byte the encoding does not
// define is invalid (`invalid_field`, naming the field; see transcode.hpp). Throws core::SyncError{permanent} when a path does not
// compile (the config loader checks this first, so only a hand-built FeedConfig gets here).
std::unique_ptr<DocumentMapper> make_mapper(const FeedConfig& feed, const ParseLimits& limits);

// Convenience: every record of `text`.
std::vector<core::IncomingAccount> map_document(const FeedConfig& feed, std::string_view text,
                                                const std::string& what, const ParseLimits& limits = {});

}  // namespace erpsync::connectors::feed
