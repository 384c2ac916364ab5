// The Odoo connector (transport + companies source) against FakeOdoo over real HTTP, and
// through the sync engine into a MemoryStore: what lands in the CRM after initial,
// incremental and faulty runs. The source's tests run over both protocols (XML-RPC and
// JSON-2: suite OdooConnector/Protocols, parameter xmlrpc or json2); what only one protocol
// has (XML-RPC's login and faults, JSON-2's bearer key and error statuses) has its own tests.

#include "connectors/odoo/odoo_source.hpp"

#include "connectors/odoo/json2_transport.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reference_store/memory_store.hpp"
#include "core/engine.hpp"
#include "support/fake_odoo.hpp"

namespace erpsync::connectors::odoo {
namespace {

using erpsync::testing::FakeOdoo;
using erpsync::testing::FakeReply;
using Kind = core::SyncError::Kind;
using namespace std::chrono_literals;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ERPSYNC_SOURCE_DIR) + "/tests/fixtures/odoo/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A company partner as Odoo stores it.
Value::Struct company(std::int64_t id, std::string name, std::string ref, std::string write_date) {
  return {{"id", id}, {"name", std::move(name)}, {"ref", std::move(ref)}, {"is_company", true},
          {"write_date", std::move(write_date)}};
}

Value::Struct with(Value::Struct s, std::string key, Value v) {
  for (auto& [k, existing] : s) {
    if (k == key) {
      existing = std::move(v);
      return s;
    }
  }
  s.emplace_back(std::move(key), std::move(v));
  return s;
}

enum class Protocol { xmlrpc, json2 };

std::string protocol_name(const ::testing::TestParamInfo<Protocol>& info) {
  return info.param == Protocol::xmlrpc ? "xmlrpc" : "json2";
}

// The fake, a store and transports of either protocol. `protocol` picks what transport() makes.
class OdooFixture {
 protected:
  OdooFixture() {
    odoo.add_user(7, "erika@example.com", "Erika Beispiel");
    odoo.add_user(9, "tomasz@example.com", "Tomasz Przyklad");
    odoo.add_user(11, "gone@example.com", "Former Colleague", /*active=*/false);
    odoo.add_country(57, "Germany", "DE");
    odoo.add_country(233, "United Kingdom", "GB");
    policy.connector = "erp";
    policy.stream = "companies";
    policy.default_owner = "admin";
  }

  std::shared_ptr<http::HttpClient> client() {
    http::ClientOptions o;
    o.timeouts.connect = 2s;
    o.timeouts.total = 5s;
    o.secrets.push_back(FakeOdoo::kPassword);
    return std::make_shared<http::CurlHttpClient>(o);
  }

  XmlRpcSettings settings(std::string password = FakeOdoo::kPassword) {
    XmlRpcSettings s;
    s.connector = "erp";
    s.url = odoo.url() + "/";
    s.db = FakeOdoo::kDb;
    s.user = FakeOdoo::kLogin;
    s.password = std::move(password);
    return s;
  }

  std::unique_ptr<XmlRpcTransport> xmlrpc_transport(std::string password = FakeOdoo::kPassword) {
    return std::make_unique<XmlRpcTransport>(settings(std::move(password)), client());
  }

  Json2Settings json2_settings(std::string api_key = FakeOdoo::kPassword) {
    Json2Settings s;
    s.connector = "erp";
    s.url = odoo.url() + "/";
    s.db = FakeOdoo::kDb;
    s.user = FakeOdoo::kLogin;
    s.api_key = std::move(api_key);
    return s;
  }

  std::unique_ptr<Json2Transport> json2_transport(std::string api_key = FakeOdoo::kPassword) {
    return std::make_unique<Json2Transport>(json2_settings(std::move(api_key)), client());
  }

  // The password (XML-RPC) or API key (JSON-2) is the same secret to the fake.
  std::unique_ptr<OdooTransport> transport(std::string secret = FakeOdoo::kPassword) {
    if (protocol == Protocol::json2) return json2_transport(std::move(secret));
    return xmlrpc_transport(std::move(secret));
  }

  // A model call with keyword arguments in the fixture's protocol.
  Value call(const std::string& model, const std::string& method, Value::Struct kwargs) {
    if (protocol == Protocol::json2) return json2_transport()->call(model, method, kwargs);
    return xmlrpc_transport()->execute_kw(model, method, {}, std::move(kwargs));
  }

  std::unique_ptr<OdooCompaniesSource> source(int page_size = 500, std::chrono::milliseconds overlap = 30s) {
    OdooSourceOptions o;
    o.connector = "erp";
    o.page_size = page_size;
    o.cursor_overlap = overlap;
    return std::make_unique<OdooCompaniesSource>(o, transport());
  }

  core::SyncReport run(OdooCompaniesSource& src) {
    core::RunOptions options;
    options.batch_size = 100;
    core::SyncEvents events;
    core::SyncReport report = core::run_stream(policy, src, store, options, events);
    last_kind = report.error_kind.value_or(Kind::transient);
    return report;
  }

  std::string cursor() const {
    const auto it = store.cursors().find({"erp", "companies"});
    return it == store.cursors().end() ? "" : it->second.cursor;
  }

  // Every search_read on `model`, in order.
  std::vector<FakeOdoo::Call> reads(const std::string& model) const {
    std::vector<FakeOdoo::Call> out;
    for (const auto& c : odoo.calls()) {
      if (c.model == model && c.model_method == "search_read") out.push_back(c);
    }
    return out;
  }

  // Five companies (one archived, one child of another, one without salesperson), a contact.
  void seed() {
    odoo.add_partner(with(with(with(with(company(41, "Nordwind Handels GmbH", "C-10042", "2024-03-04 08:15:02"),
                                         "user_id", 7), "country_id", 57), "zip", "20457"),
                          "email", "einkauf@nordwind.example"));
    odoo.add_partner(with(company(58, "Blue Heron Supplies Ltd", "B-58", "2024-03-04 08:15:02"), "user_id", 9));
    odoo.add_partner(with(with(company(63, "Nordwind Logistik GmbH", "C-10077", "2024-03-05 14:41:37"),
                               "parent_id", 41), "city", "Bremen"));
    odoo.add_partner(with(with(company(70, "Old Mill Trading", "C-70", "2024-03-06 09:00:00"), "active", false),
                          "user_id", 11));
    odoo.add_partner(with(company(75, "Kestrel Tools", "C-75", "2024-03-07 10:00:00"), "user_id", 7));
    // A contact person: not a company, never read by this stream.
    odoo.add_partner({{"id", 64}, {"name", "Erika Muster"}, {"is_company", false}, {"parent_id", 41},
                      {"write_date", "2024-03-04 09:00:00"}});
  }

  Protocol protocol = Protocol::xmlrpc;
  FakeOdoo odoo;
  core::MemoryStore store;
  core::MatchPolicy policy;
  Kind last_kind = Kind::transient;
};

// What only XML-RPC has: its login, its faults, positional arguments.
class OdooXmlRpc : public OdooFixture, public ::testing::Test {};

// What only JSON-2 has: the bearer key, the database header, HTTP error statuses.
class OdooJson2 : public OdooFixture, public ::testing::Test {
 protected:
  OdooJson2() { protocol = Protocol::json2; }
};

// The transport-independent behaviour, once per protocol.
class OdooConnector : public OdooFixture, public ::testing::TestWithParam<Protocol> {
 protected:
  OdooConnector() { protocol = GetParam(); }
};

// ---- transport ---------------------------------------------------------------------------------

TEST_F(OdooXmlRpc, AuthenticateReturnsTheUid) {
  auto t = xmlrpc_transport();
  EXPECT_EQ(t->authenticate(), FakeOdoo::kUid);
  const auto calls = odoo.calls();
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].service, "common");
  EXPECT_EQ(calls[0].method, "authenticate");
  EXPECT_EQ(calls[0].params[0], Value(FakeOdoo::kDb));
  EXPECT_EQ(calls[0].params[1], Value(FakeOdoo::kLogin));
  EXPECT_EQ(calls[0].params[3], Value(Value::Struct{}));
}

TEST_F(OdooXmlRpc, AWrongPasswordIsAnAuthErrorNamingDatabaseAndUserButNotThePassword) {
  auto t = xmlrpc_transport("wrong-password-1234");
  try {
    t->authenticate();
    FAIL() << "accepted";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::auth);
    const std::string what = e.what();
    EXPECT_NE(what.find("acme_prod"), std::string::npos) << what;
    EXPECT_NE(what.find("sync-bot@example.com"), std::string::npos) << what;
    EXPECT_NE(what.find("authenticate returned false"), std::string::npos) << what;
    EXPECT_EQ(what.find("wrong-password-1234"), std::string::npos) << what;
  }
}

TEST_F(OdooXmlRpc, AnUnknownDatabaseIsAPermanentFaultSummarisedToItsLastLine) {
  XmlRpcSettings s = settings();
  s.db = "no_such_db";
  XmlRpcTransport t(s, client());
  try {
    t.authenticate();
    FAIL();
  } catch (const XmlRpcFault& f) {
    EXPECT_EQ(f.kind(), Kind::permanent);
    const std::string what = f.what();
    EXPECT_NE(what.find("database \"no_such_db\" does not exist"), std::string::npos) << what;
    EXPECT_EQ(what.find("Traceback"), std::string::npos) << what;
  }
}

TEST_F(OdooXmlRpc, AStaleLoginIsRenewedOnceOnAccessDenied) {
  seed();
  auto t = xmlrpc_transport();
  t->authenticate();
  odoo.fail_next(FakeOdoo::fault(3, "Access Denied"));
  SearchRead q;
  q.model = "res.partner";
  q.fields = {"name"};
  q.order = "id asc";
  EXPECT_EQ(t->search_read(q).size(), 5U);  // archived one hidden: no active_test=false here
  std::size_t logins = 0;
  for (const auto& c : odoo.calls()) logins += c.method == "authenticate";
  EXPECT_EQ(logins, 2U);
}

TEST_F(OdooXmlRpc, AccessDeniedTwiceIsAnAuthError) {
  auto t = xmlrpc_transport();
  odoo.fail_next(FakeOdoo::fault(3, "Access Denied"));
  odoo.fail_next(FakeOdoo::fault(3, "Access Denied"));
  SearchRead q;
  q.model = "res.partner";
  try {
    t->search_read(q);
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::auth);
    EXPECT_NE(std::string(e.what()).find("Access Denied"), std::string::npos) << e.what();
  }
}

TEST_P(OdooConnector, TheFakeEvaluatesPolishNotationDomainsAndKeywordArguments) {
  seed();
  auto ids = [&](Value domain, Value::Struct kwargs = {{"context", Value::structure({{"active_test", false}})}}) {
    kwargs.emplace_back("order", "id asc");
    kwargs.emplace_back("domain", std::move(domain));
    std::vector<std::int64_t> out;
    const Value rows = call("res.partner", "search_read", kwargs);
    for (const Value& r : rows.as_array()) {
      out.push_back(r.find("id")->as_int());
    }
    return out;
  };
  using V = std::vector<std::int64_t>;
  EXPECT_EQ(ids(Value::array({Value::array({"is_company", "=", true})})), (V{41, 58, 63, 70, 75}));
  EXPECT_EQ(ids(Value::array({Value::array({"is_company", "=", true})}), {}), (V{41, 58, 63, 75}))
      << "active_test hides archived partners by default";
  EXPECT_EQ(ids(Value::array({"|", Value::array({"ref", "=", "C-70"}), Value::array({"id", "=", 58})})), (V{58, 70}));
  EXPECT_EQ(ids(Value::array({"!", Value::array({"is_company", "=", true})})), (V{64}));
  EXPECT_EQ(ids(Value::array({"&", Value::array({"is_company", "=", true}), "!",
                              Value::array({"id", "in", Value::array({41, 58})})})),
            (V{63, 70, 75}));
  EXPECT_EQ(ids(Value::array({"|", Value::array({"write_date", ">", "2024-03-06 09:00:00"}), "&",
                              Value::array({"write_date", "=", "2024-03-06 09:00:00"}),
                              Value::array({"id", ">", 69})})),
            (V{70, 75}));
  EXPECT_EQ(ids(Value::array({Value::array({"name", "ilike", "nordwind"}), Value::array({"parent_id", "!=", false})})),
            (V{63}));
  EXPECT_EQ(ids(Value::array({Value::array({"name", "ilike", "ERIKA"}), Value::array({"parent_id", "!=", false})})),
            (V{64}));
  EXPECT_EQ(ids(Value::array({Value::array({"id", "not in", Value::array({41, 58, 63, 64})})})), (V{70, 75}));
  EXPECT_EQ(ids(Value::array({Value::array({"parent_id", "=", false}), Value::array({"user_id", "=", 7})})), (V{41, 75}));

  // Offset, limit, order and fields as keyword arguments.
  const Value page = call("res.partner", "search_read",
                          {{"domain", Value::array({Value::array({"is_company", "=", true})})},
                           {"fields", Value::array({"ref"})},
                           {"offset", 1},
                           {"limit", 2},
                           {"order", "write_date desc, id desc"}});
  ASSERT_EQ(page.as_array().size(), 2U);
  EXPECT_EQ(*page.as_array()[0].find("id"), Value(63));
  EXPECT_EQ(*page.as_array()[1].find("id"), Value(58));
  EXPECT_EQ(page.as_array()[0].as_struct().size(), 2U);  // id + ref
  // Many2one pairs and false for empty char fields.
  const Value contact =
      call("res.partner", "read", {{"ids", Value::array({64})}, {"fields", Value::array({"parent_id", "email", "display_name"})}});
  EXPECT_EQ(*contact.as_array()[0].find("parent_id"), Value::array({41, "Nordwind Handels GmbH"}));
  EXPECT_TRUE(contact.as_array()[0].find("email")->is_false());
  EXPECT_EQ(*contact.as_array()[0].find("display_name"), Value("Nordwind Handels GmbH, Erika Muster"));
  // Odoo's error for a field that does not exist (a ValueError with a traceback): summarised
  // to its last line, never the traceback.
  try {
    call("res.partner", "search_read", {{"domain", Value::array({})}, {"fields", Value::array({"customer_code"})}});
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), protocol == Protocol::xmlrpc ? Kind::permanent : Kind::transient)
        << "an XML-RPC fault is permanent; JSON-2 answers 500, which may be a passing server failure";
    const std::string what = e.what();
    EXPECT_NE(what.find("ValueError: Invalid field 'customer_code' on model 'res.partner'"), std::string::npos) << what;
    EXPECT_EQ(what.find("Traceback"), std::string::npos) << what;
  }
}

TEST_F(OdooXmlRpc, SearchReadTakesPositionalArguments) {
  seed();
  // search_read(domain, fields, offset, limit, order) positionally: XML-RPC's execute_kw has
  // args besides kwargs; JSON-2 has only named arguments.
  const Value page = xmlrpc_transport()->execute_kw(
      "res.partner", "search_read",
      {Value::array({Value::array({"is_company", "=", true})}), Value::array({"ref"}), 1, 2, "write_date desc, id desc"},
      {});
  ASSERT_EQ(page.as_array().size(), 2U);
  EXPECT_EQ(*page.as_array()[0].find("id"), Value(63));
  EXPECT_EQ(*page.as_array()[1].find("id"), Value(58));
  const Value contact = xmlrpc_transport()->execute_kw("res.partner", "read", {Value::array({64})},
                                                       {{"fields", Value::array({"parent_id"})}});
  EXPECT_EQ(*contact.as_array()[0].find("parent_id"), Value::array({41, "Nordwind Handels GmbH"}));
}

// ---- the companies stream --------------------------------------------------------------------------

TEST_P(OdooConnector, FirstRunReadsEveryCompanyInPagesAndMapsIt) {
  seed();
  auto src = source(/*page_size=*/2);
  const core::SyncReport report = run(*src);
  ASSERT_EQ(report.status, core::RunStatus::ok) << report.message;
  EXPECT_EQ(report.counters.fetched, 5);
  EXPECT_EQ(report.counters.created, 5);
  EXPECT_EQ(cursor(), "2024-03-07 10:00:00#75");
  ASSERT_EQ(store.accounts().size(), 5U);

  const core::AccountRow* nordwind = store.account_by_code("C-10042");
  ASSERT_NE(nordwind, nullptr);
  EXPECT_EQ(nordwind->name, "Nordwind Handels GmbH");
  EXPECT_EQ(nordwind->owner, "erika@example.com");
  EXPECT_EQ(nordwind->email, "einkauf@nordwind.example");
  EXPECT_EQ(nordwind->postcode, "20457");
  EXPECT_EQ(nordwind->country, "Germany");
  EXPECT_EQ(nordwind->phone, "");  // false → empty
  EXPECT_TRUE(nordwind->active);

  const core::AccountRow* logistik = store.account_by_code("C-10077");
  ASSERT_NE(logistik, nullptr);
  EXPECT_EQ(logistik->member_of_id, nordwind->id);
  EXPECT_EQ(logistik->owner, "admin");  // no salesperson → default_owner
  EXPECT_EQ(logistik->city, "Bremen");

  const core::AccountRow* mill = store.account_by_code("C-70");
  ASSERT_NE(mill, nullptr);
  EXPECT_FALSE(mill->active) << "archived partners arrive (active_test=false) and are inactive";
  EXPECT_EQ(mill->owner, "gone@example.com") << "archived salespeople still own their partners";

  const core::BindingRow* b = store.binding("erp", "companies", "41");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->entity_id, nordwind->id);

  // The requests: is_company filter, explicit order, active_test off, pages by offset.
  const auto partner_reads = reads("res.partner");
  std::vector<FakeOdoo::Call> pages;
  for (const auto& c : partner_reads) {
    if (c.arg("domain", 0)->as_array().front() == Value::array({"is_company", "=", true})) pages.push_back(c);
  }
  ASSERT_EQ(pages.size(), 3U);
  EXPECT_EQ(*pages[0].arg("domain", 0), Value::array({Value::array({"is_company", "=", true})}));  // no cursor: everything
  EXPECT_EQ(*pages[0].arg("order", 4), Value("write_date asc, id asc"));
  EXPECT_EQ(*pages[0].arg("context", 99), Value::structure({{"active_test", false}}));
  EXPECT_EQ(*pages[0].arg("offset", 2), Value(0));
  EXPECT_EQ(*pages[0].arg("limit", 3), Value(2));
  // Later pages start one row early to check that nothing shifted.
  EXPECT_EQ(*pages[1].arg("offset", 2), Value(1));
  EXPECT_EQ(*pages[1].arg("limit", 3), Value(3));
  EXPECT_EQ(*pages[2].arg("offset", 2), Value(3));

  // Parent refs: 41 was read in the same run before 63, so no extra read was needed.
  EXPECT_EQ(partner_reads.size(), pages.size());
  // Salespeople: each user id read exactly once over the whole run.
  std::multiset<std::int64_t> asked;
  for (const auto& c : reads("res.users")) {
    const Value& leaf = c.arg("domain", 0)->as_array().front();
    for (const Value& id : leaf.as_array()[2].as_array()) asked.insert(id.as_int());
    EXPECT_EQ(*c.arg("context", 99), Value::structure({{"active_test", false}}));
  }
  EXPECT_EQ(asked, (std::multiset<std::int64_t>{7, 9, 11}));
}

TEST_P(OdooConnector, ParentRefsAreReadByIdsOncePerPageWhenThePageDoesNotHoldThem) {
  seed();
  // 41 was synced long ago: it is not in this run's window, so its ref is read by id.
  auto first = source();
  ASSERT_EQ(run(*first).status, core::RunStatus::ok);
  odoo.set_now("2024-04-01 12:00:00");
  odoo.write("res.partner", 63, {{"name", "Nordwind Logistik AG"}});
  odoo.add_partner(with(company(80, "Nordwind Retail", "C-80", "2024-04-01 12:00:00"), "parent_id", 41));
  odoo.clear_calls();

  auto second = source();
  const core::SyncReport report = run(*second);
  ASSERT_EQ(report.status, core::RunStatus::ok) << report.message;
  EXPECT_EQ(report.counters.updated, 1);
  EXPECT_EQ(report.counters.created, 1);
  const auto partner_reads = reads("res.partner");
  ASSERT_EQ(partner_reads.size(), 2U);  // the page, and one parent read for both children
  EXPECT_EQ(*partner_reads[1].arg("domain", 0), Value::array({Value::array({"id", "in", Value::array({41})})}));
  EXPECT_EQ(*partner_reads[1].arg("fields", 1), Value::array({"ref"}));
  EXPECT_EQ(store.account_by_code("C-80")->member_of_id, store.account_by_code("C-10042")->id);
  EXPECT_EQ(store.account_by_code("C-10077")->name, "Nordwind Logistik AG");
}

TEST_P(OdooConnector, ASecondRunReReadsTheOverlapAndFindsItUnchanged) {
  seed();
  auto first = source();
  ASSERT_EQ(run(*first).status, core::RunStatus::ok);
  odoo.clear_calls();

  auto second = source();
  const core::SyncReport report = run(*second);
  ASSERT_EQ(report.status, core::RunStatus::ok) << report.message;
  // 30 s before 2024-03-07 10:00:00: only partner 75 is in the window.
  const auto pages = reads("res.partner");
  ASSERT_GE(pages.size(), 1U);
  EXPECT_EQ(*pages[0].arg("domain", 0), Value::array({Value::array({"is_company", "=", true}),
                                            Value::array({"write_date", ">=", "2024-03-07 09:59:30"})}));
  EXPECT_EQ(report.counters.fetched, 1);
  EXPECT_EQ(report.counters.unchanged, 1);
  EXPECT_EQ(cursor(), "2024-03-07 10:00:00#75") << "the cursor never moves backwards";
}

TEST_P(OdooConnector, ALateCommitInsideTheOverlapIsCaughtOnTheNextRun) {
  seed();
  auto first = source();
  ASSERT_EQ(run(*first).status, core::RunStatus::ok);
  // Committed late, stamped 20 s before the newest row we saw; and one 5 minutes before.
  odoo.add_partner(with(company(90, "Late Lark Ltd", "C-90", "2024-03-07 09:59:40"), "user_id", 9));
  odoo.add_partner(with(company(91, "Very Late Ltd", "C-91", "2024-03-07 09:55:00"), "user_id", 9));

  auto second = source();
  const core::SyncReport report = run(*second);
  ASSERT_EQ(report.status, core::RunStatus::ok) << report.message;
  EXPECT_NE(store.account_by_code("C-90"), nullptr);
  EXPECT_EQ(store.account_by_code("C-91"), nullptr) << "older than cursor_overlap: outside the window";
  EXPECT_EQ(cursor(), "2024-03-07 10:00:00#75");
}

TEST_P(OdooConnector, AnEditDuringTheRunIsNeitherSkippedNorLost) {
  // Ten companies, one second apart; pages of three.
  for (int i = 1; i <= 10; ++i) {
    char wd[32];
    std::snprintf(wd, sizeof wd, "2024-05-01 10:00:%02d", i);
    odoo.add_partner(with(company(100 + i, "Company " + std::to_string(i), "K-" + std::to_string(i), wd), "user_id", 7));
  }
  odoo.set_now("2024-05-01 11:00:00");
  // While page 2 is asked for, a partner of page 1 is edited: it moves to the end, and the
  // rows after it slide one place down.
  int page_calls = 0;
  odoo.set_interceptor([&](const FakeOdoo::Call& c) -> std::optional<FakeReply> {
    if (c.model == "res.partner" && c.model_method == "search_read" && ++page_calls == 2) {
      odoo.write("res.partner", 102, {{"name", "Company 2 renamed"}});
    }
    return std::nullopt;
  });
  auto src = source(/*page_size=*/3);
  const core::SyncReport report = run(*src);
  ASSERT_EQ(report.status, core::RunStatus::ok) << report.message;
  EXPECT_EQ(store.accounts().size(), 10U) << "a row that slid into the offset gap was skipped";
  for (int i = 1; i <= 10; ++i) EXPECT_NE(store.account_by_code("K-" + std::to_string(i)), nullptr) << i;
  EXPECT_EQ(store.account_by_code("K-2")->name, "Company 2 renamed") << "read again at its new place";
  EXPECT_EQ(cursor(), "2024-05-01 11:00:00#102");

  // Edited between runs: lands in the next run.
  odoo.set_interceptor(nullptr);
  odoo.set_now("2024-05-01 12:00:00");
  odoo.write("res.partner", 105, {{"email", "sales@five.example"}});
  auto next = source(3);
  const core::SyncReport second = run(*next);
  ASSERT_EQ(second.status, core::RunStatus::ok) << second.message;
  EXPECT_EQ(second.counters.updated, 1);
  EXPECT_EQ(store.account_by_code("K-5")->email, "sales@five.example");
  EXPECT_EQ(cursor(), "2024-05-01 12:00:00#105");
}

TEST_P(OdooConnector, ManyRowsInOneSecondPageWithoutLoopingOrSkipping) {
  for (int i = 1; i <= 25; ++i) {
    odoo.add_partner(with(company(200 + i, "Mass " + std::to_string(i), "M-" + std::to_string(i), "2024-06-01 08:00:00"),
                          "user_id", 9));
  }
  auto src = source(/*page_size=*/4);
  const core::SyncReport report = run(*src);
  ASSERT_EQ(report.status, core::RunStatus::ok) << report.message;
  EXPECT_EQ(report.counters.created, 25);
  EXPECT_EQ(cursor(), "2024-06-01 08:00:00#225");
  EXPECT_EQ(odoo.count("res.users", "search_read"), 1U);
}

TEST_P(OdooConnector, TheRecordedFixturePageMapsAsSpecified) {
  // Odoo's own answer (fixtures/odoo/07) for the first page, as recorded over XML-RPC and as
  // the same records over JSON-2; then the end.
  const std::string recorded = fixture("07_search_read_res_partner_response.xml");
  const FakeReply first_page = protocol == Protocol::xmlrpc
                                   ? FakeReply::xml(200, recorded)
                                   : FakeReply::json(200, to_json(decode_response(recorded, {}, "fixture 07")).dump());
  bool served = false;
  odoo.set_interceptor([&](const FakeOdoo::Call& c) -> std::optional<FakeReply> {
    if (c.model != "res.partner" || served) return std::nullopt;
    served = true;
    return first_page;
  });
  auto src = source(/*page_size=*/3);
  src->begin({});
  const auto page = src->next_page();
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->records.size(), 3U);
  using core::Field;
  const auto& a = page->records[0];
  EXPECT_EQ(a.get(Field::remote_id), "41");
  EXPECT_EQ(a.get(Field::external_code), "C-10042");
  EXPECT_EQ(a.get(Field::owner), "erika@example.com");
  EXPECT_EQ(a.get(Field::country), "Germany");
  EXPECT_EQ(a.get(Field::postcode), "20457");
  EXPECT_EQ(a.get(Field::member_of), "");
  EXPECT_EQ(a.get(Field::active), "true");
  for (Field f : {Field::remote_id, Field::external_code, Field::name, Field::owner, Field::member_of, Field::email,
                  Field::phone, Field::vat, Field::street, Field::city, Field::postcode, Field::country, Field::active}) {
    EXPECT_TRUE(a.maps(f)) << core::field_name(f);
  }
  EXPECT_FALSE(a.maps(Field::relationship));
  EXPECT_FALSE(a.invalid.has_value());
  const auto& b = page->records[1];
  EXPECT_EQ(b.get(Field::external_code), "");  // ref false
  EXPECT_EQ(b.get(Field::email), "");
  EXPECT_EQ(b.get(Field::owner), "tomasz@example.com");
  const auto& c = page->records[2];
  EXPECT_EQ(c.get(Field::member_of), "C-10042");  // parent 41 is in the page: no extra read
  EXPECT_EQ(c.get(Field::owner), "");
  EXPECT_EQ(page->cursor_after, "2024-03-05 14:41:37#63");
  EXPECT_EQ(odoo.count("res.partner", "search_read"), 1U);
}

TEST_P(OdooConnector, ASalespersonWithoutReadableLoginMakesTheRecordInvalidNotDefaultOwned) {
  seed();
  odoo.set_interceptor([](const FakeOdoo::Call& c) -> std::optional<FakeReply> {
    if (c.model == "res.users" && c.model_method == "search_read") {
      return FakeOdoo::result(c, Value(Value::Array{}));  // a record rule hides the salespeople
    }
    return std::nullopt;
  });
  auto src = source();
  const core::SyncReport report = run(*src);
  ASSERT_EQ(report.status, core::RunStatus::ok) << report.message;
  const core::RejectionRow* r = store.rejection("erp", "companies", "41", core::RejectReason::invalid_field);
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->message.find("user_id 7"), std::string::npos) << r->message;
  EXPECT_NE(store.account_by_code("C-10077"), nullptr);  // no salesperson: default owner
}

// ---- failures ---------------------------------------------------------------------------------------

TEST_P(OdooConnector, AWrongPasswordFailsTheRunAsAuthBeforeAnyRead) {
  seed();
  odoo.set_credentials(FakeOdoo::kDb, FakeOdoo::kLogin, "rotated-key-5678", FakeOdoo::kUid);
  auto src = source();
  const core::SyncReport report = run(*src);
  EXPECT_EQ(report.status, core::RunStatus::error);
  EXPECT_EQ(last_kind, Kind::auth);
  EXPECT_NE(report.message.find("acme_prod"), std::string::npos) << report.message;
  EXPECT_EQ(report.message.find(FakeOdoo::kPassword), std::string::npos) << report.message;
  EXPECT_EQ(odoo.count("res.partner", "search_read"), 0U);
  EXPECT_TRUE(store.accounts().empty());
}

TEST_P(OdooConnector, AFaultMidRunKeepsWhatWasCommittedAndTheNextRunResumes) {
  seed();
  int partner_pages = 0;
  odoo.set_interceptor([&](const FakeOdoo::Call& c) -> std::optional<FakeReply> {
    if (c.model == "res.partner" && c.model_method == "search_read" && ++partner_pages == 2) {
      return FakeOdoo::error(c, 1, "Traceback (most recent call last):\n  File \"x.py\"\n"
                                   "psycopg2.errors.QueryCanceled: canceling statement due to statement timeout\n");
    }
    return std::nullopt;
  });
  policy.default_owner = "admin";
  auto src = source(/*page_size=*/2);
  core::RunOptions options;
  options.batch_size = 2;
  core::SyncEvents events;
  const core::SyncReport report = core::run_stream(policy, *src, store, options, events);
  last_kind = report.error_kind.value_or(last_kind);
  EXPECT_EQ(report.status, core::RunStatus::error);
  // XML-RPC: a fault (200) is permanent; JSON-2: Odoo's 500 is transient.
  EXPECT_EQ(last_kind, protocol == Protocol::xmlrpc ? Kind::permanent : Kind::transient);
  EXPECT_NE(report.message.find(protocol == Protocol::xmlrpc
                                    ? "Odoo fault 1: psycopg2.errors.QueryCanceled: canceling statement"
                                    : "HTTP 500: QueryCanceled: canceling statement"),
            std::string::npos)
      << report.message;
  EXPECT_EQ(report.message.find("Traceback"), std::string::npos) << report.message;
  EXPECT_EQ(store.accounts().size(), 2U);  // page 1 committed
  EXPECT_EQ(cursor(), "2024-03-04 08:15:02#58");

  odoo.set_interceptor(nullptr);
  auto again = source(2);
  const core::SyncReport second = run(*again);
  ASSERT_EQ(second.status, core::RunStatus::ok) << second.message;
  EXPECT_EQ(store.accounts().size(), 5U);
  EXPECT_EQ(cursor(), "2024-03-07 10:00:00#75");
}

TEST_P(OdooConnector, TransportAndParserFaultsAreClassifiedAndWriteNothing) {
  seed();
  struct Case {
    const char* name;
    FakeReply reply;
    Kind kind;
    const char* says;
  };
  const Value rows = Value::array({Value::structure({{"id", 1}})});
  const bool json2 = protocol == Protocol::json2;
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  std::vector<Case> cases = {
      {"500", FakeReply::html_error(500, "Internal Server Error", "boom"), Kind::transient, "500"},
      {"502 from a proxy", FakeReply::html_error(502, "Bad Gateway", "upstream"), Kind::transient, "502"},
      {"truncated body",
       json2 ? FakeReply::json(200, to_json(rows).dump()).with_fault(FakeReply::Fault::truncate, 5)
             : FakeOdoo::truncated(encode_response(rows), 40),
       Kind::transient, ""},
      {"deep nesting", json2 ? FakeReply::json(200, deep) : FakeOdoo::deeply_nested(10000), Kind::permanent,
       "nesting deeper than"},
      {"a login page with 200", FakeReply::html_error(200, "Odoo", "Log in"), Kind::permanent, "body starts"},
      // XML-RPC: a fault 4 (permanent); JSON-2: 403, the key's user lacks rights (auth).
      {"access error", FakeReply{}, json2 ? Kind::auth : Kind::permanent,
       json2 ? "HTTP 403: Odoo refused access to the API key's user (AccessError: You are not allowed to access 'Contact'"
             : "Odoo fault 4: You are not allowed to access 'Contact'"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    if (std::string_view(c.name) == "access error") {
      odoo.fail_next([](const FakeOdoo::Call& call) {
        return FakeOdoo::error(call, 4, "You are not allowed to access 'Contact' (res.partner) records.");
      });
    } else {
      odoo.fail_next(c.reply);
    }
    auto src = source();
    const core::SyncReport report = run(*src);
    EXPECT_EQ(report.status, core::RunStatus::error);
    EXPECT_EQ(last_kind, c.kind) << report.message;
    EXPECT_NE(report.message.find(c.says), std::string::npos) << report.message;
    EXPECT_EQ(report.message.find(FakeOdoo::kPassword), std::string::npos) << report.message;
    EXPECT_TRUE(store.accounts().empty());
    EXPECT_EQ(cursor(), "");
  }
}

TEST_P(OdooConnector, AStoredCursorOfAnotherShapeIsAPermanentError) {
  auto src = source();
  core::CursorState c;
  c.exists = true;
  c.cursor = "2024-03-07T10:00:00Z";
  try {
    src->begin(c);
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::permanent);
    EXPECT_NE(std::string(e.what()).find("YYYY-MM-DD HH:MM:SS#id"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Protocols, OdooConnector, ::testing::Values(Protocol::xmlrpc, Protocol::json2), protocol_name);

// ---- JSON-2 only ------------------------------------------------------------------------------------

TEST_F(OdooJson2, RequestsCarryTheBearerKeyTheDatabaseHeaderAndNamedArguments) {
  seed();
  auto t = json2_transport();
  EXPECT_EQ(t->authenticate(), FakeOdoo::kUid);
  SearchRead q;
  q.model = "res.partner";
  q.domain = Value::array({Value::array({"is_company", "=", true})});
  q.fields = {"name", "ref"};
  q.offset = 1;
  q.limit = 2;
  q.order = "id asc";
  q.context = {{"active_test", false}};
  const std::vector<Value> rows = t->search_read(q);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(*rows[0].find("id"), Value(58));
  EXPECT_EQ(*rows[1].find("ref"), Value("C-10077"));

  const auto requests = odoo.http().requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(requests[0].path, "/json/2/res.users/context_get");  // whose key is it?
  EXPECT_EQ(requests[1].path, "/json/2/res.users/search");       // is that `user`?
  EXPECT_EQ(requests[2].path, "/json/2/res.partner/search_read");
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.header("Authorization"), "bearer " + std::string(FakeOdoo::kPassword));
    EXPECT_EQ(r.header("X-Odoo-Database"), FakeOdoo::kDb);
    EXPECT_EQ(r.header("Content-Type"), "application/json; charset=utf-8");
  }
  // The body is the method's keyword arguments, as JSON.
  EXPECT_EQ(nlohmann::json::parse(requests[0].body), nlohmann::json::object());
  const auto login = nlohmann::json::parse(requests[1].body);
  EXPECT_EQ(login, nlohmann::json::parse(R"({"domain": [["login", "=", "sync-bot@example.com"]], "limit": 1})"));
  const auto body = nlohmann::json::parse(requests[2].body);
  EXPECT_EQ(body, nlohmann::json::parse(R"({"domain": [["is_company", "=", true]], "fields": ["name", "ref"],
                                           "offset": 1, "limit": 2, "order": "id asc",
                                           "context": {"active_test": false}})"));
}

TEST_F(OdooJson2, AWrongKeyIsAnAuthErrorNamingTheConnectorThatNeverContainsTheKey) {
  seed();
  const std::string wrong = "wrong-key-5f0c2a9e77d1b3c4e5f6a7b8c9d0e1f2a3b4c5d6";
  // The client masks both keys, as make_transport registers the configured one.
  http::ClientOptions o;
  o.timeouts.total = 5s;
  o.secrets = {wrong};
  Json2Transport t(json2_settings(wrong), std::make_shared<http::CurlHttpClient>(o));
  try {
    t.authenticate();
    FAIL() << "accepted";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::auth);
    const std::string what = e.what();
    EXPECT_NE(what.find("odoo connector 'erp'"), std::string::npos) << what;
    EXPECT_NE(what.find("HTTP 401: Odoo refused the API key (Unauthorized: Invalid apikey)"), std::string::npos) << what;
    EXPECT_NE(what.find("check `api_key`"), std::string::npos) << what;
    EXPECT_EQ(what.find(wrong), std::string::npos) << what;
    EXPECT_EQ(what.find(FakeOdoo::kPassword), std::string::npos) << what;
    EXPECT_EQ(what.find("Traceback"), std::string::npos) << what;
  }
  // Through the engine: the run fails as auth before any partner is read.
  OdooCompaniesSource src(OdooSourceOptions{.connector = "erp"}, std::make_unique<Json2Transport>(json2_settings(wrong), std::make_shared<http::CurlHttpClient>(o)));
  const core::SyncReport report = run(src);
  EXPECT_EQ(report.status, core::RunStatus::error);
  EXPECT_EQ(last_kind, Kind::auth);
  EXPECT_EQ(report.message.find(wrong), std::string::npos) << report.message;
  EXPECT_EQ(odoo.count("res.partner", "search_read"), 0U);
  EXPECT_TRUE(store.accounts().empty());
}

TEST_F(OdooJson2, AnUnknownLoginIsAnAuthErrorNamingIt) {
  Json2Settings s = json2_settings();
  s.user = "someone-else@example.com";
  Json2Transport t(s, client());
  try {
    t.authenticate();
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::auth);
    EXPECT_NE(std::string(e.what()).find("no active user with login 'someone-else@example.com'"), std::string::npos)
        << e.what();
  }
}

// SPEC §4.2: over JSON-2 the key alone decides whose rights a call has, so a key of another
// user (an administrator's, say) is refused at login, before any partner is read — never a run
// with someone else's rights. (As a real Odoo 19 answers res.users/context_get: the key's uid.)
TEST_F(OdooJson2, AKeyOfAnotherUserIsRefusedAtLoginNamingBothUsers) {
  seed();
  odoo.add_user(1, "admin", "Mitchell Admin");
  const std::string admin_key = "admin-key-9e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b";
  odoo.add_api_key(1, admin_key);
  http::ClientOptions o;
  o.timeouts.total = 5s;
  o.secrets = {admin_key};
  Json2Transport t(json2_settings(admin_key), std::make_shared<http::CurlHttpClient>(o));
  try {
    t.authenticate();
    FAIL() << "a key of another user was accepted";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::auth);
    const std::string what = e.what();
    EXPECT_NE(what.find("odoo connector 'erp'"), std::string::npos) << what;
    EXPECT_NE(what.find("the API key belongs to user 'admin', not to `user` 'sync-bot@example.com'"),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find(admin_key), std::string::npos) << what;
  }
  OdooCompaniesSource src(OdooSourceOptions{.connector = "erp"},
                          std::make_unique<Json2Transport>(json2_settings(admin_key),
                                                           std::make_shared<http::CurlHttpClient>(o)));
  const core::SyncReport report = run(src);
  EXPECT_EQ(report.status, core::RunStatus::error);
  EXPECT_EQ(last_kind, Kind::auth);
  EXPECT_EQ(odoo.count("res.partner", "search_read"), 0U);
  EXPECT_TRUE(store.accounts().empty());

  // A second key of the configured user itself is that user's: accepted.
  const std::string own_second_key = "own-key-2-0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d";
  odoo.add_api_key(FakeOdoo::kUid, own_second_key);
  EXPECT_EQ(json2_transport(own_second_key)->authenticate(), FakeOdoo::kUid);
}

// Over XML-RPC the login names the user and Odoo checks the key against it: another user's key
// is a refused login (authenticate returns false), as on a real Odoo 19.
TEST_F(OdooXmlRpc, AKeyOfAnotherUserIsARefusedLogin) {
  odoo.add_user(1, "admin", "Mitchell Admin");
  odoo.add_api_key(1, "admin-key-9e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b");
  try {
    xmlrpc_transport("admin-key-9e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b")->authenticate();
    FAIL() << "accepted";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::auth);
    EXPECT_NE(std::string(e.what()).find("authenticate returned false"), std::string::npos) << e.what();
  }
}

// A server that is down, or that accepts the connection and never answers, is a transient error
// that names the connector like its auth errors and faults do.
TEST_P(OdooConnector, TransportErrorsNameTheConnector) {
  {
    erpsync::testing::FakeHttpServer stalled;
    stalled.on("POST", protocol == Protocol::json2 ? "/json/2/res.users/context_get" : "/xmlrpc/2/common",
               FakeReply::json(200, "{}").with_fault(FakeReply::Fault::stall, 0));
    http::ClientOptions o;
    o.timeouts.connect = 2s;
    o.timeouts.total = 1s;
    std::unique_ptr<OdooTransport> t;
    if (protocol == Protocol::json2) {
      Json2Settings s = json2_settings();
      s.url = stalled.url("");
      t = std::make_unique<Json2Transport>(s, std::make_shared<http::CurlHttpClient>(o));
    } else {
      XmlRpcSettings s = settings();
      s.url = stalled.url("");
      t = std::make_unique<XmlRpcTransport>(s, std::make_shared<http::CurlHttpClient>(o));
    }
    try {
      t->authenticate();
      FAIL() << "a frozen server answered";
    } catch (const core::SyncError& e) {
      EXPECT_EQ(e.kind(), Kind::transient);
      const std::string what = e.what();
      EXPECT_TRUE(what.starts_with("odoo connector 'erp' (database 'acme_prod' at http://127.0.0.1:")) << what;
      EXPECT_NE(what.find("imeout"), std::string::npos) << what;
    }
    stalled.release_stalls();
  }
  // Nothing listens any more on the port the fake had: connection refused.
  const std::string url = odoo.url();
  std::unique_ptr<OdooTransport> t = transport();
  odoo.http().stop();
  try {
    t->authenticate();
    FAIL() << "a stopped server answered";
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::transient);
    const std::string what = e.what();
    EXPECT_TRUE(what.starts_with("odoo connector 'erp' (database 'acme_prod' at " + url)) << what;
  }
}

// The fake answers as a real Odoo 19 did (fixtures 12 and 13, recorded from Odoo 19.0 over
// JSON-2): context_get's members and the key's uid; a company's children with their `type`, an
// address saved without a name answered as "" (and an unset e-mail as false).
TEST_F(OdooJson2, TheFakeAnswersContextGetAndAddressesAsARealOdoo19) {
  const nlohmann::json real_context = nlohmann::json::parse(fixture("12_json2_context_get_response.json"));
  const Value fake_context = json2_transport()->call("res.users", "context_get", {});
  ASSERT_EQ(fake_context.type(), Value::Type::structure);
  std::set<std::string> real_keys, fake_keys;
  for (const auto& [k, v] : real_context.items()) real_keys.insert(k);
  for (const auto& [k, v] : fake_context.as_struct()) fake_keys.insert(k);
  EXPECT_EQ(fake_keys, real_keys);
  EXPECT_TRUE(real_context["uid"].is_number_integer());
  EXPECT_EQ(*fake_context.find("uid"), Value(FakeOdoo::kUid));

  // The recorded children of company 45, seeded as Odoo stored them.
  const nlohmann::json real_rows = nlohmann::json::parse(fixture("13_json2_children_of_a_company_response.json"));
  odoo.add_partner({{"id", 45}, {"name", "ACME Süd GmbH"}, {"is_company", true}});
  for (const auto& r : real_rows) {
    Value::Struct p{{"id", r["id"].get<std::int64_t>()}, {"name", r["name"].get<std::string>()},
                    {"type", r["type"].get<std::string>()}, {"parent_id", 45}, {"is_company", false},
                    {"write_date", r["write_date"].get<std::string>()}};
    if (r["email"].is_string()) p.emplace_back("email", r["email"].get<std::string>());
    odoo.add_partner(std::move(p));
  }
  SearchRead q;
  q.model = "res.partner";
  q.domain = Value::array({Value::array({"parent_id", "=", 45})});
  q.fields = {"name", "type", "parent_id", "is_company", "email", "write_date"};
  q.order = "id asc";
  q.context = {{"active_test", false}};
  const std::vector<Value> fake_rows = json2_transport()->search_read(q);
  ASSERT_EQ(fake_rows.size(), real_rows.size());
  for (std::size_t i = 0; i < fake_rows.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(to_json(fake_rows[i]), real_rows[i]);
  }
}

TEST_F(OdooJson2, AnUnknownDatabaseIsAPermanentErrorNamingIt) {
  Json2Settings s = json2_settings();
  s.db = "no_such_db";
  Json2Transport t(s, client());
  try {
    t.authenticate();
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::permanent);
    const std::string what = e.what();
    EXPECT_NE(what.find("HTTP 404"), std::string::npos) << what;
    EXPECT_NE(what.find("no_such_db"), std::string::npos) << what;
  }
}

TEST_F(OdooJson2, ServerErrorsAreTransientAndSummarisedNotDumped) {
  seed();
  auto t = json2_transport();
  SearchRead q;
  q.model = "res.partner";
  for (const FakeReply& reply :
       {FakeOdoo::json2_error(500, "psycopg2.errors.SerializationFailure",
                              "could not serialize access due to concurrent update",
                              "Traceback (most recent call last):\n  File \"/opt/odoo/odoo/service/model.py\"\n"),
        FakeReply::html_error(503, "Service Unavailable", "maintenance").with_header("Retry-After", "120")}) {
    odoo.fail_next(reply);
    try {
      t->search_read(q);
      FAIL();
    } catch (const core::SyncError& e) {
      EXPECT_EQ(e.kind(), Kind::transient) << e.what();
      const std::string what = e.what();
      EXPECT_NE(what.find("/json/2/res.partner/search_read"), std::string::npos) << what;
      EXPECT_EQ(what.find("Traceback"), std::string::npos) << what;
      if (reply.status == 500) {
        EXPECT_NE(what.find("HTTP 500: SerializationFailure: could not serialize access"), std::string::npos) << what;
      } else {
        EXPECT_EQ(e.retry_after_s(), 120.0) << what;
        EXPECT_NE(what.find("Service Unavailable"), std::string::npos) << what;
      }
    }
  }
}

TEST_F(OdooJson2, AMalformedBodyIsAPermanentErrorNamingTheUrl) {
  seed();
  auto t = json2_transport();
  odoo.fail_next(FakeReply::json(200, R"([{"id": 41, "name": "Nordwind")"));
  SearchRead q;
  q.model = "res.partner";
  try {
    t->search_read(q);
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::permanent);
    const std::string what = e.what();
    EXPECT_NE(what.find("POST " + odoo.url() + "/json/2/res.partner/search_read"), std::string::npos) << what;
    EXPECT_NE(what.find("odoo connector 'erp'"), std::string::npos) << what;
    EXPECT_NE(what.find("body starts"), std::string::npos) << what;
  }
  // A JSON answer of the wrong shape: an object where the rows should be.
  odoo.fail_next(FakeReply::json(200, R"({"records": []})"));
  try {
    t->search_read(q);
    FAIL();
  } catch (const core::SyncError& e) {
    EXPECT_EQ(e.kind(), Kind::permanent);
    EXPECT_NE(std::string(e.what()).find("res.partner.search_read returned struct, expected an array"), std::string::npos)
        << e.what();
  }
}

TEST_F(OdooJson2, TheConfiguredConnectorSyncsOverJson2) {
  seed();
  config::ConnectorConfig c;
  c.name = "erp";
  c.type = "odoo";
  OdooConfig o;
  o.url = odoo.url();
  o.db = FakeOdoo::kDb;
  o.user = FakeOdoo::kLogin;
  o.protocol = OdooConfig::Protocol::json2;
  o.api_key = config::Secret(FakeOdoo::kPassword);
  c.settings = std::make_shared<OdooConfig>(o);
  auto src = OdooCompaniesSource::create(c);
  const core::SyncReport report = run(*src);
  ASSERT_EQ(report.status, core::RunStatus::ok) << report.message;
  EXPECT_EQ(report.counters.created, 5);
  EXPECT_EQ(store.account_by_code("C-10042")->owner, "erika@example.com");
  for (const auto& r : odoo.http().requests()) {
    EXPECT_TRUE(r.path.starts_with("/json/2/")) << r.path;
  }
}

TEST(OdooCursor, ParsesFormatsAndShifts) {
  EXPECT_EQ(parse_cursor("2024-03-04 08:15:02#41"), (OdooCursor{"2024-03-04 08:15:02", 41}));
  EXPECT_EQ(parse_cursor("2024-03-04 08:15:02"), std::nullopt);
  EXPECT_EQ(parse_cursor("2024-13-04 08:15:02#1"), std::nullopt);
  EXPECT_EQ(parse_cursor("2024-03-04 08:15:02#x"), std::nullopt);
  EXPECT_EQ(format_cursor({"2024-03-04 08:15:02", 41}), "2024-03-04 08:15:02#41");
  EXPECT_EQ(shift_timestamp("2024-03-01 00:00:10", 30s), "2024-02-29 23:59:40");
  EXPECT_EQ(shift_timestamp("2024-01-01 00:00:00", 1500ms), "2023-12-31 23:59:58");
  EXPECT_EQ(shift_timestamp("2024-01-01 00:00:00", 0ms), "2024-01-01 00:00:00");
  EXPECT_LT((OdooCursor{"2024-03-04 08:15:02", 9}), (OdooCursor{"2024-03-04 08:15:02", 41}));
  EXPECT_LT((OdooCursor{"2024-03-04 08:15:02", 99}), (OdooCursor{"2024-03-04 08:15:03", 1}));
}

TEST(OdooSourceFactory, BuildsEitherProtocolAndRefusesWhatThisBuildCannotDo) {
  config::ConnectorConfig c;
  c.name = "erp";
  c.type = "odoo";
  OdooConfig o;
  o.url = "http://127.0.0.1:1";
  o.protocol = OdooConfig::Protocol::json2;
  o.api_key = config::Secret("0123456789abcdef");
  c.settings = std::make_shared<OdooConfig>(o);
  auto json2 = OdooCompaniesSource::create(c);
  ASSERT_NE(json2, nullptr);
  EXPECT_NE(dynamic_cast<Json2Transport*>(&json2->transport()), nullptr);
  o.protocol = OdooConfig::Protocol::xmlrpc;
  c.settings = std::make_shared<OdooConfig>(o);
  auto src = OdooCompaniesSource::create(c);
  ASSERT_NE(src, nullptr);
  EXPECT_NE(dynamic_cast<XmlRpcTransport*>(&src->transport()), nullptr);
  EXPECT_EQ(src->stream(), "companies");
  EXPECT_FALSE(src->is_snapshot());
  o.tls.client_cert = "/etc/erpsync/client.pem";
  c.settings = std::make_shared<OdooConfig>(o);
  EXPECT_THROW(OdooCompaniesSource::create(c), core::SyncError);
}

}  // namespace
}  // namespace erpsync::connectors::odoo
