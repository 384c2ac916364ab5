// libFuzzer target: the JSON feed mapper (SPEC §4.3) on untrusted documents.
#include "fuzz_feed_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  erpsync::fuzz::run_mapper(false, data, size);
  return 0;
}
