// Internal: the exception being handled, as an Error, where a callback or third-party code may
// throw and the library's API returns errors as values.
#pragma once

#include <exception>
#include <string>

#include "disc/status.hpp"

namespace disc {

// What the exception being handled says, as an Error naming `where`. Only inside a catch.
inline Error exception_error(const std::string& where) {
  try {
    throw;
  } catch (const std::exception& e) {
    return Error(where + " threw: " + e.what());
  } catch (...) {
    return Error(where + " threw");
  }
}

}  // namespace disc
