#include "daemon/run_log.hpp"

#include <nlohmann/json.hpp>

#include "daemon/logging.hpp"

namespace erpsync::daemon {

using core::quote_shown_if_needed;

RunLog::RunLog(std::shared_ptr<spdlog::logger> log, std::string connector, std::string stream,
               bool keep_decisions)
    : log_(std::move(log)), connector_(std::move(connector)), stream_(std::move(stream)),
      keep_decisions_(keep_decisions), last_progress_(std::chrono::steady_clock::now()) {}

void RunLog::on_rejection(const core::RejectionWrite& r) {
  const bool warning_only = r.reason == core::RejectReason::member_of_cycle;
  log_->warn("{} connector={} stream={} remote_id={} code={} reason={} existing_owner={} incoming_owner={} message={}",
             warning_only ? "refused-link" : "rejected", connector_, r.stream.empty() ? stream_ : r.stream,
             quote_shown_if_needed(r.remote_id), quote_shown_if_needed(r.external_code), core::to_string(r.reason),
             quote_shown_if_needed(r.existing_owner), quote_shown_if_needed(r.incoming_owner),
             quote_shown_if_needed(r.message));
}

void RunLog::on_decision(const core::Decision& d) {
  if (!keep_decisions_) return;
  if (d.outcome == core::Outcome::adopted || d.outcome == core::Outcome::rejected || d.reason)
    notable_.push_back(d);
}

void RunLog::on_progress(const core::Counters& c) {
  log_->debug("batch committed connector={} stream={} fetched={}", connector_, stream_, c.fetched);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_progress_ < std::chrono::seconds(10)) return;
  last_progress_ = now;
  log_->info("progress connector={} stream={} fetched={} created={} updated={} unchanged={} rejected={}",
             connector_, stream_, c.fetched, c.created, c.updated, c.unchanged, c.rejected);
}

void RunLog::on_redecide(int attempt, const std::string& what) {
  log_->warn("connector={} stream={} lost a race on a unique constraint (attempt {}); deciding the batch again: {}",
             connector_, stream_, attempt, what);
}

void log_report(spdlog::logger& log, const core::SyncReport& report) {
  const auto level = report.ok() ? spdlog::level::info : spdlog::level::err;
  if (!json_format()) {
    log.log(level, "{}", report.to_line());
    return;
  }
  nlohmann::json obj = nlohmann::json::object();
  obj["event"] = "sync";
  for (const auto& [k, v] : report.to_fields()) {
    const bool numeric = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos &&
                         k != "cursor" && k != "connector" && k != "stream";
    if (numeric) obj[k] = std::stoll(v);
    else obj[k] = v;
  }
  log.log(level, "{}", obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace erpsync::daemon
