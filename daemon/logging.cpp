#include "daemon/logging.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "config/config.hpp"
#include "connectors/http/redact.hpp"
#include "core/text_escape.hpp"

namespace erpsync::daemon {
namespace {

// One JSON object per line: time (UTC, ms), level, logger, and either "message" or the fields
// of a structured message.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using nlohmann::json;
    const auto t = std::chrono::system_clock::to_time_t(msg.time);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[80];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    json line = json::object();
    line["time"] = ts;
    line["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                                spdlog::level::to_string_view(msg.level).size());
    line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    const std::string_view text(msg.payload.data(), msg.payload.size());
    bool merged = false;
    if (text.size() > 1 && text.front() == '{' && text.back() == '}') {
      json fields = json::parse(text, nullptr, false);
      if (fields.is_object()) {
        // Redacted value by value: in the JSON text a secret holding '"' or '\' is escaped.
        for (auto& [k, v] : fields.items()) line[k] = v.is_string() ? json(redact_secrets(v.get_ref<const std::string&>())) : v;
        merged = true;
      }
    }
    if (!merged) line["message"] = redact_secrets(text);
    // Text from remote systems may hold invalid UTF-8: replace, never throw while logging.
    const std::string out = line.dump(-1, ' ', false, json::error_handler_t::replace);
    dest.append(out.data(), out.data() + out.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

constexpr const char* kTextPattern = "%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v";

// Text lines: the message redacted, its long values cut and its control characters escaped
// (text_log_message), then laid out by the usual pattern.
class TextFormatter final : public spdlog::formatter {
 public:
  TextFormatter() : pattern_(kTextPattern, spdlog::pattern_time_type::utc) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string text = text_log_message(redact_secrets(std::string_view(msg.payload.data(), msg.payload.size())));
    spdlog::details::log_msg safe = msg;
    safe.payload = spdlog::string_view_t(text.data(), text.size());
    pattern_.format(safe, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(); }

 private:
  spdlog::pattern_formatter pattern_;
};

bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
}

// The end of the word starting at `i`: the next separator outside a "quoted string" (a
// backslash escapes the next character inside one; an unclosed quote runs to the end).
std::size_t word_end(std::string_view m, std::size_t i) {
  while (i < m.size() && !is_separator(m[i])) {
    if (m[i] != '"') {
      ++i;
      continue;
    }
    for (++i; i < m.size() && m[i] != '"'; ++i)
      if (m[i] == '\\') ++i;
    if (i < m.size()) ++i;
  }
  return std::min(i, m.size());
}

std::mutex g_mutex;
std::vector<spdlog::sink_ptr> g_sinks;
spdlog::level::level_enum g_level = spdlog::level::info;
bool g_json = false;

std::vector<spdlog::sink_ptr>& sinks_locked() {
  if (g_sinks.empty()) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<TextFormatter>());
    g_sinks.push_back(sink);
  }
  return g_sinks;
}

}  // namespace

void configure_logging(const LogSettings& settings) {
  connectors::http::process_secrets().add_configured(settings.secrets);
  const auto level = spdlog::level::from_str(settings.level);
  if (level == spdlog::level::off && settings.level != "off")
    throw std::runtime_error("log.level: unknown level '" + settings.level + "' (trace, debug, info, warn, error, critical, off)");
  if (settings.format != "text" && settings.format != "json")
    throw std::runtime_error("log.format: unknown format '" + settings.format + "' (text or json)");

  spdlog::sink_ptr sink;
  if (settings.file.empty()) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  else sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(settings.file);
  if (settings.format == "json") sink->set_formatter(std::make_unique<JsonFormatter>());
  else sink->set_formatter(std::make_unique<TextFormatter>());

  std::lock_guard lock(g_mutex);
  g_sinks = {sink};
  g_level = level;
  g_json = settings.format == "json";
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    l->sinks() = g_sinks;
    l->set_level(level);
  });
}

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto& sinks = sinks_locked();
  auto l = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
  l->set_level(g_level);
  l->flush_on(spdlog::level::trace);
  spdlog::register_logger(l);
  return l;
}

bool json_format() {
  std::lock_guard lock(g_mutex);
  return g_json;
}

std::string redact_secrets(std::string_view text) {
  return config::redact_odbc_passwords(connectors::http::process_secrets().text(text));
}

std::string text_log_message(std::string_view m, std::size_t limit, std::size_t error_limit) {
  std::string cut;
  cut.reserve(m.size());
  for (std::size_t i = 0; i < m.size();) {
    if (is_separator(m[i])) {
      cut += m[i++];
      continue;
    }
    const std::size_t end = word_end(m, i);
    std::size_t value = i;
    while (value < end && is_key_char(m[value])) ++value;
    value = (value > i && value < end && m[value] == '=') ? value + 1 : i;
    cut.append(m, i, value - i);
    const std::size_t max = m.substr(i, value - i) == "error=" ? error_limit : limit;
    const std::string_view v = m.substr(value, end - value);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
      cut += '"';
      cut += core::shorten(v.substr(1, v.size() - 2), max);
      cut += '"';
    } else {
      cut += core::shorten(v, max);
    }
    i = end;
  }
  return core::escape_controls(cut);
}

}  // namespace erpsync::daemon
