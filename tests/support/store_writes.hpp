#pragma once
// Writes for the store tests, built the one way the core builds them.

#include <string>
#include <utility>

#include "core/write_batch.hpp"

namespace erpsync::testing {

// A new Account (`ref` < 0) with its code, name and owner set.
inline core::AccountWrite new_account(core::Ref ref, std::string code, std::string name, std::string owner) {
  core::AccountWrite a;
  a.ref = ref;
  a.external_code = std::move(code);
  a.set = core::bit(core::Field::name) | core::bit(core::Field::owner);
  a.values.name = std::move(name);
  a.values.owner = std::move(owner);
  return a;
}

}  // namespace erpsync::testing
