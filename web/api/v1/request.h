// The transport-agnostic request and response of an API v1 handler: handlers see no socket,
// so they are unit-tested by building an ApiRequest by hand. Plain value types.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "web/api/v1/json_writer.h"

namespace kiln::web::api::v1 {

using Param = std::pair<std::string, std::string>;

struct ApiRequest {
  std::string method = "GET";
  // Values of the route's :name segments, e.g. {"name", "job"} for /label/job/values.
  std::vector<Param> path_params;
  // Merged parameters in Go's r.Form order: form-encoded body values first, then the URL
  // query's, so a body value wins in FormValue() as it does upstream.
  std::vector<Param> form;
  // Header names as received; lookups ignore case.
  std::vector<Param> headers;

  // The first value of `name`, or "" when absent.
  std::string FormValue(std::string_view name) const;
  // Every value of `name`, in order (repeated match[] and the like).
  std::vector<std::string> FormValues(std::string_view name) const;
  std::string PathParam(std::string_view name) const;
  std::string Header(std::string_view name) const;
};

// Appends the key/value pairs of an application/x-www-form-urlencoded string (a URL query or
// a POST body) to `out`, decoding %XX and '+'. Malformed escapes are kept literally.
void ParseUrlEncoded(std::string_view s, std::vector<Param>* out);

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<Param> headers;
  // The body: `json` streams it when set, else `body` holds it.
  std::function<void(JsonWriter&)> json;
  std::string body;

  // The whole body as a string (runs `json` when set); for tests and small responses.
  std::string BodyString() const;
};

}  // namespace kiln::web::api::v1
