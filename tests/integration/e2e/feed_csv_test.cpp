// A CSV export as a German ERP writes it (`;`, Windows-1252, quoted values with the delimiter and
// a line break, CRLF, a title line) with its contacts in a second file, through the real binary on
// every engine (SPEC §4.3 "CSV", "Encodings"): the records and their contacts are synced with
// their umlauts, a row with a column too few and a value with a byte Windows-1252 does not define
// are each that record's invalid_field rejection naming file and line, the rest goes on; the
// same files again are `source=unchanged`.

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
  auto r1 = report_fields(run1.all(), "erp");
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

  // The same two files again: nothing is parsed, nothing written.
  ProcessResult run2 = erpsyncd({"--once"});
  auto r2 = report_fields(run2.all(), "erp");
  EXPECT_EQ(r2["status"], "ok") << run2.all();
  EXPECT_EQ(r2["source"], "unchanged");
  EXPECT_EQ(r2["created"], "0");
  EXPECT_EQ(r2["updated"], "0");

  // Only the contacts file changes: a new snapshot, the accounts unchanged by hash, one new
  // contact makes its company's record updated.
  write_file("ansprechpartner.csv", kContacts + "504;10002;Eva;Nord;en@example.de\r\n");
  ProcessResult run3 = erpsyncd({"--once"});
  auto r3 = report_fields(run3.all(), "erp");
  EXPECT_EQ(r3["status"], "ok") << run3.all();
  EXPECT_EQ(r3["source"], "");
  EXPECT_EQ(r3["updated"], "1");
  EXPECT_EQ(r3["unchanged"], "2");
  EXPECT_EQ(account_of("Nord"), "10002");
}

ERPSYNC_E2E_ON_ALL_ENGINES(FeedCsv);

}  // namespace
}  // namespace erpsync::testing
