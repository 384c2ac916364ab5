// The Odoo connector through the real binary (SPEC §4.2): a fake Odoo speaking XML-RPC or
// JSON-2 over loopback, both streams, owners mapped from salesperson logins, archived partners
// inactive, a contact parked until its company is synced — the database read back on every
// engine, the same scenario over each protocol.

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

ERPSYNC_E2E_ON_ALL_ENGINES(Odoo);

}  // namespace
}  // namespace erpsync::testing
