// Connections opened on several threads at once, as the daemon's workers open their stores: each
// must connect and answer. psqlODBC calls setlocale() while it connects, which is not
// thread-safe; without Connection's one-connect-at-a-time for PostgreSQL, the ASan+UBSan tree
// reported a heap use after free inside the driver in the daemon's lease test, and here in one
// run of three (a race: a stress test, not a proof).

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connectors/odbc/odbc.hpp"
#include "support/test_databases.hpp"

namespace erpsync::connectors::odbc {
namespace {

using erpsync::testing::Engine;
using erpsync::testing::TempDatabase;

class ConcurrentConnect : public ::testing::TestWithParam<Engine> {};

TEST_P(ConcurrentConnect, ConnectionsOpenedOnManyThreadsAtOnceAllConnectAndAnswer) {
  std::string reason;
  auto db = TempDatabase::create(GetParam(), reason);
  if (!db) GTEST_SKIP() << reason;
  const std::string conn = db->connection_string();
  auto env = std::make_shared<Environment>();
  constexpr int kThreads = 8;
  constexpr int kConnectsEach = 16;
  std::atomic<int> answered{0};
  std::atomic<bool> go{false};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kConnectsEach; ++i) {
        try {
          Connection c(env);
          c.connect(conn);
          if (c.query("SELECT 1").at(0).at(0).value_or("") == "1") ++answered;
        } catch (const std::exception& e) {
          failures[t] = e.what();
        }
      }
    });
  }
  go = true;
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
  EXPECT_EQ(answered.load(), kThreads * kConnectsEach);
}

INSTANTIATE_TEST_SUITE_P(Engines, ConcurrentConnect, ::testing::Values(Engine::postgresql, Engine::mariadb),
                         [](const ::testing::TestParamInfo<Engine>& i) {
                           return std::string(erpsync::testing::engine_name(i.param));
                         });

}  // namespace
}  // namespace erpsync::connectors::odbc
