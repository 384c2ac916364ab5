#pragma once
// Small helpers that build SQL text every dialect shares: placeholder lists, key chunks for IN
// lists, padded IN lists and multi-row VALUES statements. Only placeholders are generated; every
// value stays a bound parameter.
//
// Thread-safety: stateless functions.

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/odbc/odbc.hpp"

namespace erpsync::connectors::odbc::sql {

// Keys per IN list (or per array parameter), and rows per bulk INSERT at most.
inline constexpr std::size_t kInChunk = 1000;

// libpq (under psqlODBC) refuses a ParameterDescription message over 30,000 bytes, i.e. about
// 7,500 parameters ("lost synchronization with server"): stay well below. psqlODBC's cost per
// parameter also grows with their number: a 16-column account INSERT of 375 rows (6,000
// parameters) loaded fewer rows per second than two of 187 rows (bench/, PostgreSQL). The cap of
// a multi-row INSERT unless a dialect says otherwise.
inline constexpr std::size_t kMaxParamsPerStatement = 3000;

// Whether rows [start, start + n) all hold the same value in column `c` (a batch's connector,
// stream, timestamps, flags): bulk inserts bind such a column once instead of per row.
bool same_in_every_row(const std::vector<std::vector<Param>>& rows, std::size_t start, std::size_t n, std::size_t c);

// "?, ?, ..." (`n` times `each`, comma-separated).
std::string marks(std::size_t n, std::string_view each = "?");

// `keys` in order, in chunks of at most `size`.
template <class Container>
std::vector<std::vector<std::string>> chunks(const Container& keys, std::size_t size) {
  std::vector<std::vector<std::string>> out;
  for (const auto& k : keys) {
    if (out.empty() || out.back().size() >= size) out.emplace_back();
    out.back().push_back(k);
  }
  return out;
}

// The length a list of `n` keys is padded to (4, 16, 64, 256, 512, then n, at least kInChunk).
std::size_t padded_length(std::size_t n);

// `sql_head` (ending in "IN ") + "(?, ...)" for the keys in params[fixed..]: the list is padded
// (its last key repeated) to one of a few lengths, so that chunks of any size reuse the same
// prepared statements. Appends the padding to `params`; returns the statement.
std::string padded_in_list(std::string_view sql_head, std::vector<Param>& params, std::size_t fixed);

// Splits `rows` (each holding one value per column of `cols`) into multi-row
// "INSERT INTO table (cols) VALUES (...), (...)" statements of at most `max_params` parameters
// (and kInChunk rows), and calls `run(sql, params, rows_in_statement)` for each, in row order.
void each_values_insert(const std::string& table, const std::vector<std::string>& cols,
                        const std::vector<std::vector<Param>>& rows, std::size_t max_params,
                        const std::function<void(const std::string&, const std::vector<Param>&, std::size_t)>& run);

// "INSERT INTO table (cols) VALUES (?, ...)": one row of markers, for array executions.
std::string single_row_insert(const std::string& table, const std::vector<std::string>& cols);

// Bytes an array execution binds at most (widest value of each column times rows, summed): a
// column is bound as one buffer of rows × its widest value, so one long text among short ones
// would otherwise cost rows × its length.
inline constexpr std::size_t kMaxArrayBytes = std::size_t{8} << 20;

// Passes `rows` to `run` in parts of at most `max_rows` rows and kMaxArrayBytes (see
// array_chunk_end), in order, until `run` returns false (the driver refused an array: that
// part did not run). Returns the number of rows run: rows.size(), or where the refused part begins.
std::size_t each_array(const std::vector<std::vector<Param>>& rows, std::size_t max_rows,
                       const std::function<bool(std::span<const std::vector<Param>>)>& run);

// The end of the array execution that starts at rows[begin]: at most `max_rows` rows, and
// within `max_bytes` as kMaxArrayBytes counts them (always one row at least).
std::size_t array_chunk_end(const std::vector<std::vector<Param>>& rows, std::size_t begin, std::size_t max_rows,
                            std::size_t max_bytes);

}  // namespace erpsync::connectors::odbc::sql
