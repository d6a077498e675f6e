// Where the model tests find the shared assets: $DISC_ASSETS, else the build-time default.
#pragma once

#include <cstdlib>
#include <string>

namespace disc::testing {

inline std::string assets_dir() {
  const char* env = std::getenv("DISC_ASSETS");
  return env && *env ? env : DISC_TEST_ASSETS_DIR;
}

}  // namespace disc::testing
