#include "connectors/odbc/sql_text.hpp"

#include <algorithm>

namespace erpsync::connectors::odbc::sql {

bool same_in_every_row(const std::vector<std::vector<Param>>& rows, std::size_t start, std::size_t n, std::size_t c) {
  const Param& first = rows[start][c];
  for (std::size_t r = start + 1; r < start + n; ++r) {
    const Param& p = rows[r][c];
    if (p.is_null != first.is_null || p.kind != first.kind) return false;
    if (p.is_null) continue;
    if (p.kind == Param::Kind::integer ? p.integer != first.integer : p.text != first.text) return false;
  }
  return true;
}
namespace {

// The IN-list length a chunk of `n` keys is padded to (n ≤ kInChunk).
}  // namespace

std::size_t padded_length(std::size_t n) {
  for (std::size_t len : {std::size_t{4}, std::size_t{16}, std::size_t{64}, std::size_t{256}, std::size_t{512}})
    if (n <= len) return len;
  return std::max(n, kInChunk);
}

std::string marks(std::size_t n, std::string_view each) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += each;
  }
  return s;
}

std::string padded_in_list(std::string_view sql_head, std::vector<Param>& params, std::size_t fixed) {
  const std::size_t n = padded_length(params.size() - fixed);
  while (params.size() < fixed + n) params.push_back(params.back());
  return std::string(sql_head) + "(" + marks(n) + ")";
}

void each_values_insert(const std::string& table, const std::vector<std::string>& cols,
                        const std::vector<std::vector<Param>>& rows, std::size_t max_params,
                        const std::function<void(const std::string&, const std::vector<Param>&, std::size_t)>& run) {
  std::string col_list;
  for (std::size_t i = 0; i < cols.size(); ++i) col_list += (i ? ", " : "") + cols[i];
  const std::string tuple = "(" + marks(cols.size()) + ")";
  const std::size_t per = std::max<std::size_t>(1, std::min<std::size_t>(kInChunk, max_params / cols.size()));
  for (std::size_t start = 0; start < rows.size(); start += per) {
    const std::size_t n = std::min(per, rows.size() - start);
    std::vector<Param> params;
    params.reserve(n * cols.size());
    for (std::size_t r = start; r < start + n; ++r)
      for (const auto& p : rows[r]) params.push_back(p);
    run("INSERT INTO " + table + " (" + col_list + ") VALUES " + marks(n, tuple), params, n);
  }
}

std::string single_row_insert(const std::string& table, const std::vector<std::string>& cols) {
  std::string col_list;
  for (std::size_t i = 0; i < cols.size(); ++i) col_list += (i ? ", " : "") + cols[i];
  return "INSERT INTO " + table + " (" + col_list + ") VALUES (" + marks(cols.size()) + ")";
}

std::size_t array_chunk_end(const std::vector<std::vector<Param>>& rows, std::size_t begin, std::size_t max_rows,
                            std::size_t max_bytes) {
  if (begin >= rows.size()) return rows.size();
  std::vector<std::size_t> widest(rows[begin].size(), 0);
  std::size_t row_bytes = 0;  // the sum of `widest` (a bound row: each column's widest value + 1)
  std::size_t end = begin;
  while (end < rows.size() && end - begin < max_rows) {
    std::size_t grown = row_bytes;
    for (std::size_t c = 0; c < widest.size() && c < rows[end].size(); ++c) {
      const std::size_t w = rows[end][c].text.size() + 1;
      if (w > widest[c]) grown += w - widest[c];
    }
    if (end > begin && grown * (end - begin + 1) > max_bytes) break;
    for (std::size_t c = 0; c < widest.size() && c < rows[end].size(); ++c)
      widest[c] = std::max(widest[c], rows[end][c].text.size() + 1);
    row_bytes = grown;
    ++end;
  }
  return end;
}

std::size_t each_array(const std::vector<std::vector<Param>>& rows, std::size_t max_rows,
                       const std::function<bool(std::span<const std::vector<Param>>)>& run) {
  const std::span<const std::vector<Param>> all(rows);
  for (std::size_t begin = 0; begin < rows.size();) {
    const std::size_t end = array_chunk_end(rows, begin, max_rows, kMaxArrayBytes);
    if (!run(all.subspan(begin, end - begin))) return begin;
    begin = end;
  }
  return rows.size();
}

}  // namespace erpsync::connectors::odbc::sql
