#include "daemon/logging.hpp"

#include <mutex>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

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
    const std::string text(msg.payload.data(), msg.payload.size());
    bool merged = false;
    if (text.size() > 1 && text.front() == '{' && text.back() == '}') {
      json fields = json::parse(text, nullptr, false);
      if (fields.is_object()) {
        for (auto& [k, v] : fields.items()) line[k] = v;
        merged = true;
      }
    }
    if (!merged) line["message"] = text;
    // Text from remote systems may hold invalid UTF-8: replace, never throw while logging.
    const std::string out = line.dump(-1, ' ', false, json::error_handler_t::replace);
    dest.append(out.data(), out.data() + out.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

std::mutex g_mutex;
std::vector<spdlog::sink_ptr> g_sinks;
spdlog::level::level_enum g_level = spdlog::level::info;
bool g_json = false;

std::vector<spdlog::sink_ptr>& sinks_locked() {
  if (g_sinks.empty()) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v", spdlog::pattern_time_type::utc));
    g_sinks.push_back(sink);
  }
  return g_sinks;
}

}  // namespace

void configure_logging(const LogSettings& settings) {
  const auto level = spdlog::level::from_str(settings.level);
  if (level == spdlog::level::off && settings.level != "off")
    throw std::runtime_error("log.level: unknown level '" + settings.level + "' (trace, debug, info, warn, error, critical, off)");
  if (settings.format != "text" && settings.format != "json")
    throw std::runtime_error("log.format: unknown format '" + settings.format + "' (text or json)");

  spdlog::sink_ptr sink;
  if (settings.file.empty()) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  else sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(settings.file);
  if (settings.format == "json") sink->set_formatter(std::make_unique<JsonFormatter>());
  else sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v", spdlog::pattern_time_type::utc));

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

}  // namespace erpsync::daemon
