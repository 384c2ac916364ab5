#include "connectors/odbc/quiet_read.hpp"

#include "connectors/odbc/dialect.hpp"
#include "connectors/odbc/snapshot_reader.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <set>

namespace erpsync::connectors::odbc {

std::pair<core::AccountState&, bool> add_account_identity(core::StateSnapshot& st, AccountIdentity a) {
  auto [it, fresh] = st.accounts.try_emplace(a.id);
  core::AccountState& account = it->second;
  if (fresh) {
    account.id = a.id;
    account.external_code = std::move(a.external_code);
    account.owner = std::move(a.owner);
    account.member_of_id = a.member_of_id;
    if (!account.external_code.empty()) st.account_by_code[account.external_code] = account.id;
  }
  return {account, fresh};
}

std::optional<AccountIdentity> account_identity_at(const Row& r, std::size_t at) {
  if (!r[at]) return std::nullopt;
  AccountIdentity a;
  a.id = to_i64(r[at]);
  a.external_code = str(r[at + 1]);
  a.owner = str(r[at + 2]);
  if (r[at + 3]) a.member_of_id = to_i64(r[at + 3]);
  return a;
}

QuietRow QuietRow::from(const Row& r) {
  QuietRow q;
  q.remote_id = str(r[0]);
  q.payload_hash = str(r[1]);
  q.missing = to_i64(r[2]) != 0;
  q.account = account_identity_at(r, 3);
  q.parent = account_identity_at(r, 7);
  q.needs_full = to_i64(r[11]) != 0 || !q.account;
  return q;
}

std::string quiet_select(Dialect dialect) {
  // The pending child probe reads accounts_pending_ix, which is empty when no child waits.
  const std::string plus(sql_dialect(dialect).open_rejection_probe_hint());
  return "SELECT b.remote_id, b.payload_hash, CASE WHEN b.missing_since IS NULL THEN 0 ELSE 1 END, "
         "a.id, a.external_code, a.owner, a.member_of_id, p.id, p.external_code, p.owner, p.member_of_id, "
         "CASE WHEN EXISTS (SELECT 1 FROM sync_rejections r WHERE r.connector = b.connector AND r.stream = b.stream "
         "AND r.remote_id = b.remote_id AND " + plus + "r.resolved_at IS NULL) OR EXISTS (SELECT 1 FROM accounts c "
         "WHERE c.member_of_code = a.external_code AND c.member_of_id IS NULL) THEN 1 ELSE 0 END "
         "FROM bindings b LEFT JOIN accounts a ON a.id = b.entity_id AND b.entity = 'account' "
         "LEFT JOIN accounts p ON p.id = a.member_of_id "
         "WHERE b.connector = ? AND b.stream = ? AND ";
}

namespace {

// Runs `sql` with `params` and calls on_row for every row, reusing one Row's storage.
template <class OnRow>
void each_row(Statement& st, const std::string& sql, const std::vector<Param>& params, OnRow&& on_row) {
  st.execute(sql, params);
  Row r;
  while (st.fetch_into(r)) on_row(r);
  st.close_cursor();
}

}  // namespace

std::unique_ptr<QuietStream> QuietStream::read(Connection& conn, Connection* beside, const std::string& connector,
                                               const std::string& stream, std::size_t memory_budget,
                                               const std::function<bool()>& give_up) {
  auto given_up = [&] { return give_up && give_up(); };
  const std::vector<Param> key = {Param::str(connector), Param::str(stream)};
  Statement st(conn), page(conn);
  std::int64_t bound = 0, id_span = 0;
  each_row(st, "SELECT COUNT(*) FROM bindings WHERE connector = ? AND stream = ?", key,
           [&](const Row& r) { bound = to_i64(r[0]); });
  each_row(st, "SELECT MIN(id), MAX(id) FROM accounts", {}, [&](const Row& r) {
    if (r[0] && r[1]) id_span = to_i64(r[1]) - to_i64(r[0]) + 1;
  });
  if (bound == 0 || id_span > kMaxAccountsPerBinding * bound) return nullptr;
  const auto entries_bytes = static_cast<double>(bound) * sizeof(BoundEntry) + static_cast<double>(id_span) * sizeof(AccountEntry);
  if (entries_bytes > static_cast<double>(memory_budget)) return nullptr;

  auto qs = std::make_unique<QuietStream>();
  qs->connector_ = connector;
  qs->stream_ = stream;
  // Sized up front: growing vectors of 100,000s of entries copies them and faults in fresh
  // pages at every doubling (a third of the read's time without this). Capacity never
  // touched (id gaps) costs address space, not memory.
  qs->bindings_.reserve(static_cast<std::size_t>(bound));
  qs->accounts_.reserve(static_cast<std::size_t>(id_span));
  const std::string limit = " LIMIT " + std::to_string(kPageRows);  // a literal: some drivers quote a bound one

  // 2. Every account's identity, by id (ascending: already sorted) — over `beside` on another
  //    thread while 1. runs, when there is one. That thread does not call give_up (the caller's,
  //    read on this thread): it stops at its next page once this one gives up.
  std::atomic<bool> stop{false};
  auto read_accounts = [&qs, &limit](Connection& c, const std::function<bool()>& halt) {
    Statement accounts_page(c);
    for (core::EntityId last = 0;;) {
      if (halt()) return;
      int rows = 0;
      each_row(accounts_page, "SELECT id, external_code, owner, member_of_id FROM accounts WHERE id > ? ORDER BY id" + limit,
               {Param::i64(last)}, [&](const Row& r) {
                 ++rows;
                 AccountIdentity a = *account_identity_at(r, 0);  // id is the primary key: never NULL
                 last = a.id;
                 qs->accounts_.emplace_back(
                     last, Identity{std::move(a.external_code), std::move(a.owner), a.member_of_id, false});
               });
      if (rows < kPageRows) return;
    }
  };
  std::future<void> accounts_read;
  if (beside)
    accounts_read = std::async(std::launch::async, [&] { read_accounts(*beside, [&stop] { return stop.load(); }); });
  // Waits for 2. on every way out of this function (it writes into *qs).
  struct Joined {
    std::future<void>& f;
    std::atomic<bool>& stop;
    ~Joined() {
      stop = true;
      if (f.valid()) f.wait();
    }
  } joined{accounts_read, stop};

  // 1. The bindings, in the primary key's order: each page seeks past the last remote id of
  //    the one before (the first includes "", a real id for some ERPs).
  std::string after;
  for (bool first = true;; first = false) {
    if (given_up()) return nullptr;
    int rows = 0;
    each_row(page,
             std::string("SELECT remote_id, payload_hash, CASE WHEN missing_since IS NULL THEN 0 ELSE 1 END, "
                         "CASE WHEN entity = 'account' THEN entity_id END FROM bindings "
                         "WHERE connector = ? AND stream = ? AND remote_id ") +
                 (first ? ">= ?" : "> ?") + " ORDER BY remote_id" + limit,
             {key[0], key[1], Param::str(after)}, [&](const Row& r) {
               ++rows;
               Bound b;
               const std::string_view hash = r[1] ? std::string_view(*r[1]) : std::string_view();
               b.missing = to_i64(r[2]) != 0;
               b.account_id = to_i64(r[3]);
               b.needs_full = b.account_id == 0 || hash.size() > b.hash.size();
               if (!b.needs_full) {
                 std::copy(hash.begin(), hash.end(), b.hash.begin());
                 b.hash_size = static_cast<std::uint8_t>(hash.size());
               }
               after = str(r[0]);
               qs->bindings_.emplace_back(after, b);
             });
    if (rows < kPageRows) break;
  }
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!std::is_sorted(qs->bindings_.begin(), qs->bindings_.end(), by_key))
    std::sort(qs->bindings_.begin(), qs->bindings_.end(), by_key);

  if (beside) {
    accounts_read.get();  // throws what reading the accounts threw
  } else {
    read_accounts(conn, given_up);
  }
  if (given_up()) return nullptr;

  // 3. Records that need the full snapshot: an open rejection, or a child waiting for their
  //    account's code. Both joins compare in the database's collation, as load_state does.
  each_row(st,
           "SELECT DISTINCT b.remote_id FROM sync_rejections r JOIN bindings b ON b.connector = r.connector "
           "AND b.stream = r.stream AND b.remote_id = r.remote_id "
           "WHERE r.connector = ? AND r.stream = ? AND r.resolved_at IS NULL",
           key, [&](const Row& r) {
             if (Bound* b = qs->find(str(r[0]))) b->needs_full = true;
           });
  const std::string pending_index(sql_dialect(conn.dialect()).pending_index_hint());
  each_row(st,
           "SELECT DISTINCT a.id FROM accounts c" + pending_index +
               " JOIN accounts a ON a.external_code = c.member_of_code "
               "WHERE c.member_of_id IS NULL AND c.member_of_code IS NOT NULL",
           {}, [&](const Row& r) {
             if (Identity* a = qs->account(to_i64(r[0]))) a->waited_for = true;
           });
  return qs;
}

const QuietStream::Bound* QuietStream::find(const std::string& remote_id) const {
  auto it = std::lower_bound(bindings_.begin(), bindings_.end(), remote_id,
                             [](const BoundEntry& e, const std::string& k) { return e.first < k; });
  return it != bindings_.end() && it->first == remote_id ? &it->second : nullptr;
}

QuietStream::Bound* QuietStream::find(const std::string& remote_id) {
  return const_cast<Bound*>(std::as_const(*this).find(remote_id));
}

const QuietStream::Identity* QuietStream::account(core::EntityId id) const {
  auto it = std::lower_bound(accounts_.begin(), accounts_.end(), id,
                             [](const AccountEntry& e, core::EntityId k) { return e.first < k; });
  return it != accounts_.end() && it->first == id ? &it->second : nullptr;
}

QuietStream::Identity* QuietStream::account(core::EntityId id) {
  return const_cast<Identity*>(std::as_const(*this).account(id));
}

bool QuietStream::add_known(core::EntityId id, core::StateSnapshot& st) const {
  if (st.accounts.count(id)) return true;
  const Identity* a = account(id);
  if (!a || a->forgotten) return false;
  add_account_identity(st, AccountIdentity{id, a->external_code, a->owner, a->member_of_id});
  return true;
}

bool QuietStream::fill(const core::BatchKeys& keys, core::StateSnapshot& st, int max_ancestor_depth) const {
  for (const std::string& rid : keys.remote_ids) {
    const Bound* b = find(rid);
    if (!b || b->missing || b->needs_full) continue;
    const Identity* a = account(b->account_id);
    // The account was deleted or written since, or a child waits for it.
    if (!a || a->forgotten || a->waited_for) continue;
    core::BindingState& binding = st.bindings[rid];
    binding.entity = "account";
    binding.entity_id = b->account_id;
    binding.payload_hash.assign(b->hash.data(), b->hash_size);
    add_known(b->account_id, st);
  }
  if (st.bindings.empty()) return false;
  // The ancestors (all accounts are held: only a dangling parent, deleted in the CRM, is not).
  for (int depth = 0; depth < max_ancestor_depth; ++depth) {
    std::vector<core::EntityId> parents;
    for (const auto& [id, a] : st.accounts)
      if (a.member_of_id && !st.accounts.count(*a.member_of_id)) parents.push_back(*a.member_of_id);
    bool added = false;
    for (core::EntityId id : parents) added = add_known(id, st) || added;
    if (!added) break;
  }
  return true;
}

void QuietStream::forget(const core::WriteBatch& batch) {
  written_ = true;
  auto record = [&](const std::string& stream, const std::string& remote_id) {
    if (batch.connector != connector_ || stream != stream_) return;
    if (Bound* b = find(remote_id)) b->needs_full = true;
  };
  for (const core::BindingWrite& b : batch.bindings) record(b.stream, b.remote_id);
  for (const core::RejectionWrite& r : batch.rejections) record(r.stream, r.remote_id);
  for (const core::RejectionResolve& r : batch.resolves) record(r.stream, r.remote_id);
  auto account_written = [&](core::Ref ref) {
    if (ref <= 0) return;  // created by the batch: never held
    if (Identity* a = account(ref)) a->forgotten = true;
  };
  for (const core::CodeChange& c : batch.code_changes) account_written(c.account);
  for (const core::AccountWrite& a : batch.accounts) account_written(a.ref);
}

void QuietStream::Missing::count(const std::string& remote_id, bool was_missing,
                                 const core::KeySet& seen) {
  if (!seen.contains(remote_id)) {
    ++missing;
    if (!was_missing) to_mark.push_back(remote_id);
  } else if (was_missing) {
    to_clear.push_back(remote_id);
  }
}

QuietStream::Missing QuietStream::missing(const core::KeySet& seen) const {
  Missing m;
  for (const auto& [rid, b] : bindings_) m.count(rid, b.missing, seen);
  return m;
}

std::optional<core::StateSnapshot> read_quiet_snapshot(Session& s, const core::BatchKeys& keys,
                                                       const QuietStream* prefetched) {
  core::StateSnapshot st;
  SnapshotReader rd(s, st);
  if (prefetched && prefetched->serves(keys.connector, keys.stream)) {
    if (!prefetched->fill(keys, st, SnapshotReader::kMaxAncestorDepth)) return std::nullopt;
  } else {
    // One row per binding (QuietRow): the binding, its account and that account's parent
    // (usually the account holding the record's member_of code, so that no query by code
    // is needed for it).
    rd.each_chunk(quiet_select(s.connection().dialect()) + "b.remote_id IN ",
                  {Param::str(keys.connector), Param::str(keys.stream)}, keys.remote_ids, [&](const Row& r) {
                    QuietRow q = QuietRow::from(r);
                    if (q.needs_full || q.missing) return;  // left out: see read_quiet_snapshot
                    core::BindingState& b = st.bindings[q.remote_id];
                    b.entity = "account";
                    b.entity_id = q.account->id;
                    b.payload_hash = std::move(q.payload_hash);
                    add_account_identity(st, std::move(*q.account));
                    if (q.parent) add_account_identity(st, std::move(*q.parent));
                  });
    if (st.bindings.empty()) return std::nullopt;  // an initial sync stops here
  }
  std::set<std::string> codes;  // held by accounts not loaded yet (when a parent link was edited)
  for (const auto& code : keys.codes)
    if (!st.account_by_code.count(code)) codes.insert(code);
  rd.load_accounts_by_code(codes);
  rd.load_ancestors();
  return st;
}

}  // namespace erpsync::connectors::odbc
