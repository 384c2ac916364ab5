// SPEC §7 `merge` and `tree` through the real binary on every engine: a duplicate typed in by hand
// merged into the Account with the code (dry run first, then for real; the next sync sees the
// merged state), the refusals (other owner, two coded accounts, twice), an `ambiguous_match`
// resolved by a merge, and a four-level Member-of group shown from a middle member.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "e2e_fixture.hpp"

namespace erpsync::testing {
namespace {

std::string feed_connector(const std::string& feed, const std::string& extra = "") {
  return R"([{ "name": "erp", "type": "feed", "format": "xml", "url": "file://)" + feed +
         R"(", "records": "/E/C", "poll_interval": "5m", "default_owner": "sales", )" + extra +
         R"( "fields": { "remote_id": "@id", "external_code": "@code", "name": "N", "owner": "R", "member_of": "P",
                         "active": "A" },
           "contacts": { "records": "Person", "fields": { "remote_id": "@id", "first_name": "F", "last_name": "L",
                                                          "email": "M" } } }])";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The line of `text` that holds `needle` ("" when none).
std::string line_with(const std::string& text, const std::string& needle) {
  for (const auto& l : lines_of(text))
    if (l.find(needle) != std::string::npos) return l;
  return "";
}

class Merge : public E2eTest {
 protected:
  // K-1 "ACME" (alice, one contact from the ERP) synced; a duplicate typed by hand with `owner`,
  // holding a default contact, a Magento customer bound to it, an order and a child account.
  void sync_and_type_a_duplicate(const std::string& owner) {
    feed_ = write_file("e.xml", R"(<E><C id="1" code="K-1"><N>ACME</N><R>alice</R>
        <Person id="p1"><F>Anna</F><L>Bianchi</L><M>anna@acme.example</M></Person></C></E>)");
    write_config(feed_connector(feed_));
    ProcessResult first = erpsyncd({"--once"});
    ASSERT_EQ(first.exit_code, 0) << first.all();
    target_ = scalar("SELECT id FROM accounts WHERE external_code = 'K-1'");
    query("INSERT INTO accounts (name, owner, relationship, active) VALUES ('Acme (typed)', '" + owner +
          "', 'customer', 1)");
    dup_ = scalar("SELECT id FROM accounts WHERE name = 'Acme (typed)'");
    query("INSERT INTO contacts (account_id, first_name, last_name, email, is_default, active) VALUES (" + dup_ +
          ", 'Marco', 'Verdi', 'marco@acme.example', 1, 1)");
    query("INSERT INTO customers (account_id, channel, kind, remote_id, email, name) VALUES (" + dup_ +
          ", 'shop', 'magento', '77', 'marco@acme.example', 'Marco Verdi')");
    query("INSERT INTO orders (channel, remote_id, account_id, customer_email, increment_id) VALUES ('shop', 'o-1', " +
          dup_ + ", 'marco@acme.example', '000000001')");
    query("INSERT INTO bindings (connector, stream, remote_id, entity, entity_id) VALUES ('shop', 'customers', '77', "
          "'account', " + dup_ + ")");
    query("INSERT INTO accounts (name, owner, relationship, active, member_of_id) VALUES ('Acme Site', '" + owner +
          "', 'customer', 1, " + dup_ + ")");
  }
  std::string on(const std::string& table, const std::string& column, const std::string& id) {
    return scalar("SELECT COUNT(*) FROM " + table + " WHERE " + column + " = " + id);
  }
  std::string feed_, target_, dup_;
};

TEST_P(Merge, ADryRunListsWhatMovesAndTheMergeMovesItInOneGoLeavingTheDuplicateInactive) {
  sync_and_type_a_duplicate("alice");

  ProcessResult dry = erpsyncd({"merge", "--account", dup_, "--into", target_, "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.all();
  EXPECT_NE(dry.out.find("dry run"), std::string::npos) << dry.out;
  for (const char* moved : {"contacts 1", "customers 1", "orders 1", "bindings 1", "member-of children 1"})
    EXPECT_NE(line_with(dry.out, moved), "") << moved << " in\n" << dry.out;
  // Nothing changed.
  EXPECT_EQ(on("contacts", "account_id", dup_), "1");
  EXPECT_EQ(on("accounts", "member_of_id", dup_), "1");
  EXPECT_EQ(scalar("SELECT active FROM accounts WHERE id = " + dup_), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_merges"), "0");

  ProcessResult merge = erpsyncd({"merge", "--account", dup_, "--into", target_});
  ASSERT_EQ(merge.exit_code, 0) << merge.all();
  EXPECT_NE(merge.out.find("merged account " + dup_), std::string::npos) << merge.out;
  for (const char* table : {"contacts", "customers", "orders"}) {
    EXPECT_EQ(on(table, "account_id", dup_), "0") << table;
  }
  EXPECT_EQ(on("contacts", "account_id", target_), "2");
  // The target keeps its default contact (the ERP's); the moved one is a plain contact.
  EXPECT_EQ(scalar("SELECT last_name FROM contacts WHERE is_default = 1 AND account_id = " + target_), "Bianchi");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM contacts WHERE is_default = 1"), "1");
  EXPECT_EQ(scalar("SELECT account_id FROM customers WHERE remote_id = '77'"), target_);
  EXPECT_EQ(scalar("SELECT account_id FROM orders WHERE remote_id = 'o-1'"), target_);
  EXPECT_EQ(scalar("SELECT entity_id FROM bindings WHERE connector = 'shop' AND remote_id = '77'"), target_);
  EXPECT_EQ(scalar("SELECT member_of_id FROM accounts WHERE name = 'Acme Site'"), target_);
  EXPECT_EQ(scalar("SELECT member_of_code FROM accounts WHERE name = 'Acme Site'"), "K-1");
  // Marked inactive, never deleted; recorded.
  EXPECT_EQ(scalar("SELECT active FROM accounts WHERE id = " + dup_), "0");
  auto rec = query("SELECT from_id, into_id, moved FROM sync_merges");
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec[0][0], dup_);
  EXPECT_EQ(rec[0][1], target_);
  const std::string moved = rec[0][2].value_or("");
  EXPECT_NE(moved.find("\"contacts\":1"), std::string::npos) << moved;
  EXPECT_NE(moved.find("\"member-of children\":1"), std::string::npos) << moved;

  // The next sync sees the merged state: re-read from the start, nothing created or rejected.
  const std::string accounts = scalar("SELECT COUNT(*) FROM accounts");
  ASSERT_EQ(erpsyncd({"resync", "--connector", "erp"}).exit_code, 0);
  ProcessResult next = erpsyncd({"--once"});
  ASSERT_EQ(next.exit_code, 0) << next.all();
  auto r = report_fields(next.all(), "erp");
  EXPECT_EQ(r["created"], "0") << next.all();
  EXPECT_EQ(r["rejected"], "0") << next.all();
  EXPECT_EQ(r["unchanged"], "1") << next.all();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts"), accounts);

  // Twice is refused and changes nothing.
  ProcessResult again = erpsyncd({"merge", "--account", dup_, "--into", target_});
  EXPECT_EQ(again.exit_code, 1) << again.all();
  EXPECT_NE(again.err.find("already"), std::string::npos) << again.err;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_merges"), "1");
}

TEST_P(Merge, AnotherOwnersDuplicateIsRefusedInTheCrmsWordsNamingBothOwners) {
  sync_and_type_a_duplicate("bob");
  ProcessResult merge = erpsyncd({"merge", "--account", dup_, "--into", target_});
  EXPECT_EQ(merge.exit_code, 1) << merge.all();
  EXPECT_NE(merge.err.find("There is already an account with the same code assigned to other users. So you can't "
                           "merge it"),
            std::string::npos)
      << merge.err;
  EXPECT_NE(merge.err.find("bob"), std::string::npos) << merge.err;
  EXPECT_NE(merge.err.find("alice"), std::string::npos) << merge.err;
  EXPECT_EQ(on("contacts", "account_id", dup_), "1");
  EXPECT_EQ(on("customers", "account_id", dup_), "1");
  EXPECT_EQ(scalar("SELECT active FROM accounts WHERE id = " + dup_), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_merges"), "0");
}

TEST_P(Merge, TwoCodedAccountsAndTheWrongWayRoundAreRefused) {
  const std::string feed = write_file("e.xml", R"(<E><C id="1" code="K-1"><N>ACME</N><R>alice</R></C>
      <C id="2" code="K-2"><N>ACME Italia</N><R>alice</R></C></E>)");
  write_config(feed_connector(feed));
  ASSERT_EQ(erpsyncd({"--once"}).exit_code, 0);
  const std::string k1 = scalar("SELECT id FROM accounts WHERE external_code = 'K-1'");
  const std::string k2 = scalar("SELECT id FROM accounts WHERE external_code = 'K-2'");
  ProcessResult both = erpsyncd({"merge", "--account", k2, "--into", k1});
  EXPECT_EQ(both.exit_code, 1) << both.all();
  EXPECT_NE(both.err.find("both accounts have an External Code"), std::string::npos) << both.err;

  query("INSERT INTO accounts (name, owner, relationship, active) VALUES ('Acme typed', 'alice', 'customer', 1)");
  const std::string typed = scalar("SELECT id FROM accounts WHERE name = 'Acme typed'");
  ProcessResult reversed = erpsyncd({"merge", "--account", k1, "--into", typed});
  EXPECT_EQ(reversed.exit_code, 1) << reversed.all();
  EXPECT_NE(reversed.err.find("merge --account " + typed + " --into " + k1), std::string::npos) << reversed.err;
  ProcessResult unknown = erpsyncd({"merge", "--account", "999999", "--into", k1});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.all();
  EXPECT_NE(unknown.err.find("no account has id 999999"), std::string::npos) << unknown.err;
  // An ERP company whose code was removed in the CRM is no duplicate: its record would follow.
  query("UPDATE accounts SET external_code = NULL WHERE id = " + k2);
  ProcessResult erp = erpsyncd({"merge", "--account", k2, "--into", k1});
  EXPECT_EQ(erp.exit_code, 1) << erp.all();
  EXPECT_NE(erp.err.find("is the ERP's record 2 of connector erp"), std::string::npos) << erp.err;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_merges"), "0");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE active = 1"), "3");

  EXPECT_EQ(erpsyncd({"merge", "--account", k2}).exit_code, 2);
  EXPECT_EQ(erpsyncd({"merge", "--account", "x", "--into", k1}).exit_code, 2);
}

TEST_P(Merge, MergingTheLookAlikesAnAmbiguousMatchNamedLetsTheNextRunAdopt) {
  const std::string feed = write_file("e.xml", R"(<E><C id="5" code="K-5"><N>Initech</N><R>alice</R></C></E>)");
  write_config(feed_connector(feed, R"("adopt_by": ["name"],)"));
  ASSERT_EQ(erpsyncd({"migrate"}).exit_code, 0);
  query("INSERT INTO accounts (name, owner, relationship, active) VALUES ('Initech', 'alice', 'customer', 1)");
  query("INSERT INTO accounts (name, owner, relationship, active, phone) VALUES ('INITECH', 'alice', 'partner', 1, "
        "'+39 1')");
  // (By relationship: MariaDB compares names case-insensitively.)
  const std::string keep = scalar("SELECT id FROM accounts WHERE relationship = 'customer'");
  const std::string dup = scalar("SELECT id FROM accounts WHERE relationship = 'partner'");
  ProcessResult first = erpsyncd({"--once"});
  ASSERT_EQ(first.exit_code, 0) << first.all();
  ASSERT_EQ(report_fields(first.all(), "erp")["rejected"], "1") << first.all();
  ASSERT_EQ(scalar("SELECT reason FROM sync_rejections WHERE resolved_at IS NULL"), "ambiguous_match");

  ProcessResult merge = erpsyncd({"merge", "--account", dup, "--into", keep});
  ASSERT_EQ(merge.exit_code, 0) << merge.all();
  // The export is unchanged: the rejection's replay adopts the one Account left.
  ProcessResult next = erpsyncd({"--once"});
  ASSERT_EQ(next.exit_code, 0) << next.all();
  auto r = report_fields(next.all(), "erp");
  EXPECT_EQ(r["adopted"], "1") << next.all();
  EXPECT_EQ(r["rejected"], "0") << next.all();
  EXPECT_EQ(scalar("SELECT external_code FROM accounts WHERE id = " + keep), "K-5");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM accounts WHERE external_code IS NOT NULL"), "1");
  EXPECT_EQ(scalar("SELECT active FROM accounts WHERE id = " + dup), "0");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE resolved_at IS NULL"), "0");
}

ERPSYNC_E2E_ON_ALL_ENGINES(Merge);

class Tree : public E2eTest {};

TEST_P(Tree, AFourLevelGroupFromAMiddleMemberWithItsPendingLinkAndRefusedCycle) {
  // G-1 > G-2 > G-3 > G-4 (inactive, another owner); then G-1 names G-4 as its parent: refused
  // (a cycle), G-1 written without the link.
  const std::string group = R"(
      <C id="2" code="G-2"><N>Region North</N><R>alice</R><P>G-1</P></C>
      <C id="3" code="G-3"><N>Milan office</N><R>alice</R><P>G-2</P></C>
      <C id="4" code="G-4"><N>Milan shop</N><R>bob</R><P>G-3</P><A>no</A></C>
      <C id="9" code="X-9"><N>Elsewhere</N><R>alice</R></C></E>)";
  const std::string feed = write_file("e.xml", R"(<E><C id="1" code="G-1"><N>Holding</N><R>alice</R></C>)" + group);
  write_config(feed_connector(feed));
  ProcessResult run = erpsyncd({"--once"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  write_file("e.xml", R"(<E><C id="1" code="G-1"><N>Holding</N><R>alice</R><P>G-4</P></C>)" + group);
  ProcessResult cycle = erpsyncd({"--once"});
  ASSERT_EQ(cycle.exit_code, 0) << cycle.all();
  ASSERT_EQ(scalar("SELECT COUNT(*) FROM sync_rejections WHERE reason = 'member_of_cycle' AND resolved_at IS NULL"),
            "1");
  // A child typed in by hand that names G-3 by code only (its link is pending), with a terminal
  // escape in its name.
  query("INSERT INTO accounts (name, owner, relationship, active, member_of_code) VALUES ('Kiosk\x1b[2J', 'alice', "
        "'prospect', 1, 'G-3')");

  ProcessResult tree = erpsyncd({"tree", "G-3"});
  ASSERT_EQ(tree.exit_code, 0) << tree.all();
  const auto lines = lines_of(tree.out);
  std::vector<std::string> order;
  for (const char* code : {"G-1 #", "G-2 #", "G-3 #", "G-4 #", "(no code) #"}) {
    const std::string l = line_with(tree.out, code);
    ASSERT_NE(l, "") << code << " in\n" << tree.out;
    order.push_back(l);
  }
  // Indented two spaces a level from the top; the asked-for one marked.
  EXPECT_EQ(order[0].rfind("   G-1 ", 0), 0u) << order[0];
  EXPECT_EQ(order[1].rfind("     G-2 ", 0), 0u) << order[1];
  EXPECT_EQ(order[2].rfind("=>     G-3 ", 0), 0u) << order[2];
  EXPECT_NE(order[2].find("<== G-3"), std::string::npos) << order[2];
  EXPECT_EQ(order[3].rfind("         G-4 ", 0), 0u) << order[3];
  EXPECT_NE(order[3].find("owner=bob"), std::string::npos) << order[3];
  EXPECT_NE(order[3].find("[inactive]"), std::string::npos) << order[3];
  EXPECT_NE(order[0].find("\"Holding\" owner=alice customer"), std::string::npos) << order[0];
  EXPECT_EQ(order[4].rfind("         (no code) #", 0), 0u) << order[4];
  EXPECT_NE(order[4].find("[pending link: waits for G-3]"), std::string::npos) << order[4];
  EXPECT_NE(order[4].find("Kiosk\\x1b[2J"), std::string::npos) << order[4];
  EXPECT_EQ(tree.out.find('\x1b'), std::string::npos);
  // The refused link right under the Account whose link it was.
  const auto g1 = std::find(lines.begin(), lines.end(), order[0]);
  ASSERT_TRUE(g1 != lines.end() && g1 + 1 != lines.end()) << tree.out;
  EXPECT_EQ((g1 + 1)->rfind("     ! refused member_of link: account G-1: parent link to G-4 refused", 0), 0u) << tree.out;
  EXPECT_EQ(line_with(tree.out, "X-9"), "");
  for (const auto& l : lines) EXPECT_LE(l.size(), 160u) << l;
  // Tree order: each line after its parent.
  std::vector<std::size_t> at;
  for (const auto& l : order) at.push_back(tree.out.find(l));
  EXPECT_TRUE(at[0] < at[1] && at[1] < at[2] && at[2] < at[3] && at[2] < at[4]) << tree.out;

  ProcessResult json = erpsyncd({"tree", "G-3", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.all();
  const auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["top"], "G-1");
  ASSERT_EQ(doc["accounts"].size(), 5u) << json.out;
  EXPECT_EQ(doc["accounts"][2]["code"], "G-3");
  EXPECT_EQ(doc["accounts"][2]["asked"], true);
  EXPECT_EQ(doc["accounts"][3]["depth"], 3);
  EXPECT_EQ(doc["accounts"][3]["active"], false);
  EXPECT_EQ(doc["accounts"][4]["pending"], true);
  ASSERT_EQ(doc["refused"].size(), 1u);
  EXPECT_EQ(doc["refused"][0]["code"], "G-1");

  ProcessResult none = erpsyncd({"tree", "NOPE"});
  EXPECT_EQ(none.exit_code, 1) << none.all();
  EXPECT_NE(none.err.find("no account has code NOPE"), std::string::npos) << none.err;
  EXPECT_EQ(erpsyncd({"tree"}).exit_code, 2);
}

ERPSYNC_E2E_ON_ALL_ENGINES(Tree);

}  // namespace
}  // namespace erpsync::testing
