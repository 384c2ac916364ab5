#include "connectors/magento2/source.hpp"

#include <ctime>

#include "core/errors.hpp"
#include "core/text.hpp"

namespace erpsync::connectors::magento2 {
namespace {

using core::SyncError;

}  // namespace

std::string shift_utc(const std::string& datetime, long long seconds) {
  const auto t = datetime.size() == 19 ? core::parse_utc_text(datetime) : std::nullopt;
  return t ? core::utc_text(*t + static_cast<std::time_t>(seconds)) : datetime;
}

std::string format_utc(std::chrono::system_clock::time_point t) { return core::utc_text(t); }

std::optional<KeysetCursor> parse_cursor(const std::string& text) {
  KeysetCursor c;
  if (text.empty()) return c;
  std::string pos = text;
  if (const auto bar = text.find("|full="); bar != std::string::npos) {
    c.full_at = text.substr(bar + 6);
    pos = text.substr(0, bar);
    if (!core::is_utc_datetime(c.full_at)) return std::nullopt;
  }
  const auto hash = pos.find('#');
  if (hash == std::string::npos) return std::nullopt;
  c.updated_at = pos.substr(0, hash);
  if (!c.updated_at.empty() && !core::is_utc_datetime(c.updated_at)) return std::nullopt;
  try {
    std::size_t used = 0;
    c.id = std::stoll(pos.substr(hash + 1), &used);
    if (used != pos.size() - hash - 1) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return c;
}

std::string format_cursor(const KeysetCursor& c) {
  std::string s = c.updated_at + "#" + std::to_string(c.id);
  if (!c.full_at.empty()) s += "|full=" + c.full_at;
  return s;
}

KeysetPager::KeysetPager(std::string stream, std::shared_ptr<Magento2Client> client, WallClock clock)
    : stream_(std::move(stream)), client_(std::move(client)), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
  if (stream_ == "customers") {
    route_ = "/V1/customers/search";
    id_key_ = "id";
  } else if (stream_ == "orders") {
    route_ = "/V1/orders";
    id_key_ = "entity_id";
  } else if (stream_ == "carts") {
    // CartInterface names the quote's entity_id "id"; searchCriteria filters and sorts by the
    // column, entity_id, as for orders.
    route_ = "/V1/carts/search";
    id_key_ = "id";
  } else {
    throw std::invalid_argument("magento2 has no stream '" + stream_ + "' (customers, orders, carts)");
  }
}

void KeysetPager::begin(const core::CursorState& cursor) {
  const auto& s = client_->settings();
  auto parsed = parse_cursor(cursor.cursor);
  if (!parsed)
    throw SyncError(SyncError::Kind::permanent, "magento2 connector " + s.connector + ": stored cursor of stream " +
                                                    stream_ + " is malformed: '" + cursor.cursor +
                                                    "' (reset it with erpsyncd resync)");
  stored_ = *parsed;
  const auto now = clock_();
  const std::string now_text = format_utc(now);
  full_ = false;
  if (stored_.full_at.empty()) {
    // The first read (or a cursor from before full re-reads were tracked): from the start.
    full_ = stored_.updated_at.empty();
    stored_.full_at = now_text;
  } else if (auto f = stored_.full_at.size() == 19 ? core::parse_utc_text(stored_.full_at) : std::nullopt;
             f && std::chrono::system_clock::from_time_t(*f) + s.full_resync_interval <= now) {
    full_ = true;
    stored_.full_at = now_text;
  }
  if (full_ || stored_.updated_at.empty()) {
    pos_ = KeysetCursor{s.start_date.value_or(""), 0, stored_.full_at};
  } else {
    pos_ = KeysetCursor{shift_utc(stored_.updated_at, -s.cursor_overlap.count()), 0, stored_.full_at};
  }
  if (full_) stored_ = KeysetCursor{"", 0, stored_.full_at};  // the re-read may report positions below the old one
  // With no W there is no "same second" to finish: start with phase 2 (no updated_at filter).
  phase_ = pos_.updated_at.empty() ? Phase::later : Phase::same_second;
}

QueryParams KeysetPager::query() const {
  const auto& s = client_->settings();
  QueryParams q;
  auto filter = [&](int group, const std::string& field, const std::string& value, const std::string& op) {
    const std::string g = "searchCriteria[filter_groups][" + std::to_string(group) + "][filters][0]";
    q.emplace_back(g + "[field]", field);
    q.emplace_back(g + "[value]", value);
    q.emplace_back(g + "[condition_type]", op);
  };
  auto sort = [&](int i, const std::string& field) {
    q.emplace_back("searchCriteria[sortOrders][" + std::to_string(i) + "][field]", field);
    q.emplace_back("searchCriteria[sortOrders][" + std::to_string(i) + "][direction]", "ASC");
  };
  if (phase_ == Phase::same_second) {
    filter(0, "updated_at", pos_.updated_at, "eq");
    filter(1, "entity_id", std::to_string(pos_.id), "gt");
    sort(0, "entity_id");
  } else {
    if (!pos_.updated_at.empty()) filter(0, "updated_at", pos_.updated_at, "gt");
    sort(0, "updated_at");
    sort(1, "entity_id");
  }
  q.emplace_back("searchCriteria[pageSize]", std::to_string(s.page_size));
  q.emplace_back("searchCriteria[currentPage]", "1");
  return q;
}

std::optional<std::string> KeysetPager::next(const std::function<void(const nlohmann::json& item)>& take) {
  const auto& s = client_->settings();
  while (phase_ != Phase::done) {
    const nlohmann::json body = client_->get(route_, query());
    const std::string what = "magento2 connector " + s.connector + " stream " + stream_;
    auto items = body.find("items");
    if (!body.is_object() || items == body.end() || !items->is_array())
      throw SyncError(SyncError::Kind::permanent, what + ": the answer has no items array");
    const KeysetKey at{pos_.updated_at, pos_.id};
    KeysetKey last = at;
    bool took = false;
    for (const auto& item : *items) {
      const KeysetKey key = keyset_key(item, id_key_, what);
      if (!pos_.updated_at.empty() && !(at < key)) continue;  // not after the position: already read
      if (phase_ == Phase::same_second && key.updated_at != pos_.updated_at) continue;
      take(item);
      took = true;
      if (last < key) last = key;
    }
    const bool short_page = items->size() < static_cast<std::size_t>(s.page_size);
    pos_.updated_at = last.updated_at;
    pos_.id = last.id;
    if (!(at < last)) {
      // Nothing after the position (or a server that ignores the filter): this phase is over.
      phase_ = phase_ == Phase::same_second ? Phase::later : Phase::done;
    } else if (phase_ == Phase::same_second) {
      if (short_page) phase_ = Phase::later;
    } else {
      phase_ = short_page ? Phase::done : Phase::same_second;
    }
    if (!took) continue;
    // The cursor reported never goes below the stored one (overlap re-reads).
    const KeysetKey stored{stored_.updated_at, stored_.id};
    KeysetCursor out = (stored_.updated_at.empty() || stored < last) ? pos_ : stored_;
    out.full_at = pos_.full_at;
    return format_cursor(out);
  }
  return std::nullopt;
}

namespace {
const char* stream_of(const core::IncomingCustomer*) { return "customers"; }
const char* stream_of(const core::IncomingOrder*) { return "orders"; }
const char* stream_of(const core::IncomingCart*) { return "carts"; }
core::IncomingCustomer map_item(const nlohmann::json& item, const Magento2Settings& s, const core::IncomingCustomer*) {
  return map_customer(item, s.account_code_attribute);
}
core::IncomingOrder map_item(const nlohmann::json& item, const Magento2Settings&, const core::IncomingOrder*) {
  return map_order(item);
}
core::IncomingCart map_item(const nlohmann::json& item, const Magento2Settings&, const core::IncomingCart*) {
  return map_cart(item);
}
}  // namespace

template <class Record>
Magento2Source<Record>::Magento2Source(std::shared_ptr<Magento2Client> client, WallClock clock)
    : pager_(stream_of(static_cast<const Record*>(nullptr)), std::move(client), std::move(clock)) {}

template <class Record>
std::optional<core::Page<Record>> Magento2Source<Record>::next_page() {
  core::Page<Record> page;
  const Magento2Settings& s = pager_.settings();
  std::optional<std::string> cursor =
      pager_.next([&](const nlohmann::json& item) { page.records.push_back(map_item(item, s, static_cast<const Record*>(nullptr))); });
  if (!cursor) return std::nullopt;
  page.cursor_after = std::move(*cursor);
  return page;
}

template class Magento2Source<core::IncomingCustomer>;
template class Magento2Source<core::IncomingOrder>;
template class Magento2Source<core::IncomingCart>;

}  // namespace erpsync::connectors::magento2
