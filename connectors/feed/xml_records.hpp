#pragma once
// Where the records of an XML feed are in its bytes, without building a DOM of the whole
// document (SPEC §11: a file feed's memory stays within a few times the document). A scan finds
// the byte range of every element at a plain records path such as "/Export/Customer", and
// everything outside those ranges (the "skeleton": declaration, root tags, white space, other
// elements). The mapper then parses the skeleton once and each record on its own, which checks
// the document as a whole parse would, and evaluates the record-relative field paths on the
// record alone.
//
// The scan is not a validator: it tokenizes well-formed XML exactly (comments, CDATA sections,
// processing instructions, quoted attribute values) and leaves any other error to the parses
// of the skeleton and the records. It refuses (nullopt) what it does not handle, and the caller
// then parses the document whole: a DOCTYPE, an encoding other than UTF-8 (or a BOM other than
// UTF-8's), a records path that is not absolute child steps of plain names, or field paths that
// may look outside their record (record_local_xpath).
//
// Pure: no I/O, no state.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace erpsync::connectors::feed {

struct ByteRange {
  std::size_t begin = 0;  // the record's '<'
  std::size_t end = 0;    // one past its closing '>'
};

struct XmlRecordScan {
  std::vector<ByteRange> records;  // in document order
  std::string skeleton;            // the document without the record ranges
};

// The names of a records path made of absolute child steps ("/Export/Customer" → Export,
// Customer); nullopt for any other XPath (predicates, //, axes, functions, wildcards).
std::optional<std::vector<std::string>> plain_records_path(const std::string& xpath);

// True when `xpath` evaluated on a record element can only see that element's subtree (no
// absolute path, no parent/ancestor/preceding/following axis, no "..", no id() or variables).
// Conservative: false for anything it cannot tell.
bool record_local_xpath(const std::string& xpath);

// Scans `doc` for the elements at `path` (from plain_records_path). nullopt when the document
// is one the scan does not handle (see above) or is malformed in a way the scan notices (an
// unclosed comment, a closing tag that does not match, the document ending inside an element):
// the caller parses it whole, which reports the error where it is.
std::optional<XmlRecordScan> scan_xml_records(std::string_view doc, const std::vector<std::string>& path);

}  // namespace erpsync::connectors::feed
