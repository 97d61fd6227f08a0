// Mounts the API v1 handlers on pkg/web's Server under <route prefix>/api/v1.
#pragma once

#include "pkg/web/server.h"
#include "web/api/v1/api.h"

namespace kiln::web::api::v1 {

// Registers every route of Api::Routes() (GET routes also answer HEAD; 404 and 405 are the
// server's) and OPTIONS on every /api/v1 path (204). Responses carry Prometheus's CORS headers
// when the request has an Origin (deps.cors_origin). Responses are streamed in chunks; the server gzips them when the
// client accepts it. Everything `deps` points to must outlive the server.
// REQUIRES: server->Start() not called yet.
void RegisterApiV1(Server* server, ApiDeps deps);

// The ApiRequest for an httplib request: a form-encoded POST body's parameters first, then
// the URL query's (Go's r.Form order), headers as received. Path params are left empty.
ApiRequest FromHttplib(const httplib::Request& req);

// Writes `res` to an httplib response, streaming a JSON body in chunks.
void ToHttplib(ApiResponse res, httplib::Response* out);

}  // namespace kiln::web::api::v1
