#pragma once
// Shared by the feed mapper fuzz targets: a FeedConfig mapping every field and a contacts
// block, and the run of one document through a mapper (load, map every record, cursor values,
// a document value). Property: nothing crashes, and only core::SyncError is thrown.
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/feed/mapper.hpp"
#include "core/errors.hpp"

namespace erpsync::fuzz {

// The mapping of tests/fixtures/feed/feed-{xml,json}.json (the seed corpora are their
// documents), plus a computed XPath and a cursor field.
inline connectors::feed::FeedConfig feed_config(bool xml) {
  connectors::feed::FeedConfig f;
  f.format = xml ? connectors::feed::FeedFormat::xml : connectors::feed::FeedFormat::json;
  f.records = xml ? "/Export/Customer" : "/customers";
  auto path = [&](const char* x, const char* j) { return connectors::feed::FieldPath{xml ? x : j, std::nullopt}; };
  using core::Field;
  auto set = [&](Field field, connectors::feed::FieldPath p) { f.fields[static_cast<std::size_t>(field)] = std::move(p); };
  set(Field::remote_id, path("@id", "/id"));
  set(Field::external_code, path("@code", "/code"));
  set(Field::name, path("Name", "/name"));
  set(Field::owner, path("SalesRep", "/sales_rep"));
  set(Field::member_of, path("Parent", "/parent"));
  connectors::feed::FieldPath rel = path("@type", "/type");
  rel.map = std::map<std::string, std::string>{{"C", "customer"}, {"P", "prospect"}, {"R", "reseller"}, {"S", "supplier"}};
  set(Field::relationship, rel);
  set(Field::email, path("Email", "/email"));
  set(Field::phone, path("Phone", "/phone"));
  set(Field::vat, path("concat(VAT, '')", "/vat"));
  set(Field::street, path("Address/Street", "/address/street"));
  set(Field::city, path("Address/City", "/address/city"));
  set(Field::postcode, path("Address/Zip", "/address/zip"));
  set(Field::country, path("Address/Country", "/address/country"));
  set(Field::active, path("@active", "/active"));
  connectors::feed::FeedContactsConfig contacts;
  contacts.records = xml ? "Contacts/Contact" : "/contacts";
  auto contact = [&](core::ContactField field, const char* x, const char* j) {
    contacts.fields[static_cast<std::size_t>(field)] = path(x, j);
  };
  contact(core::ContactField::remote_id, "@id", "/id");
  contact(core::ContactField::first_name, "First", "/first");
  contact(core::ContactField::last_name, "Last", "/last");
  contact(core::ContactField::email, "Email", "/email");
  contact(core::ContactField::phone, "Phone", "/phone");
  f.contacts = contacts;
  f.cursor = connectors::feed::FeedCursor{};
  f.cursor->field = xml ? "Modified" : "/modified";
  return f;
}

inline void run_mapper(bool xml, const std::uint8_t* data, std::size_t size) {
  static const connectors::feed::FeedConfig feed = feed_config(xml);
  connectors::ParseLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_depth = 64;
  static auto mapper = connectors::feed::make_mapper(feed, limits);
  try {
    const std::size_t n = mapper->load(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    const auto records = mapper->map(0, n);
    if (records.size() != n) __builtin_trap();
    for (std::size_t i = 0; i < n; ++i) (void)mapper->cursor_value(i);
    (void)mapper->document_value(xml ? "/Export/@next" : "/next");
    for (const auto& r : records) (void)r.get(core::Field::name);
  } catch (const core::SyncError&) {
  }
}

}  // namespace erpsync::fuzz
