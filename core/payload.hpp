#pragma once
// The payload hash and the stored payload of an incoming record.
//
// Payload hash (SPEC §3 rule 4): SHA-256, hex, over "v1" and then, for each field of
// Field order that the connector maps, US (0x1F) + field name + US + value, each field ended
// by RS (0x1E). The owner field carries the *resolved* owner and is always included. When the
// connector maps contacts, each contact follows in arrival order as "contact" + its fields
// the same way, so a contact's edit is a change of its company record.
//
// Stored payload: a JSON object that round-trips an IncomingAccount exactly (replays of
// rejections and parked records are decided from it).

#include <optional>
#include <string>

#include "core/record.hpp"

namespace erpsync::core {

std::string payload_hash(const IncomingAccount& rec, const std::string& resolved_owner);

std::string to_payload(const IncomingAccount& rec);
// nullopt when `json` is not a payload written by to_payload (a corrupt row).
std::optional<IncomingAccount> from_payload(const std::string& json);

// SHA-256 of arbitrary bytes, lowercase hex (feeds' content hash).
std::string sha256_hex(std::string_view bytes);

}  // namespace erpsync::core
