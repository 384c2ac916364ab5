#pragma once
// Where the records of a JSON feed are in its bytes (the JSON twin of xml_records.hpp), so that
// the mapper keeps the document and parses one record at a time instead of building a tree of
// the whole document, which takes 10 to 30 times its size (SPEC §11: a file feed's memory stays
// within 32 MB + 3x the document).
//
// The scan trusts the document to be well-formed (check_json_bounded() said so): it validates
// nothing, and on other input its answers mean nothing (but stay within the document).
//
// Pure: no I/O, no state.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/feed/xml_records.hpp"  // ByteRange

namespace erpsync::connectors::feed {

// One past the end of the JSON value that starts at `begin` (white space before it skipped).
std::size_t json_value_end(std::string_view doc, std::size_t begin);

// The bytes of the value at the JSON Pointer whose decoded reference tokens are `tokens` (an
// array index as its decimal text), without white space around it; nullopt when there is none.
// Of duplicate keys the last counts, as in nlohmann's parse.
std::optional<ByteRange> json_value_range(std::string_view doc, const std::vector<std::string>& tokens);

// Where each element of the array `array` (a json_value_range that starts with '[') begins, in
// order. Offsets are 32-bit (4 bytes per record, however small the records): `doc` must be
// shorter than 4 GiB.
std::vector<std::uint32_t> json_array_elements(std::string_view doc, ByteRange array);

}  // namespace erpsync::connectors::feed
