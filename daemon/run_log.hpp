#pragma once
// What a run says in the log (SPEC §8): the report line, one warning per new or changed
// rejection, progress at least every 10 s, and — for dry runs — the lists of adoptions and
// rejections. Secrets never reach these lines: they carry codes, owners and reasons only.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/ports/events.hpp"
#include "core/sync_report.hpp"

namespace erpsync::daemon {

class RunLog final : public core::SyncEvents {
 public:
  RunLog(std::shared_ptr<spdlog::logger> log, std::string connector, std::string stream,
         bool keep_decisions);

  void on_rejection(const core::RejectionWrite& r) override;
  void on_decision(const core::Decision& d) override;
  void on_progress(const core::Counters& c) override;
  void on_redecide(int attempt, const std::string& what) override;

  // Adoptions and rejections seen (when keep_decisions), in arrival order.
  const std::vector<core::Decision>& notable() const { return notable_; }

 private:
  std::shared_ptr<spdlog::logger> log_;
  std::string connector_, stream_;
  bool keep_decisions_;
  std::vector<core::Decision> notable_;
  std::chrono::steady_clock::time_point last_progress_;
};

// Logs the report: the key=value line in text format, the same fields as one object in JSON.
void log_report(spdlog::logger& log, const core::SyncReport& report);

}  // namespace erpsync::daemon
