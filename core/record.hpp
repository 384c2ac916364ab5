#pragma once
// The shapes of what a connector brings in, before any matching (SPEC §3, §4.3).
// Plain values; no I/O. Everything is a string because sources disagree about types and
// SPEC treats "absent" and "empty" alike.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace erpsync::core {

// The account fields in SPEC §4.3's fixed order. That order is the payload hash's order;
// never reorder, only append (and bump the hash version when doing so).
enum class Field : std::uint8_t {
  remote_id, external_code, name, owner, member_of, relationship, email, phone, vat,
  street, city, postcode, country, active,
};
inline constexpr std::size_t kFieldCount = 14;
std::string_view field_name(Field f);
std::optional<Field> field_from_name(std::string_view name);

// The contact fields of a feed's `contacts` block, in SPEC §4.3's order.
enum class ContactField : std::uint8_t { remote_id, first_name, last_name, email, phone, active };
inline constexpr std::size_t kContactFieldCount = 6;
std::string_view contact_field_name(ContactField f);

// Column length limits of SPEC §5; a longer value is an `invalid_field` rejection.
inline constexpr std::size_t kMaxExternalCode = 64;
inline constexpr std::size_t kMaxName = 255;
inline constexpr std::size_t kMaxOwner = 64;
inline constexpr std::size_t kMaxEmail = 255;
inline constexpr std::size_t kMaxPhone = 64;
inline constexpr std::size_t kMaxVat = 32;
inline constexpr std::size_t kMaxRemoteId = 128;
inline constexpr std::size_t kMaxText = 255;  // street, city, ... (no SPEC limit; our column size)
// The same sizes hold the identity columns of sync_rejections (remote_id, external_code,
// existing_owner, incoming_owner): what a rejection stores there is fitted to them
// (core/value_check.hpp), so that the rejection of a bad value always fits. The schema itself is
// connectors/odbc/migrations.cpp.
inline constexpr std::size_t kMaxWaitsFor = 64;  // sync_parked.waits_for

using FieldMask = std::uint32_t;
constexpr FieldMask bit(Field f) { return FieldMask{1} << static_cast<unsigned>(f); }

struct IncomingContact {
  std::array<std::string, kContactFieldCount> values;  // indexed by ContactField
  const std::string& get(ContactField f) const { return values[static_cast<std::size_t>(f)]; }
  std::string& at(ContactField f) { return values[static_cast<std::size_t>(f)]; }
};

// One company record from an authoritative connector (odoo, feed), as the mapper produced it.
// `mapped` says which fields the connector maps at all: only those are written on update
// (an unmapped field is left alone; a mapped field that is empty clears the value) and only
// those enter the payload hash.
struct IncomingAccount {
  std::array<std::string, kFieldCount> values;  // raw values, indexed by Field; `owner` is the source's value
  FieldMask mapped = 0;
  std::vector<IncomingContact> contacts;
  bool has_contacts_block = false;  // the connector maps contacts at all
  // Set by the mapper when the record cannot be read (bad date, invalid UTF-8 ...): the
  // matcher turns it into an `invalid_field` rejection naming this text, in arrival order.
  std::optional<std::string> invalid;

  const std::string& get(Field f) const { return values[static_cast<std::size_t>(f)]; }
  std::string& at(Field f) { return values[static_cast<std::size_t>(f)]; }
  bool maps(Field f) const { return (mapped & bit(f)) != 0; }
  void set(Field f, std::string v) { at(f) = std::move(v); mapped |= bit(f); }
};

}  // namespace erpsync::core
