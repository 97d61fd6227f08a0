// Prometheus's HTTP API v1 (/api/v1/…) as transport-agnostic handlers: each endpoint maps an
// ApiRequest to an ApiResponse with upstream's JSON envelope, error types and texts, so the
// handlers are tested without a socket and mounted on pkg/web's Server by RegisterApiV1.
//
// Thread-safety: an Api is immutable after construction; Handle() may run concurrently as
// long as the sources in ApiDeps are thread-safe (their contracts say they are).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/storage/querier.h"
#include "pkg/web/version.h"
#include "web/api/v1/request.h"
#include "web/api/v1/sources.h"

namespace kiln::web::api::v1 {

// What a handler produces before it becomes a response.
struct ApiResult {
  Status error;                           // not OK: the error envelope
  std::function<void(JsonWriter&)> data;  // writes the `data` value
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
  bool no_content = false;  // 204 without a body (admin delete_series, clean_tombstones)

  static ApiResult Error(Status s) {
    ApiResult r;
    r.error = std::move(s);
    return r;
  }
};

// Builds the response: {"status":"success","data":…,"warnings":[…],"infos":[…]} (the lists
// only when non-empty), or {"status":"error","errorType":…,"error":…} with the HTTP code of
// pkg/web's MapStatus.
ApiResponse Respond(ApiResult result);

// A handler for an endpoint whose feature lives elsewhere (targets, rules, …).
using EndpointHandler = std::function<ApiResult(const ApiRequest&)>;

struct ApiDeps {
  storage::Queryable* queryable = nullptr;  // required
  QueryEngine* engine = nullptr;            // null: query endpoints answer unavailable
  MetadataSource* metadata = nullptr;       // null: empty metadata
  StatusSource* status = nullptr;           // null: empty status pages
  TsdbAdmin* admin = nullptr;               // null: admin endpoints answer unavailable
  web::BuildInfo build_info;
  // Current time in ms, for `time` defaults. Null: the system clock.
  std::function<int64_t()> now_ms;
  // Features plugged in later; null ones answer upstream's empty result.
  EndpointHandler targets;           // {"activeTargets":[],"droppedTargets":[]}
  EndpointHandler targets_metadata;  // []
  EndpointHandler scrape_pools;      // {"scrapePools":[]}
  EndpointHandler rules;             // {"groups":[]}
  EndpointHandler alerts;            // {"alerts":[]}
  EndpointHandler alertmanagers;     // {"activeAlertmanagers":[],"droppedAlertmanagers":[]}
  EndpointHandler query_exemplars;   // [] after validating query/start/end
  // --web.cors.origin: the origins (a regex, fully anchored) CORS responses allow.
  std::string cors_origin = ".*";
};

class Api {
 public:
  struct Route {
    std::vector<std::string> methods;  // e.g. {"GET", "POST"}
    std::string path;                  // under /api/v1, ":name" segments bind path params
    ApiResult (Api::*handler)(const ApiRequest&) const;
  };

  explicit Api(ApiDeps deps) : deps_(std::move(deps)) {}

  // Every endpoint.
  static const std::vector<Route>& Routes();

  // Serves `path` (relative to /api/v1, e.g. "/label/job/values"): binds path params into
  // `req`, runs the handler. Unknown paths get Go's 404 text, a known path with another
  // method 405.
  ApiResponse Handle(std::string_view path, ApiRequest req) const;

  // Endpoints, one per route (handlers_*.cc).
  ApiResult Query(const ApiRequest& r) const;
  ApiResult QueryRange(const ApiRequest& r) const;
  ApiResult QueryExemplars(const ApiRequest& r) const;
  ApiResult FormatQuery(const ApiRequest& r) const;
  ApiResult ParseQuery(const ApiRequest& r) const;
  ApiResult LabelNames(const ApiRequest& r) const;
  ApiResult LabelValues(const ApiRequest& r) const;
  ApiResult Series(const ApiRequest& r) const;
  ApiResult DropSeries(const ApiRequest& r) const;  // upstream: internal "not implemented"
  ApiResult Metadata(const ApiRequest& r) const;
  ApiResult TargetsMetadata(const ApiRequest& r) const;
  ApiResult Targets(const ApiRequest& r) const;
  ApiResult ScrapePools(const ApiRequest& r) const;
  ApiResult Rules(const ApiRequest& r) const;
  ApiResult Alerts(const ApiRequest& r) const;
  ApiResult Alertmanagers(const ApiRequest& r) const;
  ApiResult BuildInfoPage(const ApiRequest& r) const;
  ApiResult Config(const ApiRequest& r) const;
  ApiResult FlagsStatus(const ApiRequest& r) const;
  ApiResult RuntimeInfoStatus(const ApiRequest& r) const;
  ApiResult TsdbStatusPage(const ApiRequest& r) const;
  ApiResult WalReplay(const ApiRequest& r) const;
  ApiResult Snapshot(const ApiRequest& r) const;
  ApiResult DeleteSeries(const ApiRequest& r) const;
  ApiResult CleanTombstones(const ApiRequest& r) const;

 private:
  int64_t NowMs() const;
  // Runs a query through the engine and renders upstream's query data, cut to `limit`
  // series when limit > 0.
  ApiResult RunQuery(QueryRequest q, int64_t limit, const ApiRequest& r) const;

  ApiDeps deps_;
};

}  // namespace kiln::web::api::v1
