#include "connectors/odbc/crm_suitecrm.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "connectors/odbc/sql_text.hpp"

namespace erpsync::connectors::odbc {
namespace {

using core::Field;
using sql::chunks;
using sql::kInChunk;
using sql::marks;

// erpsync's index names SuiteCRM's rows by crm_id (utf8mb4_bin, as every id of erpsync's); SuiteCRM's
// ids are utf8mb3. A join from the index to SuiteCRM's primary key compares in SuiteCRM's charset,
// or MariaDB converts the key column instead and scans the whole table for every row.
const std::string kCrmId = "CONVERT(s.crm_id USING utf8mb3)";

// SuiteCRM's names are written in backticks: TableNames leaves quoted text alone, so they are
// never taken for erpsync's (prefixed) tables of the same name.
std::string q(const std::string& ident) { return "`" + ident + "`"; }

// A new id of SuiteCRM's form: 36 characters, lower-case hex 8-4-4-4-12 (SuiteCRM's own
// create_guid() is no RFC 4122 version either).
std::string new_crm_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t hi = rng(), lo = rng();
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

// Account fields → SuiteCRM's accounts columns (name, phone, billing address). The owner,
// relationship/active (account_type), e-mail, code and parent have their own ways; vat has no
// column in SuiteCRM (it stays in erpsync's index, where adoption by vat finds it).
const char* account_column(Field f) {
  switch (f) {
    case Field::name: return "name";
    case Field::phone: return "phone_office";
    case Field::street: return "billing_address_street";
    case Field::city: return "billing_address_city";
    case Field::postcode: return "billing_address_postalcode";
    case Field::country: return "billing_address_country";
    default: return nullptr;
  }
}

// One row of erpsync's account index, read back after the batch wrote it.
struct IndexedAccount {
  core::EntityId id = 0;
  std::string crm_id, code, name, owner, relationship, email, phone, street, city, postcode, country, parent_crm_id, vat;
  bool active = true;
  const std::string& value(Field f) const {
    switch (f) {
      case Field::name: return name;
      case Field::phone: return phone;
      case Field::street: return street;
      case Field::city: return city;
      case Field::postcode: return postcode;
      default: return country;
    }
  }
};

constexpr const char* kIndexedAccount =
    "SELECT s.id, s.crm_id, s.external_code, s.name, s.owner, s.relationship, s.active, s.email, s.phone, s.street, "
    "s.city, s.postcode, s.country, p.crm_id, s.vat FROM accounts s LEFT JOIN accounts p ON p.id = s.member_of_id WHERE ";

IndexedAccount indexed_account(const Row& r) {
  IndexedAccount a;
  a.id = to_i64(r[0]);
  a.crm_id = str(r[1]);
  a.code = str(r[2]);
  a.name = str(r[3]);
  a.owner = str(r[4]);
  a.relationship = str(r[5]);
  a.active = to_i64(r[6]) != 0;
  a.email = str(r[7]);
  a.phone = str(r[8]);
  a.street = str(r[9]);
  a.city = str(r[10]);
  a.postcode = str(r[11]);
  a.country = str(r[12]);
  a.parent_crm_id = str(r[13]);
  a.vat = str(r[14]);
  return a;
}

// SuiteCRM's e-mail of one record (SuiteCRM's "email1"): one shared email_addresses row per
// address (found by its upper-cased form, as SuiteCRM de-duplicates), linked to the record by
// an email_addr_bean_rel row with primary_address = 1. An empty address unlinks the primary one.
void set_primary_email(Session& s, const std::string& module, const std::string& bean_id, const std::string& email,
                       const std::string& now) {
  auto rel = s.query("SELECT id, email_address_id FROM `email_addr_bean_rel` WHERE bean_id = ? AND bean_module = ? "
                     "AND primary_address = 1 AND deleted = 0 ORDER BY date_created, id",
                     {Param::str(bean_id), Param::str(module)});
  if (email.empty()) {
    if (!rel.empty())
      s.exec("UPDATE `email_addr_bean_rel` SET deleted = 1, date_modified = ? WHERE bean_id = ? AND bean_module = ? "
             "AND primary_address = 1 AND deleted = 0",
             {Param::ts(now), Param::str(bean_id), Param::str(module)});
    return;
  }
  std::string address_id;
  auto found = s.query("SELECT id, email_address FROM `email_addresses` WHERE email_address_caps = UPPER(?) AND "
                       "deleted = 0 ORDER BY date_created, id",
                       {Param::str(email)});
  if (!found.empty()) {
    address_id = str(found.front()[0]);
  } else {
    address_id = new_crm_id();
    s.exec("INSERT INTO `email_addresses` (id, email_address, email_address_caps, invalid_email, opt_out, "
           "date_created, date_modified, deleted) VALUES (?, ?, UPPER(?), 0, 0, ?, ?, 0)",
           {Param::str(address_id), Param::str(email), Param::str(email), Param::ts(now), Param::ts(now)});
  }
  if (!rel.empty()) {
    if (str(rel.front()[1]) == address_id) return;
    s.exec("UPDATE `email_addr_bean_rel` SET email_address_id = ?, date_modified = ? WHERE id = ?",
           {Param::str(address_id), Param::ts(now), Param::str(str(rel.front()[0]))});
    return;
  }
  s.exec("INSERT INTO `email_addr_bean_rel` (id, email_address_id, bean_id, bean_module, primary_address, "
         "reply_to_address, date_created, date_modified, deleted) VALUES (?, ?, ?, ?, 1, 0, ?, ?, 0)",
         {Param::str(new_crm_id()), Param::str(address_id), Param::str(bean_id), Param::str(module), Param::ts(now),
          Param::ts(now)});
}

// One record's primary e-mail to set (set_primary_email's arguments), for set_primary_emails.
struct EmailWrite {
  std::string module, bean_id, email;
  bool new_bean = false;  // inserted by this batch: it has no e-mail link yet
};

bool ascii(const std::string& v) {
  for (unsigned char c : v)
    if (c >= 0x80) return false;
  return true;
}

std::string ascii_upper(std::string v) {
  for (char& c : v)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return v;
}

// set_primary_email for many records with a few statements per chunk: the address rows of the
// batch read at once (by email_address_caps), the missing ones inserted in bulk, the records'
// primary links read at once (none for new records) and inserted in bulk. Addresses with
// non-ASCII characters, whose upper-case form only the database knows, go one by one.
void set_primary_emails(Session& s, const std::vector<EmailWrite>& writes, const std::string& now) {
  std::vector<const EmailWrite*> bulk;
  for (const auto& w : writes) {
    if (ascii(w.email)) bulk.push_back(&w);
    else set_primary_email(s, w.module, w.bean_id, w.email, now);
  }
  if (bulk.empty()) return;
  std::map<std::string, std::string> address_of;  // caps → email_addresses.id
  std::set<std::string> caps;
  for (const auto* w : bulk)
    if (!w->email.empty()) caps.insert(ascii_upper(w->email));
  for (const auto& chunk : chunks(caps, kInChunk)) {
    std::vector<Param> p;
    for (const auto& c : chunk) p.push_back(Param::str(c));
    for (const auto& r : s.query("SELECT email_address_caps, id FROM `email_addresses` WHERE deleted = 0 AND "
                                 "email_address_caps IN (" + marks(chunk.size()) + ") ORDER BY date_created DESC, id DESC",
                                 p))
      address_of[ascii_upper(str(r[0]))] = str(r[1]);  // the oldest row wins (last assigned)
  }
  std::vector<std::vector<Param>> new_addresses;
  for (const auto* w : bulk) {
    if (w->email.empty()) continue;
    const std::string c = ascii_upper(w->email);
    if (address_of.count(c)) continue;
    address_of[c] = new_crm_id();
    new_addresses.push_back({Param::str(address_of[c]), Param::str(w->email), Param::str(c), Param::i64(0),
                             Param::i64(0), Param::ts(now), Param::ts(now), Param::i64(0)});
  }
  s.insert("`email_addresses`",
           {"id", "email_address", "email_address_caps", "invalid_email", "opt_out", "date_created", "date_modified",
            "deleted"},
           new_addresses, false);
  // The primary links the records have (module → bean → (link id, address id)).
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> links;
  std::map<std::string, std::set<std::string>> old_beans;
  for (const auto* w : bulk)
    if (!w->new_bean) old_beans[w->module].insert(w->bean_id);
  for (const auto& [module, beans] : old_beans)
    for (const auto& chunk : chunks(beans, kInChunk)) {
      std::vector<Param> p = {Param::str(module)};
      for (const auto& b : chunk) p.push_back(Param::str(b));
      for (const auto& r : s.query("SELECT bean_id, id, email_address_id FROM `email_addr_bean_rel` WHERE bean_module = ? "
                                   "AND primary_address = 1 AND deleted = 0 AND bean_id IN (" + marks(chunk.size()) +
                                       ") ORDER BY date_created DESC, id DESC",
                                   p))
        links[{module, str(r[0])}] = {str(r[1]), str(r[2])};
    }
  std::vector<std::vector<Param>> new_links;
  for (const auto* w : bulk) {
    auto link = links.find({w->module, w->bean_id});
    if (w->email.empty()) {
      if (link != links.end())
        s.exec("UPDATE `email_addr_bean_rel` SET deleted = 1, date_modified = ? WHERE bean_id = ? AND bean_module = ? "
               "AND primary_address = 1 AND deleted = 0",
               {Param::ts(now), Param::str(w->bean_id), Param::str(w->module)});
      continue;
    }
    const std::string& address = address_of.at(ascii_upper(w->email));
    if (link == links.end()) {
      new_links.push_back({Param::str(new_crm_id()), Param::str(address), Param::str(w->bean_id), Param::str(w->module),
                           Param::i64(1), Param::i64(0), Param::ts(now), Param::ts(now), Param::i64(0)});
    } else if (link->second.second != address) {
      s.exec("UPDATE `email_addr_bean_rel` SET email_address_id = ?, date_modified = ? WHERE id = ?",
             {Param::str(address), Param::ts(now), Param::str(link->second.first)});
    }
  }
  s.insert("`email_addr_bean_rel`",
           {"id", "email_address_id", "bean_id", "bean_module", "primary_address", "reply_to_address", "date_created",
            "date_modified", "deleted"},
           new_links, false);
}

bool table_exists(Connection& c, const std::string& table) {
  return c.scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND "
                  "TABLE_NAME = ?",
                  {Param::str(table)})
             .value_or("0") != "0";
}

bool column_exists(Connection& c, const std::string& table, const std::string& column) {
  return c.scalar("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
                  "TABLE_NAME = ? AND COLUMN_NAME = ?",
                  {Param::str(table), Param::str(column)})
             .value_or("0") != "0";
}

}  // namespace

const std::map<std::string, std::string>& default_account_type_map() {
  static const std::map<std::string, std::string> m = {
      {"customer", "Customer"}, {"prospect", "Prospect"}, {"partner", "Partner"}, {"reseller", "Reseller"},
      {"distributor", "Reseller"}, {"supplier", "Other"}, {"other", "Other"}};
  return m;
}

SuiteCrm::SuiteCrm(SuiteCrmOptions options, TableNames tables)
    : options_(std::move(options)), tables_(std::move(tables)), type_map_(default_account_type_map()) {
  for (const auto& [rel, type] : options_.account_type_map) type_map_[rel] = type;
  base_limits_ = std::make_shared<core::CrmLimits>();
  base_limits_->name = "SuiteCRM";
  base_limits_->bmp_only = true;
  limits_ = base_limits_;
}

std::vector<std::string> SuiteCrm::index_statements() const {
  const std::string cf = q(options_.code_field);
  return {"UPDATE `accounts_cstm` c LEFT JOIN `accounts` a ON a.id = c.id_c SET c." + cf +
              " = NULL WHERE NOT (a.deleted <=> 0) AND c." + cf + " <> ''",
          "ALTER TABLE `accounts_cstm` ADD COLUMN " + q(code_key_column()) +
              " VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin AS (NULLIF(TRIM(" + cf +
              "), '')) PERSISTENT, ADD UNIQUE INDEX " + q(code_key_index()) + " (" + q(code_key_column()) + ")"};
}

std::string SuiteCrm::index_sql() const {
  const auto st = index_statements();
  return "-- database.crm \"suitecrm\": the External Code is unique among live Accounts, compared exactly (SPEC §5)\n"
         "-- a deleted Account holds no code:\n" + st[0] + ";\n" + st[1] + ";\n";
}

std::string SuiteCrm::duplicates_message(Connection& c) const {
  const std::string cf = "c." + q(options_.code_field);
  auto rows = c.query("SELECT TRIM(" + cf + "), GROUP_CONCAT(CONCAT(COALESCE(a.name, ''), ' (id ', c.id_c, ')') "
                      "ORDER BY c.id_c SEPARATOR ', ') FROM `accounts_cstm` c JOIN `accounts` a ON a.id = c.id_c "
                      "AND a.deleted = 0 WHERE TRIM(" + cf + ") <> '' GROUP BY CAST(TRIM(" + cf +
                      ") AS BINARY) HAVING COUNT(*) > 1 ORDER BY 1 LIMIT 50");
  std::string out;
  for (const auto& r : rows) out += "\n  code '" + str(r[0]) + "': " + str(r[1]);
  return out;
}

void SuiteCrm::check(Connection& c, MigrateMode mode) {
  if (c.dialect() != Dialect::mariadb)
    throw SchemaError("database.crm \"suitecrm\" needs SuiteCRM's MariaDB or MySQL database; this connection is " +
                      std::string(to_string(c.dialect())));
  for (const char* t : {"accounts", "accounts_cstm", "contacts", "accounts_contacts", "users", "email_addresses",
                        "email_addr_bean_rel"})
    if (!table_exists(c, t))
      throw SchemaError(std::string("database.crm \"suitecrm\": the database has no table `") + t +
                        "`; is database.connection SuiteCRM 7's database?");
  if (!column_exists(c, "accounts_cstm", options_.code_field))
    throw SchemaError("database.suitecrm.code_field: accounts_cstm has no column `" + options_.code_field +
                      "`; add the custom field to Accounts in SuiteCRM's Studio (a TextField of 64 characters, "
                      "see docs/crm-suitecrm.md)");
  if (!options_.vat_field.empty() && !column_exists(c, "accounts_cstm", options_.vat_field))
    throw SchemaError("database.suitecrm.vat_field: accounts_cstm has no column `" + options_.vat_field +
                      "`; add the custom field to Accounts in SuiteCRM's Studio, or leave vat_field out");
  read_lengths(c);
  StatementCache cache(c);
  Session s(c, cache);
  read_users(s);
  if (!users_.count(options_.sync_user))
    throw SchemaError("database.suitecrm.sync_user '" + options_.sync_user +
                      "' is no active SuiteCRM user (users.user_name, status Active, not deleted)");
  sync_user_id_ = users_.at(options_.sync_user);

  if (mode == MigrateMode::off || column_exists(c, "accounts_cstm", code_key_column())) return;
  if (mode == MigrateMode::check)
    throw SchemaError("database.crm \"suitecrm\": the unique index of the External Code (accounts_cstm." +
                      code_key_column() + ") is pending; run `erpsyncd migrate` (or apply `erpsyncd migrate --print-sql`)");
  if (auto dups = duplicates_message(c); !dups.empty())
    throw SchemaError("database.crm \"suitecrm\": the External Code must be unique, but live SuiteCRM Accounts "
                      "share codes (accounts_cstm." + options_.code_field +
                      "); make them unique in SuiteCRM, then start again (nothing was created):" + dups);
}

void SuiteCrm::create_index(Connection& c, MigrateMode mode) {
  if (mode != MigrateMode::auto_apply || column_exists(c, "accounts_cstm", code_key_column())) return;
  const auto st = index_statements();
  c.exec(st[0]);
  c.exec_direct(st[1]);
}

void SuiteCrm::read_lengths(Connection& c) {
  auto len = [&](const std::string& table, const std::string& column) -> std::size_t {
    auto v = c.scalar("SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                      "DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
                      {Param::str(table), Param::str(column)});
    return v ? static_cast<std::size_t>(std::stoll(*v)) : 0;
  };
  auto& a = base_limits_->account_max;
  auto at = [&](Field f) -> std::size_t& { return a[static_cast<std::size_t>(f)]; };
  for (Field f : {Field::name, Field::phone, Field::street, Field::city, Field::postcode, Field::country})
    at(f) = len("accounts", account_column(f));
  at(Field::external_code) = at(Field::member_of) = len("accounts_cstm", options_.code_field);
  at(Field::email) = len("email_addresses", "email_address");
  if (!options_.vat_field.empty()) at(Field::vat) = len("accounts_cstm", options_.vat_field);
  auto& k = base_limits_->contact_max;
  k[static_cast<std::size_t>(core::ContactField::first_name)] = len("contacts", "first_name");
  k[static_cast<std::size_t>(core::ContactField::last_name)] = len("contacts", "last_name");
  k[static_cast<std::size_t>(core::ContactField::phone)] = len("contacts", "phone_work");
  k[static_cast<std::size_t>(core::ContactField::email)] = at(Field::email);
}

void SuiteCrm::read_users(Session& s) {
  users_.clear();
  // users.deleted is NULL by default in SuiteCRM, not 0.
  for (const auto& r : s.query("SELECT user_name, id FROM `users` WHERE COALESCE(deleted, 0) = 0 AND status = "
                               "'Active' AND user_name IS NOT NULL AND user_name <> '' ORDER BY date_entered, id",
                               {}))
    users_.emplace(str(r[0]), str(r[1]));  // the first of two with one user_name
  auto lim = std::make_shared<core::CrmLimits>(*base_limits_);
  for (const auto& [login, id] : users_) lim->users.insert(login);
  limits_ = std::move(lim);
}

std::string SuiteCrm::user_id(const std::string& login) const {
  auto it = users_.find(login);
  if (it == users_.end())
    throw std::logic_error("owner '" + login + "' is no active SuiteCRM user, and the rules let it through");
  return it->second;
}

std::string SuiteCrm::account_type(const std::string& relationship, bool active) const {
  if (!active && !options_.inactive.empty()) return options_.inactive;
  auto it = type_map_.find(relationship.empty() ? "customer" : relationship);
  return it == type_map_.end() ? std::string() : it->second;
}

void SuiteCrm::refresh(Session& s) {
  read_users(s);
  const std::string cf = "c." + q(options_.code_field);
  const std::string code = "NULLIF(TRIM(" + cf + "), '')";
  const std::string now = utc_timestamp_now();
  // A deleted Account holds no code (the unique index counts every accounts_cstm row).
  s.exec("UPDATE `accounts_cstm` c LEFT JOIN `accounts` a ON a.id = c.id_c SET " + cf + " = NULL WHERE NOT "
         "(a.deleted <=> 0) AND " + cf + " <> ''", {});
  // Rows deleted in SuiteCRM leave the index (their bindings dangle, as SPEC §5 says).
  s.exec("DELETE s FROM accounts s LEFT JOIN `accounts` a ON a.id = " + kCrmId + " AND a.deleted = 0 "
         "WHERE s.crm_id IS NOT NULL AND a.id IS NULL", {});
  s.exec("DELETE s FROM contacts s LEFT JOIN `contacts` c ON c.id = " + kCrmId + " AND c.deleted = 0 "
         "WHERE s.crm_id IS NOT NULL AND c.id IS NULL", {});
  // Codes first, in two phases (a swap made in SuiteCRM passes the index's unique key).
  s.exec("UPDATE accounts s JOIN `accounts` a ON a.id = " + kCrmId + " LEFT JOIN `accounts_cstm` c ON c.id_c = a.id "
         "SET s.external_code = NULL WHERE s.external_code IS NOT NULL AND NOT (CAST(s.external_code AS BINARY) <=> "
         "CAST(" + code + " AS BINARY))", {});
  s.exec("UPDATE accounts s JOIN `accounts` a ON a.id = " + kCrmId + " JOIN `accounts_cstm` c ON c.id_c = a.id "
         "SET s.external_code = " + code + " WHERE s.external_code IS NULL AND " + code + " IS NOT NULL", {});
  // Accounts typed in SuiteCRM join the index.
  s.exec("INSERT INTO accounts (crm_id, external_code, name, owner, relationship, active, created_at, updated_at) "
         "SELECT a.id, " + code + ", a.name, u.user_name, NULL, 1, ?, ? FROM `accounts` a "
         "LEFT JOIN `accounts_cstm` c ON c.id_c = a.id LEFT JOIN `users` u ON u.id = a.assigned_user_id "
         "LEFT JOIN accounts s ON s.crm_id = a.id WHERE a.deleted = 0 AND s.id IS NULL",
         {Param::ts(now), Param::ts(now)});
  // The VAT number, where a custom field holds it (rule 9 adopts by it).
  if (!options_.vat_field.empty()) {
    const std::string vat = "NULLIF(TRIM(c." + q(options_.vat_field) + "), '')";
    s.exec("UPDATE accounts s JOIN `accounts` a ON a.id = " + kCrmId + " LEFT JOIN `accounts_cstm` c ON c.id_c = a.id "
           "SET s.vat = " + vat + " WHERE NOT (CAST(s.vat AS BINARY) <=> CAST(" + vat + " AS BINARY))", {});
  }
  // Owner, name and parent as SuiteCRM has them. A parent link the index holds as pending (no
  // parent yet) stays pending while SuiteCRM has none either.
  s.exec("UPDATE accounts s JOIN `accounts` a ON a.id = " + kCrmId + " LEFT JOIN `users` u ON u.id = a.assigned_user_id "
         "LEFT JOIN accounts p ON p.crm_id = a.parent_id "
         "SET s.owner = u.user_name, s.name = a.name, s.member_of_id = p.id "
         "WHERE NOT (CAST(s.owner AS BINARY) <=> CAST(u.user_name AS BINARY)) OR NOT (CAST(s.name AS BINARY) <=> "
         "CAST(a.name AS BINARY)) OR NOT (s.member_of_id <=> p.id)", {});
}

void SuiteCrm::read_current_owners(Session& s, core::StateSnapshot& st) {
  std::set<std::string> ids;
  for (const auto& [id, a] : st.accounts) ids.insert(std::to_string(id));
  for (const auto& chunk : chunks(ids, kInChunk)) {
    std::vector<Param> p;
    for (const auto& id : chunk) p.push_back(Param::i64(std::stoll(id)));
    for (const auto& r : s.query("SELECT s.id, u.user_name FROM accounts s JOIN `accounts` a ON a.id = " + kCrmId + " "
                                 "LEFT JOIN `users` u ON u.id = a.assigned_user_id WHERE s.id IN (" +
                                     marks(chunk.size()) + ")",
                                 p))
      if (auto it = st.accounts.find(to_i64(r[0])); it != st.accounts.end()) it->second.owner = str(r[1]);
  }
}

void SuiteCrm::project(Session& s, const core::WriteBatch& b) {
  const std::string now = utc_timestamp_now();
  // Not INSERT ... ON DUPLICATE KEY UPDATE: a clash on the code's unique index would then
  // update the other Account's row instead of failing. (MariaDB counts matched rows: OPTION=2.)
  auto set_cstm = [&](const std::string& crm_id, const std::string& column, const std::string& value) {
    if (s.exec("UPDATE `accounts_cstm` SET " + q(column) + " = ? WHERE id_c = ?",
               {Param::str_or_null(value), Param::str(crm_id)}) > 0)
      return;
    s.exec("INSERT INTO `accounts_cstm` (id_c, " + q(column) + ") VALUES (?, ?)",
           {Param::str(crm_id), Param::str_or_null(value)});
  };
  auto set_code = [&](const std::string& crm_id, const std::string& code) { set_cstm(crm_id, options_.code_field, code); };

  // New index rows get their SuiteCRM ids.
  std::vector<std::pair<core::EntityId, std::string>> new_accounts, new_contacts;
  // One UPDATE per chunk: crm_id = CASE id WHEN ... END.
  auto assign_ids = [&](const char* table, std::vector<std::pair<core::EntityId, std::string>>& out) {
    for (const auto& r : s.query(std::string("SELECT id FROM ") + table + " WHERE crm_id IS NULL", {}))
      out.emplace_back(to_i64(r[0]), new_crm_id());
    for (std::size_t at = 0; at < out.size(); at += kInChunk) {
      const std::size_t n = std::min(kInChunk, out.size() - at);
      std::string cases;
      std::vector<Param> p;
      for (std::size_t i = at; i < at + n; ++i) {
        cases += " WHEN ? THEN ?";
        p.push_back(Param::i64(out[i].first));
        p.push_back(Param::str(out[i].second));
      }
      for (std::size_t i = at; i < at + n; ++i) p.push_back(Param::i64(out[i].first));
      s.exec(std::string("UPDATE ") + table + " SET crm_id = CASE id" + cases + " END WHERE id IN (" + marks(n) + ")", p);
    }
  };
  if (!b.accounts.empty()) assign_ids("accounts", new_accounts);
  if (!b.contacts.empty()) assign_ids("contacts", new_contacts);
  std::vector<EmailWrite> emails;

  // The index rows the batch touched, as it left them.
  std::set<std::string> ids;
  for (const auto& [id, crm] : new_accounts) ids.insert(std::to_string(id));
  for (const auto& a : b.accounts)
    if (a.ref > 0) ids.insert(std::to_string(a.ref));
  for (const auto& cc : b.code_changes) ids.insert(std::to_string(cc.account));
  std::unordered_map<core::EntityId, IndexedAccount> rows;
  for (const auto& chunk : chunks(ids, kInChunk)) {
    std::vector<Param> p;
    for (const auto& id : chunk) p.push_back(Param::i64(std::stoll(id)));
    for (const auto& r : s.query(std::string(kIndexedAccount) + "s.id IN (" + marks(chunk.size()) + ")", p)) {
      auto a = indexed_account(r);
      rows.emplace(a.id, std::move(a));
    }
  }
  // The index row of `id`; nullptr when it is gone (another process's refresh removed an Account
  // deleted in SuiteCRM meanwhile: its update then touches nothing, as on erpsync's own schema).
  auto row = [&](core::EntityId id) -> const IndexedAccount* {
    auto it = rows.find(id);
    return it == rows.end() ? nullptr : &it->second;
  };

  // Code changes, phase 1: the old codes leave SuiteCRM (a swap passes the unique index).
  for (const auto& cc : b.code_changes)
    if (const auto* a = row(cc.account)) set_code(a->crm_id, "");

  std::vector<std::vector<Param>> account_rows, cstm_rows;
  for (const auto& [id, crm_id] : new_accounts) {
    const IndexedAccount& a = *row(id);  // inserted by this transaction
    account_rows.push_back({Param::str(crm_id), Param::str_or_null(a.name), Param::ts(now), Param::ts(now),
                            Param::str(sync_user_id_), Param::str(sync_user_id_), Param::i64(0),
                            Param::str(user_id(a.owner)), Param::str(account_type(a.relationship, a.active)),
                            Param::str_or_null(a.phone), Param::str_or_null(a.street), Param::str_or_null(a.city),
                            Param::str_or_null(a.postcode), Param::str_or_null(a.country),
                            Param::str_or_null(a.parent_crm_id)});
    cstm_rows.push_back({Param::str(crm_id), Param::str_or_null(a.code)});
    if (!options_.vat_field.empty()) cstm_rows.back().push_back(Param::str_or_null(a.vat));
    if (!a.email.empty()) emails.push_back({"Accounts", crm_id, a.email, true});
  }
  s.insert("`accounts`",
           {"id", "name", "date_entered", "date_modified", "modified_user_id", "created_by", "deleted",
            "assigned_user_id", "account_type", "phone_office", "billing_address_street", "billing_address_city",
            "billing_address_postalcode", "billing_address_country", "parent_id"},
           account_rows, false);
  std::vector<std::string> cstm_cols = {"id_c", q(options_.code_field)};
  if (!options_.vat_field.empty()) cstm_cols.push_back(q(options_.vat_field));
  s.insert("`accounts_cstm`", cstm_cols, cstm_rows, false);

  for (const auto& cc : b.code_changes)
    if (const auto* a = row(cc.account)) set_code(a->crm_id, cc.to);

  for (const auto& w : b.accounts) {
    if (w.ref <= 0 || !row(w.ref)) continue;
    const IndexedAccount& a = *row(w.ref);
    std::string sets;
    std::vector<Param> p;
    auto add = [&](const std::string& col, Param v) {
      sets += (sets.empty() ? "" : ", ") + col + " = ?";
      p.push_back(std::move(v));
    };
    for (Field f : {Field::name, Field::phone, Field::street, Field::city, Field::postcode, Field::country})
      if (w.set & core::bit(f)) add(account_column(f), Param::str_or_null(a.value(f)));
    if (w.set & core::bit(Field::owner)) add("assigned_user_id", Param::str(user_id(a.owner)));
    if (w.set & (core::bit(Field::relationship) | core::bit(Field::active)))
      add("account_type", Param::str(account_type(a.relationship, a.active)));
    if (w.set_member_of) add("parent_id", Param::str_or_null(a.parent_crm_id));
    if (!sets.empty()) {
      add("date_modified", Param::ts(now));
      add("modified_user_id", Param::str(sync_user_id_));
      p.push_back(Param::str(a.crm_id));
      s.exec("UPDATE `accounts` SET " + sets + " WHERE id = ?", p);
    }
    if (w.set_code) set_code(a.crm_id, a.code);
    if (!options_.vat_field.empty() && (w.set & core::bit(Field::vat))) set_cstm(a.crm_id, options_.vat_field, a.vat);
    if (w.set & core::bit(Field::email)) emails.push_back({"Accounts", a.crm_id, a.email, false});
  }
  if (b.contacts.empty()) {
    set_primary_emails(s, emails, now);
    return;
  }
  // Contacts: SuiteCRM's contacts row, its link to the Account (accounts_contacts) and e-mail.
  std::set<std::string> cids;
  for (const auto& [id, crm] : new_contacts) cids.insert(std::to_string(id));
  for (const auto& c : b.contacts)
    if (c.ref > 0) cids.insert(std::to_string(c.ref));
  std::set<std::string> fresh;
  for (const auto& [id, crm] : new_contacts) fresh.insert(crm);
  for (const auto& chunk : chunks(cids, kInChunk)) {
    std::vector<Param> p;
    for (const auto& id : chunk) p.push_back(Param::i64(std::stoll(id)));
    for (const auto& r :
         s.query("SELECT c.crm_id, c.first_name, c.last_name, c.email, c.phone, a.crm_id, sa.assigned_user_id FROM "
                 "contacts c JOIN accounts a ON a.id = c.account_id LEFT JOIN `accounts` sa ON sa.id = "
                 "CONVERT(a.crm_id USING utf8mb3) WHERE c.id IN (" + marks(chunk.size()) + ")",
                 p)) {
      // A Contact is assigned like its Account is in SuiteCRM (whoever that is: a Magento customer
      // attaches to an Account whatever its owner, rule 11).
      const std::string crm_id = str(r[0]), account = str(r[5]), owner = str(r[6]);
      if (fresh.count(crm_id)) {
        s.exec("INSERT INTO `contacts` (id, first_name, last_name, phone_work, date_entered, date_modified, "
               "modified_user_id, created_by, deleted, assigned_user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
               {Param::str(crm_id), Param::str_or_null(str(r[1])), Param::str_or_null(str(r[2])),
                Param::str_or_null(str(r[4])), Param::ts(now), Param::ts(now), Param::str(sync_user_id_),
                Param::str(sync_user_id_), Param::str_or_null(owner)});
      } else {
        s.exec("UPDATE `contacts` SET first_name = ?, last_name = ?, phone_work = ?, date_modified = ?, "
               "modified_user_id = ? WHERE id = ?",
               {Param::str_or_null(str(r[1])), Param::str_or_null(str(r[2])), Param::str_or_null(str(r[4])),
                Param::ts(now), Param::str(sync_user_id_), Param::str(crm_id)});
      }
      // One live link to its Account (SuiteCRM's index on the pair is not unique: never link twice).
      auto links = s.query("SELECT account_id FROM `accounts_contacts` WHERE contact_id = ? AND deleted = 0",
                           {Param::str(crm_id)});
      if (links.size() != 1 || str(links.front()[0]) != account) {
        if (!links.empty())
          s.exec("UPDATE `accounts_contacts` SET deleted = 1, date_modified = ? WHERE contact_id = ? AND deleted = 0",
                 {Param::ts(now), Param::str(crm_id)});
        s.exec("INSERT INTO `accounts_contacts` (id, contact_id, account_id, date_modified, deleted) VALUES (?, ?, ?, "
               "?, 0)",
               {Param::str(new_crm_id()), Param::str(crm_id), Param::str(account), Param::ts(now)});
      }
      emails.push_back({"Contacts", crm_id, str(r[3]), fresh.count(crm_id) > 0});
    }
  }
  set_primary_emails(s, emails, now);
}

}  // namespace erpsync::connectors::odbc
