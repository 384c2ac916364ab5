// docs/erpsync.schema.json (shipped for editors) is exactly what the option table generates.

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "config/options.hpp"
#include "connectors/registry.hpp"

namespace erpsync::config {
namespace {

TEST(ShippedConfigSchema, EqualsTheSchemaGeneratedFromTheOptionTable) {
  const std::string path = std::string(ERPSYNC_SOURCE_DIR) + "/docs/erpsync.schema.json";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  // The same text erpsync-config-schema prints; regenerate with
  //   cmake --build BUILD --target update-config-schema
  EXPECT_EQ(text.str(), json_schema(connectors::connector_types()).dump(2) + "\n")
      << path << " is out of date: run `cmake --build BUILD --target update-config-schema`";
  // And it is a JSON Schema an editor can use.
  const auto parsed = nlohmann::json::parse(text.str(), nullptr, false);
  ASSERT_FALSE(parsed.is_discarded());
  EXPECT_EQ(parsed["$schema"], "https://json-schema.org/draft/2020-12/schema");
  EXPECT_TRUE(parsed["properties"].contains("metrics"));
}

}  // namespace
}  // namespace erpsync::config
