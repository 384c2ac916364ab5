// SPEC §3 rule 9 through the real binary: a CRM that already holds uncoded accounts is synced
// first in a dry run (which changes nothing, byte for byte on SQLite), then for real, with the
// same counts; adopted accounts keep every field but the new code until the source changes.

#include <openssl/evp.h>

#include <fstream>
#include <iterator>

#include "e2e_fixture.hpp"

namespace erpsync::testing {
namespace {

const char* kExport = R"(<?xml version="1.0"?>
<E>
  <C id="1" code="C-100"><N>ACME  Holding</N><V>IT111</V><R>jsmith</R></C>
  <C id="2" code="C-200"><N>Globex</N><V>IT222</V><R>jsmith</R></C>
  <C id="3" code="C-300"><N>Initech</N><V>IT333</V><R>jsmith</R></C>
  <C id="4" code="C-400"><N>Umbrella</N><V>IT444</V><R>jsmith</R></C>
  <C id="5" code="C-500"><N>Hooli</N><V>IT555</V><R>jsmith</R><P>C-100</P></C>
</E>
)";

std::string file_digest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

class Adoption : public E2eTest {
 protected:
  void seed_crm() {
    ASSERT_EQ(erpsyncd({"migrate"}).exit_code, 0);
    // Typed in by hand before erpsync: no codes.
    query("INSERT INTO accounts (name, owner, relationship, active, vat, phone) VALUES "
          "('Acme holding', 'jsmith', 'customer', 1, 'IT111', '+39 000')");  // exact on vat+name (case/space)
    query("INSERT INTO accounts (name, owner, relationship, active, vat) VALUES ('Globex', 'mrossi', 'customer', 1, 'IT222')");
    query("INSERT INTO accounts (name, owner, relationship, active, vat) VALUES ('Initech', 'jsmith', 'customer', 1, 'IT333')");
    query("INSERT INTO accounts (name, owner, relationship, active, vat) VALUES ('Initech', 'jsmith', 'partner', 1, 'IT333')");
    query("INSERT INTO accounts (name, owner, relationship, active, vat) VALUES ('Umbrela', 'jsmith', 'customer', 1, 'IT999')");
  }
};

TEST_P(Adoption, DryRunThenRealRunAdoptRejectAndCreateWithEqualCounts) {
  const std::string feed = write_file("e.xml", kExport);
  write_config(R"([{ "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + feed +
               R"(", "records": "/E/C", "poll_interval": "5m", "default_owner": "sales", "adopt_by": ["vat", "name"],
               "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "vat": "V", "owner": "R", "member_of": "P" } }])");
  seed_crm();
  const bool sqlite = GetParam() == Engine::sqlite;
  std::string before_digest;
  if (sqlite) before_digest = file_digest(db_->name());

  ProcessResult dry = erpsyncd({"--once", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.all();
  auto d = report_fields(dry.all(), "erp");
  EXPECT_EQ(d["adopted"], "1") << dry.all();
  EXPECT_EQ(d["rejected"], "2") << dry.all();  // Globex: other owner; Initech: two candidates
  EXPECT_EQ(d["created"], "2") << dry.all();   // Umbrella (no exact match), Hooli
  EXPECT_NE(dry.out.find("account_owned_by_other_user"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("ambiguous_match"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("adopted"), std::string::npos) << dry.out;
  if (sqlite) {
    EXPECT_EQ(file_digest(db_->name()), before_digest) << "the dry run changed the database file";
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code IS NOT NULL"), "0");

  ProcessResult real = erpsyncd({"--once"});
  ASSERT_EQ(real.exit_code, 0) << real.all();
  auto r = report_fields(real.all(), "erp");
  for (const char* k : {"fetched", "created", "adopted", "updated", "unchanged", "rejected", "failed"})
    EXPECT_EQ(d[k], r[k]) << k;

  // No duplicate company; the adopted account kept its hand-typed fields and got the code.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE vat = 'IT111'"), "1");
  EXPECT_EQ(scalar("SELECT external_code FROM accounts WHERE vat = 'IT111'"), "C-100");
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE vat = 'IT111'"), "Acme holding");
  EXPECT_EQ(scalar("SELECT phone FROM accounts WHERE vat = 'IT111'"), "+39 000");
  // The adopted account is a parent in the same run.
  EXPECT_EQ(scalar("SELECT p.external_code FROM accounts c JOIN accounts p ON p.id = c.member_of_id "
                   "WHERE c.external_code = 'C-500'"), "C-100");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE vat = 'IT333' AND external_code IS NULL"), "2");
  EXPECT_EQ(scalar("SELECT reason FROM sync_rejections WHERE remote_id = '2'"), "account_owned_by_other_user");

  // The next change from the source updates the adopted account normally.
  write_file("e.xml", std::string(kExport).replace(std::string(kExport).find("ACME  Holding"), 13, "ACME Holding SpA"));
  ProcessResult next = erpsyncd({"--once"});
  ASSERT_EQ(next.exit_code, 0) << next.all();
  EXPECT_EQ(scalar("SELECT name FROM accounts WHERE external_code = 'C-100'"), "ACME Holding SpA");
}

ERPSYNC_E2E_ON_ALL_ENGINES(Adoption);

}  // namespace
}  // namespace erpsync::testing
