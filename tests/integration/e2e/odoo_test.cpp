// The Odoo connector through the real binary (SPEC §4.2): a fake Odoo speaking XML-RPC or
// JSON-2 over loopback, both streams, owners mapped from salesperson logins, archived partners
// inactive, a contact parked until its company is synced — the database read back on every
// engine, the same scenario over each protocol.

#include <algorithm>
#include <fstream>
#include <iterator>

#include "e2e_fixture.hpp"
#include "support/fake_odoo.hpp"

namespace erpsync::testing {
namespace {

using connectors::odoo::Value;

Value::Struct company(std::int64_t id, std::string name, std::string ref, std::int64_t user, std::string write_date,
                      bool active = true) {
  return {{"id", id}, {"name", std::move(name)}, {"ref", std::move(ref)}, {"is_company", true},
          {"user_id", user}, {"active", active}, {"write_date", std::move(write_date)}};
}

Value::Struct person(std::int64_t id, std::string name, std::int64_t parent, std::string write_date) {
  return {{"id", id}, {"name", std::move(name)}, {"is_company", false}, {"parent_id", parent},
          {"email", "p" + std::to_string(id) + "@example.com"}, {"write_date", std::move(write_date)}};
}

class Odoo : public E2eTest {
 protected:
  // `credentials`: the protocol's members, e.g. "password": "..." or "protocol": "json2", ...
  void configure(const std::string& credentials) {
    write_config(std::string(R"([{ "name": "odoo", "type": "odoo", "url": ")") + odoo_.url() + R"(", "db": ")" +
                 FakeOdoo::kDb + R"(", "user": ")" + FakeOdoo::kLogin + R"(", )" + credentials +
                 R"(, "poll_interval": "10m", "default_owner": "sales",
                 "owners": { "john.smith@example.com": "jsmith", "erika@example.com": "erika" } }])");
  }
  void companies_and_contacts_land_with_mapped_owners_and_parked_contacts_follow(const std::string& credentials);
  FakeOdoo odoo_;
};

void Odoo::companies_and_contacts_land_with_mapped_owners_and_parked_contacts_follow(const std::string& credentials) {
  odoo_.add_user(7, "erika@example.com", "Erika Beispiel");
  odoo_.add_user(8, "john.smith@example.com", "John Smith");
  odoo_.add_user(9, "nobody@example.com", "Not In The Table");
  odoo_.add_partner(company(41, "Nordwind GmbH", "C-41", 7, "2026-03-04 08:15:02"));
  odoo_.add_partner(company(42, "Old Trading Ltd", "C-42", 8, "2026-03-04 08:15:03", /*active=*/false));
  odoo_.add_partner(company(43, "Unmapped Rep AG", "C-43", 9, "2026-03-04 08:15:04"));
  odoo_.add_partner(person(64, "Erika Muster", 41, "2026-03-04 09:00:00"));
  odoo_.add_partner(person(65, "Hans Peter Meier", 41, "2026-03-04 09:05:00"));
  // Her company is rejected (its salesperson is not in the owners table): she waits for it.
  odoo_.add_partner(person(81, "Greta Gruen", 43, "2026-03-04 09:06:00"));
  configure(credentials);

  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  auto companies = report_fields(run.all(), "odoo", "companies");
  EXPECT_EQ(companies["created"], "2") << run.all();
  EXPECT_EQ(companies["rejected"], "1");  // C-43: a salesperson the owners table does not list
  auto contacts = report_fields(run.all(), "odoo", "contacts");
  EXPECT_EQ(contacts["created"], "2") << run.all();
  EXPECT_EQ(contacts["parked"], "1");

  EXPECT_EQ(scalar("SELECT owner FROM accounts WHERE external_code = 'C-41'"), "erika");
  EXPECT_EQ(scalar("SELECT owner FROM accounts WHERE external_code = 'C-42'"), "jsmith");
  EXPECT_EQ(scalar("SELECT active FROM accounts WHERE external_code = 'C-42'"), "0");
  EXPECT_EQ(scalar("SELECT reason FROM sync_rejections WHERE remote_id = '43'"), "unknown_owner");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.external_code = 'C-41'"), "2");
  EXPECT_EQ(scalar("SELECT c.last_name FROM contacts c WHERE c.is_default = 1"), "Muster");

  // An admin adds the missing owner, nothing changes in Odoo: the company's rejection is
  // replayed, and the parked contact lands on it in the same run.
  std::ifstream in(config_path_);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  text.replace(text.find("\"erika@example.com\": \"erika\""), 29, "\"erika@example.com\": \"erika\", \"nobody@example.com\": \"nina\"");
  write_file("erpsync.json", text, false);
  ProcessResult again = erpsyncd({"--once"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_parked"), "0") << again.all();
  EXPECT_EQ(scalar("SELECT a.external_code FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE c.last_name = 'Gruen'"), "C-43");
  EXPECT_EQ(scalar("SELECT owner FROM accounts WHERE external_code = 'C-43'"), "nina");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE resolved_at IS NULL"), "0");
  // The API key or password never reaches the output.
  EXPECT_EQ(run.all().find(FakeOdoo::kPassword), std::string::npos);
  EXPECT_EQ(again.all().find(FakeOdoo::kPassword), std::string::npos);
}

TEST_P(Odoo, CompaniesAndContactsLandWithMappedOwnersAndParkedContactsFollow) {
  companies_and_contacts_land_with_mapped_owners_and_parked_contacts_follow(R"("password": ")" +
                                                                             std::string(FakeOdoo::kPassword) + "\"");
  if (HasFatalFailure()) return;
  for (const auto& r : odoo_.http().requests()) EXPECT_TRUE(r.path.starts_with("/xmlrpc/2/")) << r.path;
}

TEST_P(Odoo, OverJson2TheSameCompaniesAndContactsLand) {
  companies_and_contacts_land_with_mapped_owners_and_parked_contacts_follow(
      R"("protocol": "json2", "api_key": ")" + std::string(FakeOdoo::kPassword) + "\"");
  if (HasFatalFailure()) return;
  const auto requests = odoo_.http().requests();
  ASSERT_FALSE(requests.empty());
  for (const auto& r : requests) {
    EXPECT_TRUE(r.path.starts_with("/json/2/")) << r.path;
    EXPECT_EQ(r.header("Authorization"), "bearer " + std::string(FakeOdoo::kPassword));
    EXPECT_EQ(r.header("X-Odoo-Database"), FakeOdoo::kDb);
  }
}

// The contacts stream keeps its failure's kind (SPEC §10): a 503 with Retry-After during
// `--once` is retried after at least what Odoo asked, and the run ends ok.
TEST_P(Odoo, OnceRidesThroughA503WithRetryAfterOnTheContactsStream) {
  odoo_.add_partner(company(41, "Nordwind GmbH", "C-41", 7, "2026-03-04 08:15:02"));
  odoo_.add_partner(person(64, "Erika Muster", 41, "2026-03-04 09:00:00"));
  write_config(std::string(R"([{ "name": "odoo", "type": "odoo", "url": ")") + odoo_.url() + R"(", "db": ")" +
               FakeOdoo::kDb + R"(", "user": ")" + FakeOdoo::kLogin + R"(", "password": ")" + FakeOdoo::kPassword +
               R"(", "streams": ["contacts"], "poll_interval": "10m", "default_owner": "sales" }])");
  odoo_.fail_next(FakeReply::text(503, "busy").with_header("Retry-After", "1"));
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_NE(run.all().find("stream=contacts failed transiently; retry 1 of"), std::string::npos) << run.all();
  auto contacts = report_fields(run.all(), "odoo", "contacts");
  EXPECT_EQ(contacts["status"], "ok") << run.all();
  EXPECT_EQ(contacts["parked"], "1");  // her company is not synced: she waits for it
  std::vector<RecordedRequest> calls;
  for (auto& r : odoo_.http().requests())
    if (r.path == "/xmlrpc/2/object") calls.push_back(std::move(r));
  ASSERT_GE(calls.size(), 2U);
  EXPECT_GE(calls[1].received_at - calls[0].received_at, std::chrono::seconds(1));
}

// SPEC §4.2: with JSON-2 the key alone decides whose rights a call has. A sync configured as
// its own user but given an administrator's key is refused at login, before any partner is read:
// an auth error naming the connector and both users, exit 1, nothing written, the run recorded.
TEST_P(Odoo, Json2RefusesAKeyOfAnotherUserBeforeReadingAnything) {
  odoo_.add_partner(company(41, "Nordwind GmbH", "C-41", 7, "2026-03-04 08:15:02"));
  odoo_.add_user(1, "admin", "Mitchell Admin");
  const std::string admin_key = "admin-key-9e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b";
  odoo_.add_api_key(1, admin_key);
  configure(R"("protocol": "json2", "api_key": ")" + admin_key + "\"");
  ProcessResult run = erpsyncd({"--once"});
  EXPECT_EQ(run.exit_code, 1) << run.all();
  EXPECT_NE(run.all().find("odoo connector 'odoo'"), std::string::npos) << run.all();
  EXPECT_NE(run.all().find("the API key belongs to user 'admin', not to `user` 'sync-bot@example.com'"),
            std::string::npos)
      << run.all();
  EXPECT_EQ(run.all().find(admin_key), std::string::npos) << "the key reached the output";
  EXPECT_EQ(odoo_.count("res.partner", "search_read"), 0U);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "0");
  // Both streams refused (an auth failure is not retried: it waits for a new key).
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_runs WHERE status = 'error' AND message LIKE '%belongs to user%'"), "2");
}

// SPEC §4.2 "Persons only" and `individuals`, through the binary: addresses never become
// Contacts; a B2C customer (a person without a parent) is an Account with its ref as code, its
// child person its Contact, split family-name first with name_split "first_space".
TEST_P(Odoo, IndividualsAndTheirContactsLandAndAddressesNever) {
  odoo_.add_user(7, "erika@example.com", "Erika Beispiel");
  odoo_.add_partner(company(41, "Nordwind GmbH", "C-41", 7, "2026-03-04 08:15:02"));
  odoo_.add_partner(person(64, "Muster Erika", 41, "2026-03-04 09:00:00"));
  Value::Struct invoice = person(66, "", 41, "2026-03-04 09:01:00");
  invoice.emplace_back("type", "invoice");
  odoo_.add_partner(std::move(invoice));
  Value::Struct delivery = person(67, "Lager Nord", 41, "2026-03-04 09:01:30");
  delivery.emplace_back("type", "delivery");
  odoo_.add_partner(std::move(delivery));
  odoo_.add_partner({{"id", 90}, {"name", "Wang Xiaoming"}, {"ref", "B2C-90"}, {"is_company", false},
                     {"user_id", 7}, {"write_date", "2026-03-04 09:02:00"}});
  odoo_.add_partner(person(91, "Wang Li", 90, "2026-03-04 09:03:00"));
  write_config(std::string(R"([{ "name": "odoo", "type": "odoo", "url": ")") + odoo_.url() + R"(", "db": ")" +
               FakeOdoo::kDb + R"(", "user": ")" + FakeOdoo::kLogin + R"(", "password": ")" + FakeOdoo::kPassword +
               R"(", "individuals": true, "name_split": "first_space", "poll_interval": "10m",
               "owners": { "erika@example.com": "erika" } }])");
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(report_fields(run.all(), "odoo", "companies")["created"], "2") << run.all();
  auto contacts = report_fields(run.all(), "odoo", "contacts");
  EXPECT_EQ(contacts["fetched"], "2") << run.all();
  EXPECT_EQ(contacts["created"], "2");
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = 'B2C-90'"), "Wang Xiaoming");
  EXPECT_EQ(scalar("SELECT owner FROM accounts WHERE external_code = 'B2C-90'"), "erika");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts"), "2");
  EXPECT_EQ(scalar("SELECT c.first_name FROM contacts c JOIN accounts a ON a.id = c.account_id "
                   "WHERE a.external_code = 'B2C-90' AND c.last_name = 'Wang'"),
            "Li");
  EXPECT_EQ(scalar("SELECT c.first_name FROM contacts c JOIN accounts a ON a.id = c.account_id "
                   "WHERE a.external_code = 'C-41' AND c.last_name = 'Muster'"),
            "Erika");
}

// SPEC §4.2: a parent whose ref changes in Odoo — its children's partners are not edited, so
// they are not read again — still gets its children's member_of_code following it (the store
// does it with the code change), so the database equals what a from-scratch sync writes.
TEST_P(Odoo, AParentsRefChangeIsFollowedByItsChildrensMemberOfCode) {
  odoo_.add_user(7, "erika@example.com", "Erika Beispiel");
  odoo_.set_now("2026-03-04 08:00:00");
  odoo_.add_partner(company(41, "ACME Holding", "H-1", 7, "2026-03-04 08:00:00"));
  Value::Struct sub = company(45, "ACME Süd GmbH", "H-1-S", 7, "2026-03-04 08:00:01");
  sub.emplace_back("parent_id", 41);
  odoo_.add_partner(std::move(sub));
  // Edited an hour later: the cursor's overlap does not reach back to the child.
  odoo_.add_partner(company(50, "Later Ltd", "L-50", 7, "2026-03-04 09:00:00"));
  configure(R"("password": ")" + std::string(FakeOdoo::kPassword) + "\"");
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  EXPECT_EQ(scalar("SELECT member_of_code FROM accounts WHERE external_code = 'H-1-S'"), "H-1");

  odoo_.set_now("2026-03-05 10:00:00");
  odoo_.write("res.partner", 41, {{"ref", "H-100"}});
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  auto companies = report_fields(run.all(), "odoo", "companies");
  EXPECT_EQ(companies["fetched"], "2") << "the parent, and L-50 in the overlap: " << run.all();
  EXPECT_EQ(companies["updated"], "1");
  EXPECT_EQ(companies["unchanged"], "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code = 'H-100'"), "1");
  EXPECT_EQ(scalar("SELECT member_of_code FROM accounts WHERE external_code = 'H-1-S'"), "H-100");
  EXPECT_EQ(scalar("SELECT p.external_code FROM accounts c JOIN accounts p ON p.id = c.member_of_id "
                   "WHERE c.external_code = 'H-1-S'"),
            "H-100");
}

// SPEC §3 "Counters": a quiet re-run re-reads the cursor overlap; a company still rejected and
// a contact still parked end exactly as before and are counted unchanged — not as new
// rejections and parkings — in the report line and in sync_runs; the rejection's times_seen
// still counts the sighting.
TEST_P(Odoo, AQuietReRunCountsRecordsThatEndAsBeforeUnchanged) {
  odoo_.add_user(7, "erika@example.com", "Erika Beispiel");
  odoo_.add_partner(company(41, "Nordwind GmbH", "C-41", 7, "2026-03-04 08:15:00"));
  odoo_.add_partner(company(43, "YourCompany", "", 7, "2026-03-04 08:15:01"));  // Odoo's own: no ref
  odoo_.add_partner(person(64, "Erika Muster", 41, "2026-03-04 08:15:02"));
  odoo_.add_partner(person(81, "Greta Gruen", 43, "2026-03-04 08:15:03"));  // waits for its company
  configure(R"("password": ")" + std::string(FakeOdoo::kPassword) + "\"");
  ProcessResult first = erpsyncd({"--once"});
  ASSERT_EQ(first.exit_code, 0) << first.all();
  EXPECT_EQ(report_fields(first.all(), "odoo", "companies")["rejected"], "1") << first.all();
  EXPECT_EQ(report_fields(first.all(), "odoo", "contacts")["parked"], "1") << first.all();

  ProcessResult again = erpsyncd({"--once"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  auto companies = report_fields(again.all(), "odoo", "companies");
  auto contacts = report_fields(again.all(), "odoo", "contacts");
  EXPECT_EQ(companies["fetched"], "2") << again.all();
  EXPECT_EQ(companies["unchanged"], "2") << again.all();
  EXPECT_EQ(companies["rejected"], "0") << again.all();
  EXPECT_EQ(contacts["fetched"], "2") << again.all();
  EXPECT_EQ(contacts["unchanged"], "2") << again.all();
  EXPECT_EQ(contacts["parked"], "0") << again.all();
  EXPECT_EQ(again.all().find("reason=missing_external_code"), std::string::npos) << "logged again: " << again.all();
  const std::string last_runs = "SELECT SUM(rejected + parked) FROM sync_runs WHERE id IN "
                                "(SELECT MAX(id) FROM sync_runs GROUP BY stream)";
  EXPECT_EQ(scalar(last_runs), "0");
  EXPECT_EQ(scalar("SELECT SUM(unchanged) FROM sync_runs WHERE id IN (SELECT MAX(id) FROM sync_runs GROUP BY stream)"),
            "4");
  EXPECT_EQ(scalar("SELECT times_seen FROM sync_rejections WHERE remote_id = '43'"), "2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_parked WHERE remote_id = '81'"), "1");
}

// SPEC §10, §8: a server that dies between two pages fails the run with a transient error
// naming the connector; the report line names the cursor committed before it (not ""), and the
// next run goes on from there.
TEST_P(Odoo, AFailedRunReportsTheCursorItCommitted) {
  odoo_.add_user(7, "erika@example.com", "Erika Beispiel");
  odoo_.add_partner(company(41, "Nordwind GmbH", "C-41", 7, "2026-03-04 08:15:00"));
  odoo_.add_partner(company(42, "Blue Heron Ltd", "C-42", 7, "2026-03-04 09:15:00"));
  write_config(std::string(R"([{ "name": "odoo", "type": "odoo", "url": ")") + odoo_.url() + R"(", "db": ")" +
               FakeOdoo::kDb + R"(", "user": ")" + FakeOdoo::kLogin + R"(", "password": ")" + FakeOdoo::kPassword +
               R"(", "streams": ["companies"], "page_size": 1, "poll_interval": "1s" }])");
  int pages = 0;
  odoo_.set_interceptor([&](const FakeOdoo::Call& c) -> std::optional<FakeReply> {
    if (c.model == "res.partner" && c.model_method == "search_read" && ++pages >= 2)
      return FakeReply::text(200, "").with_fault(FakeReply::Fault::reset, 0);
    return std::nullopt;
  });
  ProcessResult run = erpsyncd({"--once"});
  EXPECT_EQ(run.exit_code, 1) << run.all();
  auto companies = report_fields(run.all(), "odoo", "companies");
  EXPECT_EQ(companies["status"], "error") << run.all();
  EXPECT_NE(run.all().find("status=error fetched=0 created=0 adopted=0 updated=0 unchanged=0 superseded=0 parked=0 "
                           "rejected=0 failed=0"),
            std::string::npos)
      << run.all();
  EXPECT_NE(run.all().find("cursor=\"2026-03-04 08:15:00#41\" error=\"odoo connector 'odoo'"), std::string::npos)
      << "the last report line names the committed cursor: " << run.all();
  EXPECT_NE(run.all().find("odoo connector 'odoo' (database 'acme_prod' at"), std::string::npos) << run.all();
  // (CURSOR is a reserved word in MariaDB: compare without naming the column.)
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_cursors WHERE connector = 'odoo'"), "1");
  const auto cursors = query("SELECT * FROM sync_cursors WHERE connector = 'odoo'");
  ASSERT_EQ(cursors.size(), 1U);
  EXPECT_NE(std::find(cursors[0].begin(), cursors[0].end(), std::optional<std::string>("2026-03-04 08:15:00#41")),
            cursors[0].end());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "1");
}

// SPEC §10 and issue "a frozen server bounds a run": when Odoo keeps failing, `--once` retries
// the first stream its 3 times, then gives the connector's later streams one attempt each, so
// the run ends after about one stream's retries (docs/odoo.md adds the timeouts up); the errors
// name the connector.
TEST_P(Odoo, OnceGivesLaterStreamsOneAttemptAfterAStreamUsedUpItsRetries) {
  odoo_.add_partner(company(41, "Nordwind GmbH", "C-41", 7, "2026-03-04 08:15:02"));
  write_config(std::string(R"([{ "name": "odoo", "type": "odoo", "url": ")") + odoo_.url() + R"(", "db": ")" +
               FakeOdoo::kDb + R"(", "user": ")" + FakeOdoo::kLogin + R"(", "password": ")" + FakeOdoo::kPassword +
               R"(", "poll_interval": "1s", "default_owner": "sales" }])");
  odoo_.set_interceptor([](const FakeOdoo::Call&) -> std::optional<FakeReply> {
    return FakeReply::html_error(503, "Service Unavailable", "down for maintenance");
  });
  ProcessResult run = erpsyncd({"--once"});
  EXPECT_EQ(run.exit_code, 1) << run.all();
  EXPECT_NE(run.all().find("stream=companies failed transiently; retry 3 of 3"), std::string::npos) << run.all();
  EXPECT_NE(run.all().find("stream=contacts failed transiently; not retried"), std::string::npos) << run.all();
  EXPECT_EQ(run.all().find("stream=contacts failed transiently; retry"), std::string::npos) << run.all();
  std::size_t logins = 0;
  for (const auto& c : odoo_.calls())
    if (c.method == "authenticate") ++logins;
  EXPECT_EQ(logins, 5U) << "4 runs of companies, 1 of contacts";
  EXPECT_EQ(report_fields(run.all(), "odoo", "contacts")["status"], "error");
  EXPECT_NE(run.all().find("odoo connector 'odoo' (database 'acme_prod' at"), std::string::npos) << run.all();
}

ERPSYNC_E2E_ON_ALL_ENGINES(Odoo);

}  // namespace
}  // namespace erpsync::testing
