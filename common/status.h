// Status and StatusOr<T>: how every fallible Telltale call reports failure.
//
// Contract
//  - A Status is either OK or carries a Code and a human-readable message that
//    says what failed, where and why ("key file /k: mode 0644 is readable by
//    group/others; chmod 600 it"). Messages never contain secret material.
//  - User errors (bad input, bad files) are always reported through Status;
//    asserts are reserved for internal invariants.
//  - Status and StatusOr are values: copyable, movable, no shared state, so
//    they are safe to pass between threads. Accessing value() of a non-OK
//    StatusOr is a programming error and aborts with the status message.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace telltale {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // malformed input: spec strings, token files, flags
  kNotFound = 2,         // a file, key or record that does not exist
  kPermissionDenied = 3, // unsafe key file permissions, unreadable files
  kDataLoss = 4,         // truncated or corrupt data (checksums, formats)
  kFailedPrecondition = 5,  // valid input used in the wrong state
  kOutOfRange = 6,       // numeric parameters outside their domain
  kUnimplemented = 7,    // a versioned format/scheme this build cannot read
  kInternal = 8,         // a broken invariant or a library (OpenSSL) failure
  kCancelled = 9,        // interrupted by the user (Ctrl-C)
  kUnavailable = 10,     // transient I/O failure
};

// Name of a code as used in messages and in Python exception classes.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>", to add the "where"
  // as an error travels outwards (file name, line number, field).
  Status WithContext(std::string_view prefix) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // Implicit on purpose, as in absl: `return value;` and `return status;`.
  StatusOr(const T& value) : value_(value) {}          // NOLINT
  StatusOr(T&& value) : value_(std::move(value)) {}    // NOLINT
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status::Internal("StatusOr constructed from an OK status without a value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  const T& value() const& { CheckOk(); return *value_; }
  T& value() & { CheckOk(); return *value_; }
  T&& value() && { CheckOk(); return std::move(*value_); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void CheckOk() const {
    if (!status_.ok()) {
      std::fprintf(stderr, "telltale: value() on error status: %s\n", status_.ToString().c_str());
      std::abort();
    }
  }
  Status status_;
  std::optional<T> value_;
};

}  // namespace telltale

// Propagation helpers in the style of abseil's internal macros.
#define TT_STATUS_CONCAT_INNER(a, b) a##b
#define TT_STATUS_CONCAT(a, b) TT_STATUS_CONCAT_INNER(a, b)

#define TT_RETURN_IF_ERROR(expr)                          \
  do {                                                    \
    ::telltale::Status tt_status_ = (expr);               \
    if (!tt_status_.ok()) return tt_status_;              \
  } while (0)

#define TT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#define TT_ASSIGN_OR_RETURN(lhs, expr) \
  TT_ASSIGN_OR_RETURN_IMPL(TT_STATUS_CONCAT(tt_statusor_, __LINE__), lhs, expr)
