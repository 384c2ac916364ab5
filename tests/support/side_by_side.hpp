#pragma once
// What the side-by-side store tests share (quiet_shortcut_test, look_ahead_test): they run the
// same company records through two databases of one engine whose stores differ in one option,
// and compare every decision the engine tells and every row that matters.
//
// Thread-safety: plain test helpers, one thread.

#include <functional>
#include <string>
#include <vector>

#include "core/ports/events.hpp"
#include "core/record.hpp"
#include "core/sync_report.hpp"
#include "support/odbc_query.hpp"
#include "support/test_databases.hpp"

namespace erpsync::testing {

// A company record: remote id, External Code, parent's code, name ("Company" when empty), owner.
inline core::IncomingAccount company_record(std::string rid, std::string code, std::string parent = "",
                                            std::string name = "", std::string owner = "jsmith") {
  core::IncomingAccount r;
  r.set(core::Field::remote_id, std::move(rid));
  r.set(core::Field::external_code, std::move(code));
  r.set(core::Field::owner, std::move(owner));
  r.set(core::Field::member_of, std::move(parent));
  r.set(core::Field::name, name.empty() ? "Company" : std::move(name));
  return r;
}

// Every decision and new rejection as a line, in the order the engine tells them; the
// re-decisions counted; `after_second_batch` (when set) runs once the second batch is committed.
class DecisionLog final : public core::SyncEvents {
 public:
  std::vector<std::string> lines;
  int redecides = 0;
  std::function<void()> after_second_batch;

  void on_progress(const core::Counters&) override {
    if (++batches_ == 2 && after_second_batch) after_second_batch();
  }
  void on_decision(const core::Decision& d) override {
    lines.push_back(d.remote_id + " " + std::string(core::to_string(d.outcome)) + " " +
                    (d.reason ? std::string(core::to_string(*d.reason)) : "-") + " " + d.message);
  }
  void on_rejection(const core::RejectionWrite& r) override {
    lines.push_back("rejection " + r.remote_id + " " + std::string(core::to_string(r.reason)));
  }
  void on_redecide(int, const std::string&) override { ++redecides; }

 private:
  int batches_ = 0;
};

// The rows a company sync writes, ids replaced by codes: accounts with their parents, bindings,
// rejections, cursors.
inline std::string company_rows(const std::string& connection, Engine engine) {
  const std::string cursor = engine == Engine::mariadb ? "`cursor`" : "\"cursor\"";
  std::string out;
  auto add = [&](const std::string& sql) {
    for (const auto& row : odbc_query(connection, sql)) {
      for (const auto& v : row) out += (v ? *v : "NULL") + "|";
      out += "\n";
    }
  };
  add("SELECT a.external_code, a.owner, a.member_of_code, p.external_code, a.name FROM accounts a "
      "LEFT JOIN accounts p ON p.id = a.member_of_id ORDER BY a.name, a.external_code");
  add("SELECT b.remote_id, a.external_code, b.payload_hash, b.missing_since IS NULL FROM bindings b "
      "LEFT JOIN accounts a ON a.id = b.entity_id ORDER BY b.remote_id");
  add("SELECT remote_id, reason, times_seen, resolved_at IS NULL FROM sync_rejections ORDER BY remote_id, reason");
  add("SELECT connector, stream, " + cursor + " FROM sync_cursors ORDER BY stream");
  return out;
}

}  // namespace erpsync::testing
