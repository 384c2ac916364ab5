// SuiteCRM 7 as the CRM (database.crm "suitecrm", SPEC §5 "CRM targets") through the real binary,
// on MariaDB with SuiteCRM's tables from the project's fixture (tests/fixtures/suitecrm): the
// Accounts and Contacts are SuiteCRM's rows as SuiteCRM itself would show them (owner, parent,
// type, e-mails shared, contacts linked); Accounts typed in SuiteCRM are adopted or guard their
// codes; a reassignment made in SuiteCRM is what rule 5 reads; the External Code is unique in
// the database; what SuiteCRM cannot store is one record's rejection; a quiet re-sync writes
// nothing.

#include <fstream>
#include <iterator>
#include <regex>

#include "e2e_fixture.hpp"
#include "support/fake_magento.hpp"
#include "support/suitecrm_fixture.hpp"

namespace erpsync::testing {
namespace {

// 9 companies; batch_size 3, so the parent K-3 arrives two batches after its child K-1 (rule 6).
const std::string kLong(151, 'L');
const std::string kFeed = R"(<E>
  <C id="1" code="K-1"><N>Acme</N><R>alice</R><P>K-3</P><T>customer</T><M>info@acme.example</M><Ph>+44 1</Ph><City>Leeds</City>
    <Ct id="c1"><F>Jane</F><L>Doe</L><M>jane@acme.example</M></Ct>
    <Ct id="c2"><F>Info</F><L>Desk</L><M>INFO@acme.example</M></Ct></C>
  <C id="2" code="K-2"><N>Beta</N><R>bob</R><T>distributor</T><M>info@acme.example</M></C>
  <C id="4" code="K-4"><N>gamma  typed</N><R>alice</R><T>partner</T></C>
  <C id="9" code="K-9"><N>Nine</N><R>alice</R></C>
  <C id="5" code="K-5"><N>)" + kLong + R"(</N><R>alice</R></C>
  <C id="6" code="K-6"><N>Emoji 😀 Ltd</N><R>alice</R></C>
  <C id="7" code="K-7"><N>Seven</N><R>carol</R></C>
  <C id="8" code="K-8"><N>Eight</N><R>alice</R></C>
  <C id="3" code="K-3"><N>Parent Co</N><R>alice</R><T>supplier</T></C>
</E>)";

class SuiteCrmTarget : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (IsSkipped()) return;
    create_suitecrm_tables(connection());
  }
  void configure(const std::string& feed_xml, const std::string& suitecrm = R"({ "sync_user": "erpsync" })") {
    const std::string feed = write_file("e.xml", feed_xml);
    config_path_ = write_file(
        "erpsync.json",
        R"({ "database": { "connection": ")" + connection() +
            R"(", "batch_size": 3, "table_prefix": "erpsync_", "crm": "suitecrm",
    "suitecrm": )" + suitecrm + R"( },
  "log": { "level": "info", "format": "text" },
  "connectors": [{ "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + feed +
            R"(", "records": "/E/C", "poll_interval": "5m", "adopt_by": ["name"],
    "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "owner": "R", "member_of": "P",
                "relationship": "T", "email": "M", "phone": "Ph", "city": "City" },
    "contacts": { "records": "Ct", "fields": { "remote_id": "@id", "first_name": "F", "last_name": "L", "email": "M" } } }] })",
        false);
  }
  // An Account typed in SuiteCRM (as its UI saves one: '' in an empty custom field).
  void typed_in_suitecrm(const std::string& id, const std::string& name, const std::string& owner_id,
                         const std::string& code) {
    query("INSERT INTO accounts (id, name, date_entered, date_modified, modified_user_id, created_by, deleted, "
          "assigned_user_id, account_type, phone_office) VALUES ('" + id + "', '" + name +
          "', '2026-01-06 10:00:00', '2026-01-06 10:00:00', '1', '1', 0, '" + owner_id + "', 'Customer', '+33 9')");
    query("INSERT INTO accounts_cstm (id_c, external_code_c) VALUES ('" + id + "', '" + code + "')");
  }
  std::string account(const std::string& column, const std::string& name) {
    return scalar("SELECT " + column + " FROM accounts a LEFT JOIN accounts_cstm c ON c.id_c = a.id WHERE a.name = '" +
                  name + "' AND a.deleted = 0");
  }
  // Every row of SuiteCRM's tables that erpsync writes, as one checksum per table.
  std::string suitecrm_checksum() {
    std::string out;
    for (const auto& r : query("CHECKSUM TABLE accounts, accounts_cstm, contacts, accounts_contacts, email_addresses, "
                               "email_addr_bean_rel EXTENDED"))
      out += r[0].value_or("") + "=" + r[1].value_or("NULL") + " ";
    return out;
  }
};

TEST_P(SuiteCrmTarget, AccountsContactsAndEmailsAreSuiteCrmRowsAndEveryRuleHolds) {
  typed_in_suitecrm("a0000000-0000-0000-0000-00000000000a", "Gamma Typed", kSuiteAliceId, "");
  typed_in_suitecrm("a0000000-0000-0000-0000-00000000000b", "Nine", kSuiteBobId, "K-9");
  typed_in_suitecrm("a0000000-0000-0000-0000-00000000000c", "Other Uncoded", kSuiteBobId, "");
  configure(kFeed);

  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  auto r = report_fields(run.all(), "erp");
  EXPECT_EQ(r["fetched"], "9") << run.all();
  EXPECT_EQ(r["created"], "4") << run.all();  // K-1, K-2, K-8, K-3
  EXPECT_EQ(r["adopted"], "1") << run.all();  // K-4: "Gamma Typed", typed in SuiteCRM without a code
  EXPECT_EQ(r["rejected"], "4") << run.all();  // K-9 (bob's in SuiteCRM), K-5, K-6, K-7

  // The Accounts as SuiteCRM shows them.
  const std::regex suitecrm_id("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  const std::string acme = account("a.id", "Acme");
  EXPECT_TRUE(std::regex_match(acme, suitecrm_id)) << acme;
  EXPECT_EQ(account("c.external_code_c", "Acme"), "K-1");
  EXPECT_EQ(account("a.deleted", "Acme"), "0");
  EXPECT_EQ(account("a.assigned_user_id", "Acme"), kSuiteAliceId);
  EXPECT_EQ(account("a.created_by", "Acme"), kSuiteSyncUserId);
  EXPECT_EQ(account("a.modified_user_id", "Acme"), kSuiteSyncUserId);
  EXPECT_NE(account("a.date_entered", "Acme"), "");
  EXPECT_NE(account("a.date_modified", "Acme"), "");
  EXPECT_EQ(account("a.account_type", "Acme"), "Customer");
  EXPECT_EQ(account("a.phone_office", "Acme"), "+44 1");
  EXPECT_EQ(account("a.billing_address_city", "Acme"), "Leeds");
  EXPECT_EQ(account("a.account_type", "Beta"), "Reseller");  // distributor, through the default map
  EXPECT_EQ(account("a.account_type", "Parent Co"), "Other");
  EXPECT_EQ(account("a.assigned_user_id", "Beta"), kSuiteBobId);
  // Rule 6: the parent arrived two batches later and was linked.
  EXPECT_EQ(account("a.parent_id", "Acme"), account("a.id", "Parent Co"));
  // Rule 9: the Account typed in SuiteCRM got the code and nothing else.
  EXPECT_EQ(account("a.id", "Gamma Typed"), "a0000000-0000-0000-0000-00000000000a");
  EXPECT_EQ(account("c.external_code_c", "Gamma Typed"), "K-4");
  EXPECT_EQ(account("a.account_type", "Gamma Typed"), "Customer");
  EXPECT_EQ(account("a.phone_office", "Gamma Typed"), "+33 9");
  EXPECT_EQ(account("c.external_code_c", "Other Uncoded"), "");
  // Rule 5 against SuiteCRM's own assignment; unknown owner: an inactive SuiteCRM user.
  EXPECT_EQ(account("a.assigned_user_id", "Nine"), kSuiteBobId);
  EXPECT_EQ(scalar("SELECT reason FROM erpsync_sync_rejections WHERE remote_id = '9'"), "code_owned_by_other_user");
  EXPECT_EQ(scalar("SELECT reason FROM erpsync_sync_rejections WHERE remote_id = '7'"), "unknown_owner");
  // What SuiteCRM cannot store: one record's rejection each, nothing of it written.
  EXPECT_EQ(scalar("SELECT reason FROM erpsync_sync_rejections WHERE remote_id = '5'"), "invalid_field");
  EXPECT_NE(scalar("SELECT message FROM erpsync_sync_rejections WHERE remote_id = '5'").find("150"), std::string::npos);
  EXPECT_EQ(scalar("SELECT reason FROM erpsync_sync_rejections WHERE remote_id = '6'"), "invalid_field");
  EXPECT_NE(scalar("SELECT message FROM erpsync_sync_rejections WHERE remote_id = '6'").find("Basic Multilingual"),
            std::string::npos);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE name LIKE 'Emoji%' OR name = 'Seven' OR name LIKE 'LLLL%'"),
            "0");

  // E-mails: one shared row per address (compared upper-cased), a primary link per record.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM email_addresses WHERE email_address_caps = 'INFO@ACME.EXAMPLE'"), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM email_addr_bean_rel r JOIN email_addresses e ON e.id = r.email_address_id "
                   "WHERE e.email_address_caps = 'INFO@ACME.EXAMPLE' AND r.deleted = 0 AND r.primary_address = 1"),
            "3");  // Acme, Beta, the contact Info Desk
  EXPECT_EQ(scalar("SELECT e.email_address FROM email_addr_bean_rel r JOIN email_addresses e ON e.id = "
                   "r.email_address_id WHERE r.bean_module = 'Accounts' AND r.bean_id = '" + acme + "'"),
            "info@acme.example");
  // Contacts: SuiteCRM rows linked once to their Account, assigned like it.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts WHERE deleted = 0"), "2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts_contacts ac JOIN contacts c ON c.id = ac.contact_id WHERE "
                   "ac.account_id = '" + acme + "' AND ac.deleted = 0"),
            "2");
  EXPECT_EQ(scalar("SELECT assigned_user_id FROM contacts WHERE last_name = 'Doe'"), kSuiteAliceId);
  EXPECT_EQ(scalar("SELECT created_by FROM contacts WHERE last_name = 'Doe'"), kSuiteSyncUserId);
  EXPECT_EQ(scalar("SELECT e.email_address FROM contacts c JOIN email_addr_bean_rel r ON r.bean_id = c.id AND "
                   "r.bean_module = 'Contacts' JOIN email_addresses e ON e.id = r.email_address_id WHERE c.last_name = 'Doe'"),
            "jane@acme.example");

  // The admin commands read erpsync's own tables beside SuiteCRM's.
  ProcessResult report = erpsyncd({"report", "--last", "1"});
  EXPECT_EQ(report.exit_code, 0) << report.all();
  EXPECT_NE(report.out.find("erp"), std::string::npos) << report.out;
  ProcessResult rejections = erpsyncd({"rejections", "list"});
  EXPECT_EQ(rejections.exit_code, 0) << rejections.all();
  EXPECT_NE(rejections.out.find("unknown_owner"), std::string::npos) << rejections.out;

  // The External Code is unique in the database: a SuiteCRM user typing a duplicate is refused,
  // compared exactly after trimming; an empty code is no code.
  EXPECT_THROW(query("INSERT INTO accounts_cstm (id_c, external_code_c) VALUES ('dup-1', 'K-1')"), std::runtime_error);
  EXPECT_THROW(query("INSERT INTO accounts_cstm (id_c, external_code_c) VALUES ('dup-2', ' K-1 ')"), std::runtime_error);
  EXPECT_NO_THROW(query("INSERT INTO accounts_cstm (id_c, external_code_c) VALUES ('dup-3', 'k-1')"));
  EXPECT_NO_THROW(query("INSERT INTO accounts_cstm (id_c, external_code_c) VALUES ('dup-4', '')"));
  query("DELETE FROM accounts_cstm WHERE id_c IN ('dup-3', 'dup-4')");

  // The adopted Account updates on its next sighting; then a re-sync of the same file writes
  // nothing in SuiteCRM.
  ASSERT_EQ(erpsyncd({"resync", "--connector", "erp"}).exit_code, 0);
  ProcessResult second = erpsyncd({"--once"});
  ASSERT_EQ(second.exit_code, 0) << second.all();
  EXPECT_EQ(report_fields(second.all(), "erp")["updated"], "1") << second.all();
  EXPECT_EQ(scalar("SELECT CONCAT(name, '|', account_type) FROM accounts WHERE id = "
                   "'a0000000-0000-0000-0000-00000000000a'"),
            "gamma  typed|Partner");  // the source is the master of the fields it maps
  const std::string before = suitecrm_checksum();
  ASSERT_EQ(erpsyncd({"resync", "--connector", "erp"}).exit_code, 0);
  ProcessResult quiet = erpsyncd({"--once"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.all();
  auto q = report_fields(quiet.all(), "erp");
  EXPECT_EQ(q["unchanged"], "5") << quiet.all();
  EXPECT_EQ(q["rejected"], "4") << quiet.all();
  EXPECT_EQ(suitecrm_checksum(), before);

  // A reassignment made in SuiteCRM: rule 5 reads it (Acme now bob's: alice's record is
  // rejected), and the rejection of K-9 replays once bob's Nine is given to alice.
  query("UPDATE accounts SET assigned_user_id = '" + std::string(kSuiteBobId) + "' WHERE name = 'Acme'");
  query("UPDATE accounts SET assigned_user_id = '" + std::string(kSuiteAliceId) + "' WHERE name = 'Nine'");
  ASSERT_EQ(erpsyncd({"resync", "--connector", "erp"}).exit_code, 0);
  ProcessResult reassigned = erpsyncd({"--once"});
  ASSERT_EQ(reassigned.exit_code, 0) << reassigned.all();
  EXPECT_EQ(scalar("SELECT reason FROM erpsync_sync_rejections WHERE remote_id = '1' AND resolved_at IS NULL"),
            "code_owned_by_other_user");
  EXPECT_EQ(scalar("SELECT existing_owner FROM erpsync_sync_rejections WHERE remote_id = '1'"), "bob");
  EXPECT_NE(scalar("SELECT resolved_at FROM erpsync_sync_rejections WHERE remote_id = '9'"), "");
  EXPECT_EQ(account("a.assigned_user_id", "Acme"), kSuiteBobId);  // nothing of the rejected record written
  EXPECT_EQ(account("a.id", "Nine"), "a0000000-0000-0000-0000-00000000000b");
}

// A dry run decides as the real run does and leaves SuiteCRM's tables as they were (the refresh
// of erpsync's index included: it happens inside the dry run's transaction).
TEST_P(SuiteCrmTarget, ADryRunChangesNothingInSuiteCrm) {
  typed_in_suitecrm("a0000000-0000-0000-0000-00000000000a", "Gamma Typed", kSuiteAliceId, "");
  configure(kFeed);
  ASSERT_EQ(erpsyncd({"migrate"}).exit_code, 0);
  const std::string before = suitecrm_checksum();
  ProcessResult dry = erpsyncd({"--once", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.all();
  EXPECT_EQ(suitecrm_checksum(), before);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_accounts"), "0");
  ProcessResult real = erpsyncd({"--once"});
  ASSERT_EQ(real.exit_code, 0) << real.all();
  auto d = report_fields(dry.all(), "erp"), r = report_fields(real.all(), "erp");
  for (const char* k : {"fetched", "created", "adopted", "updated", "unchanged", "rejected"}) EXPECT_EQ(d[k], r[k]) << k;
  EXPECT_NE(suitecrm_checksum(), before);
}

TEST_P(SuiteCrmTarget, AnAccountDeletedInSuiteCrmIsGoneAndItsCodeFreeForTheSource) {
  configure(R"(<E><C id="1" code="K-1"><N>Acme</N><R>alice</R></C></E>)");
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  const std::string first = account("a.id", "Acme");
  query("UPDATE accounts SET deleted = 1 WHERE id = '" + first + "'");
  configure(R"(<E><C id="1" code="K-1"><N>Acme Ltd</N><R>alice</R></C></E>)");
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(report_fields(run.all(), "erp")["created"], "1") << run.all();
  EXPECT_EQ(account("c.external_code_c", "Acme Ltd"), "K-1");
  EXPECT_NE(account("a.id", "Acme Ltd"), first);
  EXPECT_EQ(scalar("SELECT COALESCE(external_code_c, '') FROM accounts_cstm WHERE id_c = '" + first + "'"), "");
}

// `merge` moves erpsync's own rows; on this target they are only SuiteCRM's index, so it is
// refused (exit 1) and points to SuiteCRM's own Merge; nothing changes in SuiteCRM.
TEST_P(SuiteCrmTarget, MergeIsRefusedAndPointsToSuiteCrmsOwnMerge) {
  configure(R"(<E><C id="1" code="K-1"><N>Acme</N><R>alice</R></C></E>)");
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  typed_in_suitecrm("a0000000-0000-0000-0000-00000000000b", "Acme Duplicate", kSuiteAliceId, "");
  const std::string before = suitecrm_checksum();
  ProcessResult merge = erpsyncd({"merge", "--account", "2", "--into", "1"});
  EXPECT_EQ(merge.exit_code, 1) << merge.all();
  EXPECT_NE(merge.err.find("merge the duplicate in SuiteCRM"), std::string::npos) << merge.all();
  EXPECT_EQ(suitecrm_checksum(), before);
}

TEST_P(SuiteCrmTarget, DuplicateCodesInSuiteCrmAreRefusedAtMigrationAndListed) {
  typed_in_suitecrm("d0000000-0000-0000-0000-000000000001", "Dup One", kSuiteAliceId, "D-1");
  typed_in_suitecrm("d0000000-0000-0000-0000-000000000002", "Dup Two", kSuiteBobId, "D-1 ");
  typed_in_suitecrm("d0000000-0000-0000-0000-000000000003", "Case Differs", kSuiteBobId, "d-1");
  configure(R"(<E><C id="1" code="K-1"><N>Acme</N><R>alice</R></C></E>)");
  ProcessResult refused = erpsyncd({"migrate"});
  EXPECT_EQ(refused.exit_code, 2) << refused.all();
  EXPECT_NE(refused.all().find("D-1"), std::string::npos) << refused.all();
  EXPECT_NE(refused.all().find("Dup One"), std::string::npos) << refused.all();
  EXPECT_NE(refused.all().find("Dup Two"), std::string::npos) << refused.all();
  EXPECT_EQ(refused.all().find("Case Differs"), std::string::npos) << refused.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts_cstm WHERE external_code_c LIKE 'D-1%'"), "3");  // never "fixed"

  // Once a SuiteCRM user deletes one of them (its code then counts no more), it goes on.
  query("UPDATE accounts SET deleted = 1 WHERE id = 'd0000000-0000-0000-0000-000000000002'");
  ProcessResult ok = erpsyncd({"migrate"});
  EXPECT_EQ(ok.exit_code, 0) << ok.all();
  ProcessResult print = erpsyncd({"migrate", "--print-sql"});
  EXPECT_EQ(print.exit_code, 0) << print.all();
  EXPECT_NE(print.out.find("ADD UNIQUE INDEX `erpsync_code_key_ix`"), std::string::npos) << print.out;
  EXPECT_NE(print.out.find("CREATE TABLE IF NOT EXISTS erpsync_bindings"), std::string::npos) << print.out;
}

TEST_P(SuiteCrmTarget, TheAccountTypeMapAndTheInactiveTypeAreTheAdminsToSet) {
  const std::string feed = R"(<E><C id="1" code="K-1"><N>Acme</N><R>alice</R><T>supplier</T></C>
    <C id="2" code="K-2"><N>Beta</N><R>alice</R><T>customer</T><A>no</A></C></E>)";
  configure(feed, R"({ "sync_user": "erpsync", "account_type_map": { "supplier": "Integrator" },
                       "inactive": "Inactive" })");
  // The feed maps `active` too.
  std::string cfg;
  {
    std::ifstream in(config_path_);
    cfg.assign(std::istreambuf_iterator<char>(in), {});
  }
  cfg.replace(cfg.find(R"("city": "City")"), 14, R"("city": "City", "active": "A")");
  config_path_ = write_file("erpsync.json", cfg, false);
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(account("a.account_type", "Acme"), "Integrator");
  EXPECT_EQ(account("a.account_type", "Beta"), "Inactive");
}

// Rule 8: a bound record's code changes, and two records swap their codes in one batch: both
// pass SuiteCRM's unique index (two phases, as on erpsync's own schema).
TEST_P(SuiteCrmTarget, CodeChangesAndSwapsReachSuiteCrm) {
  configure(R"(<E><C id="1" code="K-1"><N>Acme</N><R>alice</R></C><C id="2" code="K-2"><N>Beta</N><R>alice</R></C>
    <C id="3" code="K-3"><N>Gamma</N><R>alice</R></C></E>)");
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  const std::string acme = account("a.id", "Acme");
  configure(R"(<E><C id="1" code="K-2"><N>Acme</N><R>alice</R></C><C id="2" code="K-1"><N>Beta</N><R>alice</R></C>
    <C id="3" code="K-30"><N>Gamma</N><R>alice</R></C></E>)");
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(report_fields(run.all(), "erp")["updated"], "3") << run.all();
  EXPECT_EQ(account("c.external_code_c", "Acme"), "K-2");
  EXPECT_EQ(account("c.external_code_c", "Beta"), "K-1");
  EXPECT_EQ(account("c.external_code_c", "Gamma"), "K-30");
  EXPECT_EQ(account("a.id", "Acme"), acme);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), "3");
}

// Rule 9 by VAT where a SuiteCRM custom field holds it (database.suitecrm.vat_field): an Account
// typed in SuiteCRM with that VAT number and no code is adopted; the VAT of erpsync's Accounts
// goes to that field.
TEST_P(SuiteCrmTarget, AdoptionByVatReadsTheVatCustomField) {
  query("ALTER TABLE accounts_cstm ADD COLUMN vat_c varchar(32) DEFAULT NULL");
  query("INSERT INTO fields_meta_data (id, name, vname, custom_module, type, len, deleted) VALUES "
        "('Accountsvat_c', 'vat_c', 'LBL_VAT', 'Accounts', 'varchar', 32, 0)");
  typed_in_suitecrm("a0000000-0000-0000-0000-0000000000f1", "Fabrikam Typed", kSuiteAliceId, "");
  query("UPDATE accounts_cstm SET vat_c = 'GB123' WHERE id_c = 'a0000000-0000-0000-0000-0000000000f1'");
  configure(R"(<E><C id="1" code="K-1"><N>Fabrikam Ltd</N><R>alice</R><V>GB123</V></C>
    <C id="2" code="K-2"><N>Other</N><R>alice</R><V>FR9</V></C></E>)",
            R"({ "sync_user": "erpsync", "vat_field": "vat_c" })");
  std::string cfg;
  {
    std::ifstream in(config_path_);
    cfg.assign(std::istreambuf_iterator<char>(in), {});
  }
  cfg.replace(cfg.find(R"("city": "City")"), 14, R"("city": "City", "vat": "V")");
  cfg.replace(cfg.find(R"("adopt_by": ["name"])"), 20, R"("adopt_by": ["vat"])");
  config_path_ = write_file("erpsync.json", cfg, false);
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  auto r = report_fields(run.all(), "erp");
  EXPECT_EQ(r["adopted"], "1") << run.all();
  EXPECT_EQ(r["created"], "1") << run.all();
  EXPECT_EQ(account("c.external_code_c", "Fabrikam Typed"), "K-1");
  EXPECT_EQ(account("c.vat_c", "Other"), "FR9");
}

// An e-mail that changes re-points the record's primary link (the shared address row stays for
// the others); an emptied one unlinks it.
TEST_P(SuiteCrmTarget, EmailChangesRepointAndEmptiedEmailsUnlink) {
  const std::string feed = R"(<E><C id="1" code="K-1"><N>Acme</N><R>alice</R><M>info@acme.example</M></C>
    <C id="2" code="K-2"><N>Beta</N><R>alice</R><M>info@acme.example</M></C>
    <C id="3" code="K-3"><N>Gamma</N><R>alice</R><M>x@gamma.example</M></C></E>)";
  configure(feed);
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM email_addresses"), "2");
  configure(R"(<E><C id="1" code="K-1"><N>Acme</N><R>alice</R><M>sales@acme.example</M></C>
    <C id="2" code="K-2"><N>Beta</N><R>alice</R><M>info@acme.example</M></C>
    <C id="3" code="K-3"><N>Gamma</N><R>alice</R><M></M></C></E>)");
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(report_fields(run.all(), "erp")["updated"], "2") << run.all();
  auto email_of = [&](const std::string& name) {
    return scalar("SELECT COALESCE(MAX(e.email_address), '') FROM accounts a JOIN email_addr_bean_rel r ON r.bean_id = "
                  "a.id AND r.bean_module = 'Accounts' AND r.deleted = 0 AND r.primary_address = 1 JOIN "
                  "email_addresses e ON e.id = r.email_address_id WHERE a.name = '" + name + "'");
  };
  EXPECT_EQ(email_of("Acme"), "sales@acme.example");
  EXPECT_EQ(email_of("Beta"), "info@acme.example");
  EXPECT_EQ(email_of("Gamma"), "");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM email_addr_bean_rel WHERE deleted = 0"), "2");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM email_addresses"), "3");  // address rows are never deleted
}

// Magento customers keep working: their Contacts are SuiteCRM Contacts of the Account whose
// code they carry (or of an Account of their own, owned by default_owner), their Customer and
// order rows erpsync's own.
TEST_P(SuiteCrmTarget, MagentoCustomersAreSuiteCrmContactsAndTheirOrdersErpsyncs) {
  FakeMagento shop;
  const auto& o = shop.options();
  auto customer = [](long long id, const std::string& code) {
    nlohmann::json c = {{"id", id}, {"group_id", 1}, {"created_at", "2026-01-01 00:00:00"},
                        {"updated_at", "2026-05-01 08:00:00"}, {"email", "c" + std::to_string(id) + "@example.com"},
                        {"firstname", "Ann"}, {"lastname", "No" + std::to_string(id)}, {"store_id", 1},
                        {"website_id", 1}, {"addresses", nlohmann::json::array()}};
    if (!code.empty())
      c["custom_attributes"] = nlohmann::json::array({{{"attribute_code", "erp_account_code"}, {"value", code}}});
    return c;
  };
  shop.put_customer(customer(1001, "K-1"));
  shop.put_customer(customer(1003, ""));
  shop.put_customer(customer(1004, "K-70"));  // an Account typed in SuiteCRM, owned by carol (inactive now)
  typed_in_suitecrm("a0000000-0000-0000-0000-000000000070", "Carol Old Account", "7c1e58a2-0d1b-7a53-11f0-5e2b00000004",
                    "K-70");
  shop.put_order({{"entity_id", 3001}, {"increment_id", "000003001"}, {"customer_email", "c1001@example.com"},
                  {"customer_is_guest", 0}, {"customer_id", 1001}, {"grand_total", "#num:12.5"},
                  {"order_currency_code", "EUR"}, {"status", "pending"}, {"state", "new"},
                  {"created_at", "2026-05-01 09:00:00"}, {"updated_at", "2026-05-01 09:00:00"}});
  const std::string feed = write_file("e.xml", R"(<E><C id="1" code="K-1"><N>Acme</N><R>alice</R></C></E>)");
  config_path_ = write_file("erpsync.json", R"({ "database": { "connection": ")" + connection() +
      R"(", "table_prefix": "erpsync_", "crm": "suitecrm", "suitecrm": { "sync_user": "erpsync" } },
  "connectors": [
    { "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + feed + R"(", "records": "/E/C",
      "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "owner": "R" } },
    { "name": "shop", "type": "magento2", "base_url": ")" + shop.base_url() + R"(",
      "auth": { "type": "oauth1", "consumer_key": ")" + o.consumer_key + R"(", "consumer_secret": ")" +
      o.consumer_secret + R"(", "access_token": ")" + o.access_token + R"(", "access_token_secret": ")" +
      o.access_token_secret + R"(" },
      "default_owner": "bob", "account_code_attribute": "erp_account_code", "streams": ["customers", "orders"] } ] })",
      false);
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  const std::string acme = account("a.id", "Acme");
  EXPECT_EQ(scalar("SELECT c.last_name FROM contacts c JOIN accounts_contacts ac ON ac.contact_id = c.id AND "
                   "ac.deleted = 0 WHERE ac.account_id = '" + acme + "'"),
            "No1001");
  EXPECT_EQ(scalar("SELECT assigned_user_id FROM contacts WHERE last_name = 'No1001'"), kSuiteAliceId);
  EXPECT_EQ(scalar("SELECT e.email_address FROM contacts c JOIN email_addr_bean_rel r ON r.bean_id = c.id JOIN "
                   "email_addresses e ON e.id = r.email_address_id WHERE c.last_name = 'No1001'"),
            "c1001@example.com");
  // The customer without a code: an Account of its own in SuiteCRM, bob's (default_owner).
  EXPECT_EQ(scalar("SELECT a.assigned_user_id FROM accounts a JOIN accounts_contacts ac ON ac.account_id = a.id "
                   "JOIN contacts c ON c.id = ac.contact_id WHERE c.last_name = 'No1003'"),
            kSuiteBobId);
  EXPECT_EQ(scalar("SELECT assigned_user_id FROM contacts WHERE last_name = 'No1004'"),
            "7c1e58a2-0d1b-7a53-11f0-5e2b00000004");  // rule 11: attached whatever the Account's owner
  EXPECT_EQ(scalar("SELECT ac.account_id FROM accounts_contacts ac JOIN contacts c ON c.id = ac.contact_id WHERE "
                   "c.last_name = 'No1004'"),
            "a0000000-0000-0000-0000-000000000070");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_customers WHERE kind = 'magento'"), "3");
  EXPECT_EQ(scalar("SELECT grand_total FROM erpsync_orders WHERE remote_id = '3001'"), "12.5000");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM erpsync_orders o JOIN erpsync_accounts s ON s.id = o.account_id WHERE "
                   "s.crm_id = '" + acme + "'"),
            "1");
}

INSTANTIATE_TEST_SUITE_P(E2e, SuiteCrmTarget, ::testing::Values(Engine::mariadb), engine_param_name);

// The SuiteCRM target is refused, with the reason, where it cannot work.
class SuiteCrmRefused : public E2eTest {};

TEST_P(SuiteCrmRefused, OnAnotherEngineOrWithoutPrefixOrSyncUser) {
  const std::string feed = write_file("e.xml", R"(<E><C id="1" code="K-1"><N>Acme</N><R>alice</R></C></E>)");
  auto config = [&](const std::string& database_extra) {
    config_path_ = write_file("erpsync.json",
                              R"({ "database": { "connection": ")" + connection() + "\", \"crm\": \"suitecrm\"" +
                                  database_extra + R"( },
  "connectors": [{ "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + feed +
                                  R"(", "records": "/E/C", "fields": { "external_code": "@code", "name": "N", "owner": "R" } }] })",
                              false);
  };
  config(R"(, "suitecrm": { "sync_user": "erpsync" })");
  ProcessResult no_prefix = erpsyncd({"--once"});
  EXPECT_EQ(no_prefix.exit_code, 2) << no_prefix.all();
  EXPECT_NE(no_prefix.all().find("table_prefix"), std::string::npos) << no_prefix.all();
  config(R"(, "table_prefix": "erpsync_")");
  ProcessResult no_user = erpsyncd({"--once"});
  EXPECT_EQ(no_user.exit_code, 2) << no_user.all();
  EXPECT_NE(no_user.all().find("sync_user"), std::string::npos) << no_user.all();
  config(R"(, "table_prefix": "erpsync_", "suitecrm": { "sync_user": "erpsync" })");
  ProcessResult run = erpsyncd({"--once"});
  EXPECT_EQ(run.exit_code, 2) << run.all();
  if (GetParam() == Engine::mariadb) {
    EXPECT_NE(run.all().find("no table `accounts`"), std::string::npos) << run.all();
  } else {
    EXPECT_NE(run.all().find("MariaDB or MySQL"), std::string::npos) << run.all();
  }
}

ERPSYNC_E2E_ON_ALL_ENGINES(SuiteCrmRefused);

}  // namespace
}  // namespace erpsync::testing
