// Internal: how public functions give their failures the codes they document (status.hpp).
// Inner layers set a code only where it differs from what their callers detect themselves: a
// size limit (kResourceExhausted), a failing third-party library (kInternal), a system call
// (errno_code). A public function then gives every error still kUnknown its own code.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

#include "disc/status.hpp"

namespace disc {

// `error` with `code` if it has none yet (kUnknown); otherwise unchanged.
inline Error classified(const Error& error, ErrorCode code) {
  return error.code() == ErrorCode::kUnknown ? Error(error.message(), code) : error;
}
inline Status classified(const Status& status, ErrorCode code) {
  return status.ok() ? status : Status(classified(status.error(), code));
}
template <class T>
Result<T> classified(Result<T> result, ErrorCode code) {
  if (result.ok()) return result;
  return classified(result.error(), code);
}

// An error met while decoding untrusted bytes: their fault (kDataLoss), whatever code an inner
// check gave it, unless a limit (kResourceExhausted) or a failing library (kInternal) caused it.
inline Error decoding_error(const Error& error) {
  const ErrorCode code = error.code();
  return code == ErrorCode::kResourceExhausted || code == ErrorCode::kInternal ? error
                                                                                : Error(error.message(), ErrorCode::kDataLoss);
}

// The code of a failed system call's errno: kNotFound for a missing path, kPermissionDenied,
// kResourceExhausted for memory or descriptors, kUnknown otherwise.
inline ErrorCode errno_code(int error_number) {
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
      return ErrorCode::kNotFound;
    case EACCES:
    case EPERM:
      return ErrorCode::kPermissionDenied;
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case ENOSPC:
      return ErrorCode::kResourceExhausted;
    default:
      return ErrorCode::kUnknown;
  }
}

// A failed system call on `path`, with errno's reason and code: "cannot read 'x': Is a
// directory".
inline Error system_call_error(const std::string& what, const std::string& path, int error_number) {
  return Error(what + " '" + path + "': " + std::generic_category().message(error_number), errno_code(error_number));
}

}  // namespace disc
