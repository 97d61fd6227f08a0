// Status: the outcome of a fallible call at a module boundary.
//
// Codes mirror the error kinds Prometheus distinguishes, so the HTTP layer can map them to
// errorType and status code in one place. Thread-compatible (a value type).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace kiln {

enum class StatusCode {
  kOk = 0,
  kBadData,         // invalid input from a client (HTTP 400, errorType bad_data)
  kNotFound,        // no such thing (404)
  kCorruption,      // on-disk data failed a checksum or is malformed
  kIOError,         // the OS refused a read, write, fsync, mmap …
  kOutOfOrder,      // sample older than the series' last sample
  kOutOfBounds,     // sample older than the head's appendable window
  kDuplicateSample, // same timestamp, different value
  kTooOld,          // older than the out-of-order window
  kLimitExceeded,   // a configured limit was hit
  kCanceled,        // the caller gave up (499)
  kTimeout,         // a deadline passed (503)
  kExecution,       // a query failed while running (422)
  kUnavailable,     // feature disabled or not ready
  kInternal,        // a bug or an unexpected state (500)
};

// Returns a short lowercase name for `code`, e.g. "out of order".
std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string_view message);

  static Status OK() { return Status(); }
  static Status BadData(std::string_view m) { return Status(StatusCode::kBadData, m); }
  static Status NotFound(std::string_view m) { return Status(StatusCode::kNotFound, m); }
  static Status Corruption(std::string_view m) { return Status(StatusCode::kCorruption, m); }
  static Status IOError(std::string_view m) { return Status(StatusCode::kIOError, m); }
  static Status OutOfOrder(std::string_view m) { return Status(StatusCode::kOutOfOrder, m); }
  static Status OutOfBounds(std::string_view m) { return Status(StatusCode::kOutOfBounds, m); }
  static Status DuplicateSample(std::string_view m) {
    return Status(StatusCode::kDuplicateSample, m);
  }
  static Status TooOld(std::string_view m) { return Status(StatusCode::kTooOld, m); }
  static Status LimitExceeded(std::string_view m) {
    return Status(StatusCode::kLimitExceeded, m);
  }
  static Status Canceled(std::string_view m) { return Status(StatusCode::kCanceled, m); }
  static Status Timeout(std::string_view m) { return Status(StatusCode::kTimeout, m); }
  static Status Execution(std::string_view m) { return Status(StatusCode::kExecution, m); }
  static Status Unavailable(std::string_view m) { return Status(StatusCode::kUnavailable, m); }
  static Status Internal(std::string_view m) { return Status(StatusCode::kInternal, m); }
  // An IOError carrying strerror(errno_value) after `context`.
  static Status FromErrno(std::string_view context, int errno_value);

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  // The message without the code name; empty for OK.
  const std::string& message() const;
  // "code name: message", or "OK".
  std::string ToString() const;

  // Returns a status with the same code and "context: message". OK stays OK.
  Status Wrap(std::string_view context) const;

  bool Is(StatusCode c) const { return code() == c; }

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  // Null for OK, so the common case costs one pointer and no allocation.
  std::shared_ptr<const State> state_;
};

}  // namespace kiln

// Returns early from the enclosing function when `expr` is not OK.
#define KILN_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::kiln::Status _kiln_status = (expr);   \
    if (!_kiln_status.ok()) return _kiln_status; \
  } while (0)
