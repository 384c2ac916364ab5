// Where a JSON feed's records are in its bytes (json_records.hpp): the value at a JSON Pointer
// as nlohmann's tree would give it (escaped keys, the last of duplicate keys, array indices,
// a BOM, white space), and the start of every element of the records array.

#include "connectors/feed/json_records.hpp"

#include <gtest/gtest.h>

namespace erpsync::connectors::feed {
namespace {

std::string at(std::string_view doc, const std::vector<std::string>& tokens) {
  const auto r = json_value_range(doc, tokens);
  return r ? std::string(doc.substr(r->begin, r->end - r->begin)) : std::string("<none>");
}

TEST(JsonRecords, FindsTheValueAtAPointerAsTheTreeWould) {
  const std::string doc = "\xEF\xBB\xBF { \"a\" : {\"b\\\"c\": [ 10 , {\"d\":\"x]}\"} , true ] },\n"
                          " \"e\": 1, \"e\": \"last\" }";
  EXPECT_EQ(at(doc, {}), doc.substr(4));
  EXPECT_EQ(at(doc, {"a", "b\"c"}), "[ 10 , {\"d\":\"x]}\"} , true ]");
  EXPECT_EQ(at(doc, {"a", "b\"c", "1", "d"}), "\"x]}\"");
  EXPECT_EQ(at(doc, {"a", "b\"c", "2"}), "true");
  EXPECT_EQ(at(doc, {"e"}), "\"last\"");  // duplicate keys: the last counts
  EXPECT_EQ(at(doc, {"a", "b\"c", "3"}), "<none>");
  EXPECT_EQ(at(doc, {"a", "b\"c", "01"}), "<none>");
  EXPECT_EQ(at(doc, {"missing"}), "<none>");
  EXPECT_EQ(at(doc, {"e", "x"}), "<none>");
}

TEST(JsonRecords, ListsWhereEveryElementOfTheArrayBegins) {
  const std::string doc = R"({"items": [ {"id":"1,]"} ,2, "three" ,[4,[5]],null ]})";
  const auto array = json_value_range(doc, {"items"});
  ASSERT_TRUE(array);
  std::vector<std::string> items;
  for (std::uint32_t begin : json_array_elements(doc, *array))
    items.push_back(doc.substr(begin, json_value_end(doc, begin) - begin));
  EXPECT_EQ(items, (std::vector<std::string>{R"({"id":"1,]"})", "2", "\"three\"", "[4,[5]]", "null"}));
  EXPECT_TRUE(json_array_elements("[ ]", {0, 3}).empty());
}

}  // namespace
}  // namespace erpsync::connectors::feed
