// A data key ring for tests that open a store themselves (the daemon loads its own file).
#pragma once

#include <memory>
#include <string_view>

#include "store/data_keys.h"

namespace infoflyt::testing {

inline constexpr const char* kTestDataKeyFile =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

// The ring of key file `text` (kTestDataKeyFile unless given); null if it does not parse.
inline std::shared_ptr<const DataKeys> TestDataKeys(std::string_view text = kTestDataKeyFile) {
  std::shared_ptr<const DataKeys> keys;
  (void)DataKeys::Parse(text, &keys);
  return keys;
}

}  // namespace infoflyt::testing
