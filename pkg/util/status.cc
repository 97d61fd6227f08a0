#include "pkg/util/status.h"

#include <cstring>

namespace kiln {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kBadData: return "bad data";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIOError: return "io error";
    case StatusCode::kOutOfOrder: return "out of order sample";
    case StatusCode::kOutOfBounds: return "out of bounds";
    case StatusCode::kDuplicateSample: return "duplicate sample for timestamp";
    case StatusCode::kTooOld: return "too old sample";
    case StatusCode::kLimitExceeded: return "limit exceeded";
    case StatusCode::kCanceled: return "canceled";
    case StatusCode::kTimeout: return "timeout";
    case StatusCode::kExecution: return "execution";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string_view message) {
  if (code != StatusCode::kOk) {
    state_ = std::make_shared<const State>(State{code, std::string(message)});
  }
}

Status Status::FromErrno(std::string_view context, int errno_value) {
  std::string m(context);
  m += ": ";
  m += std::strerror(errno_value);
  return Status(StatusCode::kIOError, m);
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(StatusCodeName(code()));
  s += ": ";
  s += state_->message;
  return s;
}

Status Status::Wrap(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += state_->message;
  return Status(state_->code, m);
}

}  // namespace kiln
