#pragma once
// RedactingStore: a core::Store decorator that redacts the run's message (redact_secrets(), the
// log sink's own redaction) before the inner store records it in sync_runs, so an error that
// quotes a secret (a remote echoing a token, a driver echoing its connection string) is masked
// in the database as it is in the log. Every other call is forwarded unchanged.
//
// Thread-safety: like every Store, one thread at a time; the inner store must outlive it.

#include "core/ports/store.hpp"

namespace erpsync::daemon {

class RedactingStore final : public core::Store {
 public:
  explicit RedactingStore(core::Store& inner) : inner_(inner) {}

  core::CursorState load_cursor(const std::string& connector, const std::string& stream) override;
  core::StateSnapshot load_state(const core::BatchKeys& keys) override;
  // The inner store's own capability: quiet reads carry no message.
  core::QuietReads* quiet_reads() override { return inner_.quiet_reads(); }
  // Likewise: reading ahead records no message.
  core::LookAhead* look_ahead() override { return inner_.look_ahead(); }
  void apply(const core::WriteBatch& batch) override;
  std::int64_t begin_run(const std::string& connector, const std::string& stream, const std::string& instance) override;
  // The one call that changes anything: `message` reaches the inner store redacted.
  void finish_run(std::int64_t run_id, const std::string& status, const core::Counters& counters,
                  const std::string& message) override;
  std::vector<core::StoredRejection> replayable_rejections(const std::string& connector,
                                                           const std::string& stream) override;
  std::int64_t mark_missing(const std::string& connector, const std::string& stream,
                            const core::KeySet& seen) override;
  core::CommerceState load_commerce_state(const core::CommerceKeys& keys) override;
  std::vector<core::StoredParked> parked_records(const std::string& connector, const std::string& stream,
                                                 std::chrono::seconds park_ttl) override;
  void end_dry_run() override;

 private:
  core::Store& inner_;
};

}  // namespace erpsync::daemon
