// libFuzzer target: the XML feed mapper (SPEC §4.3, XPath over pugixml) on untrusted documents.
#include "fuzz_feed_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  erpsync::fuzz::run_mapper(true, data, size);
  return 0;
}
