// Errors as values. Every fallible public function returns Status or Result<T>;
// nothing in the library throws across its API, and no decoder aborts on bad input.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace disc {

// What kind of failure an Error is, so that a caller can react without reading the message:
// retry or fall back to local inference on kUnavailable or kDeadlineExceeded, fix the request
// on kInvalidArgument or kNotFound, the credentials on kUnauthenticated. The values are gRPC's
// canonical status codes. A remote call's error carries the code the server or the transport
// reported (EdgeClient). Local calls document theirs: kInvalidArgument for what the caller
// passed (specs, settings, tensors, model files, JSON), kNotFound for a file, model, data set
// or cut that is not there, kDataLoss for a stream that does not decode, kResourceExhausted
// for a size over a limit, kInternal for a third-party library that failed; kUnknown where a
// function says nothing (evaluate(), profile_model(), writing reports).
enum class ErrorCode : int {
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// gRPC's name of a code ("UNAVAILABLE"); "UNKNOWN" for a value outside the enumeration.
constexpr const char* error_code_name(ErrorCode code) {
  constexpr const char* kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 1 && i <= 16 ? kNames[i] : "UNKNOWN";
}

// A failure with a human-readable, one-line message (no trailing newline) and a code.
class Error {
 public:
  explicit Error(std::string message, ErrorCode code = ErrorCode::kUnknown)
      : message_(std::move(message)), code_(code) {}
  const std::string& message() const { return message_; }
  ErrorCode code() const { return code_; }

  // Returns a copy whose message is prefixed by `context: `; the code stays.
  Error with_context(const std::string& context) const { return Error(context + ": " + message_, code_); }

 private:
  std::string message_;
  ErrorCode code_;
};

// Success, or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e)), ok_(false) {}  // NOLINT: implicit by design
  static Status ok_status() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_{""};
  bool ok_ = true;
};

// A value of T, or an Error. Accessing value() of a failed Result is a programming error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}    // NOLINT: implicit by design
  // From a failed Status. An OK one carries no value: a programming error, which asserts and
  // otherwise gives a failed Result that says so rather than one with an empty message.
  Result(Status status)  // NOLINT: implicit by design
      : v_(status.ok() ? Error("internal error: a Result made from an OK Status has no value") : status.error()) {
    assert(!status.ok());
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace disc

// Propagates a failed Status/Result from the current function.
#define DISC_RETURN_IF_ERROR(expr)               \
  do {                                           \
    auto&& disc_status_ = (expr);                \
    if (!disc_status_.ok()) return disc_status_.error(); \
  } while (0)

#define DISC_CONCAT_INNER_(a, b) a##b
#define DISC_CONCAT_(a, b) DISC_CONCAT_INNER_(a, b)
// `DISC_ASSIGN_OR_RETURN(auto x, f());` binds the value of a Result or propagates its Error.
#define DISC_ASSIGN_OR_RETURN(lhs, expr) \
  DISC_ASSIGN_OR_RETURN_IMPL_(DISC_CONCAT_(disc_result_, __LINE__), lhs, expr)
#define DISC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.error();                \
  lhs = std::move(tmp).value()
