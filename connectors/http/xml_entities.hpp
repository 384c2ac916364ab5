#pragma once
// Entity references pugixml does not know. pugixml expands the five predefined entities and
// character references, and leaves any other reference ("&nbsp;", "&foo;", an entity a DOCTYPE
// declares) in the text as its literal characters: "AT&foo;" would be synced as a company's name.
// An undefined entity makes a document not well-formed (XML 1.0 §4.1), so it is refused like any
// other malformed document, at its byte and line.
//
// Pure; thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace erpsync::connectors {

// Offset of the first '&' of a reference "&name;" whose name is not lt, gt, amp, apos or quot,
// in text or an attribute value (comments, CDATA sections, processing instructions and the
// DOCTYPE are skipped); nullopt when there is none. Character references ("&#...;") are left to
// the parser, and so is a '&' that does not begin "&name;" (pugixml keeps it as text). One pass
// with memchr; markup is walked only up to a reference that is not predefined.
std::optional<std::size_t> find_unknown_entity(std::string_view xml);

// Throws core::SyncError{permanent} naming `what`, the byte offset, the line and the entity when
// find_unknown_entity() finds one.
void refuse_unknown_entities(std::string_view xml, const std::string& what);

}  // namespace erpsync::connectors
