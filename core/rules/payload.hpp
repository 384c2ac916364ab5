#pragma once
// The payload hash and the stored payload of an incoming record.
//
// Payload hash (SPEC §3 rule 4): SHA-256, hex, over "v1" and then, for each field of
// Field order that the connector maps, US (0x1F) + field name + US + value, each field ended
// by RS (0x1E). The owner field carries the *resolved* owner and is always included. When the
// connector maps contacts, each contact follows in arrival order as "contact" + its fields
// the same way, so a contact's edit is a change of its company record. Precisely, per contact:
// "contact", then for every ContactField in order US + name + US + value + RS (contacts have
// no mask: all six fields). Values are hashed as given: decide() hashes the record after rule
// 1's trimming of external_code and member_of, so padding alone is not a change.
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
// Appends one field to a hash input: US name US value RS (the separators cannot occur in the
// values of a valid record).
void append_hash_field(std::string& out, std::string_view name, std::string_view value);

// SPEC §3 rule 8's default remote id of a feed record, for mappers: when the record's
// `remote_id` value is empty, it becomes the normalised External Code, else (no code either)
// "sha256:" + payload_hash(rec, rec's trimmed raw owner). Contacts with an empty remote id get
// "sha256:" + SHA-256 of the record's (final) remote id and the contact's fields, so they can
// be bound. The `mapped` mask is not changed: a defaulted remote id is not a mapped field and
// stays out of the payload hash.
//
// It lives with the mappers, not in the matcher, because only feeds default their ids: for
// Odoo and Magento "" and "0" are real ids (SPEC §4) and the matcher never rewrites an id.
void default_remote_id(IncomingAccount& rec);

}  // namespace erpsync::core
