#include "core/sync_report.hpp"

#include "core/text_escape.hpp"

namespace erpsync::core {

namespace {
// Every control character escaped (text_escape.hpp): a value from a remote system can neither
// end the line nor forge another.
std::string quote(const std::string& v) {
  std::string out = "\"";
  append_escaped(out, v, /*quotes=*/true);
  return out + "\"";
}
}  // namespace

std::string_view to_string(RunStatus s) {
  switch (s) {
    case RunStatus::ok: return "ok";
    case RunStatus::error: return "error";
    case RunStatus::stopped: return "stopped";
  }
  return "error";
}

void SyncReport::fail(const SyncError& e) {
  status = RunStatus::error;
  message = e.what();
  error_kind = e.kind();
  retry_after_s = e.retry_after_s();
}

// A value a key=value line shows as it is: not empty, no space, quote, '=' or C0 control, and
// no backslash where backslashes are escaped in quotes.
static bool is_plain(const std::string& v, bool backslash_escaped) {
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || (backslash_escaped && c == '\\') || static_cast<unsigned char>(c) < 0x20)
      return false;
  return !v.empty();
}

std::string quote_if_needed(const std::string& v) { return is_plain(v, true) ? v : quote(v); }

std::string quote_shown_if_needed(const std::string& v) {
  if (is_plain(v, false)) return v;
  std::string out = "\"";
  std::size_t from = 0;
  for (std::size_t q = v.find('"'); q != std::string::npos; from = q + 1, q = v.find('"', from)) {
    append_escaped(out, std::string_view(v).substr(from, q - from));
    out += "\\\"";
  }
  append_escaped(out, std::string_view(v).substr(from));
  return out + "\"";
}

std::vector<std::pair<std::string, std::string>> SyncReport::to_fields() const {
  const Counters& c = counters;
  std::vector<std::pair<std::string, std::string>> f = {
      {"connector", connector}, {"stream", stream}, {"run", std::to_string(run_id)},
      {"status", std::string(to_string(status))}, {"fetched", std::to_string(c.fetched)},
      {"created", std::to_string(c.created)}, {"adopted", std::to_string(c.adopted)},
      {"updated", std::to_string(c.updated)}, {"unchanged", std::to_string(c.unchanged)},
      {"superseded", std::to_string(c.superseded)}, {"parked", std::to_string(c.parked)},
      {"rejected", std::to_string(c.rejected)}, {"failed", std::to_string(c.failed)}};
  if (c.warnings != 0) f.emplace_back("warnings", std::to_string(c.warnings));
  if (c.missing != 0) f.emplace_back("missing", std::to_string(c.missing));
  f.emplace_back("duration_ms", std::to_string(duration_ms));
  const std::int64_t rate = duration_ms > 0 ? c.fetched * 1000 / duration_ms : c.fetched;
  f.emplace_back("rate_per_s", std::to_string(rate));
  if (source_unchanged) f.emplace_back("source", "unchanged");
  f.emplace_back("cursor", cursor);
  if (!message.empty()) f.emplace_back("error", message);
  return f;
}

std::string SyncReport::to_line() const {
  std::string line = "sync";
  for (const auto& [k, v] : to_fields()) {
    line += ' ';
    line += k;
    line += '=';
    // The cursor is always quoted, as in SPEC §8's example.
    line += (k == "cursor") ? quote(v) : quote_if_needed(v);
  }
  return line;
}

}  // namespace erpsync::core
