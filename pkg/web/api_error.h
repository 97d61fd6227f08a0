// The one place where a Status becomes a Prometheus API error: errorType and HTTP code, and
// the JSON envelope {"status":"error","errorType":…,"error":…}.
#pragma once

#include <string>
#include <string_view>

#include "pkg/util/status.h"

namespace httplib {
struct Response;
}  // namespace httplib

namespace kiln::web {

struct ApiErrorKind {
  std::string_view error_type;  // bad_data, execution, canceled, timeout, internal, …
  int http_status;
};

// bad_data 400, execution 422, canceled 499, timeout 503, internal 500, not_found 404,
// unavailable 500. Rejected samples (out of order/bounds, duplicate, too old) are bad_data;
// a hit limit is an execution error (as Prometheus's query sample limit is); I/O and
// corruption are internal.
ApiErrorKind MapStatus(const Status& s);

// The error envelope for `s`. REQUIRES: !s.ok().
std::string ApiErrorBody(const Status& s);

// Writes the envelope with MapStatus's code and Content-Type application/json.
void WriteApiError(const Status& s, httplib::Response* res);

}  // namespace kiln::web
