#pragma once
// SPEC §3 rule 12, one person, one Contact: within one Account, a person a source brings (a
// feed's or Odoo's contact, a Magento customer) whose e-mail equals that of exactly one Contact
// of the same Account is that Contact. Pure functions over the matcher's view
// (StateSnapshot::contacts_by_email, which the store fills for the e-mails of
// BatchKeys::contact_emails and the batch adds its new Contacts to).
//
// Thread-safety: stateless functions.

#include <optional>
#include <string_view>

#include "core/rules/normalize.hpp"
#include "core/state.hpp"
#include "core/write_batch.hpp"

namespace erpsync::core {

// The Contact of `account` that a person with `email` is: the one Contact of that Account with
// the same normalize_email(); nullopt when the e-mail is empty, or none or several Contacts
// have it.
inline std::optional<EntityId> same_person(const StateSnapshot& view, EntityId account, std::string_view email) {
  const std::string key = normalize_email(email);
  if (key.empty()) return std::nullopt;
  auto a = view.contacts_by_email.find(account);
  if (a == view.contacts_by_email.end()) return std::nullopt;
  auto e = a->second.find(key);
  if (e == a->second.end() || e->second.size() != 1) return std::nullopt;
  return e->second.front();
}

// Notes that Contact `contact` (an id, or a batch's new ref) of `account` has `email`, once.
inline void note_person(StateSnapshot& view, EntityId account, std::string_view email, EntityId contact) {
  std::string key = normalize_email(email);
  if (key.empty()) return;
  auto& ids = view.contacts_by_email[account][std::move(key)];
  for (EntityId id : ids)
    if (id == contact) return;
  ids.push_back(contact);
}

// Adds `w` to the batch's contact writes, or, when the batch writes that Contact already (two
// persons of the batch are one), overwrites that write with `w`'s fields: the later record is the
// one that changed last. A default flag decided for it stays decided.
inline void put_contact(std::vector<ContactWrite>& writes, ContactWrite w) {
  for (ContactWrite& earlier : writes) {
    if (earlier.ref != w.ref) continue;
    if (!w.is_default) w.is_default = earlier.is_default;
    earlier = std::move(w);
    return;
  }
  writes.push_back(std::move(w));
}

}  // namespace erpsync::core
