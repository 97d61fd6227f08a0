#include "pkg/web/api_error.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace kiln::web {

ApiErrorKind MapStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kBadData:
    case StatusCode::kOutOfOrder:
    case StatusCode::kOutOfBounds:
    case StatusCode::kDuplicateSample:
    case StatusCode::kTooOld:
      return {"bad_data", 400};
    case StatusCode::kExecution:
    case StatusCode::kLimitExceeded:
      return {"execution", 422};
    case StatusCode::kCanceled:
      return {"canceled", 499};
    case StatusCode::kTimeout:
      return {"timeout", 503};
    case StatusCode::kNotFound:
      return {"not_found", 404};
    case StatusCode::kUnavailable:
      return {"unavailable", 500};
    case StatusCode::kOk:
    case StatusCode::kCorruption:
    case StatusCode::kIOError:
    case StatusCode::kInternal:
      break;
  }
  return {"internal", 500};
}

std::string ApiErrorBody(const Status& s) {
  nlohmann::ordered_json j;
  j["status"] = "error";
  j["errorType"] = MapStatus(s).error_type;
  j["error"] = s.message();
  return j.dump();
}

void WriteApiError(const Status& s, httplib::Response* res) {
  res->status = MapStatus(s).http_status;
  res->set_content(ApiErrorBody(s), "application/json");
}

}  // namespace kiln::web
