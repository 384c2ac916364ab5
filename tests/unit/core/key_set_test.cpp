#include "core/key_set.hpp"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace erpsync::core {
namespace {

TEST(KeySet, HoldsEachKeyOnceAndFindsOnlyWhatItHolds) {
  KeySet set{"1", "2"};
  EXPECT_TRUE(set.insert("3"));
  EXPECT_FALSE(set.insert("2"));
  EXPECT_EQ(set.size(), 3u);
  EXPECT_TRUE(set.contains("1"));
  EXPECT_FALSE(set.contains("4"));
  EXPECT_FALSE(set.contains("12"));
}

TEST(KeySet, TheEmptyKeyIsAKey) {  // some ERPs use "" as a real id
  KeySet set;
  EXPECT_FALSE(set.contains(""));
  EXPECT_TRUE(set.insert(""));
  EXPECT_TRUE(set.contains(""));
  EXPECT_FALSE(set.insert(""));
}

TEST(KeySet, AgreesWithAStandardSetOverManyKeysAcrossBlocksAndGrowth) {
  // 300,000 keys of varying length fill several 1 MiB blocks and grow the table many times;
  // keys with embedded NUL and long keys (held aside) included.
  KeySet set;
  std::unordered_set<std::string> expected;
  for (int i = 0; i < 300000; ++i) {
    std::string key = "K-" + std::to_string(static_cast<long long>(i) * 7919 % 1000003) + std::string(static_cast<std::size_t>(i % 13), 'x');
    if (i % 1000 == 0) key += std::string(1, '\0') + "nul";
    if (i % 50000 == 0) key = std::string(5000 + static_cast<std::size_t>(i % 7), 'L') + std::to_string(i);
    EXPECT_EQ(set.insert(key), expected.insert(key).second) << i;
    if (i % 3 == 0) {
      EXPECT_FALSE(set.insert(key));
    }
  }
  EXPECT_EQ(set.size(), expected.size());
  for (const std::string& k : expected) ASSERT_TRUE(set.contains(k)) << k.substr(0, 40);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(set.contains("absent-" + std::to_string(i)));
}

}  // namespace
}  // namespace erpsync::core
