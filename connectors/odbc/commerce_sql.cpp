#include "connectors/odbc/commerce_sql.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "connectors/odbc/sql_text.hpp"
#include "core/text.hpp"

namespace erpsync::connectors::odbc::commerce_sql {
namespace {

using sql::chunks;
using sql::marks;

// 'YYYY-MM-DD HH:MM:SS' (Magento) → the store's timestamp form with milliseconds.
Param ts_or_null(const std::string& s) { return s.empty() ? Param::null_ts() : Param::ts(s + ".000"); }

Param opt_id(const std::optional<core::Ref>& r) { return Param::opt_i64(r ? std::optional<std::int64_t>(*r) : std::nullopt); }

std::string cutoff(std::chrono::seconds ttl) {
  const std::string now = utc_timestamp_now();  // 'YYYY-MM-DD HH:MM:SS.mmm'
  const std::time_t t = core::parse_utc_text(now).value_or(0) - static_cast<std::time_t>(ttl.count());
  return core::utc_text(t) + now.substr(19);
}

}  // namespace

namespace {

constexpr std::size_t kInChunk = 500;    // keys per IN list
constexpr std::size_t kRowsPerInsert = 100;  // rows per multi-row INSERT (≤ 1,200 parameters)

std::vector<Param> order_values(const core::OrderWrite& o) {
  return {opt_id(o.customer),          opt_id(o.account),
          Param::str_or_null(o.customer_email), Param::str_or_null(o.increment_id),
          Param::str_or_null(o.status), Param::str_or_null(o.state),
          Param::dec(o.grand_total),   Param::str_or_null(o.currency),
          ts_or_null(o.ordered_at),    ts_or_null(o.updated_at)};
}

// `sql_head` + "(?, ...)" for each chunk of `keys` after the `fixed` parameters: the first two
// columns of every row, as remote id → id.
std::map<std::string, std::int64_t> ids_by_remote_id(Connection& c, const std::string& sql_head,
                                                    const std::vector<Param>& fixed,
                                                    const std::vector<std::string>& keys) {
  std::map<std::string, std::int64_t> out;
  for (const auto& part : chunks(keys, kInChunk)) {
    std::vector<Param> params = fixed;
    for (const auto& k : part) params.push_back(Param::str(k));
    for (const Row& r : c.query(sql_head + "(" + marks(part.size()) + ")", params))
      out[r[0].value_or("")] = to_i64(r[1]);
  }
  return out;
}

// Multi-row INSERTs of `rows` (each `width` parameters) into `head` ("INSERT INTO t (...) VALUES ").
void insert_rows(Connection& c, const std::string& head, std::size_t width, const std::vector<std::vector<Param>>& rows) {
  for (std::size_t at = 0; at < rows.size(); at += kRowsPerInsert) {
    const std::size_t n = std::min(kRowsPerInsert, rows.size() - at);
    std::string sql = head;
    std::vector<Param> params;
    params.reserve(n * width);
    for (std::size_t i = 0; i < n; ++i) {
      sql += (i ? ", (" : "(") + marks(width) + ")";
      params.insert(params.end(), rows[at + i].begin(), rows[at + i].end());
    }
    c.exec(sql, params);
  }
}

// The orders of the batch and their bindings, a few statements per batch: which orders and
// bindings exist is read with IN lists, new rows go in multi-row INSERTs, existing ones (a
// changed order) are updated one by one. A remote id twice in one batch (the engine keeps one)
// would go row by row.
void write_orders(Connection& c, const core::WriteBatch& batch, const std::string& now) {
  std::vector<std::string> remote_ids;
  for (const core::OrderWrite& o : batch.orders) remote_ids.push_back(o.remote_id);
  std::map<std::string, std::int64_t> order_ids =
      ids_by_remote_id(c, "SELECT remote_id, id FROM orders WHERE channel = ? AND remote_id IN ",
                       {Param::str(batch.connector)}, remote_ids);
  std::vector<std::vector<Param>> new_orders;
  std::vector<std::string> new_ids;
  for (const core::OrderWrite& o : batch.orders) {
    std::vector<Param> values = order_values(o);
    if (order_ids.count(o.remote_id)) {
      values.push_back(Param::str(batch.connector));
      values.push_back(Param::str(o.remote_id));
      c.exec("UPDATE orders SET customer_id = ?, account_id = ?, customer_email = ?, increment_id = ?, status = ?, "
             "state = ?, grand_total = ?, currency = ?, ordered_at = ?, updated_at = ? WHERE channel = ? AND "
             "remote_id = ?",
             values);
      continue;
    }
    values.insert(values.begin(), {Param::str(batch.connector), Param::str(o.remote_id)});
    new_orders.push_back(std::move(values));
    new_ids.push_back(o.remote_id);
  }
  insert_rows(c,
              "INSERT INTO orders (channel, remote_id, customer_id, account_id, customer_email, increment_id, status, "
              "state, grand_total, currency, ordered_at, updated_at) VALUES ",
              12, new_orders);
  for (const auto& [rid, id] : ids_by_remote_id(c, "SELECT remote_id, id FROM orders WHERE channel = ? AND remote_id IN ",
                                                {Param::str(batch.connector)}, new_ids))
    order_ids[rid] = id;

  // Bindings, per stream (one in practice).
  std::map<std::string, std::vector<const core::OrderWrite*>> by_stream;
  for (const core::OrderWrite& o : batch.orders) by_stream[o.stream].push_back(&o);
  for (const auto& [stream, orders] : by_stream) {
    std::vector<std::string> ids;
    for (const core::OrderWrite* o : orders) ids.push_back(o->remote_id);
    const std::map<std::string, std::int64_t> bound = ids_by_remote_id(
        c, "SELECT remote_id, entity_id FROM bindings WHERE connector = ? AND stream = ? AND remote_id IN ",
        {Param::str(batch.connector), Param::str(stream)}, ids);
    std::vector<std::vector<Param>> new_bindings;
    for (const core::OrderWrite* o : orders) {
      const std::int64_t id = order_ids.at(o->remote_id);
      if (bound.count(o->remote_id)) {
        c.exec("UPDATE bindings SET entity = 'order', entity_id = ?, payload_hash = ?, missing_since = NULL, "
               "updated_at = ? WHERE connector = ? AND stream = ? AND remote_id = ?",
               {Param::i64(id), Param::str_or_null(o->payload_hash), Param::ts(now), Param::str(batch.connector),
                Param::str(stream), Param::str(o->remote_id)});
        continue;
      }
      new_bindings.push_back({Param::str(batch.connector), Param::str(stream), Param::str(o->remote_id),
                              Param::str("order"), Param::i64(id), Param::str_or_null(o->payload_hash),
                              Param::ts(now)});
    }
    insert_rows(c,
                "INSERT INTO bindings (connector, stream, remote_id, entity, entity_id, payload_hash, updated_at) "
                "VALUES ",
                7, new_bindings);
  }
}

// The orders one at a time (a batch that names a remote id twice).
void write_orders_row_by_row(Connection& c, const core::WriteBatch& batch, const std::string& now) {
  for (const core::OrderWrite& o : batch.orders) {
    std::vector<Param> values = {opt_id(o.customer),          opt_id(o.account),
                                 Param::str_or_null(o.customer_email), Param::str_or_null(o.increment_id),
                                 Param::str_or_null(o.status), Param::str_or_null(o.state),
                                 Param::dec(o.grand_total),   Param::str_or_null(o.currency),
                                 ts_or_null(o.ordered_at),    ts_or_null(o.updated_at)};
    std::vector<Param> update = values;
    update.push_back(Param::str(batch.connector));
    update.push_back(Param::str(o.remote_id));
    const std::int64_t n = c.exec(
        "UPDATE orders SET customer_id = ?, account_id = ?, customer_email = ?, increment_id = ?, status = ?, "
        "state = ?, grand_total = ?, currency = ?, ordered_at = ?, updated_at = ? WHERE channel = ? AND remote_id = ?",
        update);
    if (n == 0) {
      std::vector<Param> insert = {Param::str(batch.connector), Param::str(o.remote_id)};
      insert.insert(insert.end(), values.begin(), values.end());
      c.exec("INSERT INTO orders (channel, remote_id, customer_id, account_id, customer_email, increment_id, status, "
             "state, grand_total, currency, ordered_at, updated_at) VALUES (" + marks(12) + ")",
             insert);
    }
    const std::int64_t id = to_i64(c.scalar("SELECT id FROM orders WHERE channel = ? AND remote_id = ?",
                                            {Param::str(batch.connector), Param::str(o.remote_id)}));
    const std::int64_t b = c.exec(
        "UPDATE bindings SET entity = 'order', entity_id = ?, payload_hash = ?, missing_since = NULL, updated_at = ? "
        "WHERE connector = ? AND stream = ? AND remote_id = ?",
        {Param::i64(id), Param::str_or_null(o.payload_hash), Param::ts(now), Param::str(batch.connector),
         Param::str(o.stream), Param::str(o.remote_id)});
    if (b == 0)
      c.exec("INSERT INTO bindings (connector, stream, remote_id, entity, entity_id, payload_hash, updated_at) "
             "VALUES (?, ?, ?, 'order', ?, ?, ?)",
             {Param::str(batch.connector), Param::str(o.stream), Param::str(o.remote_id), Param::i64(id),
              Param::str_or_null(o.payload_hash), Param::ts(now)});
  }
}

}  // namespace

void write_commerce(Connection& c, const core::WriteBatch& batch, const std::string& now) {
  std::set<std::string> distinct;
  for (const core::OrderWrite& o : batch.orders) distinct.insert(o.remote_id);
  if (distinct.size() == batch.orders.size())
    write_orders(c, batch, now);
  else
    write_orders_row_by_row(c, batch, now);
  for (const core::ParkWrite& p : batch.parks) {
    const std::int64_t n = c.exec(
        "UPDATE sync_parked SET waits_for = ?, payload = ?, payload_hash = ? WHERE connector = ? AND stream = ? AND "
        "remote_id = ?",
        {Param::str_or_null(p.waits_for), Param::str(p.payload), Param::str_or_null(p.payload_hash),
         Param::str(batch.connector), Param::str(p.stream), Param::str(p.remote_id)});
    if (n == 0)
      c.exec("INSERT INTO sync_parked (connector, stream, remote_id, waits_for, payload, payload_hash, parked_at) "
             "VALUES (?, ?, ?, ?, ?, ?, ?)",
             {Param::str(batch.connector), Param::str(p.stream), Param::str(p.remote_id),
              Param::str_or_null(p.waits_for), Param::str(p.payload), Param::str_or_null(p.payload_hash),
              Param::ts(now)});
  }
  for (const core::UnparkWrite& u : batch.unparks)
    c.exec("DELETE FROM sync_parked WHERE connector = ? AND stream = ? AND remote_id = ?",
           {Param::str(batch.connector), Param::str(u.stream), Param::str(u.remote_id)});
}

void load_commerce_extras(Connection& c, const core::CommerceKeys& keys, core::CommerceState& state,
                          std::size_t chunk) {
  const std::string& connector = keys.base.connector;
  for (const auto& part : chunks(keys.customer_remote_ids, chunk)) {
    std::vector<Param> params = {Param::str(connector)};
    for (const auto& k : part) params.push_back(Param::str(k));
    for (const Row& r : c.query("SELECT b.remote_id, b.entity_id FROM bindings b JOIN accounts a ON a.id = b.entity_id "
                                "WHERE b.connector = ? AND b.stream = 'accounts' AND b.entity = 'account' AND "
                                "b.remote_id IN (" + marks(part.size()) + ")",
                                params))
      state.own_accounts[r[0].value_or("")] = to_i64(r[1]);
    for (const Row& r : c.query("SELECT remote_id, id, account_id, contact_id FROM customers WHERE channel = ? AND "
                                "remote_id IN (" + marks(part.size()) + ")",
                                params)) {
      core::CustomerState cs;
      cs.id = to_i64(r[1]);
      cs.account_id = to_i64(r[2]);
      if (r[3]) cs.contact_id = to_i64(r[3]);
      state.customers[r[0].value_or("")] = cs;
    }
  }
  for (const auto& part : chunks(keys.base.remote_ids, chunk)) {
    std::vector<Param> params = {Param::str(connector), Param::str(keys.base.stream)};
    for (const auto& k : part) params.push_back(Param::str(k));
    for (const Row& r : c.query("SELECT remote_id, waits_for, payload_hash FROM sync_parked WHERE connector = ? AND "
                                "stream = ? AND remote_id IN (" + marks(part.size()) + ")",
                                params))
      state.parked[r[0].value_or("")] = {r[1].value_or(""), r[2].value_or("")};
  }
  // Contacts (Odoo, a CSV feed's contacts file): their companies' Accounts (and whether each has
  // a default contact) ...
  for (const auto& part : chunks(keys.company_remote_ids, chunk)) {
    std::vector<Param> params = {Param::str(connector), Param::str(keys.company_stream)};
    for (const auto& k : part) params.push_back(Param::str(k));
    for (const Row& r : c.query(
             "SELECT b.remote_id, a.id, CASE WHEN EXISTS (SELECT 1 FROM contacts d WHERE d.account_id = a.id AND "
             "d.is_default = 1) THEN 1 ELSE 0 END FROM bindings b JOIN accounts a ON a.id = b.entity_id "
             "WHERE b.connector = ? AND b.stream = ? AND b.entity = 'account' AND b.remote_id IN (" +
                 marks(part.size()) + ")",
             params))
      state.companies[r[0].value_or("")] = {to_i64(r[1]), to_i64(r[2]) != 0};
  }
  // ... and the contact rows already bound.
  for (const auto& part : chunks(keys.contact_row_remote_ids, chunk)) {
    std::vector<Param> params = {Param::str(connector)};
    for (const auto& k : part) params.push_back(Param::str(k));
    for (const Row& r : c.query(
             "SELECT b.remote_id, c.id, c.account_id, c.is_default FROM bindings b JOIN contacts c ON c.id = b.entity_id "
             "WHERE b.connector = ? AND b.stream = 'contacts' AND b.entity = 'contact' AND b.remote_id IN (" +
                 marks(part.size()) + ")",
             params))
      state.contact_rows[r[0].value_or("")] = {to_i64(r[1]), to_i64(r[2]), to_i64(r[3]) != 0};
  }
}

std::vector<core::StoredParked> parked_records(Connection& c, const std::string& connector, const std::string& stream,
                                               std::chrono::seconds park_ttl) {
  std::vector<core::StoredParked> out;
  for (const Row& r : c.query("SELECT stream, remote_id, waits_for, payload, payload_hash, "
                              "CASE WHEN parked_at <= ? THEN 1 ELSE 0 END FROM sync_parked "
                              "WHERE connector = ? AND stream = ? ORDER BY parked_at, remote_id",
                              {Param::ts(cutoff(park_ttl)), Param::str(connector), Param::str(stream)}))
    out.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or(""), r[4].value_or(""),
                   r[5].value_or("0") == "1"});
  return out;
}

}  // namespace erpsync::connectors::odbc::commerce_sql
