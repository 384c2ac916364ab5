#include "connectors/odbc/snapshot_reader.hpp"

#include <algorithm>
#include <map>

#include "connectors/odbc/quiet_read.hpp"
#include "core/rules/normalize.hpp"
#include "core/rules/persons.hpp"

namespace erpsync::connectors::odbc {
namespace {

// The accounts.name_key form of a normalised name: blanks removed (the database lower-cases).
std::string name_key(std::string_view normalized) {
  std::string out;
  for (char ch : normalized)
    if (ch != ' ') out += ch;
  return out;
}

// Adoption candidates (rule 9) leave out the duplicates `erpsyncd merge` merged away: inactive,
// kept, and no company of the ERP's any more.
const std::string kNotMerged = "id NOT IN (SELECT from_id FROM sync_merges)";

}  // namespace

core::BindingState SnapshotReader::binding(const Row& r) {
  core::BindingState b;
  b.entity = str(r[1]);
  b.entity_id = to_i64(r[2]);
  b.payload_hash = str(r[3]);
  b.missing = r[4].has_value();
  return b;
}

void load_contact_emails(Session& s, const std::set<std::string>& accounts, const std::set<std::string>& emails,
                         core::StateSnapshot& st) {
  if (accounts.empty() || emails.empty()) return;
  // Both lists bound: at most 512 + kInChunk parameters a statement. The e-mails are padded (the
  // last repeated) and the ids go the dialect's way (one array on PostgreSQL), so that every
  // batch runs the same few prepared texts.
  // The e-mails are normalised (normalize_email: trimmed, ASCII lower-cased): one holding only
  // ASCII is its own lower(), and a list of plain values is one the database compares a row's
  // lower(trim(email)) with by a search, not value by value; a list with another e-mail
  // lower()s every one in the database, as the row's side is.
  auto ascii = [](const std::string& m) {
    return std::all_of(m.begin(), m.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
  };
  constexpr std::size_t kEmailChunk = 500;
  for (const auto& mails : sql::chunks(emails, kEmailChunk)) {
    const std::size_t padded = sql::padded_length(mails.size());
    const bool plain = std::all_of(mails.begin(), mails.end(), ascii);
    const std::string head = "SELECT account_id, id, email FROM contacts WHERE lower(trim(email)) IN (" +
                             sql::marks(padded, plain ? "?" : "lower(?)") + ") AND account_id IN ";
    for (const auto& ids : sql::chunks(accounts, sql::kInChunk)) {
      std::vector<Param> p;
      for (const auto& m : mails) p.push_back(Param::str(m));
      while (p.size() < padded) p.push_back(p.back());
      for (const auto& id : ids) p.push_back(Param::i64(std::stoll(id)));
      const std::string sql = s.dialect().key_list(head, p, padded, /*as_int=*/true);
      for (const Row& r : s.query(sql, p)) {
        const std::string email = core::normalize_email(str(r[2]));
        if (emails.count(email)) core::note_person(st, to_i64(r[0]), email, to_i64(r[1]));
      }
    }
  }
}

core::EntityId SnapshotReader::add_account(const Row& r, std::size_t at) {
  auto [a, fresh] = add_account_identity(st_, *account_identity_at(r, at));  // id: never NULL here
  if (fresh) {
    a.member_of_code = str(r[at + 4]);
    a.name = str(r[at + 5]);
    a.vat = str(r[at + 6]);
  }
  return a.id;
}

void SnapshotReader::load_accounts_by_code(const std::set<std::string>& codes) {
  each_chunk(kAccounts + "external_code IN ", {}, codes, [&](const Row& r) { add_account(r); });
}

void SnapshotReader::load_ancestors() {
  for (int depth = 0; depth < kMaxAncestorDepth; ++depth) {
    std::set<std::string> parents;
    for (const auto& [id, a] : st_.accounts)
      if (a.member_of_id && !st_.accounts.count(*a.member_of_id)) parents.insert(std::to_string(*a.member_of_id));
    if (parents.empty()) break;
    std::size_t before = st_.accounts.size();
    each_chunk(kAccounts + "id IN ", {}, parents, [&](const Row& r) { add_account(r); }, true);
    if (st_.accounts.size() == before) break;  // dangling parents (deleted in the CRM)
  }
}

core::StateSnapshot read_snapshot(Session& s, const core::BatchKeys& keys, UnboundStreams unbound) {
  using core::EntityId;
  core::StateSnapshot st;
  SnapshotReader rd(s, st);

  // Bindings of the batch's remote ids, and of its contacts.
  std::set<std::string> bound_accounts;
  if (!unbound.records)
    rd.each_chunk(SnapshotReader::kBindings, {Param::str(keys.connector), Param::str(keys.stream)}, keys.remote_ids,
                  [&](const Row& r) {
                    auto b = SnapshotReader::binding(r);
                    if (b.entity == "account") bound_accounts.insert(std::to_string(b.entity_id));
                    st.bindings[str(r[0])] = b;
                  });
  if (!unbound.contacts)
    rd.each_chunk(SnapshotReader::kBindings, {Param::str(keys.connector), Param::str("contacts")},
                  keys.contact_remote_ids,
                  [&](const Row& r) { st.contact_bindings[str(r[0])] = SnapshotReader::binding(r); });

  // Open rejections of the batch's remote ids.
  rd.each_chunk("SELECT remote_id, reason, payload_hash FROM sync_rejections WHERE connector = ? AND stream = ? "
                "AND resolved_at IS NULL AND remote_id IN ",
                {Param::str(keys.connector), Param::str(keys.stream)}, keys.remote_ids, [&](const Row& r) {
                  auto reason = core::reject_reason_from_string(str(r[1]));
                  if (!reason) return;  // a reason this binary does not know: not its business
                  st.open_rejections[str(r[0])].push_back(core::OpenRejection{*reason, str(r[2])});
                });

  // Accounts holding one of the codes, and accounts bound to one of the remote ids.
  rd.load_accounts_by_code(keys.codes);
  std::set<std::string> missing_ids;
  for (const auto& id : bound_accounts)
    if (!st.accounts.count(std::stoll(id))) missing_ids.insert(id);
  rd.each_chunk(SnapshotReader::kAccounts + "id IN ", {}, missing_ids, [&](const Row& r) { rd.add_account(r); },
                true);

  // Accounts waiting for one of the codes as their parent (rule 6). The dialect's hint keeps the
  // planner on the member_of_code index (an IN list of codes; the quiet read's single-code probe
  // gets accounts_pending_ix, see quiet_select).
  const std::string pending_head = SnapshotReader::kAccounts + std::string(s.dialect().pending_children_hint()) +
                                   "member_of_id IS NULL AND member_of_code IN ";
  rd.each_chunk(pending_head, {}, keys.codes, [&](const Row& r) {
    EntityId id = rd.add_account(r);
    st.pending_children[str(r[4])].push_back(id);
  });

  // Adoption candidates (rule 9): accounts without a code, by name_key then exact normalised name.
  if (!keys.adopt_names.empty()) {
    std::map<std::string, std::set<std::string>> by_key;  // name_key → normalised names asked
    for (const auto& n : keys.adopt_names) by_key[name_key(n)].insert(n);
    std::set<std::string> key_set;
    for (const auto& [k, _] : by_key) key_set.insert(k);
    for (const auto& chunk : sql::chunks(key_set, sql::kInChunk)) {
      std::vector<Param> p;
      for (const auto& k : chunk) p.push_back(Param::str(k));
      // `COALESCE(external_code, '') = ''` rather than `IS NULL`: no index can serve it, so the
      // planner uses name_key's (SQLite otherwise walks the unique code index over every
      // uncoded account: 4x slower with 100k of them). Codes are never stored empty.
      for (const auto& r : s.query(SnapshotReader::kAccounts + "COALESCE(external_code, '') = '' AND " + kNotMerged +
                                       " AND name_key IN (" +
                                       sql::marks(chunk.size(), "lower(?)") + ")",
                                   p)) {
        std::string norm = core::normalize_name(str(r[5]));
        if (!keys.adopt_names.count(norm)) continue;
        EntityId id = rd.add_account(r);
        st.uncoded_by_name[norm].push_back(id);
      }
    }
  }
  if (!keys.adopt_vats.empty()) {
    rd.each_chunk(SnapshotReader::kAccounts + "COALESCE(external_code, '') = '' AND " + kNotMerged + " AND vat IN ", {},
                  keys.adopt_vats,
                  [&](const Row& r) {
                    std::string vat = str(r[6]);
                    if (!keys.adopt_vats.count(vat)) return;  // MariaDB compares vat case-insensitively
                    EntityId id = rd.add_account(r);
                    st.uncoded_by_vat[vat].push_back(id);
                  });
  }

  rd.load_ancestors();

  // Remote ids of (connector, stream) bound to the loaded accounts (rule 8), default contacts.
  std::set<std::string> all_ids;
  for (const auto& [id, a] : st.accounts) all_ids.insert(std::to_string(id));
  rd.each_chunk("SELECT entity_id, remote_id FROM bindings WHERE connector = ? AND stream = ? AND entity = 'account' "
                "AND entity_id IN ",
                {Param::str(keys.connector), Param::str(keys.stream)}, all_ids,
                [&](const Row& r) { st.remote_ids_by_account[to_i64(r[0])].push_back(str(r[1])); }, true);
  rd.each_chunk("SELECT DISTINCT account_id FROM contacts WHERE is_default = 1 AND account_id IN ", {}, all_ids,
                [&](const Row& r) {
                  auto it = st.accounts.find(to_i64(r[0]));
                  if (it != st.accounts.end()) it->second.has_default_contact = true;
                },
                true);
  // Rule 12: the loaded accounts' Contacts with one of the batch's e-mails (compared normalised
  // here: a hand-typed e-mail may differ in case or carry blanks).
  load_contact_emails(s, all_ids, keys.contact_emails, st);
  for (auto& [id, rids] : st.remote_ids_by_account) std::sort(rids.begin(), rids.end());
  return st;
}

}  // namespace erpsync::connectors::odbc
