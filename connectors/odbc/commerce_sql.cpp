#include "connectors/odbc/commerce_sql.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <span>

#include "connectors/odbc/session.hpp"
#include "connectors/odbc/snapshot_reader.hpp"
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

// Parameter arrays of `rows` (each `width` parameters) for `head` ("INSERT INTO t (...) VALUES ")
// and one row of markers, in parts of up to sql::kInChunk rows, on a connection that takes them
// (see Connection::parameter_arrays). Returns the number of rows inserted: all, or those before
// a part the driver refused (then the connection stops trying).
std::size_t insert_by_arrays(Connection& c, const std::string& head, std::size_t width,
                             const std::vector<std::vector<Param>>& rows) {
  if (!c.parameter_arrays() || rows.empty()) return 0;
  const std::string sql = head + "(" + marks(width) + ")";
  Statement st(c);
  const std::size_t done = sql::each_array(
      rows, sql::kInChunk, [&](std::span<const std::vector<Param>> part) { return st.execute_array(sql, part); });
  if (done < rows.size()) c.set_parameter_arrays(false);
  return done;
}

// Inserts `rows` (each `width` parameters) with `head` ("INSERT INTO t (...) VALUES "): parameter
// arrays where the connection takes them, multi-row INSERTs otherwise.
void insert_rows(Connection& c, const std::string& head, std::size_t width, const std::vector<std::vector<Param>>& rows) {
  for (std::size_t at = insert_by_arrays(c, head, width, rows); at < rows.size(); at += kRowsPerInsert) {
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

// One written row's binding (connector, stream, remote id) → entity id with its payload hash.
struct BoundRow {
  const std::string* stream;
  const std::string* remote_id;
  std::int64_t id;
  const std::string* payload_hash;
};

// The bindings of rows the batch wrote, to `entity` (missing_since cleared): which exist is read
// with IN lists per stream, new ones go in multi-row INSERTs, existing ones are updated.
void write_bindings(Connection& c, const std::string& connector, const std::string& entity,
                    const std::vector<BoundRow>& rows, const std::string& now) {
  std::map<std::string, std::vector<const BoundRow*>> by_stream;  // one stream in practice
  for (const BoundRow& r : rows) by_stream[*r.stream].push_back(&r);
  for (const auto& [stream, of_stream] : by_stream) {
    std::vector<std::string> ids;
    for (const BoundRow* r : of_stream) ids.push_back(*r->remote_id);
    const std::map<std::string, std::int64_t> bound = ids_by_remote_id(
        c, "SELECT remote_id, entity_id FROM bindings WHERE connector = ? AND stream = ? AND remote_id IN ",
        {Param::str(connector), Param::str(stream)}, ids);
    std::vector<std::vector<Param>> new_bindings;
    for (const BoundRow* r : of_stream) {
      if (bound.count(*r->remote_id)) {
        c.exec("UPDATE bindings SET entity = ?, entity_id = ?, payload_hash = ?, missing_since = NULL, "
               "updated_at = ? WHERE connector = ? AND stream = ? AND remote_id = ?",
               {Param::str(entity), Param::i64(r->id), Param::str_or_null(*r->payload_hash), Param::ts(now),
                Param::str(connector), Param::str(stream), Param::str(*r->remote_id)});
        continue;
      }
      new_bindings.push_back({Param::str(connector), Param::str(stream), Param::str(*r->remote_id), Param::str(entity),
                              Param::i64(r->id), Param::str_or_null(*r->payload_hash), Param::ts(now)});
    }
    insert_rows(c,
                "INSERT INTO bindings (connector, stream, remote_id, entity, entity_id, payload_hash, updated_at) "
                "VALUES ",
                7, new_bindings);
  }
}

// Links the carts of `channel` reserved for one of `increment_ids` and not linked yet to the
// order of that channel with that increment id (SPEC §4.1: reserved_order_id = increment_id),
// set-based. Called after orders and after carts are written, so the order may come first or
// last. MIN: two orders of one channel never share an increment id in Magento, and if a store
// had them anyway the link stays deterministic.
void link_carts_to_orders(Connection& c, const std::string& channel, const std::set<std::string>& increment_ids) {
  for (const auto& part : chunks(increment_ids, kInChunk)) {
    std::vector<Param> params = {Param::str(channel)};
    for (const auto& k : part) params.push_back(Param::str(k));
    c.exec("UPDATE carts SET order_id = (SELECT MIN(o.id) FROM orders o WHERE o.channel = carts.channel AND "
           "o.increment_id = carts.reserved_order_id) WHERE channel = ? AND order_id IS NULL AND reserved_order_id IN (" +
               marks(part.size()) + ")",
           params);
  }
}

std::vector<Param> cart_values(const core::CartWrite& w) {
  return {opt_id(w.customer),
          opt_id(w.account),
          Param::str_or_null(w.customer_email),
          Param::i64(w.is_active ? 1 : 0),
          w.items_count.empty() ? Param::opt_i64(std::nullopt) : Param::i64(std::stoll(w.items_count)),
          Param::dec(w.items_qty),
          Param::dec(w.subtotal),
          Param::str_or_null(w.currency),
          Param::str_or_null(w.reserved_order_id),
          ts_or_null(w.created_at),
          ts_or_null(w.updated_at),
          ts_or_null(w.converted_at)};
}

// The carts of the batch (the last write of a remote id wins), their items (replaced) and
// bindings, then their order links: a few statements per batch besides one UPDATE per changed
// cart.
void write_carts(Connection& c, const core::WriteBatch& batch, const std::string& now) {
  if (batch.carts.empty()) return;
  std::map<std::string, const core::CartWrite*> last;
  for (const core::CartWrite& w : batch.carts) last[w.remote_id] = &w;
  std::vector<const core::CartWrite*> carts;
  for (const core::CartWrite& w : batch.carts)
    if (last.at(w.remote_id) == &w) carts.push_back(&w);
  std::vector<std::string> remote_ids;
  for (const auto* w : carts) remote_ids.push_back(w->remote_id);
  const std::string by_remote = "SELECT remote_id, id FROM carts WHERE channel = ? AND remote_id IN ";
  std::map<std::string, std::int64_t> cart_ids = ids_by_remote_id(c, by_remote, {Param::str(batch.connector)}, remote_ids);
  std::vector<std::string> changed_ids;  // carts that existed: their items go
  for (const auto& [rid, id] : cart_ids) changed_ids.push_back(std::to_string(id));
  std::vector<std::vector<Param>> new_carts;
  std::vector<std::string> new_ids;
  for (const auto* w : carts) {
    std::vector<Param> values = cart_values(*w);
    if (cart_ids.count(w->remote_id)) {
      values.push_back(Param::str(batch.connector));
      values.push_back(Param::str(w->remote_id));
      c.exec("UPDATE carts SET customer_id = ?, account_id = ?, customer_email = ?, is_active = ?, items_count = ?, "
             "items_qty = ?, subtotal = ?, currency = ?, reserved_order_id = ?, created_at = ?, updated_at = ?, "
             "converted_at = ?, order_id = NULL WHERE channel = ? AND remote_id = ?",
             values);
      continue;
    }
    values.insert(values.begin(), {Param::str(batch.connector), Param::str(w->remote_id)});
    new_carts.push_back(std::move(values));
    new_ids.push_back(w->remote_id);
  }
  insert_rows(c,
              "INSERT INTO carts (channel, remote_id, customer_id, account_id, customer_email, is_active, items_count, "
              "items_qty, subtotal, currency, reserved_order_id, created_at, updated_at, converted_at) VALUES ",
              14, new_carts);
  for (const auto& [rid, id] : ids_by_remote_id(c, by_remote, {Param::str(batch.connector)}, new_ids)) cart_ids[rid] = id;

  for (const auto& part : chunks(changed_ids, kInChunk)) {
    std::vector<Param> params;
    for (const auto& k : part) params.push_back(Param::i64(std::stoll(k)));
    c.exec("DELETE FROM cart_items WHERE cart_id IN (" + marks(part.size()) + ")", params);
  }
  std::vector<std::vector<Param>> items;
  for (const auto* w : carts)
    for (const core::CartItemWrite& i : w->items)
      items.push_back({Param::i64(cart_ids.at(w->remote_id)), Param::str_or_null(i.remote_id), Param::str_or_null(i.sku),
                       Param::str_or_null(i.name), Param::dec(i.qty), Param::dec(i.price)});
  insert_rows(c, "INSERT INTO cart_items (cart_id, remote_id, sku, name, qty, price) VALUES ", 6, items);

  std::vector<BoundRow> bound;
  std::set<std::string> reserved;
  for (const auto* w : carts) {
    bound.push_back({&w->stream, &w->remote_id, cart_ids.at(w->remote_id), &w->payload_hash});
    if (!w->reserved_order_id.empty()) reserved.insert(w->reserved_order_id);
  }
  write_bindings(c, batch.connector, "cart", bound, now);
  link_carts_to_orders(c, batch.connector, reserved);
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

  std::vector<BoundRow> bound;
  for (const core::OrderWrite& o : batch.orders) bound.push_back({&o.stream, &o.remote_id, order_ids.at(o.remote_id), &o.payload_hash});
  write_bindings(c, batch.connector, "order", bound, now);
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
  std::set<std::string> increment_ids;
  for (const core::OrderWrite& o : batch.orders)
    if (!o.increment_id.empty()) increment_ids.insert(o.increment_id);
  link_carts_to_orders(c, batch.connector, increment_ids);
  write_carts(c, batch, now);
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
    for (const Row& r : c.query("SELECT b.remote_id, b.entity_id, a.external_code FROM bindings b JOIN accounts a ON "
                                "a.id = b.entity_id WHERE b.connector = ? AND b.stream = 'accounts' AND "
                                "b.entity = 'account' AND b.remote_id IN (" + marks(part.size()) + ")",
                                params)) {
      state.own_accounts[r[0].value_or("")] = to_i64(r[1]);
      if (r[2] && !r[2]->empty()) state.own_accounts_coded.insert(r[0].value_or(""));
    }
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
  // ... with their Contacts of the batch's e-mails (rule 12) ...
  if (!keys.base.contact_emails.empty()) {
    std::set<std::string> accounts;
    for (const auto& [rid, company] : state.companies)
      if (!state.base.accounts.count(company.account_id)) accounts.insert(std::to_string(company.account_id));
    StatementCache once(c);
    Session s(c, once);
    load_contact_emails(s, accounts, keys.base.contact_emails, state.base);
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
