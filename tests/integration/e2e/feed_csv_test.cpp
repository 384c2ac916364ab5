// A CSV export as a German ERP writes it (`;`, Windows-1252, quoted values with the delimiter and
// a line break, CRLF, a title line) with its contacts in a second file, through the real binary on
// every engine (SPEC §4.3 "CSV", "Encodings"): the records and their contacts are synced with
// their umlauts, a row with a column too few and a value with a byte Windows-1252 does not define
// are each that record's invalid_field rejection naming file and line, the rest goes on; the
// same files again are `source=unchanged`. A contact whose company the companies file lacks is
// parked (SPEC §3 rule 10) and written once when its company arrives, or becomes account_not_found
// after park_ttl.

#include "e2e_fixture.hpp"

namespace erpsync::testing {
namespace {

// Windows-1252: \xFC ü, \xF6 ö, \xDF ß, \x80 €; \x81 is undefined.
const std::string kAccounts =
    "Kundenstamm Export 07.12.2026\r\n"
    "Kundennummer;Firma;Vertreter;Art;Ort;Aktiv\r\n"
    "10001;\"M\xFCller; S\xF6hne GmbH\";jsmith;K;M\xFCnchen;J\r\n"
    "10002;\"Gro\xDF" "handel\r\nNord\";jsmith;I;Hamburg;J\r\n"
    "10003;Kaputt GmbH;jsmith;K\r\n"
    "10004;Bad\x81" "Byte AG;jsmith;K;Berlin;J\r\n"
    "10005;Euro \x80 KG;jsmith;K;K\xF6ln;N\r\n";

const std::string kContacts =
    "Ansprechpartner Export 07.12.2026\r\n"  // skip_lines applies to both files
    "Kontaktnummer;Kundennummer;Vorname;Nachname;E-Mail\r\n"
    "501;10001;J\xFCrgen;M\xFCller;jm@example.de\r\n"
    "502;10001;Anna;Schmidt;as@example.de\r\n"
    "503;10005;Fritz;K\xF6hler;fk@example.de\r\n";

const char* kConnectors = R"([{
  "name": "erp", "type": "feed", "format": "csv", "url": "file://ACCOUNTS", "encoding": "windows-1252",
  "csv": { "delimiter": ";", "skip_lines": 1 },
  "poll_interval": "5m", "default_owner": "sales",
  "fields": { "external_code": "Kundennummer", "name": "Firma", "owner": "Vertreter", "city": "Ort",
              "relationship": { "path": "Art", "map": { "K": "customer", "I": "prospect" } },
              "active": { "path": "Aktiv", "map": { "J": "yes", "N": "no" } } },
  "contacts": { "url": "file://CONTACTS", "company_key": "Kundennummer",
                "fields": { "remote_id": "Kontaktnummer", "first_name": "Vorname", "last_name": "Nachname",
                            "email": "E-Mail" } }
}])";

class FeedCsv : public E2eTest {};

TEST_P(FeedCsv, Windows1252ExportWithContactsBadRowsRejectedAloneAndUnchangedAgain) {
  const std::string accounts = write_file("kunden.csv", kAccounts);
  const std::string contacts = write_file("ansprechpartner.csv", kContacts);
  std::string c = kConnectors;
  c.replace(c.find("ACCOUNTS"), 8, accounts);
  c.replace(c.find("CONTACTS"), 8, contacts);
  write_config(c);

  // The External Code of the Account a contact (by last name) is on.
  auto account_of = [&](const std::string& last_name) {
    return scalar("SELECT a.external_code FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE c.last_name = '" +
                  last_name + "'");
  };

  ProcessResult run1 = erpsyncd({"--once"});
  auto r1 = report_fields(run1.all(), "erp", "accounts");
  EXPECT_EQ(r1["status"], "ok") << run1.all();
  EXPECT_EQ(r1["fetched"], "5");
  EXPECT_EQ(r1["created"], "3");
  EXPECT_EQ(r1["rejected"], "2");
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = '10001'"), "Müller; Söhne GmbH");
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = '10002'"), "Großhandel\r\nNord");
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = '10005'"), "Euro € KG");
  EXPECT_EQ(scalar("SELECT city FROM accounts WHERE external_code = '10005'"), "Köln");
  EXPECT_EQ(account_of("Müller"), "10001");
  EXPECT_EQ(account_of("Schmidt"), "10001");
  EXPECT_EQ(scalar("SELECT first_name FROM contacts WHERE last_name = 'Müller'"), "Jürgen");
  EXPECT_EQ(account_of("Köhler"), "10005");
  // The short row: its file and its line as an editor shows it (the quoted line break counts).
  EXPECT_EQ(scalar("SELECT reason FROM sync_rejections WHERE connector = 'erp' AND remote_id = '10003'"),
            "invalid_field");
  const std::string short_row = scalar("SELECT message FROM sync_rejections WHERE remote_id = '10003'");
  EXPECT_NE(short_row.find(accounts + " line 6: 4 columns where the header has 6"), std::string::npos) << short_row;
  const std::string bad_byte = scalar("SELECT message FROM sync_rejections WHERE remote_id = '10004'");
  EXPECT_NE(bad_byte.find("name holds a byte that windows-1252 does not define"), std::string::npos) << bad_byte;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code IN ('10003', '10004')"), "0");
  // Every contact row went with its company: the contacts stream has nothing of its own.
  EXPECT_EQ(report_fields(run1.all(), "erp", "contacts")["fetched"], "0") << run1.all();

  // The same two files again: nothing is parsed, nothing written.
  ProcessResult run2 = erpsyncd({"--once"});
  auto r2 = report_fields(run2.all(), "erp", "accounts");
  EXPECT_EQ(r2["status"], "ok") << run2.all();
  EXPECT_EQ(r2["source"], "unchanged");
  EXPECT_EQ(r2["created"], "0");
  EXPECT_EQ(r2["updated"], "0");

  // Only the contacts file changes: a new snapshot, the accounts unchanged by hash, one new
  // contact makes its company's record updated.
  write_file("ansprechpartner.csv", kContacts + "504;10002;Eva;Nord;en@example.de\r\n");
  ProcessResult run3 = erpsyncd({"--once"});
  auto r3 = report_fields(run3.all(), "erp", "accounts");
  EXPECT_EQ(r3["status"], "ok") << run3.all();
  EXPECT_EQ(r3["source"], "");
  EXPECT_EQ(r3["updated"], "1");
  EXPECT_EQ(r3["unchanged"], "2");
  EXPECT_EQ(account_of("Nord"), "10002");
}

// Parking (SPEC §3 rule 10) for a CSV feed's contacts: the companies file, a contacts file with
// two contacts of a company it does not have yet, and a row too short to name its company.
const std::string kCompanies = "Kundennummer;Firma\n10001;Alpha GmbH\n";
const std::string kLateCompany = "10009;Spaet AG\n";
const std::string kOrphans =
    "Kontaktnummer;Kundennummer;Vorname;Nachname;E-Mail\n"
    "501;10001;Jan;Alpha;ja@example.de\n"
    "601;10009;Ute;Spaet;us@example.de\n"
    "602;10009;Max;Spaet-Zwei;ms@example.de\n";

const char* kParkingConnectors = R"([{
  "name": "erp", "type": "feed", "format": "csv", "url": "file://ACCOUNTS",
  "csv": { "delimiter": ";" }, "poll_interval": "5m", "default_owner": "sales", "park_ttl": "2d",
  "fields": { "external_code": "Kundennummer", "name": "Firma" },
  "contacts": { "url": "file://CONTACTS", "company_key": "Kundennummer",
                "fields": { "remote_id": "Kontaktnummer", "first_name": "Vorname", "last_name": "Nachname",
                            "email": "E-Mail" } }
}])";

class FeedCsvParking : public E2eTest {
 protected:
  void configure(const std::string& contacts_csv) {
    accounts_ = write_file("kunden.csv", kCompanies);
    contacts_ = write_file("kontakte.csv", contacts_csv);
    std::string c = kParkingConnectors;
    c.replace(c.find("ACCOUNTS"), 8, accounts_);
    c.replace(c.find("CONTACTS"), 8, contacts_);
    write_config(c);
  }
  // How many contact rows have this last name, and the External Code of the Account of one.
  std::string contact_rows(const std::string& last_name) {
    return scalar("SELECT COUNT(*) FROM contacts WHERE last_name = '" + last_name + "'");
  }
  std::string account_of(const std::string& last_name) {
    return scalar("SELECT a.external_code FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE c.last_name = '" +
                  last_name + "'");
  }
  std::string parked() { return scalar("SELECT COUNT(*) FROM sync_parked WHERE connector = 'erp' AND stream = 'contacts'"); }

  std::string accounts_, contacts_;
};

TEST_P(FeedCsvParking, ContactsOfAMissingCompanyWaitAndAreWrittenOnceWhenItArrives) {
  configure(kOrphans + "603\n");
  ProcessResult run1 = erpsyncd({"--once"});
  auto a1 = report_fields(run1.all(), "erp", "accounts");
  auto c1 = report_fields(run1.all(), "erp", "contacts");
  EXPECT_EQ(a1["status"], "ok") << run1.all();
  EXPECT_EQ(a1["created"], "1");
  EXPECT_EQ(c1["status"], "ok") << run1.all();
  EXPECT_EQ(c1["fetched"], "3");
  EXPECT_EQ(c1["parked"], "2");
  EXPECT_EQ(c1["rejected"], "1");
  EXPECT_EQ(account_of("Alpha"), "10001") << "a contact of a company in the file goes with it";
  EXPECT_EQ(contact_rows("Spaet"), "0");
  EXPECT_EQ(parked(), "2");
  EXPECT_EQ(scalar("SELECT waits_for FROM sync_parked WHERE remote_id = '601'"), "company 10009");
  // The row too short to name its company: its own invalid_field, naming the file and the line.
  const std::string short_row =
      scalar("SELECT message FROM sync_rejections WHERE stream = 'contacts' AND remote_id = '603'");
  EXPECT_NE(short_row.find(contacts_ + " line 5: 1 columns where the header has 5"), std::string::npos) << short_row;

  // The same files again: nothing read, the parked contacts retried and still waiting, nothing written.
  ProcessResult run2 = erpsyncd({"--once"});
  auto c2 = report_fields(run2.all(), "erp", "contacts");
  EXPECT_EQ(c2["status"], "ok") << run2.all();
  EXPECT_EQ(c2["source"], "unchanged");
  EXPECT_EQ(c2["fetched"], "0");
  EXPECT_EQ(c2["parked"], "0");
  EXPECT_EQ(parked(), "2");
  EXPECT_EQ(contact_rows("Spaet"), "0");

  // The company arrives in the next export: its contacts go with it, once; the parked copies
  // are settled without a second write.
  write_file("kunden.csv", kCompanies + kLateCompany);
  ProcessResult run3 = erpsyncd({"--once"});
  auto a3 = report_fields(run3.all(), "erp", "accounts");
  auto c3 = report_fields(run3.all(), "erp", "contacts");
  EXPECT_EQ(a3["status"], "ok") << run3.all();
  EXPECT_EQ(a3["created"], "1");
  EXPECT_EQ(a3["unchanged"], "1");
  EXPECT_EQ(c3["status"], "ok") << run3.all();
  // Only the bad row is read again (rejected as before: unchanged).
  EXPECT_EQ(c3["fetched"], "1") << run3.all();
  EXPECT_EQ(c3["unchanged"], "1");
  EXPECT_EQ(c3["created"], "0");
  EXPECT_EQ(c3["updated"], "0");
  EXPECT_EQ(contact_rows("Spaet"), "1");
  EXPECT_EQ(contact_rows("Spaet-Zwei"), "1");
  EXPECT_EQ(account_of("Spaet"), "10009");
  EXPECT_EQ(account_of("Spaet-Zwei"), "10009");
  EXPECT_EQ(parked(), "0");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM bindings WHERE connector = 'erp' AND stream = 'contacts' AND remote_id = '601'"),
            "1");

  // A quiet re-run writes nothing.
  ProcessResult run4 = erpsyncd({"--once"});
  for (const char* stream : {"accounts", "contacts"}) {
    auto r = report_fields(run4.all(), "erp", stream);
    EXPECT_EQ(r["status"], "ok") << run4.all();
    EXPECT_EQ(r["source"], "unchanged") << stream;
    EXPECT_EQ(r["fetched"], "0") << stream;
  }
  EXPECT_EQ(contact_rows("Spaet"), "1");
}

TEST_P(FeedCsvParking, AContactParkedLongerThanParkTtlIsAccountNotFoundUntilItsCompanyArrives) {
  configure(kOrphans);
  ProcessResult run1 = erpsyncd({"--once"});
  EXPECT_EQ(report_fields(run1.all(), "erp", "contacts")["parked"], "2") << run1.all();
  // Parked three days ago (park_ttl is two days).
  query("UPDATE sync_parked SET parked_at = '2020-01-01 00:00:00.000' WHERE remote_id = '601'");

  ProcessResult run2 = erpsyncd({"--once"});
  auto c2 = report_fields(run2.all(), "erp", "contacts");
  EXPECT_EQ(c2["status"], "ok") << run2.all();
  EXPECT_EQ(c2["rejected"], "1") << run2.all();
  EXPECT_EQ(scalar("SELECT reason FROM sync_rejections WHERE stream = 'contacts' AND remote_id = '601' AND "
                   "resolved_at IS NULL"),
            "account_not_found");
  EXPECT_EQ(parked(), "1") << "602 was parked later and still waits";

  // Again: the rejection is replayed and ends as before, writing and counting nothing.
  ProcessResult run3 = erpsyncd({"--once"});
  auto c3 = report_fields(run3.all(), "erp", "contacts");
  EXPECT_EQ(c3["status"], "ok") << run3.all();
  EXPECT_EQ(c3["fetched"], "0") << run3.all();
  EXPECT_EQ(scalar("SELECT times_seen FROM sync_rejections WHERE remote_id = '601'"), "1");

  // The company arrives: both contacts are written once, with it; the rejection is resolved.
  write_file("kunden.csv", kCompanies + kLateCompany);
  ProcessResult run4 = erpsyncd({"--once"});
  auto c4 = report_fields(run4.all(), "erp", "contacts");
  EXPECT_EQ(c4["status"], "ok") << run4.all();
  EXPECT_EQ(c4["fetched"], "0") << run4.all();
  EXPECT_EQ(contact_rows("Spaet"), "1");
  EXPECT_EQ(account_of("Spaet"), "10009");
  EXPECT_EQ(account_of("Spaet-Zwei"), "10009");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE remote_id = '601' AND resolved_at IS NULL"), "0");
  EXPECT_EQ(parked(), "0");
}

TEST_P(FeedCsvParking, AContactWhoseCompanyLeftTheExportStaysOnItsAccount) {
  // The company is synced; a later export lacks it (it is `missing`, never deleted) while its
  // contact row is still in the contacts file: the contact attaches to the Account the store
  // has, it does not park.
  configure(kOrphans);
  write_file("kunden.csv", kCompanies + kLateCompany);
  ProcessResult run1 = erpsyncd({"--once"});
  EXPECT_EQ(report_fields(run1.all(), "erp", "accounts")["created"], "2") << run1.all();
  write_file("kunden.csv", "Kundennummer;Firma\n" + kLateCompany + "10002;Beta KG\n");
  write_file("kontakte.csv", kOrphans + "502;10002;Eva;Beta;eb@example.de\n");
  ProcessResult run2 = erpsyncd({"--once"});
  auto a2 = report_fields(run2.all(), "erp", "accounts");
  auto c2 = report_fields(run2.all(), "erp", "contacts");
  EXPECT_EQ(a2["missing"], "1") << run2.all();
  EXPECT_EQ(c2["fetched"], "1") << run2.all();
  EXPECT_EQ(c2["parked"], "0");
  EXPECT_EQ(c2["updated"], "1");
  EXPECT_EQ(contact_rows("Alpha"), "1");
  EXPECT_EQ(account_of("Alpha"), "10001");
  EXPECT_EQ(account_of("Beta"), "10002");
  EXPECT_EQ(parked(), "0");
}

ERPSYNC_E2E_ON_ALL_ENGINES(FeedCsv);
ERPSYNC_E2E_ON_ALL_ENGINES(FeedCsvParking);

}  // namespace
}  // namespace erpsync::testing
